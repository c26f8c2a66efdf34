"""The apply engine in-process, over real HTTP against the emulator (its transport), on a real clock with
millisecond timings. Assertions are on what a user would notice: outcomes, receipts, the emulator's
histories and its request log."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.core.calls import plain as plain_body
from reconciler.core.desired import Tier
from reconciler.core.outcomes import Outcome, StepResult
from reconciler.core.plan import SettingsUpdate, WarningKind
from reconciler.manifest.load import load_manifest
from reconciler.sandbox import Fault
from tests.support.accounts import Account, account
from tests.support.api_calls import op_fingerprint, put_settings
from tests.support.examples import IMPORT, IMPORT_KEY, ORDERS, ORDERS_SEEDS
from tests.support.waiting import wait_for
from tests.support.world import TINY, generated_world, import_runs

PROD_EU, ANALYTICS, MARKETING = 1234567, 1234568, 2345678
ANALYTICS_DB, MARKETING_CACHE = 7654401, 8765432
RECEIPT = re.compile(r"^v1 (claimed|done|failed) fp:[0-9a-f]{12} at:\d+ run:[0-9a-f]{8}( task:[0-9a-f-]{36})?$")

MakeAccount = Callable[..., Account]


@pytest.fixture
def make_account() -> Iterator[MakeAccount]:
    made: list[Account] = []

    def build(**kwargs: object) -> Account:
        made.append(account(**kwargs))  # type: ignore[arg-type]
        return made[-1]

    yield build
    for acct in made:
        acct.session.close()


@pytest.fixture
def acct(make_account: MakeAccount) -> Account:
    return make_account()


def by_address(results: list[StepResult]) -> dict[str, StepResult]:
    return {result.address: result for result in results}


def import_result(results: list[StepResult]) -> StepResult:
    return by_address(results)[IMPORT]


# --- 1. the whole example, then nothing ---------------------------------------------------------------------


def test_full_apply_then_plan_is_empty(acct: Account) -> None:
    results = acct.apply(acct.plan())

    assert {r.address: r.outcome for r in results} == {
        "analytics-prod.backup": Outcome.DONE,
        "catalog-prod.backup": Outcome.DONE,
        "inventory-prod.backups.pre-reindex-2026-11": Outcome.DONE,
        "marketing-cache.backup": Outcome.DONE,
        "orders-aa.backup": Outcome.DONE,
        "orders-prod.backup": Outcome.DONE,
        "orders-prod.backups.before-migration-2026-11": Outcome.DONE,
        IMPORT: Outcome.DONE,
    }
    again = acct.plan()
    assert again.is_empty and again.warnings == ()

    # Every receipt ends done, with the task id of the call it records.
    receipts = {
        db: {k: v for k, v in acct.emulator.tags(db).items() if k.startswith("rcr_")} for db in (ORDERS, 7654402)
    }
    assert set(receipts[ORDERS]) == {IMPORT_KEY, "rcr_backup_before-migration-2026-11"}
    assert set(receipts[7654402]) == {"rcr_backup_pre-reindex-2026-11"}
    task_ids = {task["task_id"] for task in acct.emulator.tasks()}
    for values in receipts.values():
        for value in values.values():
            assert RECEIPT.match(value) and value.startswith("v1 done "), value
            assert value.rsplit("task:", 1)[1] in task_ids

    # The import ran exactly once, with the three shard files in one request ...
    (run,) = import_runs(acct.emulator)
    assert run.uris == ORDERS_SEEDS and run.source_type == "aws-s3" and run.status == "success"
    assert import_result(results).task_id == run.task_id
    # ... after backup_first's backup (to the configured path) had finished, and after the on-demand one.
    backups = acct.emulator.backup_history(ORDERS)
    assert [(b.adhoc, b.destination) for b in backups] == [
        (True, "s3://acme-adhoc/orders"),
        (False, "s3://acme-backups/orders"),
    ]
    assert all(b.finished_at <= run.started_at for b in backups)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"tasks_list": "running"}, id="task-list-of-running-tasks-only"),
        pytest.param({"tasks_envelope": "array"}, id="task-list-as-a-bare-array"),
        pytest.param({"task_processing": "one-at-a-time"}, id="one-task-at-a-time"),
    ],
)
def test_every_unconfirmed_way_of_the_task_list_applies_everything_once(acct: Account, options: dict[str, str]) -> None:
    """API-NOTES §5, §11 leave `GET /tasks` and the account's task processing UNCONFIRMED: apply ends the same."""
    acct.emulator.set_options(**options)
    results = acct.apply(acct.plan())

    assert {r.outcome for r in results} == {Outcome.DONE}
    assert [run.status for run in import_runs(acct.emulator)] == ["success"]
    assert sorted(b.destination for b in acct.emulator.backup_history() if b.adhoc) == [
        "s3://acme-adhoc/inventory",
        "s3://acme-adhoc/orders",
    ]
    again = acct.plan()
    assert again.is_empty and again.warnings == ()


def test_second_apply_of_a_stale_in_memory_plan_never_repeats_a_one_shot(acct: Account) -> None:
    """The same Plan object applied twice: the claim (409 on our own key, from another run id) stops it."""
    first_plan = acct.plan()
    acct.apply(first_plan)
    again = acct.apply(first_plan, run_id="99999999")

    outcomes = by_address(again)
    assert outcomes["orders-prod.backups.before-migration-2026-11"].outcome is Outcome.CLAIMED_BY_OTHER_RUN
    # Later steps on that database are not started (they could overlap the other run's operation).
    assert outcomes[IMPORT].outcome is Outcome.SKIPPED
    assert "before-migration-2026-11 did not finish" in outcomes[IMPORT].message
    assert outcomes["inventory-prod.backups.pre-reindex-2026-11"].outcome is Outcome.CLAIMED_BY_OTHER_RUN
    assert len(acct.emulator.backup_history()) == 3
    assert len(import_runs(acct.emulator)) == 1
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 done ")


# --- 2. drift ------------------------------------------------------------------------------------------------


def test_console_drift_is_shown_and_corrected(acct: Account) -> None:
    acct.apply(acct.plan())
    # A console user changes the interval: a PUT of our own, as any API user would.
    task = put_settings(
        acct.client,
        Tier.PRO,
        PROD_EU,
        ORDERS,
        {
            "remoteBackup": {
                "active": True,
                "interval": "every-6-hours",
                "storageType": "aws-s3",
                "storagePath": "s3://acme-backups/orders",
            }
        },
    )
    acct.client.wait_for_task(task, timeout=5)
    acct.client.wait_until_active(Tier.PRO, PROD_EU, ORDERS, timeout=5)

    drift = acct.plan()
    assert [(c.address, c.action.value) for c in drift.changes] == [("orders-prod.backup", "update")]
    mark = acct.log_size()
    assert [r.outcome for r in acct.apply(drift)] == [Outcome.DONE]
    (put,) = acct.writes(mark)
    assert put.method == "PUT" and put.path.endswith(f"/subscriptions/{PROD_EU}/databases/{ORDERS}")
    assert put.body["remoteBackup"]["interval"] == "every-12-hours"
    assert acct.plan().is_empty


def test_essentials_path_set_then_switched_off(make_account: MakeAccount, tmp_path: Path) -> None:
    acct = make_account()
    acct.apply(acct.plan(targets={"marketing-cache"}))
    puts = [r for r in acct.writes() if r.method == "PUT"]
    assert [(r.path, r.body) for r in puts] == [
        (
            f"/v1/fixed/subscriptions/{MARKETING}/databases/{MARKETING_CACHE}",
            {"periodicBackupPath": "s3://acme-backups/marketing"},
        )
    ]

    off = tmp_path / "off.yaml"
    off.write_text(
        "version: 1\ndatabases:\n  - name: marketing-cache\n    subscription: 2345678\n    database: 8765432\n"
        "    tier: essentials\n    backup:\n      enabled: false\n"
    )
    acct.manifest = load_manifest([off])
    switch_off = acct.plan()
    assert [c.address for c in switch_off.changes] == ["marketing-cache.backup"]
    mark = acct.log_size()
    assert [r.outcome for r in acct.apply(switch_off)] == [Outcome.DONE]
    assert [(r.method, r.body) for r in acct.writes(mark)] == [("PUT", {"periodicBackupPath": ""})]
    assert acct.plan().is_empty
    assert not acct.emulator.database(MARKETING_CACHE)["backup"]["enabled"]


def test_pro_disable_sends_active_false(acct: Account) -> None:
    acct.apply(acct.plan(targets={"analytics-prod"}))
    (put,) = acct.writes()
    assert put.path == f"/v1/subscriptions/{ANALYTICS}/databases/{ANALYTICS_DB}"
    assert put.body == {"remoteBackup": {"active": False}}
    assert acct.plan(targets={"analytics-prod"}).is_empty


# --- 3. the 4-backups-per-subscription limit -----------------------------------------------------------------


def test_twelve_backups_in_one_subscription_never_exceed_four_at_once(
    make_account: MakeAccount, tmp_path: Path
) -> None:
    databases = "".join(
        f"  - name: db-{100000 + n}\n    subscription: 1000001\n    database: {100000 + n}\n"
        f"    backups:\n      - id: nightly-extra\n"
        for n in range(12)
    )
    manifest = tmp_path / "bulk.yaml"
    manifest.write_text("version: 1\ndatabases:\n" + databases)
    # Backups last 150 ms, so that twelve started at once would overlap far beyond four.
    acct = make_account(
        world_data=generated_world(pro=12), manifest_paths=[manifest], timings=replace(TINY, backup=0.15)
    )
    the_plan = acct.plan()
    assert the_plan.count(the_plan.changes[0].action) == 12

    results = acct.apply(the_plan, parallelism=12)

    assert [r.outcome for r in results] == [Outcome.DONE] * 12
    assert len(acct.emulator.backup_history()) == 12
    peak = acct.emulator.peak_concurrent_backups(1000001)
    assert 1 < peak <= 4
    # The limit was ours, not the emulator's refusal: no backup POST met a 429.
    assert not [r for r in acct.emulator.request_log() if r.path.endswith("/backup") and r.status == 429]


# --- 4. a failed import -------------------------------------------------------------------------------------


def test_failed_import_is_recorded_then_retried_only_when_asked(acct: Account) -> None:
    acct.emulator.mark_source(ORDERS_SEEDS[1], "corrupt")
    results = acct.apply(acct.plan())

    failed = import_result(results)
    assert failed.outcome is Outcome.FAILED and "file-corrupted" in failed.message
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 failed ")

    after = acct.plan()
    assert IMPORT not in {c.address for c in after.changes}
    (warning,) = after.warnings
    assert warning.address == IMPORT and warning.kind.value == "failed"
    assert f"--retry-failed {IMPORT}" in warning.message

    acct.emulator.mark_source(ORDERS_SEEDS[1], None)
    retry = acct.plan(retry_failed={IMPORT})
    assert [c.address for c in retry.changes] == [IMPORT]
    assert import_result(acct.apply(retry)).outcome is Outcome.DONE
    assert [r.status for r in import_runs(acct.emulator)] == ["failed", "success"]
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 done ")
    assert acct.plan().is_empty


# --- 6. faults at each step ---------------------------------------------------------------------------------


def test_rate_limit_storm_during_apply_still_completes(acct: Account) -> None:
    the_plan = acct.plan()
    acct.emulator.inject(Fault.rate_limit_storm(4))
    results = acct.apply(the_plan)

    assert all(r.outcome is Outcome.DONE for r in results), results
    assert sum(1 for r in acct.emulator.request_log() if r.status == 429) == 4
    assert len([d for d in acct.backoffs if d >= 1.0]) == 4  # the server's retry-after was honoured
    assert len(import_runs(acct.emulator)) == 1
    assert acct.plan().is_empty


def test_server_error_on_a_read_is_retried(acct: Account) -> None:
    the_plan = acct.plan(targets={"orders-prod"})
    acct.emulator.inject(Fault.server_error(503, count=2, method="GET", path="/subscriptions/*/databases/*"))
    results = acct.apply(the_plan)

    assert all(r.outcome is Outcome.DONE for r in results)
    assert [r.status for r in acct.emulator.request_log() if r.status == 503] == [503, 503]
    assert len(import_runs(acct.emulator)) == 1


def test_dropped_answer_to_the_import_post_is_uncertain_then_settled(acct: Account) -> None:
    the_plan = acct.plan(targets={"orders-prod"})
    acct.emulator.inject(Fault.drop(method="POST", path="**/import", after_processing=True))
    results = acct.apply(the_plan)

    uncertain = import_result(results)
    assert uncertain.outcome is Outcome.UNCERTAIN and "stays claimed" in uncertain.message
    claim = acct.emulator.tags(ORDERS)[IMPORT_KEY]
    assert claim.startswith("v1 claimed ") and "task:" not in claim
    assert [r.outcome for r in acct.emulator.request_log() if r.path.endswith("/import")] == [
        "dropped-after-processing"
    ]
    wait_for(lambda: [r.status for r in import_runs(acct.emulator)] == ["success"])

    settle = acct.plan(targets={"orders-prod"})
    assert settle.is_empty
    (warning,) = settle.warnings
    assert (warning.address, warning.kind.value) == (IMPORT, "settled")
    assert "will record done" in warning.message

    mark = acct.log_size()
    (settled,) = acct.apply(settle)
    assert (settled.address, settled.outcome) == (IMPORT, Outcome.SETTLED)
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 done ")
    assert [r.path for r in acct.writes(mark)] == [f"/v1/subscriptions/{PROD_EU}/databases/{ORDERS}/tags/{IMPORT_KEY}"]
    assert len(import_runs(acct.emulator)) == 1
    final = acct.plan(targets={"orders-prod"})
    assert final.is_empty and final.warnings == ()


def test_dropped_answer_to_a_backup_post_never_repeats_the_backup(acct: Account) -> None:
    the_plan = acct.plan(targets={"inventory-prod"})
    acct.emulator.inject(Fault.drop(method="POST", path="**/backup", after_processing=True))
    (result,) = acct.apply(the_plan)

    assert result.outcome is Outcome.UNCERTAIN
    assert len(acct.emulator.backup_history(7654402)) == 1
    assert acct.emulator.tags(7654402)["rcr_backup_pre-reindex-2026-11"].startswith("v1 claimed ")
    wait_for(lambda: acct.emulator.backup_history(7654402)[0].status == "success")
    (warning,) = acct.plan(targets={"inventory-prod"}).warnings
    assert warning.kind.value == "settled" and "will record done" in warning.message


def test_import_task_processing_error_fails_with_the_api_reason(acct: Account) -> None:
    the_plan = acct.plan(targets={"orders-prod"})
    acct.emulator.inject(
        Fault.task_error(
            "DATABASE_IMPORT_NOT_ALLOWED",
            command_type="databaseImportRequest",
            description="Import is not allowed for this database",
        )
    )
    results = acct.apply(the_plan)

    failed = import_result(results)
    assert failed.outcome is Outcome.FAILED
    assert "DATABASE_IMPORT_NOT_ALLOWED" in failed.message
    assert "Import is not allowed for this database" in failed.message
    assert failed.task_id is not None
    value = acct.emulator.tags(ORDERS)[IMPORT_KEY]
    assert value.startswith("v1 failed ") and value.endswith(f"task:{failed.task_id}")
    assert import_runs(acct.emulator) == []
    (warning,) = acct.plan().warnings
    assert warning.kind.value == "failed"


def test_receipt_that_cannot_be_written_stays_claimed_never_a_lie(acct: Account) -> None:
    """The import ran, but every receipt update fails: the tag stays `claimed` (true), never `done` by guess
    nor `failed` (a lie), and the next plan settles it from the API's evidence."""
    the_plan = acct.plan(targets={"orders-prod.imports.seed-2026-11-20"})
    acct.emulator.inject(Fault.server_error(503, count=1000, method="PUT", path="**/tags/*"))
    (result,) = acct.apply(the_plan)

    assert result.outcome is Outcome.UNCERTAIN
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 claimed ")
    assert len(import_runs(acct.emulator)) == 1
    acct.emulator.clear_faults()
    wait_for(lambda: import_runs(acct.emulator)[0].status == "success")
    (warning,) = acct.plan().warnings
    assert warning.kind.value == "settled"


def test_another_runs_claim_is_reported_and_left_alone(acct: Account) -> None:
    the_plan = acct.plan(targets={"orders-prod"})
    operation = acct.manifest.databases[[d.name for d in acct.manifest.databases].index("orders-prod")].imports[0]
    theirs = f"v1 claimed fp:{op_fingerprint(operation)} at:1764000000 run:ffffffff"
    acct.client.create_tag(Tier.PRO, PROD_EU, ORDERS, IMPORT_KEY, theirs)

    results = by_address(acct.apply(the_plan))

    assert results[IMPORT].outcome is Outcome.CLAIMED_BY_OTHER_RUN
    assert "another run claimed it" in results[IMPORT].message
    assert results["orders-prod.backups.before-migration-2026-11"].outcome is Outcome.DONE
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY] == theirs
    assert import_runs(acct.emulator) == []
    # backup_first did not run either: the claim is taken before anything else.
    assert [b.adhoc for b in acct.emulator.backup_history(ORDERS)] == [True]


def test_interrupted_before_start_skips_everything(acct: Account) -> None:
    stop = threading.Event()
    stop.set()
    results = acct.apply(acct.plan(), stop=stop)
    assert {r.outcome for r in results} == {Outcome.SKIPPED}
    assert acct.writes() == []


# --- regressions: a receipt never records a guess ---------------------------------------------------------

PLAIN_IMPORT = """version: 1
databases:
  - name: orders-prod
    subscription: 1234567
    database: 7654321
    imports:
      - id: seed-2026-11-20
        from:
          - s3://acme-seeds/orders/orders-1_of_3.rdb.gz
          - s3://acme-seeds/orders/orders-2_of_3.rdb.gz
          - s3://acme-seeds/orders/orders-3_of_3.rdb.gz
        confirm: orders-prod
"""


@pytest.fixture
def plain_first(make_account: MakeAccount, tmp_path: Path) -> Account:
    """orders-prod with only the import, and `backup_first`."""
    manifest = tmp_path / "orders.yaml"
    manifest.write_text(PLAIN_IMPORT + "        backup_first: true\n")
    return make_account(manifest_paths=[manifest])


@pytest.fixture
def plain(make_account: MakeAccount, tmp_path: Path) -> Account:
    """orders-prod with only the import (no backup_first), so the first task poll is the import's."""
    manifest = tmp_path / "orders.yaml"
    manifest.write_text(PLAIN_IMPORT)
    return make_account(manifest_paths=[manifest])


def test_unreadable_task_of_an_accepted_import_is_uncertain_not_failed(plain: Account) -> None:
    """Regression: 503s on `GET /tasks/{id}` after the import POST was accepted used to write `failed`,
    although the import ran; `--retry-failed` would then have imported twice."""
    the_plan = plain.plan()
    plain.emulator.inject(Fault.server_error(503, count=6, method="GET", path="/tasks/*"))
    (result,) = plain.apply(the_plan)

    assert result.outcome is Outcome.UNCERTAIN and "could not be read" in result.message
    (run,) = import_runs(plain.emulator)
    assert result.task_id == run.task_id
    assert plain.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 claimed ")
    wait_for(lambda: import_runs(plain.emulator)[0].status == "success")
    (warning,) = plain.plan().warnings
    assert warning.kind.value == "settled" and "will record done" in warning.message


def test_a_failed_import_status_read_is_never_taken_for_done(plain: Account) -> None:
    """Regression: any error of the import-status task was read as "backup is off, the task is the only
    evidence" and recorded `done`, here for an import that failed (corrupt file)."""
    plain.emulator.mark_source(ORDERS_SEEDS[0], "corrupt")
    the_plan = plain.plan()
    plain.emulator.inject(
        Fault.task_error(
            "SUBSCRIPTION_NOT_ACTIVE", command_type="databaseImportStatusRequest", error_status="403 FORBIDDEN"
        )
    )
    (result,) = plain.apply(the_plan)

    assert result.outcome is Outcome.FAILED and "file-corrupted" in result.message
    assert plain.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 failed ")


def test_an_import_status_that_stays_unreadable_leaves_the_receipt_claimed(plain: Account) -> None:
    the_plan = plain.plan()
    plain.emulator.inject(
        Fault.task_error("SUBSCRIPTION_NOT_ACTIVE", command_type="databaseImportStatusRequest", count=50)
    )
    (result,) = plain.apply(the_plan)

    assert result.outcome is Outcome.UNCERTAIN and "SUBSCRIPTION_NOT_ACTIVE" in result.message
    assert plain.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 claimed ")
    assert len(import_runs(plain.emulator)) == 1


def test_a_backup_with_backup_off_is_never_done_on_its_tasks_word(acct: Account, tmp_path: Path) -> None:
    """Issue 20 item 4 (was: `done` on the task's word, SPEC §10): with backup off the status endpoint answers
    DATABASE_BACKUP_DISABLED and a completed task means only "accepted", so the plan warns, the receipt stays
    claimed with its task, and every message says how to check and what to do; nothing runs again by itself."""
    manifest = tmp_path / "catalog.yaml"
    manifest.write_text(
        "version: 1\ndatabases:\n  - name: catalog-prod\n    subscription: 1234567\n    database: 7654323\n"
        "    backups:\n      - id: one-off\n        path: s3://acme-adhoc/catalog\n"
    )
    acct.manifest = load_manifest([manifest])
    address = "catalog-prod.backups.one-off"
    the_plan = acct.plan()
    (note,) = the_plan.warnings
    assert note.kind is WarningKind.UNVERIFIABLE and "cannot be verified" in note.message
    assert [c.address for c in the_plan.changes] == [address] and not the_plan.attention

    (result,) = acct.apply(the_plan)

    assert result.outcome is Outcome.UNCERTAIN, result.message
    assert "cannot be verified" in result.message and "Check the backup destination" in result.message
    assert f"--retry-uncertain {address}" in result.message
    value = acct.emulator.tags(7654323)["rcr_backup_one-off"]
    assert value.startswith("v1 claimed ") and value.endswith(f"task:{result.task_id}")
    again = acct.plan()
    (warning,) = again.warnings
    assert warning.kind is WarningKind.UNCERTAIN and "cannot be verified" in warning.message
    assert again.changes == () and len(acct.emulator.backup_history(7654323)) == 1


def test_a_backup_first_whose_outcome_cannot_be_read_never_lets_the_import_run(plain_first: Account) -> None:
    """Issue 20 item 4: the backup status answering DATABASE_BACKUP_DISABLED after backup_first's backup is no
    evidence that the backup exists, so the destructive import is not sent and its claim is withdrawn."""
    the_plan = plain_first.plan()
    plain_first.emulator.inject(
        Fault.task_error("DATABASE_BACKUP_DISABLED", command_type="databaseBackupStatusRequest", count=50)
    )
    (result,) = plain_first.apply(the_plan)

    assert result.outcome is Outcome.SKIPPED, result.message
    assert "the import was not sent" in result.message and "claim was withdrawn" in result.message
    assert import_runs(plain_first.emulator) == []
    assert IMPORT_KEY not in plain_first.emulator.tags(ORDERS)
    assert len(plain_first.emulator.backup_history(ORDERS)) == 1


def test_lost_answer_to_the_claim_is_recognised_as_our_own(acct: Account) -> None:
    """The claim POST takes effect but its answer is lost; the retry meets our own tag (409): not another run."""
    the_plan = acct.plan(targets={"orders-prod"})
    acct.emulator.inject(Fault.drop(method="POST", path="**/tags", after_processing=True, count=2))
    results = acct.apply(the_plan)

    assert [r.outcome for r in results] == [Outcome.DONE] * 3
    assert sum(1 for r in acct.emulator.request_log() if r.method == "POST" and r.status == 409) == 2
    assert len(import_runs(acct.emulator)) == 1


def test_timeout_leaves_the_receipt_claimed_with_its_task(make_account: MakeAccount) -> None:
    acct = make_account(timings=replace(TINY, import_=0.5))
    (result,) = acct.apply(acct.plan(targets={IMPORT}), timeout=0.15)

    assert result.outcome is Outcome.UNCERTAIN and "no outcome within" in result.message
    (run,) = import_runs(acct.emulator)
    assert result.task_id == run.task_id
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].endswith(f"task:{run.task_id}")
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY].startswith("v1 claimed ")
    (warning,) = acct.plan(targets={IMPORT}).warnings
    assert warning.kind.value == "in-progress"


def test_retry_never_deletes_a_claim_made_since_the_plan(acct: Account) -> None:
    """Regression: `--retry-failed` deleted whatever receipt it found before claiming afresh, so two
    pipelines retrying at once both ran the import (the second deleted the first one's new claim)."""
    acct.emulator.mark_source(ORDERS_SEEDS[0], "corrupt")
    acct.apply(acct.plan(targets={"orders-prod"}))
    acct.emulator.mark_source(ORDERS_SEEDS[0], None)
    ours = acct.plan(retry_failed={IMPORT}, targets={IMPORT})
    assert [c.address for c in ours.changes] == [IMPORT]
    # Meanwhile another pipeline, retrying too, replaces the failed receipt with its own claim.
    theirs = f"v1 claimed {acct.emulator.tags(ORDERS)[IMPORT_KEY].split()[2]} at:1764000000 run:ffffffff"
    acct.client.delete_tag(Tier.PRO, PROD_EU, ORDERS, IMPORT_KEY)
    acct.client.create_tag(Tier.PRO, PROD_EU, ORDERS, IMPORT_KEY, theirs)

    (result,) = acct.apply(ours)

    assert result.outcome is Outcome.CLAIMED_BY_OTHER_RUN
    assert acct.emulator.tags(ORDERS)[IMPORT_KEY] == theirs
    assert [r.status for r in import_runs(acct.emulator)] == ["failed"]


def test_retry_of_a_receipt_forgotten_since_the_plan_still_claims(acct: Account) -> None:
    acct.emulator.mark_source(ORDERS_SEEDS[0], "corrupt")
    acct.apply(acct.plan(targets={"orders-prod"}))
    acct.emulator.mark_source(ORDERS_SEEDS[0], None)
    retry = acct.plan(retry_failed={IMPORT}, targets={IMPORT})
    acct.client.delete_tag(Tier.PRO, PROD_EU, ORDERS, IMPORT_KEY)  # `receipts forget` in between

    (result,) = acct.apply(retry)

    assert result.outcome is Outcome.DONE
    assert [r.status for r in import_runs(acct.emulator)] == ["failed", "success"]


def test_apply_sends_exactly_the_calls_the_plan_carries(acct: Account) -> None:
    """Every write but the receipts' tags is one of the plan's calls (no secrets here, so resolving changes
    nothing), each database's in the plan's order; an import's `backup_first` backup is one of its calls."""
    the_plan = acct.plan()
    mark = acct.log_size()
    acct.apply(the_plan)
    sent = [(r.method, r.path.removeprefix("/v1"), r.body or None) for r in acct.writes(mark) if "/tags" not in r.path]
    planned = [(c.method, c.path, plain_body(c.body)) for change in the_plan.changes for c in change.calls]
    assert sorted(sent, key=str) == sorted(planned, key=str)
    for db in {change.database.path for change in the_plan.changes}:
        assert [s for s in sent if s[1].startswith(db + "/") or s[1] == db] == [
            p for p in planned if p[1].startswith(db + "/") or p[1] == db
        ]
    assert ("POST", f"/subscriptions/{PROD_EU}/databases/{ORDERS}/backup", None) in planned


def test_an_unmanaged_time_of_day_is_not_sent_so_a_12_hourly_time_is_not_moved(
    make_account: MakeAccount, tmp_path: Path
) -> None:
    """sessions-prod backs up at 16:00 every 12 hours, which the API reads back as 04:00. Changing only the
    interval must not send that 04:00 back: the plan shows no timeUTC and apply sends none."""
    manifest = tmp_path / "sessions.yaml"
    manifest.write_text(
        "version: 1\ndatabases:\n  - name: sessions-prod\n    subscription: 1234567\n    database: 7654322\n"
        "    backup:\n      path: gs://acme-backups-gcs/sessions\n      interval: every-24-hours\n"
    )
    acct = make_account(manifest_paths=[manifest])
    (change,) = acct.plan().changes
    assert isinstance(change, SettingsUpdate) and "timeUTC" not in change.call.body["remoteBackup"]
    mark = acct.log_size()
    acct.apply(acct.plan())
    (put,) = [r for r in acct.writes(mark) if r.method == "PUT"]
    assert "timeUTC" not in put.body["remoteBackup"]
    assert acct.emulator.database(7654322)["backup"]["time_utc"] == "16:00"


def test_an_interval_left_out_is_sent_at_its_live_value_and_then_nothing_drifts(
    make_account: MakeAccount, tmp_path: Path
) -> None:
    """Issue 12 part 5: analytics-prod backs up every 6 hours; a manifest that moves only its path must keep that."""
    manifest = tmp_path / "analytics.yaml"
    manifest.write_text(
        "version: 1\ndatabases:\n  - name: analytics-prod\n    subscription: 1234568\n    database: 7654401\n"
        "    backup:\n      path: s3://acme-backups/analytics-v2\n"
    )
    acct = make_account(manifest_paths=[manifest])
    (change,) = acct.plan().changes
    assert [f.field for f in change.fields] == ["path"]
    assert isinstance(change, SettingsUpdate) and change.call.body["remoteBackup"]["interval"] == "every-6-hours"
    mark = acct.log_size()

    assert [r.outcome for r in acct.apply(acct.plan())] == [Outcome.DONE]

    (put,) = [r for r in acct.writes(mark) if r.method == "PUT"]
    assert put.body["remoteBackup"] == {
        "active": True,
        "interval": "every-6-hours",
        "storageType": "aws-s3",
        "storagePath": "s3://acme-backups/analytics-v2",
    }
    assert acct.emulator.database(ANALYTICS_DB)["backup"]["interval"] == "every-6-hours"
    assert acct.plan().is_empty


def test_each_receipt_is_written_three_times_and_each_task_read_until_it_ends_once(acct: Account) -> None:
    """Claimed, its task id, its outcome: nothing a later run does not need (issue 16). A backup's task is waited
    for once, not again before its status is read."""
    mark = len(acct.emulator.request_log())
    acct.apply(acct.plan())
    log = acct.emulator.request_log()[mark:]

    for key, database in (
        ("rcr_backup_before-migration-2026-11", ORDERS),
        ("rcr_backup_pre-reindex-2026-11", 7654402),
        (IMPORT_KEY, ORDERS),
    ):
        writes = [e.method for e in log if e.method in ("POST", "PUT") and e.path.endswith(f"{database}/tags/{key}")]
        claims = [e for e in log if e.method == "POST" and e.path.endswith(f"{database}/tags") and e.body["key"] == key]
        assert (len(claims) >= 1, writes) == (True, ["PUT", "PUT"]), key
    completed_reads: dict[str, int] = {}
    for entry in log:
        if entry.method == "GET" and entry.path.startswith("/v1/tasks/"):
            task = entry.path.rsplit("/", 1)[1]
            status = next(t for t in acct.emulator.tasks() if t["task_id"] == task)
            if entry.time >= status["done_at"]:
                completed_reads[task] = completed_reads.get(task, 0) + 1
    assert completed_reads and set(completed_reads.values()) == {1}
