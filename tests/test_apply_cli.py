"""`reconciler --sandbox apply` as a user runs it: the CLI in-process (`main()`) or as a real process
sharing the file-backed sandbox world in a temporary directory, with a seed whose timings are zero
unless a test needs an operation to last (to kill or interrupt it mid-way)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.core import calls
from reconciler.core.desired import Tier
from reconciler.manifest.load import load_manifest
from reconciler.sandbox import Fault, reset
from tests.support.api_calls import op_fingerprint, put_settings
from tests.support.cli import cli, finish, spawn
from tests.support.clients import open_client
from tests.support.examples import EXAMPLES, IMPORT, IMPORT_KEY, INVENTORY, ORDERS, ORDERS_SEEDS
from tests.support.waiting import wait_for
from tests.support.workdirs import STATE, TAG_VARIANTS, peek_tags, sandbox_dir, world
from tests.support.world import WRITES

APPLY = ("apply", "-f", "examples/", "--auto-approve")
PLAN = ("plan", "-f", "examples/")
Spawn = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Every process a test starts is gone when it ends, whatever happened."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.fixture
def start(processes: list[subprocess.Popen[str]]) -> Spawn:
    def run(directory: Path, *argv: str) -> subprocess.Popen[str]:
        processes.append(spawn(directory, *argv))
        return processes[-1]

    return run


def writes_since(directory: Path, mark: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in world(directory).request_log()[mark:] if r.method in WRITES]


def log_size(directory: Path) -> int:
    return len(world(directory).request_log())


def imports(directory: Path) -> list[str]:
    return [run.status for run in world(directory).import_history(ORDERS)]


def plan_json(directory: Path, *extra: str) -> dict[str, Any]:
    ran = cli(directory, *PLAN, "--format", "json", *extra)
    assert ran.code == 0, ran.err
    document: dict[str, Any] = json.loads(ran.out)
    return document


def warnings_of(document: dict[str, Any]) -> dict[str, str]:
    return {w["address"]: w["kind"] for w in document["warnings"]}


def changes_of(document: dict[str, Any]) -> list[str]:
    return [c["address"] for c in document["changes"]]


def await_tag(directory: Path, test: Callable[[str], bool], process: subprocess.Popen[str], timeout: float = 15) -> str:
    """Poll the world until the import receipt satisfies `test` (fail if the process ends first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = peek_tags(directory).get(IMPORT_KEY)
        if value is not None and test(value):
            return value
        assert process.poll() is None, f"apply ended before the receipt reached the expected phase: {value}"
        time.sleep(0.003)
    raise AssertionError("the receipt never reached the expected phase")


def claimed_without_task(value: str) -> bool:
    return value.startswith("v1 claimed ") and "task:" not in value


def claimed_with_task(value: str) -> bool:
    return value.startswith("v1 claimed ") and "task:" in value


# --- 4. a failed import through the CLI -----------------------------------------------------------------


def test_failed_import_exits_1_and_reruns_only_with_retry_failed(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    world(directory).mark_source(ORDERS_SEEDS[2], "corrupt")

    ran = cli(directory, *APPLY)
    assert ran.code == 1
    assert f"failed   {IMPORT}" in ran.err and "file-corrupted" in ran.err
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 failed ")

    document = plan_json(directory)
    assert changes_of(document) == [] and warnings_of(document) == {IMPORT: "failed"}
    text = cli(directory, *PLAN)
    assert f"--retry-failed {IMPORT}" in text.out + text.err

    world(directory).mark_source(ORDERS_SEEDS[2], None)
    assert changes_of(plan_json(directory, "--retry-failed", IMPORT)) == [IMPORT]
    again = cli(directory, *APPLY, "--retry-failed", IMPORT)
    assert again.code == 0, again.err
    assert imports(directory) == ["failed", "success"]
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 done ")
    assert cli(directory, *PLAN, "--detailed-exitcode").code == 0


# --- 5. stale saved plans ------------------------------------------------------------------------------------


def test_saved_plan_refused_when_live_settings_moved(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    client, session = open_client(world(directory))
    try:  # someone changes orders-prod in the console between review and apply
        put_settings(
            client,
            Tier.PRO,
            1234567,
            ORDERS,
            {
                "remoteBackup": {
                    "active": True,
                    "interval": "every-2-hours",
                    "storageType": "aws-s3",
                    "storagePath": "s3://acme-backups/orders",
                }
            },
        )
    finally:
        session.close()
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 1
    assert "stale plan" in ran.err and "orders-prod.backup" in ran.err and "every-2-hours" in ran.err
    assert ran.err.count("Error:") == 1 and "Traceback" not in ran.err
    assert writes_since(directory, mark) == []


def test_saved_plan_refused_when_another_run_did_the_import(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    assert cli(directory, *APPLY, "--target", IMPORT).code == 0
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 1 and "stale plan" in ran.err and IMPORT in ran.err
    assert writes_since(directory, mark) == []
    assert imports(directory) == ["success"]


def test_saved_plan_refused_when_the_manifest_changed(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    platform = directory / "examples" / "platform.yaml"
    platform.write_text(platform.read_text().replace('time_utc: "02:00"', 'time_utc: "03:00"'))
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 1 and "stale plan" in ran.err and "manifests changed" in ran.err
    assert writes_since(directory, mark) == []


def test_saved_plan_applies_without_a_question_when_nothing_moved(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    ran = cli(directory, "apply", "plan.json")
    assert ran.code == 0, ran.err
    assert imports(directory) == ["success"]
    assert cli(directory, *PLAN, "--detailed-exitcode").code == 0


# --- 7. SIGKILL mid-import --------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", TAG_VARIANTS)
@pytest.mark.parametrize(
    "kill_when",
    [
        pytest.param(claimed_without_task, id="claimed-before-the-import-post"),
        pytest.param(claimed_with_task, id="import-accepted-and-running"),
    ],
)
def test_sigkill_mid_import_then_plan_tells_the_truth_and_the_import_runs_once(
    tmp_path: Path, start: Spawn, kill_when: Callable[[str], bool], variant: str
) -> None:
    # backup_first's backup lasts long enough to kill during it; the import long enough to kill during it.
    directory = sandbox_dir(tmp_path, TAG_VARIANTS[variant], backup=0.3, **{"import": 0.8})
    process = start(directory, *APPLY)
    value = await_tag(directory, kill_when, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 claimed ")

    document = plan_json(directory)
    kind = warnings_of(document).get(IMPORT)
    assert IMPORT not in changes_of(document)  # never a planned re-run of the import
    if kill_when is claimed_without_task:
        assert imports(directory) == []
        assert kind == "uncertain"
        # Apply alone leaves it alone, and says so with a failing exit; only --retry-uncertain runs it.
        alone = cli(directory, *APPLY)
        assert alone.code == 1 and f"{IMPORT} (uncertain)" in alone.out
        assert imports(directory) == []
        ran = cli(directory, *APPLY, "--retry-uncertain", IMPORT)
    else:
        assert "task:" in value and len(imports(directory)) == 1
        assert kind in ("in-progress", "settled")
        wait_for(lambda: imports(directory) == ["success"])
        settled = plan_json(directory)
        assert warnings_of(settled) == {IMPORT: "settled"} and IMPORT not in changes_of(settled)
        ran = cli(directory, *APPLY)
    assert ran.code == 0, ran.err
    assert imports(directory) == ["success"]
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 done ")
    final = plan_json(directory)
    assert changes_of(final) == [] and warnings_of(final) == {}


# --- 8. two applies at once ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "runs"),
    [(variant, 2) for variant in TAG_VARIANTS]
    + [("duplicate-create-409", 5), ("duplicate-create-overwrites", 5)],  # five matter where claims can collide
)
def test_racing_applies_run_each_one_shot_once(tmp_path: Path, start: Spawn, variant: str, runs: int) -> None:
    directory = sandbox_dir(tmp_path, TAG_VARIANTS[variant], backup=0.05, **{"import": 0.05})
    results = [finish(process, timeout=60) for process in [start(directory, *APPLY) for _ in range(runs)]]

    assert len(world(directory).import_history(ORDERS)) == 1
    adhoc = [b.destination for b in world(directory).backup_history() if b.adhoc]
    assert sorted(adhoc) == ["s3://acme-adhoc/inventory", "s3://acme-adhoc/orders"]
    for ran in results:
        assert ran.code in (0, 1), ran.err
        if ran.code == 1:  # it met another run's claim: at the claim, or already in its plan
            assert "claimed-by-other-run" in ran.out + ran.err or " attention: " in ran.out + ran.err
    # No receipt lies: everything ends done, and a fresh plan has nothing left to do.
    tags = {**peek_tags(directory, ORDERS), **peek_tags(directory, INVENTORY)}
    receipts = {k: v.split()[1] for k, v in tags.items() if k.startswith("rcr_")}
    assert receipts == {
        IMPORT_KEY: "done",
        "rcr_backup_before-migration-2026-11": "done",
        "rcr_backup_pre-reindex-2026-11": "done",
    }
    final = plan_json(directory)
    assert changes_of(final) == [] and warnings_of(final) == {}


# --- 9. Ctrl-C ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_interrupt_starts_nothing_new_settles_the_running_backup_and_exits_130(
    tmp_path: Path, start: Spawn, signum: signal.Signals
) -> None:
    directory = sandbox_dir(tmp_path, backup=1.2)
    # One database at a time, in plan order: inventory-prod's backup runs before marketing-cache and orders-prod.
    process = start(directory, *APPLY, "--parallelism", "1", "--report", "report.json")
    backup_key = "rcr_backup_pre-reindex-2026-11"
    deadline = time.monotonic() + 15
    while not claimed_with_task(peek_tags(directory, INVENTORY).get(backup_key, "")):
        assert process.poll() is None and time.monotonic() < deadline, "the backup never got a task id"
        time.sleep(0.003)
    process.send_signal(signum)
    ran = finish(process)

    assert ran.code == 130, ran.err
    assert "Interrupted" in ran.err
    assert peek_tags(directory, INVENTORY)[backup_key].startswith("v1 done ")  # settled, not left claimed
    assert [run.status for run in world(directory).backup_history(INVENTORY)] == ["success"]
    assert imports(directory) == []  # started nothing new
    assert IMPORT_KEY not in peek_tags(directory)
    report = json.loads((directory / "report.json").read_text())
    outcomes = {op["address"]: op["outcome"] for op in report["operations"]}
    assert report["interrupted"] is True
    assert outcomes["inventory-prod.backups.pre-reindex-2026-11"] == "done"
    assert outcomes[IMPORT] == "skipped" and outcomes["marketing-cache.backup"] == "skipped"


def backup_runs(directory: Path, database: int = ORDERS) -> list[dict[str, Any]]:
    """The backups started on one database, read from the saved world without its lock (as `peek_tags`)."""
    try:
        data = json.loads((directory / STATE / "world.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [run for run in data["backup_runs"] if run["database_id"] == database]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_during_the_backup_first_backup_never_sends_the_import(
    tmp_path: Path, start: Spawn, signum: signal.Signals
) -> None:
    """Regression: apply said "starting nothing new", waited for backup_first's backup, then POSTed the import."""
    directory = sandbox_dir(tmp_path, backup=1.0)
    process = start(directory, *APPLY, "--target", IMPORT, "--report", "report.json")
    deadline = time.monotonic() + 15
    while not backup_runs(directory):
        assert process.poll() is None and time.monotonic() < deadline, "the backup before the import never started"
        time.sleep(0.003)
    process.send_signal(signum)
    ran = finish(process)

    assert ran.code == 130, ran.err
    assert imports(directory) == []
    assert IMPORT_KEY not in peek_tags(directory)  # its claim withdrawn: the next apply runs it
    [operation] = json.loads((directory / "report.json").read_text())["operations"]
    assert operation["outcome"] == "skipped" and "the import was not sent" in operation["message"]
    assert IMPORT in changes_of(plan_json(directory))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_while_apply_is_still_planning_exits_130_and_writes_nothing(
    tmp_path: Path, start: Spawn, signum: signal.Signals
) -> None:
    """Regression: the handlers were installed only once apply started, so a SIGTERM while planning exited -15."""
    directory = sandbox_dir(tmp_path)
    world(directory).inject(Fault.slow(3.0, count=20, method="GET", path="**/tags"))
    mark = log_size(directory)
    process = start(directory, *APPLY)
    wait_for(lambda: log_size(directory) > mark)  # it has made its first request: planning
    process.send_signal(signum)
    ran = finish(process)

    assert ran.code == 130, (ran.code, ran.err)
    assert "Interrupted" in ran.err and "Traceback" not in ran.err
    assert writes_since(directory, mark) == []


def test_second_sigint_leaves_at_once_and_the_next_plan_reconciles(tmp_path: Path, start: Spawn) -> None:
    directory = sandbox_dir(tmp_path, **{"import": 1.5})
    process = start(directory, *APPLY)
    await_tag(directory, claimed_with_task, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.1)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    ran = finish(process)

    assert ran.code == 130
    assert time.monotonic() - sent < 1.0  # did not wait for the import
    assert claimed_with_task(peek_tags(directory)[IMPORT_KEY])
    assert warnings_of(plan_json(directory))[IMPORT] in ("in-progress", "settled")
    wait_for(lambda: imports(directory) == ["success"])
    assert cli(directory, *APPLY).code == 0
    assert imports(directory) == ["success"]
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 done ")


# --- 10. confirmation, reports -------------------------------------------------------------------------------


def test_no_tty_and_no_auto_approve_is_one_clear_error(tmp_path: Path, start: Spawn) -> None:
    directory = sandbox_dir(tmp_path)
    mark = log_size(directory)
    ran = finish(start(directory, "apply", "-f", "examples/"))

    assert ran.code == 1
    errors = [line for line in ran.err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--auto-approve" in errors[0]
    assert "Traceback" not in ran.err
    assert writes_since(directory, mark) == []


def test_report_file_and_github_step_summary(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    summary = tmp_path / "step-summary.md"
    ran = cli(directory, *APPLY, "--report", "report.json", environ={"GITHUB_STEP_SUMMARY": str(summary)})
    assert ran.code == 0, ran.err

    report = json.loads((directory / "report.json").read_text())
    operations = {op["address"]: op for op in report["operations"]}
    assert set(operations) == {
        "analytics-prod.backup",
        "catalog-prod.backup",
        "inventory-prod.backups.pre-reindex-2026-11",
        "marketing-cache.backup",
        "orders-aa.backup",
        "orders-prod.backup",
        "orders-prod.backups.before-migration-2026-11",
        IMPORT,
    }
    for op in operations.values():
        assert op["outcome"] == "done"
        assert isinstance(op["duration_seconds"], float | int) and op["duration_seconds"] >= 0
    assert report["interrupted"] is False

    markdown = summary.read_text()
    assert "|" in markdown and IMPORT in markdown and "done" in markdown
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(table) >= 2 + len(operations)  # header, separator, one row per operation


# --- 12. an unset variable --------------------------------------------------------------------------------


def test_unset_variable_fails_before_any_call(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    manifests = directory / "manifests"
    manifests.mkdir()
    (manifests / "inventory.yaml").write_text(
        "version: 1\ndatabases:\n  - name: inventory-prod\n    subscription: 1234568\n    database: 7654402\n"
        "    imports:\n      - id: reload-2026-12\n"
        '        from: "ftp://loader:${env:SEED_FTP_PASSWORD}@ftp.acme.test/inventory.rdb.gz"\n'
        "        confirm: inventory-prod\n"
    )
    mark = log_size(directory)
    # Issue 12: plan checks the variables too, before its first request (it used to plan without them).
    planned = cli(directory, "plan", "-f", "manifests/")
    assert planned.code == 1
    assert "SEED_FTP_PASSWORD" in planned.err and "inventory-prod.imports.reload-2026-12" in planned.err

    ran = cli(directory, "apply", "-f", "manifests/", "--auto-approve")

    assert ran.code == 1
    assert "SEED_FTP_PASSWORD" in ran.err and "inventory-prod.imports.reload-2026-12" in ran.err
    assert log_size(directory) == mark  # not one request, reads included

    ok = cli(directory, "apply", "-f", "manifests/", "--auto-approve", environ={"SEED_FTP_PASSWORD": "s3cr3t-pw"})
    assert ok.code == 0, ok.err
    assert "s3cr3t-pw" not in ok.out + ok.err
    (run,) = world(directory).import_history(INVENTORY)
    assert run.uris == ("ftp://loader:s3cr3t-pw@ftp.acme.test/inventory.rdb.gz",)
    assert "s3cr3t-pw" not in peek_tags(directory, INVENTORY)["rcr_import_reload-2026-12"]


# --- settling from a saved plan ---------------------------------------------------------------------------


def test_saved_plan_settles_an_interrupted_receipt(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    world(directory).inject(Fault.drop(method="POST", path="**/import", after_processing=True))
    assert cli(directory, *APPLY).code == 1  # uncertain
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    assert warnings_of(json.loads((directory / "plan.json").read_text())) == {IMPORT: "settled"}

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 0, ran.err
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 done ")
    assert imports(directory) == ["success"]


def test_saved_settlement_refused_when_the_receipt_was_claimed_again(tmp_path: Path) -> None:
    """Regression: `apply plan.json` wrote the saved plan's `done` over a newer claim of another run (the
    receipt had been forgotten and claimed afresh), although the live account no longer showed it ran."""
    directory = sandbox_dir(tmp_path)
    world(directory).inject(Fault.drop(method="POST", path="**/import", after_processing=True))
    assert cli(directory, *APPLY).code == 1
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    fingerprint = peek_tags(directory)[IMPORT_KEY].split()[2]
    assert cli(directory, "receipts", "forget", IMPORT, "-f", "examples/", "--auto-approve", "--force").code == 0
    time.sleep(1.05)  # the new claim is a server-clock second after the import: it did not run since
    client, session = open_client(world(directory))
    theirs = f"v1 claimed {fingerprint} at:1795834300 run:ffffffff"
    try:
        client.create_tag(Tier.PRO, 1234567, ORDERS, IMPORT_KEY, theirs)
    finally:
        session.close()
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 1 and "stale plan" in ran.err and IMPORT in ran.err
    assert peek_tags(directory)[IMPORT_KEY] == theirs
    assert writes_since(directory, mark) == []


# --- issue 12 §3, §4: refused claims, the tag budget, receipts of version 0.1 --------------------------------


def test_a_viewer_keys_apply_reports_refused_nothing_written_not_uncertain(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    mark = log_size(directory)
    viewer = {"REDISCLOUD_ACCESS_KEY": "sandbox-account-key", "REDISCLOUD_SECRET_KEY": "sandbox-viewer-secret-key"}
    ran = cli(directory, *APPLY, "--report", "report.json", environ=viewer)

    assert ran.code == 1
    outcomes = {op["address"]: op for op in json.loads((directory / "report.json").read_text())["operations"]}
    refused = outcomes["inventory-prod.backups.pre-reindex-2026-11"]
    assert refused["outcome"] == "refused" and "nothing was written" in refused["message"], refused
    assert "403" in refused["message"]
    # orders-prod's settings update was refused first (403), so its one-shots were not started at all.
    assert outcomes["orders-prod.backup"]["outcome"] == "failed"
    assert outcomes[IMPORT]["outcome"] == "skipped"
    assert "uncertain" not in ran.out + ran.err
    assert not any(key.startswith("rcr") for key in peek_tags(directory))
    landed = [r for r in world(directory).request_log()[mark:] if r.method in WRITES and (r.status or 500) < 400]
    assert landed == []  # every write was refused: no tag, no PUT, no backup, no import


def seeded(tmp_path: Path, tags: dict[str, str], database: int = ORDERS, options: dict[str, Any] | None = None) -> Path:
    """The fast sandbox with extra tags on one database, as a console user or version 0.1 left them."""
    directory = sandbox_dir(tmp_path, options)
    seed = directory / "fast-world.yaml"
    document = yaml.safe_load(seed.read_text(encoding="utf-8"))
    for subscription in document["subscriptions"]:
        for db in subscription.get("databases", []):
            if db["id"] == database:
                db["tags"] = {**db.get("tags", {}), **tags}
    seed.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    reset(directory / STATE, seed)
    return directory


def test_plan_says_when_a_database_nears_the_tag_budget(tmp_path: Path) -> None:
    directory = seeded(tmp_path, {f"team-{n}": "x" for n in range(26)})  # 28 of its own with the seed's two
    document = plan_json(directory)
    assert warnings_of(document)["orders-prod"] == "tag-budget"
    note = next(w["message"] for w in document["warnings"] if w["address"] == "orders-prod")
    assert "28 of its 30 tags" in note and "remove some of the database's own tags" in note
    assert IMPORT in changes_of(document)  # a note, not a refusal: apply decides with the tags it then finds


def test_receipts_written_by_version_0_1_keep_working(tmp_path: Path) -> None:
    spec = next(s for s in load_manifest([EXAMPLES]).databases if s.name == "orders-prod")
    seed_import = spec.imports[0]
    done = f"v1 done fp:{op_fingerprint(seed_import)} at:1764312600 run:0c1d2e3f"
    directory = seeded(tmp_path, {"rcr.import.seed-2026-11-20": done})
    document = plan_json(directory)
    assert IMPORT not in changes_of(document) and IMPORT not in warnings_of(document)
    assert cli(directory, *APPLY).code == 0
    assert imports(directory) == []  # never run again under the new key
    assert "rcr_import_seed-2026-11-20" not in peek_tags(directory)


# --- issue 20 item 6: the saved plan is what runs, on the account it was made for ------------------------------


def _edit_plan(directory: Path, edit: Callable[[dict[str, Any]], None], *, reseal: bool) -> None:
    """Edit plan.json as a person with a text editor would; `reseal`: and recompute its digest, as a forger would."""
    from reconciler.output.planfile import seal

    target = directory / "plan.json"
    document = json.loads(target.read_text(encoding="utf-8"))
    edit(document)
    target.write_text(json.dumps(seal(document) if reseal else document), encoding="utf-8")


def _change(document: dict[str, Any], address: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in document["changes"] if c["address"] == address)
    return found


def _import_uri(document: dict[str, Any]) -> None:
    """A forger's edit: the call and all the plan says of it (its sources, its fingerprint)."""
    change = _change(document, IMPORT)
    change["after"]["from"][0] = "s3://attacker/evil.rdb"
    change["calls"][-1]["body"]["importFromUri"][0] = "s3://attacker/evil.rdb"
    call = change["calls"][-1]
    change["after"]["fingerprint"] = calls.fingerprint(calls.ApiCall(call["method"], call["path"], call["body"]))


def _import_call_only(document: dict[str, Any]) -> None:
    _change(document, IMPORT)["calls"][-1]["body"]["importFromUri"][0] = "s3://attacker/evil.rdb"


def _database_id(document: dict[str, Any]) -> None:
    _change(document, IMPORT)["database"]["database"] = INVENTORY


def _interval(document: dict[str, Any]) -> None:
    _change(document, "orders-prod.backup")["after"]["interval"] = "every-1-hours"


def _not_destructive(document: dict[str, Any]) -> None:
    _change(document, IMPORT)["destructive"] = False


STALE, EDITED = "stale plan: re-run plan", "differ from what its own calls say"


@pytest.mark.parametrize(
    ("edit", "field", "refusal"),
    [
        pytest.param(_import_uri, "calls", STALE, id="import-uri"),
        pytest.param(_import_call_only, "after.fingerprint, after.from", EDITED, id="import-call-only"),
        pytest.param(_database_id, "database.database", STALE, id="database-id"),
        pytest.param(_interval, "after.interval", STALE, id="interval"),
        pytest.param(_not_destructive, "destructive", EDITED, id="destructive"),
    ],
)
@pytest.mark.parametrize("reseal", [False, True], ids=["digest-left", "digest-recomputed"])
def test_an_edited_saved_plan_is_refused_and_nothing_is_sent(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], field: str, refusal: str, reseal: bool
) -> None:
    """An edit is refused by the digest; one whose digest was recomputed, because the change no longer reads back as
    its calls say (`EDITED`, before any request) or is not what the manifests and live account give (`STALE`)."""
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    _edit_plan(directory, edit, reseal=reseal)
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 1 and ran.err.count("Error:") == 1 and "Traceback" not in ran.err
    if reseal:
        assert refusal in ran.err and f"the plan file's {field}" in ran.err, ran.err
    else:
        assert "the plan file was edited after `reconciler plan` wrote it" in ran.err
    if not reseal or refusal is EDITED:
        assert log_size(directory) == mark  # refused before the first request
    assert writes_since(directory, mark) == []
    assert imports(directory) == []


def test_a_plan_made_for_another_account_is_refused_at_the_same_url(tmp_path: Path) -> None:
    """A plan for account 40131 applied to 99999 (another key, the same API URL)."""
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    assert json.loads((directory / "plan.json").read_text())["account_id"] == 40131
    state = directory / STATE / "world.json"
    saved_world = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps(saved_world | {"account_id": 99999}), encoding="utf-8")
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 1 and "wrong account" in ran.err
    assert "made for account 40131" in ran.err and "reach account 99999" in ran.err
    assert writes_since(directory, mark) == [] and imports(directory) == []


def test_a_format_1_0_plan_file_is_shown_but_not_applied(tmp_path: Path) -> None:
    """Format 1.0 carries no account id and no digest: apply cannot check it, so it asks for a new plan."""
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0

    def older(document: dict[str, Any]) -> None:
        del document["account_id"], document["plan_digest"]
        document["format_version"] = "1.0"

    _edit_plan(directory, older, reseal=False)
    shown = cli(directory, "show", "plan.json", "--format", "json")
    assert shown.code == 0 and json.loads(shown.out)["format_version"] == "1.0"
    assert "plan_digest" not in json.loads(shown.out)
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 1 and "plan format 1.0" in ran.err and "re-run plan" in ran.err
    assert log_size(directory) == mark


# --- issue 20 item 1: racing retries ------------------------------------------------------------------------


@pytest.mark.parametrize("runs", [2, 5])
@pytest.mark.parametrize("variant", ["duplicate-create-409", "duplicate-create-overwrites"])
def test_racing_retries_of_an_uncertain_import_import_once(
    tmp_path: Path, start: Spawn, variant: str, runs: int
) -> None:
    """Regression: two `apply --retry-uncertain ADDRESS` at once both imported (each deleted and re-created the
    receipt in separate requests, so one deleted the other's new claim)."""
    spec = next(s for s in load_manifest([EXAMPLES]).databases if s.name == "orders-prod")
    left_by_a_crash = f"v1 claimed fp:{op_fingerprint(spec.imports[0])} at:1764312600 run:0c1d2e3f"
    directory = seeded(tmp_path, {IMPORT_KEY: left_by_a_crash}, options=TAG_VARIANTS[variant])
    assert warnings_of(plan_json(directory)) == {IMPORT: "uncertain"}
    retry = (*APPLY, "--target", IMPORT, "--retry-uncertain", IMPORT)

    results = [finish(process, timeout=60) for process in [start(directory, *retry) for _ in range(runs)]]

    assert imports(directory) == ["success"]
    assert sum(1 for ran in results if ran.code == 0) == 1, [ran.out for ran in results]
    for ran in results:
        assert ran.code in (0, 1), ran.err
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 done ")
    final = plan_json(directory)
    assert IMPORT not in changes_of(final) and IMPORT not in warnings_of(final)


# --- issue 13: the plan carries its calls ------------------------------------------------------------------------


def test_apply_planfile_sends_exactly_the_plans_calls_in_order(tmp_path: Path) -> None:
    """What the emulator receives during `apply PLANFILE` is the plan file's calls, resolved, in order; the only
    other requests are the receipts' tags and reads (the refresh that checks the plan is not stale, task and
    status polling, waits for `active`). Apply builds no request of its own: not from the manifests, not from
    the live state."""
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--out", "plan.json").code == 0
    document = json.loads((directory / "plan.json").read_text(encoding="utf-8"))
    planned = [
        calls.resolved(calls.ApiCall(c["method"], c["path"], c["body"]), {})
        for change in document["changes"]
        for c in change["calls"]
    ]
    assert len(planned) >= 5  # settings updates, an on-demand backup, an import after its backup_first backup
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json", "--parallelism", "1")

    assert ran.code == 0, ran.err
    received = world(directory).request_log()[mark:]
    sent = [
        (r.method, r.path.removeprefix("/v1"), r.body) for r in received if r.method != "GET" and "/tags" not in r.path
    ]
    assert sent == [(c.method, c.path, calls.plain(c.body)) for c in planned]
    others = [r for r in received if r.method != "GET" and "/tags" in r.path]
    assert all(
        r.path.removeprefix("/v1").split("/tags")[0]
        in {c.path.rsplit("/", 1)[0] for c in planned} | {c.path for c in planned}
        for r in others
    )


def test_apply_of_a_saved_plan_reads_only_the_databases_it_touches(tmp_path: Path) -> None:
    """Issue 16: the stale check re-plans the saved plan's own databases, so only those are read."""
    directory = sandbox_dir(tmp_path)
    assert cli(directory, *PLAN, "--target", "orders-prod", "--out", "plan.json").code == 0
    mark = log_size(directory)

    ran = cli(directory, "apply", "plan.json")

    assert ran.code == 0, ran.err
    lists = {
        r.path for r in world(directory).request_log()[mark:] if r.method == "GET" and r.path.endswith("/databases")
    }
    assert lists == {"/v1/subscriptions/1234567/databases"}  # orders-prod's subscription, not the other two
