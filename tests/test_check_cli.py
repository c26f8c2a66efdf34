"""`reconciler check` as a process over the sandbox: fresh backups pass, old, failed and missing ones fail with
the database named and what to do, in text, markdown and JSON, with a Viewer's key, in few requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_VIEWER_SECRET_KEY, Emulator
from reconciler.sandbox.seed import SandboxSeedError
from tests.support.cli import run_reconciler
from tests.support.examples import ANALYTICS_DB, INVENTORY, ORDERS, ORDERS_AA, SESSIONS
from tests.support.manifests import write_manifest
from tests.support.workdirs import copy_examples
from tests.support.workdirs import world as sandbox_world

ORDERS_ONLY = """\
version: 1
databases:
  - name: orders-prod
    subscription: 1234567
    database: 7654321
    backup:
      path: s3://acme-backups/orders
      interval: every-24-hours
      time_utc: "04:00"
"""


def seeded(**history: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """Edit the example world: `orders=dict(last_backup={"ago": "3h"})` gives orders-prod that history."""
    ids = {"orders": ORDERS, "sessions": SESSIONS, "analytics": ANALYTICS_DB, "inventory": INVENTORY}

    def edit(world: dict[str, Any]) -> None:
        for subscription in world["subscriptions"]:
            for db in subscription["databases"]:
                for name, items in history.items():
                    if db["id"] == ids[name]:
                        db.update(items)

    return edit


def check(work: Path, *args: str, **env: str) -> tuple[int, str, str]:
    result = run_reconciler("--sandbox", "check", *args, cwd=work, **env)
    return result.returncode, result.stdout, result.stderr


def test_a_fresh_backup_passes(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "3h"}}))
    write_manifest(work, ORDERS_ONLY, "orders.yaml")
    code, out, err = check(work, "-f", "orders.yaml")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("ok   orders-prod: fresh: last successful backup ")
    assert lines[0].endswith(", 3h ago, within max_age 2d")
    assert lines[-1] == "Check passed: 1 database checked, all hold."


def test_old_failed_and_missing_backups_fail_naming_the_database_and_the_fix(tmp_path: Path) -> None:
    work = copy_examples(
        tmp_path,
        seeded(
            orders={"last_backup": {"ago": "3h"}, "last_import": {"ago": "1h", "failure_reason": "file-corrupted"}},
            sessions={"last_backup": {"ago": "2d"}},
            inventory={"last_backup": {"ago": "20m", "failure_reason": "destination-unreachable"}},
        ),
    )
    code, out, err = check(work, "-f", "examples/")
    assert code == 2, err
    lines = out.splitlines()
    assert "ok   orders-prod: fresh: last successful backup" in out
    assert any(
        line.startswith("FAIL orders-prod: the last import failed at ") and "file-corrupted" in line for line in lines
    )
    assert any(
        line.startswith("FAIL sessions-prod: stale: last successful backup ")
        and "2d ago, over max_age 1d" in line
        and "on-demand backup" in line
        for line in lines
    )
    assert any(line.startswith("FAIL inventory-prod: the latest backup failed at ") for line in lines)
    assert "destination-unreachable" in out
    # The manifest has backup on, the account has it off: apply is the fix.
    assert any(line.startswith("FAIL catalog-prod: remote backup is off") and "apply" in line for line in lines)
    assert "note analytics-prod: skipped: the manifest switches its backup off" in lines
    # orders-aa (Active-Active) is judged per region: the example account never backed either up.
    assert any(line.startswith('FAIL orders-aa.backup["eu-west-1"]: never backed up') for line in lines)
    assert lines[-1] == "Check failed: 6 of 6 checked databases violated; 1 skipped."


def test_a_database_never_backed_up_fails(tmp_path: Path) -> None:
    work = copy_examples(tmp_path)
    write_manifest(work, ORDERS_ONLY, "orders.yaml")
    code, out, _ = check(work, "-f", "orders.yaml")
    assert code == 2
    assert out.startswith("FAIL orders-prod: never backed up: no backup has completed yet")
    assert "declare an on-demand backup under `backups:`" in out


def test_json_is_the_documented_document(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "3h"}}))
    write_manifest(work, ORDERS_ONLY + "    check: true\n", "orders.yaml")
    before = datetime.now(UTC)
    code, out, err = check(work, "-f", "orders.yaml", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["format_version"] == "1.0"
    assert document["clock"] == "api"  # the sandbox's answers carry a Date, as the API's do
    checked_at = datetime.fromisoformat(document["checked_at"])
    assert document["checked_at"].endswith("Z") and abs((checked_at - before).total_seconds()) < 30
    assert document["holds"] is True
    assert document["counts"] == {"databases": 1, "checked": 1, "violated": 0, "skipped": 0}
    (database,) = document["databases"]
    assert {key: database[key] for key in ("address", "tier", "subscription", "database", "holds")} == {
        "address": "orders-prod",
        "tier": "pro",
        "subscription": 1234567,
        "database": 7654321,
        "holds": True,
    }
    (finding,) = database["findings"]
    assert finding["kind"] == "fresh" and finding["severity"] == "ok" and finding["status"] == "success"
    assert 3 * 3600 - 5 <= finding["age_seconds"] <= 3 * 3600 + 30
    assert finding["max_age_seconds"] == 2 * 86400
    assert finding["at"].endswith("Z") and finding["reason"] is None


def test_markdown_and_the_job_summary(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(sessions={"last_backup": {"ago": "2d"}}))
    summary = work / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    code, out, _ = check(work, "-f", "examples/", "--format", "markdown", GITHUB_STEP_SUMMARY=str(summary))
    assert code == 2
    assert out.startswith("### ❌ Check failed: 6 of 6 checked databases violated; 1 skipped.\n")
    assert "| `sessions-prod` | ❌ stale | stale: last successful backup" in out
    assert "<details><summary>1 database holding</summary>" in out  # the skipped one, folded
    assert summary.read_text(encoding="utf-8") == "# earlier step\n" + out + "\n"
    code, text, _ = check(work, "-f", "examples/", GITHUB_STEP_SUMMARY=str(summary))
    assert code == 2 and text.startswith("FAIL ")  # the terminal gets text; the summary the markdown, again
    assert summary.read_text(encoding="utf-8").count("### ❌ Check failed") == 2


def test_a_viewer_key_is_enough_and_the_account_sees_only_reads(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "3h"}}))
    code, out, err = check(
        work,
        "-f",
        "examples/",
        REDISCLOUD_ACCESS_KEY=SANDBOX_ACCESS_KEY,
        REDISCLOUD_SECRET_KEY=SANDBOX_VIEWER_SECRET_KEY,
    )
    assert code == 2, err
    assert "ok   orders-prod: fresh" in out
    log = sandbox_world(work).request_log()
    assert log and {(entry.method, entry.key) for entry in log} == {("GET", "viewer")}


def test_one_status_read_per_database_whose_backup_is_on_plus_list_pages(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "3h"}}))
    code, _, err = check(work, "-f", "examples/")
    assert code == 2, err
    paths = [(entry.method, entry.path) for entry in sandbox_world(work).request_log()]
    backup_reads = sorted(path.split("/")[-2] for method, path in paths if path.endswith("/backup"))
    # Backup on live: orders, sessions, inventory (catalog and marketing-cache are off; analytics is skipped), and
    # each of orders-aa's two regions.
    assert backup_reads == sorted(str(db) for db in (ORDERS, SESSIONS, INVENTORY, ORDERS_AA, ORDERS_AA))
    assert [path for _, path in paths if path.endswith("/import")] == [
        "/v1/subscriptions/1234567/databases/7654321/import"  # only orders-prod declares an import
    ]
    assert sum(1 for _, path in paths if path.endswith("/databases")) == 4  # a page per subscription
    assert not [path for _, path in paths if path.endswith("/tags")]
    polls = [path for _, path in paths if path.startswith("/v1/tasks")]
    assert 1 <= len(polls) <= 3, polls  # batched: one `GET /tasks` answers the four status tasks


def test_target_checks_one_database_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "3h"}}))
    code, out, err = check(work, "-f", "examples/", "--target", "orders-prod")
    assert code == 0, err  # the other databases, never backed up, are not looked at
    assert out.splitlines()[:2] == [
        out.splitlines()[0],
        "note orders-prod: no import has run yet (apply runs the manifest's)",
    ]
    assert out.startswith("ok   orders-prod: fresh: ")
    assert out.splitlines()[-1] == "Check passed: 1 database checked, all hold."
    before = len(sandbox_world(work).request_log())
    code, out, err = check(work, "-f", "examples/", "--target", "orders-prd")
    assert code == 1 and out == ""
    assert "Error: --target orders-prd: no database in the manifests has this name" in err
    assert len(sandbox_world(work).request_log()) == before  # refused before any request


@pytest.mark.parametrize("secret", ["p@ss/w:rd+x==", "a" * 300 + "/+=", "line1\nline2@x"])
def test_no_secret_reaches_the_output(tmp_path: Path, secret: str) -> None:
    reason = f"access denied for s3://AKIAKEY:{secret}@acme-backups/orders with key {secret}"
    work = copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "1h", "failure_reason": reason}}))
    manifest = ORDERS_ONLY.replace("s3://acme-backups/orders", "s3://${env:ORDERS_KEY}:${env:ORDERS_SECRET}@acme/o")
    write_manifest(work, manifest, "orders.yaml")
    summary = work / "summary.md"
    for fmt in ("text", "markdown", "json"):
        code, out, err = check(
            work,
            "-f",
            "orders.yaml",
            "--format",
            fmt,
            ORDERS_KEY="AKIAKEY",
            ORDERS_SECRET=secret,
            GITHUB_STEP_SUMMARY=str(summary),
        )
        assert code == 2, err
        assert "the latest backup failed" in out
        for text in (out, err, summary.read_text(encoding="utf-8")):
            for part in secret.split("\n"):
                assert part not in text


def test_the_sandbox_seeds_only_well_formed_history(tmp_path: Path) -> None:
    with pytest.raises(SandboxSeedError, match=r"database 7654321 last_backup\.ago must be a duration"):
        copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "yesterday"}}))


def test_a_seed_file_gives_a_database_a_failed_backup_of_a_given_age(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders={"last_backup": {"ago": "2h", "failure_reason": "disk-full"}}))
    emulator: Emulator = sandbox_world(work)
    (run,) = [run for run in emulator.snapshot()["backup_runs"] if run["database_id"] == ORDERS]
    assert run["failure_reason"] == "disk-full" and run["ends"] < datetime.now(UTC).timestamp() - 7000
