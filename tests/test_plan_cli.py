"""`reconciler plan`, `show` and `status` as a user runs them, in a copy of `examples/`: the contract as real
processes (`python -m reconciler`), the finer points through `main()` in-process to keep the file fast."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.session import Credentials, Session, open_http
from reconciler.core.calls import ApiCall
from reconciler.core.desired import Import, OnDemandBackup, OperationKind, Tier
from reconciler.core.polling import PollPolicy
from reconciler.core.receipt_tags import Phase
from reconciler.manifest.load import load_manifest
from reconciler.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    SANDBOX_VIEWER_SECRET_KEY,
    Emulator,
    local_emulator,
)
from tests.support.api_calls import claim_of
from tests.support.cli import clean_environ, run_reconciler
from tests.support.manifests import write_manifest
from tests.support.workdirs import copy_examples

SUMMARY = "Plan: 5 to update, 2 to back up, 1 to import (1 destructive)."
NO_CHANGES = "No changes. Live state matches the manifest."


def in_process(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The same as `run_reconciler(...)` through `main()`, for speed; the caller has chdir'd to `cwd`."""
    assert Path.cwd() == cwd
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err, environ=clean_environ(**env))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # `--sandbox` keeps its world in ./.reconciler-sandbox/
    return copy_examples(tmp_path)


def sandbox_world(work: Path) -> Emulator:
    """The file-backed world that `--sandbox` processes in `work` share."""
    return local_emulator(work / ".reconciler-sandbox", work / "examples" / "sandbox-world.yaml")


# --- the plan and its formats ---------------------------------------------------------------------------


def test_plan_of_the_examples_shows_the_drift_and_exits_0(work: Path) -> None:
    result = run_reconciler("--sandbox", "plan", "-f", "examples/", cwd=work)
    assert result.returncode == 0, result.stderr
    # Issue 14: with no `sandbox up` running, --sandbox says on one line which sandbox it uses, and nothing else.
    assert result.stderr.splitlines() == [
        f"No sandbox is up in {work.resolve()}/.reconciler-sandbox/ (`reconciler sandbox up` starts one with real "
        "data): using the in-process control-plane sandbox, whose world is kept there."
    ]
    assert result.stdout.strip().splitlines()[-1] == SUMMARY
    for address in (
        "analytics-prod.backup",
        "catalog-prod.backup",
        "marketing-cache.backup",
        "orders-prod.backup",
        "inventory-prod.backups.pre-reindex-2026-11",
        "orders-prod.backups.before-migration-2026-11",
        "orders-prod.imports.seed-2026-11-20",
    ):
        assert address in result.stdout
    assert "sessions-prod" not in result.stdout  # "16:00" read back as "04:00" is not drift


def test_detailed_exitcode_is_2_when_there_are_changes(work: Path) -> None:
    result = in_process("--sandbox", "plan", "-f", "examples/", "--detailed-exitcode", cwd=work)
    assert result.returncode == 2, result.stderr
    assert result.stdout.strip().splitlines()[-1] == SUMMARY


def test_markdown_starts_with_the_summary_and_warns_about_the_destructive_import(work: Path) -> None:
    result = in_process("--sandbox", "plan", "-f", "examples/", "--format", "markdown", cwd=work)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert SUMMARY in lines[0]
    warning = result.stdout[result.stdout.index("> [!WARNING]") :].split("\n\n")[0]
    assert "1 destructive import" in warning
    assert "orders-prod.imports.seed-2026-11-20" in warning
    assert "<details>" in result.stdout


def test_a_saved_plan_shows_the_same_and_its_json_is_the_file(work: Path) -> None:
    planned = run_reconciler("--sandbox", "plan", "-f", "examples/", "--out", "plan.json", cwd=work)
    assert planned.returncode == 0, planned.stderr

    saved = json.loads((work / "plan.json").read_text(encoding="utf-8"))
    assert saved["format_version"] == "1.2" and saved["api_url"] == "sandbox"
    assert saved["manifest_paths"] == [
        "examples/active-active.yaml",
        "examples/essentials.yaml",
        "examples/orders.yaml",
        "examples/platform.yaml",
    ]
    assert len(saved["changes"]) == 8

    shown = in_process("show", "plan.json", cwd=work)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == planned.stdout

    as_json = in_process("show", "plan.json", "--format", "json", cwd=work)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == saved


def test_plan_reads_the_account_in_six_requests(work: Path) -> None:
    result = in_process("--sandbox", "--debug", "plan", "-f", "examples/", cwd=work)
    assert result.returncode == 0, result.stderr
    # four list pages (their items carry backup) and the tags of the two databases with operations
    assert "API requests: 6 (0 retried" in result.stderr


def test_target_restricts_the_plan_to_one_database(work: Path) -> None:
    result = in_process(
        "--sandbox", "--debug", "plan", "-f", "examples/", "--target", "orders-prod", "--format", "json", cwd=work
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the note goes to stderr: the JSON stays clean
    assert sorted(change["address"] for change in document["changes"]) == [
        "orders-prod.backup",
        "orders-prod.backups.before-migration-2026-11",
        "orders-prod.imports.seed-2026-11-20",
    ]
    assert "Note: --target limits this plan to orders-prod" in result.stderr and "exceptional" in result.stderr
    # Issue 16: only orders-prod's subscription is listed, and only its tags read (5 requests for the whole account).
    assert "API requests: 2 (0 retried" in result.stderr


def test_a_quiet_targeted_plan_says_nothing_more(work: Path) -> None:
    result = in_process("--sandbox", "--quiet", "plan", "-f", "examples/", "--target", "orders-prod", cwd=work)
    assert result.returncode == 0 and "Note:" not in result.stderr


def test_an_unknown_target_is_an_error(work: Path) -> None:
    result = in_process("--sandbox", "plan", "-f", "examples/", "--target", "nosuch-db", "--out", "p.json", cwd=work)
    assert result.returncode == 1
    assert "--target nosuch-db" in result.stderr and "Traceback" not in result.stderr
    assert not (work / "p.json").exists()


def test_a_failed_plan_writes_no_plan_file(work: Path) -> None:
    write_manifest(
        work / "bad",
        "version: 1\ndatabases:\n"
        "  - {name: ghost-db, subscription: 1234567, database: 1, backup: {path: 's3://b/g', interval: every-6-hours}}\n",
    )
    result = in_process("--sandbox", "plan", "-f", "bad/", "--out", "plan.json", cwd=work)
    assert result.returncode == 1
    assert "ghost-db: database 1 in subscription 1234567 does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (work / "plan.json").exists()
    assert not [p.name for p in work.iterdir() if p.name.startswith(".plan.json")]  # no temp file left behind


@pytest.mark.parametrize("out", ["no-such-dir/plan.json", "examples"], ids=["missing-directory", "a-directory"])
def test_an_unwritable_plan_file_is_a_user_error(work: Path, out: str) -> None:
    result = in_process("--sandbox", "plan", "-f", "examples/", "--out", out, cwd=work)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("No sandbox is up")]
    assert errors[0].startswith(f"Error: {out}: cannot write the plan file")
    assert not [p for p in (work / "examples").iterdir() if p.name.endswith(".tmp")]


def test_github_step_summary_gets_the_markdown_appended(work: Path) -> None:
    summary = work / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    for _ in range(2):
        result = in_process("--sandbox", "plan", "-f", "examples/", cwd=work, GITHUB_STEP_SUMMARY=str(summary))
        assert result.returncode == 0, result.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n")
    assert text.count(SUMMARY) == 2
    assert text.count("> [!WARNING]") == 2
    assert SUMMARY in result.stdout  # the terminal still gets the text plan


# --- converged: nothing to do ---------------------------------------------------------------------------


def converge_by_hand(work: Path) -> None:
    """Make the sandbox account match `examples/` without `apply`: the planned PUTs, and `done` receipts."""
    planned = in_process("--sandbox", "plan", "-f", "examples/", "--format", "json", cwd=work)
    document = json.loads(planned.stdout)
    http = open_http(
        "https://sandbox.invalid/v1",
        Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY),
        transport=sandbox_world(work).transport(),
    )
    client = RedisCloudClient(Session(http), poll=PollPolicy(initial=0.005, maximum=0.05))
    with http:
        for change in document["changes"]:
            db = change["database"]
            tier, sid, dbid = Tier(db["tier"]), db["subscription"], db["database"]
            if change["action"] == "update":
                call = change["calls"][0]  # an Active-Active database's goes to …/regions
                task = client.send(ApiCall(call["method"], call["path"], call["body"]))
                client.wait_for_task(task, timeout=10)
                client.wait_until_active(tier, sid, dbid, timeout=10)
        for spec in load_manifest([work / "examples"]).databases:
            operations: list[tuple[OperationKind, OnDemandBackup | Import]]
            operations = [(OperationKind.BACKUP, b) for b in spec.backups]
            operations += [(OperationKind.IMPORT, i) for i in spec.imports]
            for kind, operation in operations:
                receipt = claim_of(kind, operation, at=int(time.time())).with_phase(Phase.DONE)
                client.create_tag(spec.tier, spec.subscription, spec.database, receipt.key, receipt.value)


def test_a_converged_account_plans_no_changes_twice(work: Path) -> None:
    converge_by_hand(work)
    for _ in range(2):
        result = run_reconciler("--sandbox", "plan", "-f", "examples/", "--detailed-exitcode", cwd=work)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == NO_CHANGES


# --- credentials ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """`reconciler sandbox serve` on a free port, in its own copy of the examples."""
    work = copy_examples(tmp_path_factory.mktemp("served"))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--seed",
            "examples/sandbox-world.yaml",
        ],
        cwd=work,
        env=clean_environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{url}/subscriptions", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else "server exited"
                assert time.monotonic() < deadline, "sandbox serve did not start"
                time.sleep(0.05)
        yield work, url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()


def test_plan_over_real_http_against_sandbox_serve(served: tuple[Path, str]) -> None:
    work, url = served
    result = run_reconciler(
        "plan",
        "-f",
        "examples/",
        cwd=work,
        REDISCLOUD_URL=url,
        REDISCLOUD_ACCESS_KEY=SANDBOX_ACCESS_KEY,
        REDISCLOUD_SECRET_KEY=SANDBOX_SECRET_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == SUMMARY


def test_a_wrong_api_key_is_one_clear_line_and_exit_1(served: tuple[Path, str]) -> None:
    work, url = served
    result = run_reconciler(
        "plan",
        "-f",
        "examples/",
        cwd=work,
        REDISCLOUD_URL=url,
        REDISCLOUD_ACCESS_KEY=SANDBOX_ACCESS_KEY,
        REDISCLOUD_SECRET_KEY="wrong-secret-key",
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "HTTP 401" in lines[0]
    assert "REDISCLOUD_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_credentials_without_sandbox_name_the_variables(work: Path) -> None:
    result = run_reconciler("plan", "-f", "examples/", cwd=work)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "REDISCLOUD_ACCESS_KEY" in lines[0] and "REDISCLOUD_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_viewer_key_can_plan_because_plan_only_reads(work: Path) -> None:
    result = in_process(
        "--sandbox",
        "plan",
        "-f",
        "examples/",
        cwd=work,
        REDISCLOUD_ACCESS_KEY=SANDBOX_ACCESS_KEY,
        REDISCLOUD_SECRET_KEY=SANDBOX_VIEWER_SECRET_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == SUMMARY
    log = sandbox_world(work).request_log()
    assert log and {(entry.method, entry.key) for entry in log} == {("GET", "viewer")}


# --- status ---------------------------------------------------------------------------------------------


def test_status_prints_each_managed_database(work: Path) -> None:
    result = run_reconciler("--sandbox", "status", "-f", "examples/", cwd=work)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in ("orders-prod", "sessions-prod", "catalog-prod", "analytics-prod", "inventory-prod", "marketing-cache"):
        assert any(line.startswith(f"{name}  (") for line in out.splitlines()), name
    orders = out[out.index("orders-prod  (") :].split("\n")
    assert orders[1].strip() == "backup:      on, to s3://acme-backups/orders (every-24-hours, at 04:00 UTC)"
    catalog = out[out.index("catalog-prod  (") :].split("\n")
    assert catalog[1].strip() == "backup:      off"
    assert "unavailable (DATABASE_BACKUP_DISABLED)" in catalog[2]
    assert {entry.method for entry in sandbox_world(work).request_log()} == {"GET"}


# --- issue 12: which database a change overwrites, what needs a person, what is not managed -------------


STAGING = """\
version: 1
databases:
  - name: orders-staging
    subscription: 1234567
    database: 7654321          # a copy-paste slip: this is orders-prod's id
    imports:
      - id: seed
        from: s3://acme-seeds/orders/orders-1_of_3.rdb.gz
        confirm: {confirm}
"""


def test_a_wrong_id_cannot_wipe_another_database(work: Path) -> None:
    write_manifest(work / "m", STAGING.format(confirm="orders-staging"))
    validated = in_process("validate", "-f", "m/", cwd=work)
    assert validated.returncode == 0, validated.stderr  # the live name is only known to plan

    for command in (("plan", "--out", "plan.json"), ("apply", "--auto-approve")):
        result = in_process("--sandbox", *command, "-f", "m/", cwd=work)
        assert result.returncode == 1
        assert (
            "orders-staging.imports.seed: confirm is 'orders-staging' but database 7654321 in subscription 1234567 "
            "is named 'orders-prod' in Redis Cloud — check the ids; if this really is the database to overwrite, "
            "write confirm: orders-prod"
        ) in result.stderr
        assert "Traceback" not in result.stderr
    assert not (work / "plan.json").exists()
    assert {entry.method for entry in sandbox_world(work).request_log()} == {"GET"}


def test_confirm_is_the_live_name_and_every_format_shows_it(work: Path) -> None:
    write_manifest(work / "m", STAGING.format(confirm="orders-prod"))
    text = in_process("--sandbox", "plan", "-f", "m/", cwd=work)
    assert text.returncode == 0, text.stderr
    assert (
        "orders-staging.imports.seed will be imported once, REPLACING ALL DATA in the database "
        '(pro 1234567/7654321, named "orders-prod" in Redis Cloud)' in text.stdout
    )
    markdown = in_process("--sandbox", "plan", "-f", "m/", "--format", "markdown", cwd=work).stdout
    assert "`orders-staging.imports.seed` into `pro 1234567/7654321` (**orders-prod** in Redis Cloud)" in markdown
    document = json.loads(in_process("--sandbox", "plan", "-f", "m/", "--format", "json", cwd=work).stdout)
    assert document["changes"][0]["database"]["live_name"] == "orders-prod"


PROTECTED_OFF = """\
version: 1
databases:
  - name: orders-prod
    subscription: 1234567
    database: 7654321
    protected: true
    backup: {block}
"""


def test_a_protected_database_switches_backups_off_only_when_confirmed(work: Path) -> None:
    write_manifest(work / "m", PROTECTED_OFF.format(block="{enabled: false}"))
    refused = in_process("--sandbox", "plan", "-f", "m/", cwd=work)
    assert refused.returncode == 1
    assert "orders-prod.backup: orders-prod is protected and this plan switches its remote backup off" in refused.stderr
    assert "write confirm: orders-prod beside enabled: false" in refused.stderr

    write_manifest(work / "m", PROTECTED_OFF.format(block="{enabled: false, confirm: orders-prod}"))
    assert in_process("validate", "-f", "m/", cwd=work).returncode == 0
    text = in_process("--sandbox", "plan", "-f", "m/", cwd=work)
    assert text.returncode == 0, text.stderr
    assert "orders-prod.backup will be updated, SWITCHING REMOTE BACKUP OFF" in text.stdout
    document = json.loads(in_process("--sandbox", "plan", "-f", "m/", "--format", "json", cwd=work).stdout)
    assert [c["risky"] for c in document["changes"]] == [True] and document["summary"]["risky"] == 1
    markdown = in_process("--sandbox", "plan", "-f", "m/", "--format", "markdown", cwd=work).stdout
    assert "> [!CAUTION]" in markdown[: markdown.index("<details>")]


def test_an_uncertain_receipt_is_in_the_summary_and_fails_detailed_exitcode(work: Path) -> None:
    """The state a double Ctrl-C leaves: everything done but the import, whose receipt stays `claimed`."""
    converge_by_hand(work)
    spec = next(db for db in load_manifest([work / "examples"]).databases if db.name == "orders-prod")
    http = open_http(
        "https://sandbox.invalid/v1",
        Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY),
        transport=sandbox_world(work).transport(),
    )
    with http:
        client = RedisCloudClient(Session(http))
        receipt = claim_of(OperationKind.IMPORT, spec.imports[0], at=int(time.time()))
        client.delete_tag(Tier.PRO, 1234567, 7654321, receipt.key)
        client.create_tag(Tier.PRO, 1234567, 7654321, receipt.key, receipt.value)
    line = "No changes. 1 operation needs attention: orders-prod.imports.seed-2026-11-20 (uncertain)."

    result = run_reconciler("--sandbox", "plan", "-f", "examples/", "--detailed-exitcode", cwd=work)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == line

    markdown = in_process("--sandbox", "plan", "-f", "examples/", "--format", "markdown", cwd=work).stdout
    assert markdown.splitlines()[0] == f"### {line}"
    assert markdown.splitlines()[2] == "#### Needs attention (1)"
    document = json.loads(in_process("--sandbox", "plan", "-f", "examples/", "--format", "json", cwd=work).stdout)
    assert document["summary"]["attention"] == 1 and document["summary"]["line"] == line


UNMANAGED_INTERVAL = """\
version: 1
databases:
  - name: {name}
    subscription: 1234567
    database: {database}
    backup:
      path: s3://acme-backups/new-place
"""


def test_an_interval_left_out_is_kept_and_needs_a_live_one(work: Path) -> None:
    write_manifest(work / "m", UNMANAGED_INTERVAL.format(name="orders-prod", database=7654321))
    assert in_process("validate", "-f", "m/", cwd=work).returncode == 0
    text = in_process("--sandbox", "plan", "-f", "m/", cwd=work)
    assert text.returncode == 0, text.stderr
    assert 'interval: "every-24-hours" (unchanged: not in the manifest, the live interval is sent)' in text.stdout

    write_manifest(work / "m", UNMANAGED_INTERVAL.format(name="catalog-prod", database=7654323))  # backup off live
    assert in_process("validate", "-f", "m/", cwd=work).returncode == 0
    refused = in_process("--sandbox", "plan", "-f", "m/", cwd=work)
    assert refused.returncode == 1
    assert (
        "catalog-prod.backup: backup is off on database 7654323 in subscription 1234567, so there is no live "
        "interval to keep — add `interval:` to its backup block, e.g. interval: every-24-hours"
    ) in refused.stderr
