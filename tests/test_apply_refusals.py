"""Apply against what the real API refuses (issue 12 part 6), over real HTTP against the emulator: a write on a
database that is not `active`, and a backup beyond the subscription's concurrent-backup limit in each of the
three ways the API might refuse it (API-NOTES §11: which one is unconfirmed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.core.outcomes import Outcome, StepResult
from reconciler.core.polling import PollPolicy
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Fault, LoggedRequest
from tests.support.accounts import Account, account
from tests.support.cli import cli
from tests.support.clients import BASE_URL
from tests.support.examples import IMPORT, IMPORT_KEY, ORDERS
from tests.support.waiting import wait_for
from tests.support.workdirs import sandbox_dir, world

SESSIONS, LEGACY, CATALOG = 7654322, 7654324, 7654323
ON_DEMAND = "orders-prod.backups.before-migration-2026-11"
ON_DEMAND_KEY = "rcr_backup_before-migration-2026-11"
REFUSALS = ["rate-limited", "conflict", "task-error"]
Edge = Callable[[httpx.Request, httpx.Response], None]


@pytest.fixture
def accounts() -> Iterator[list[Account]]:
    made: list[Account] = []
    yield made
    for acct in made:
        acct.session.close()


@pytest.fixture
def acct(accounts: list[Account]) -> Account:
    accounts.append(account())
    return accounts[-1]


def at_the_edge(acct: Account, after: Edge) -> Account:
    """The same account, with `after(request, response)` called on every answer at the HTTP edge."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = acct.emulator.handle(request)
        after(request, response)
        return response

    credentials = Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)
    http = open_http(BASE_URL, credentials, transport=httpx.MockTransport(handle))
    session = Session(
        http,
        limiter=RateLimiter(1000, window=0.05),
        retry=RetryPolicy(attempts=6, base_delay=0.001, max_delay=0.02),
        sleep=lambda seconds: time.sleep(min(seconds, 0.01)),
    )
    acct.session.close()
    client = RedisCloudClient(session, poll=PollPolicy(initial=0.005, maximum=0.05))
    return replace(acct, client=client, session=session)


def outcome_of(results: list[StepResult], address: str) -> StepResult:
    return next(result for result in results if result.address == address)


def fill_the_subscription(acct: Account, seconds: float) -> None:
    """Four backups nobody of ours started (scheduled ones) hold the subscription's four slots."""
    for database in (SESSIONS, LEGACY, CATALOG, SESSIONS):
        acct.emulator.start_foreign_backup(database, seconds)


def ours(acct: Account) -> list[str]:
    return [b.task_id for b in acct.emulator.backup_history(ORDERS) if not b.task_id.startswith("scheduled-")]


# --- a write the API refuses as not active is sent again once the database is `active` ----------------------

VALIDATION = ["synchronous", "task"]  # API-NOTES §7: a 4xx, or a task ending processing-error
SETTINGS_PUT = f"/databases/{ORDERS}"


def puts(acct: Account, since: int = 0) -> list[LoggedRequest]:
    return [entry for entry in acct.writes(since) if entry.method == "PUT" and entry.path.endswith(SETTINGS_PUT)]


def refused_as_busy(acct: Account) -> list[dict[str, object]]:
    return [t for t in acct.emulator.tasks() if t["error"] and t["error"]["type"] == "DATABASE_NOT_ACTIVE"]


def test_a_write_to_an_active_database_reads_no_status_first(acct: Account) -> None:
    """The plan has just seen it; a refusal would change nothing (issue 16: a request saved per write)."""
    the_plan = acct.plan(targets={"orders-prod.backup", ON_DEMAND})
    mark = acct.log_size()

    results = acct.apply(the_plan)

    assert {r.outcome for r in results} == {Outcome.DONE}, results
    log = acct.emulator.request_log()[mark:]
    first_write = next(i for i, entry in enumerate(log) if entry.method in {"PUT", "POST"})
    reads_before = [e.path for e in log[:first_write] if e.path.endswith(f"/databases/{ORDERS}") or "offset" in e.query]
    assert reads_before == []


@pytest.mark.parametrize("validation", VALIDATION)
def test_a_settings_put_refused_as_not_active_is_sent_again_once_the_database_is_active(
    acct: Account, validation: str
) -> None:
    acct.emulator.set_options(validation_errors=validation)
    acct.emulator.hold_status(ORDERS, "active-change-pending", 0.3)
    busy_until = acct.emulator.database(ORDERS)["busy_until"]
    assert busy_until is not None

    results = acct.apply(acct.plan(targets={"orders-prod.backup"}))

    assert outcome_of(results, "orders-prod.backup").outcome is Outcome.DONE
    *refused, accepted = puts(acct)
    assert len(refused) == 1 and refused[0].time < busy_until <= accepted.time
    assert len(refused_as_busy(acct)) == (1 if validation == "task" else 0)
    assert acct.emulator.database(ORDERS)["backup"]["interval"] == "every-12-hours"


@pytest.mark.parametrize("validation", VALIDATION)
def test_a_database_that_never_becomes_active_keeps_its_settings_and_the_step_says_nothing_changed(
    acct: Account, validation: str
) -> None:
    acct.emulator.set_options(validation_errors=validation)
    acct.emulator.hold_status(ORDERS, "active-change-pending", 30.0)
    before = dict(acct.emulator.database(ORDERS)["backup"])

    results = acct.apply(acct.plan(targets={"orders-prod.backup"}), timeout=0.3)

    step = outcome_of(results, "orders-prod.backup")
    assert step.outcome is Outcome.SKIPPED and "not started" in step.message and "nothing changed" in step.message
    assert len(puts(acct)) == 1  # the one refused: no PUT is sent again before the database is active
    assert acct.emulator.database(ORDERS)["backup"] == before


def test_a_write_refused_as_not_active_again_and_again_stops_after_three_tries(acct: Account) -> None:
    """An API that shows `active` yet refuses every write as not active is not asked forever."""
    acct.emulator.set_options(validation_errors="task")
    acct.emulator.inject(Fault.task_error("DATABASE_NOT_ACTIVE", command_type="databaseUpdateRequest", count=10))

    results = acct.apply(acct.plan(targets={"orders-prod.backup"}))

    step = outcome_of(results, "orders-prod.backup")
    assert step.outcome is Outcome.FAILED and "refused the write 3 times" in step.message, step
    assert len(puts(acct)) == 3


@pytest.mark.parametrize("validation", VALIDATION)
def test_a_backup_refused_as_not_active_withdraws_its_claim_and_runs_once_the_database_is_active(
    acct: Account, validation: str
) -> None:
    acct.emulator.set_options(validation_errors=validation)
    the_plan = acct.plan(targets={ON_DEMAND})
    acct.emulator.hold_status(ORDERS, "active-change-pending", 2.0)  # longer than the claim takes

    results = acct.apply(the_plan)

    assert outcome_of(results, ON_DEMAND).outcome is Outcome.DONE, outcome_of(results, ON_DEMAND).message
    assert len(ours(acct)) == 1
    assert acct.emulator.tags(ORDERS)[ON_DEMAND_KEY].startswith("v1 done ")
    deletes = [w for w in acct.writes() if w.method == "DELETE" and w.path.endswith(ON_DEMAND_KEY)]
    assert len(deletes) == 1  # the claim of the refused POST, withdrawn while the database was busy


def test_an_import_refused_as_not_active_is_sent_again_under_the_same_claim_and_runs_once(acct: Account) -> None:
    """An import's claim stays while it waits (no scheduled import can pass for it); the refused task's id on the
    claim is replaced by the accepted one's."""
    acct.emulator.set_options(validation_errors="task")
    acct.emulator.inject(Fault.task_error("DATABASE_NOT_ACTIVE", command_type="databaseImportRequest", count=1))

    results = acct.apply(acct.plan(targets={IMPORT}))

    assert outcome_of(results, IMPORT).outcome is Outcome.DONE, outcome_of(results, IMPORT).message
    assert [run.status for run in acct.emulator.import_history(ORDERS)] == ["success"]
    receipt = acct.emulator.tags(ORDERS)[IMPORT_KEY]
    assert receipt.startswith("v1 done ")
    [refused] = refused_as_busy(acct)
    assert str(refused["task_id"]) not in receipt
    assert not [w for w in acct.writes() if w.method == "DELETE" and w.path.endswith(IMPORT_KEY)]


def test_the_import_after_backup_first_waits_until_the_database_is_active_again(accounts: list[Account]) -> None:
    """Should the backup leave the database in a transient status, the import POST waits for `active`."""
    base = account()
    accounts.append(base)

    def busy_after_backup(request: httpx.Request, response: httpx.Response) -> None:
        if request.method == "POST" and request.url.path.endswith(f"/{ORDERS}/backup") and response.is_success:
            base.emulator.hold_status(ORDERS, "active-change-pending", 0.2)

    acct = at_the_edge(base, busy_after_backup)
    accounts.append(acct)
    results = acct.apply(acct.plan(targets={IMPORT}))

    assert outcome_of(results, IMPORT).outcome is Outcome.DONE, outcome_of(results, IMPORT).message
    [run] = acct.emulator.import_history(ORDERS)
    assert run.status == "success"
    assert not [task for task in acct.emulator.tasks() if task["error"]]
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 done ")


# --- after "stop", nothing more is sent (issue 20 item 2) -----------------------------------------------------


def test_stop_during_the_backup_first_backup_sends_no_import_and_withdraws_its_claim(accounts: list[Account]) -> None:
    base = account()
    accounts.append(base)
    stop = threading.Event()

    def stop_once_the_backup_is_sent(request: httpx.Request, response: httpx.Response) -> None:
        if request.method == "POST" and request.url.path.endswith(f"/{ORDERS}/backup") and response.is_success:
            stop.set()  # Ctrl-C while the backup runs

    acct = at_the_edge(base, stop_once_the_backup_is_sent)
    accounts.append(acct)
    results = acct.apply(acct.plan(targets={IMPORT}), stop=stop)

    result = outcome_of(results, IMPORT)
    assert result.outcome is Outcome.SKIPPED, result.message
    assert "apply was interrupted" in result.message and "the import was not sent" in result.message
    assert acct.emulator.import_history(ORDERS) == []
    assert [b.status for b in acct.emulator.backup_history(ORDERS)] == ["success"]  # sent, so waited for
    assert IMPORT_KEY not in acct.emulator.tags(ORDERS)  # withdrawn: the next apply runs it
    assert IMPORT in {change.address for change in acct.plan().changes}


def test_stop_while_waiting_for_active_before_the_import_sends_nothing_more(accounts: list[Account]) -> None:
    base = account()
    accounts.append(base)
    stop = threading.Event()

    def busy_after_backup(request: httpx.Request, response: httpx.Response) -> None:
        if request.method == "POST" and request.url.path.endswith(f"/{ORDERS}/backup") and response.is_success:
            base.emulator.hold_status(ORDERS, "active-change-pending", 5.0)
        elif request.url.path.endswith(f"/databases/{ORDERS}") and response.json().get("status") != "active":
            stop.set()  # Ctrl-C while apply waits for `active` to send the import

    acct = at_the_edge(base, busy_after_backup)
    accounts.append(acct)
    mark = acct.log_size()
    results = acct.apply(acct.plan(targets={IMPORT}), stop=stop)

    result = outcome_of(results, IMPORT)
    assert result.outcome is Outcome.SKIPPED and "the import was not sent" in result.message, result.message
    assert acct.emulator.import_history(ORDERS) == []
    assert not [w for w in acct.writes(mark) if w.path.endswith("/import")]
    assert IMPORT_KEY not in acct.emulator.tags(ORDERS)


def test_stop_while_a_refused_settings_put_waits_for_active_sends_it_no_more(acct: Account) -> None:
    acct.emulator.hold_status(ORDERS, "active-change-pending", 5.0)
    stop = threading.Event()
    results: list[StepResult] = []
    the_plan = acct.plan(targets={"orders-prod.backup"})
    before = dict(acct.emulator.database(ORDERS)["backup"])
    mark = acct.log_size()
    worker = threading.Thread(target=lambda: results.extend(acct.apply(the_plan, stop=stop)))
    worker.start()
    wait_for(lambda: any(e.path.endswith(f"/databases/{ORDERS}") for e in acct.emulator.request_log()[mark:]))
    stop.set()
    worker.join(timeout=30)

    step = outcome_of(results, "orders-prod.backup")
    assert step.outcome is Outcome.SKIPPED and "apply was interrupted" in step.message, step
    assert "nothing changed" in step.message
    assert len(puts(acct, mark)) == 1
    assert acct.emulator.database(ORDERS)["backup"] == before


# --- a fifth concurrent backup -----------------------------------------------------------------------------


@pytest.mark.parametrize("refusal", REFUSALS)
def test_an_on_demand_backup_waits_for_a_slot_held_by_scheduled_backups(acct: Account, refusal: str) -> None:
    acct.emulator.set_options(backup_limit_refusal=refusal)
    fill_the_subscription(acct, 1.5)  # outlasts the claim, which waits out its server second (issue 20 item 3)

    results = acct.apply(acct.plan(targets={ON_DEMAND}))

    result = outcome_of(results, ON_DEMAND)
    assert result.outcome is Outcome.DONE, result.message
    assert len(ours(acct)) == 1  # started once, when a slot had freed
    [backup] = [b for b in acct.emulator.backup_history(ORDERS) if b.task_id == ours(acct)[0]]
    assert backup.destination == "s3://acme-adhoc/orders"
    log = acct.emulator.request_log()
    refused = [e for e in log if e.method == "POST" and e.path.endswith("/backup")]
    assert len(refused) > 1  # it was refused at least once before
    # Each refusal withdrew the claim, and the next attempt claimed afresh: no claim without a task id waited
    # while the scheduled backups ran (their status could have passed for ours).
    claims = [  # the creates that took (the first claim's identical probe is refused with a 409)
        e
        for e in log
        if e.method == "POST" and e.path.endswith("/tags") and e.body["key"] == ON_DEMAND_KEY and e.status == 200
    ]
    withdrawn = [e for e in log if e.method == "DELETE" and e.path.endswith(f"/tags/{ON_DEMAND_KEY}")]
    assert len(claims) == len(withdrawn) + 1 > 1
    value = acct.emulator.tags(ORDERS)[ON_DEMAND_KEY]
    assert value.startswith("v1 done ") and value.endswith(f"task:{ours(acct)[0]}")
    assert acct.plan().warnings == ()


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_backup_first_import_waits_for_a_slot_held_by_scheduled_backups(acct: Account, refusal: str) -> None:
    acct.emulator.set_options(backup_limit_refusal=refusal)
    fill_the_subscription(acct, 0.3)

    results = acct.apply(acct.plan(targets={IMPORT}))

    result = outcome_of(results, IMPORT)
    assert result.outcome is Outcome.DONE, result.message
    assert len(ours(acct)) == 1
    [run] = acct.emulator.import_history(ORDERS)
    [backup] = [b for b in acct.emulator.backup_history(ORDERS) if b.task_id == ours(acct)[0]]
    assert backup.finished_at <= run.started_at
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 done ")


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_backup_that_never_gets_a_slot_is_skipped_never_failed_or_done(acct: Account, refusal: str) -> None:
    acct.emulator.set_options(backup_limit_refusal=refusal)
    fill_the_subscription(acct, 600.0)

    results = acct.apply(acct.plan(targets={ON_DEMAND}), timeout=1.0)

    result = outcome_of(results, ON_DEMAND)
    assert ours(acct) == []
    if refusal == "task-error" and result.outcome is Outcome.UNCERTAIN:
        # The deadline came while a refused task was still being processed: its outcome was unknown then.
        assert "did not finish" in result.message
        return
    assert result.outcome is Outcome.SKIPPED, result.message
    assert "refused the backup" in result.message and "scheduled backups count too" in result.message
    assert ON_DEMAND_KEY not in acct.emulator.tags(ORDERS)  # the claim was withdrawn: it did not run
    again = acct.plan()
    assert ON_DEMAND in {change.address for change in again.changes} and again.warnings == ()


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_backup_first_import_whose_backup_never_starts_is_skipped(acct: Account, refusal: str) -> None:
    acct.emulator.set_options(backup_limit_refusal=refusal)
    fill_the_subscription(acct, 600.0)

    results = acct.apply(acct.plan(targets={IMPORT}), timeout=1.0)

    result = outcome_of(results, IMPORT)
    assert acct.emulator.import_history(ORDERS) == [] and ours(acct) == []
    if refusal == "task-error" and result.outcome is Outcome.UNCERTAIN:
        assert "did not finish" in result.message  # the deadline came while a refused task was processed
        return
    assert result.outcome is Outcome.SKIPPED, result.message
    assert IMPORT_KEY not in acct.emulator.tags(ORDERS)


def test_ctrl_c_while_waiting_for_a_slot_skips_the_backup_and_records_nothing(acct: Account) -> None:
    fill_the_subscription(acct, 600.0)
    stop = threading.Event()
    results: list[StepResult] = []
    the_plan = acct.plan(targets={ON_DEMAND})
    worker = threading.Thread(target=lambda: results.extend(acct.apply(the_plan, stop=stop)))
    worker.start()
    wait_for(lambda: any(e.status == 429 for e in acct.emulator.request_log()))
    stop.set()
    worker.join(timeout=30)

    result = outcome_of(results, ON_DEMAND)
    assert result.outcome is Outcome.SKIPPED and "apply was interrupted" in result.message
    assert ours(acct) == [] and ON_DEMAND_KEY not in acct.emulator.tags(ORDERS)


# --- through the CLI, against the file-backed sandbox --------------------------------------------------------


def test_cli_apply_copes_with_a_busy_database_and_a_full_subscription(tmp_path: Path) -> None:
    """`reconciler --sandbox apply`: orders-prod is in a transient status and scheduled backups fill its
    subscription, refused as failed tasks; everything still ends done, each one-shot run once."""
    directory = sandbox_dir(tmp_path)
    shared = world(directory)
    shared.set_options(backup_limit_refusal="task-error")
    shared.hold_status(ORDERS, "active-change-pending", 0.3)
    for database in (SESSIONS, LEGACY, CATALOG, SESSIONS):
        shared.start_foreign_backup(database, 3.0)

    ran = cli(directory, "apply", "-f", "examples/", "--auto-approve")

    assert ran.code == 0, ran.out + ran.err
    after = world(directory)
    assert len(after.import_history(ORDERS)) == 1
    assert len([b for b in after.backup_history(ORDERS) if not b.task_id.startswith("scheduled-")]) == 2
    receipts = {key: value.split()[1] for key, value in after.tags(ORDERS).items() if key.startswith("rcr_")}
    assert receipts == {IMPORT_KEY: "done", ON_DEMAND_KEY: "done"}
    refusals = {t["error"]["type"] for t in after.tasks() if t["error"]}
    assert "DATABASE_BACKUP_FAILED" in refusals  # the full subscription did refuse
    # A write sent while orders-prod was busy (if one was) was refused as not active and sent again: nothing of it
    # is left to do, as the plan below says.
    assert refusals <= {"DATABASE_BACKUP_FAILED", "DATABASE_NOT_ACTIVE"}
    again = cli(directory, "plan", "-f", "examples/", "--detailed-exitcode")
    assert again.code == 0, again.out
