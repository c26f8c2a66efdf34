"""`reconciler receipts list|forget` against the file-backed sandbox, after a real apply."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import cli, finish, spawn
from tests.support.examples import IMPORT, IMPORT_KEY, INVENTORY, ORDERS
from tests.support.workdirs import peek_tags, sandbox_dir, world
from tests.support.world import WRITES

ADHOC = "orders-prod.backups.before-migration-2026-11"
INVENTORY_BACKUP = "inventory-prod.backups.pre-reindex-2026-11"


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    directory = sandbox_dir(tmp_path)
    ran = cli(directory, "apply", "-f", "examples/", "--auto-approve")
    assert ran.code == 0, ran.err
    return directory


def writes(directory: Path, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in world(directory).request_log()[since:] if r.method in WRITES]


def test_list_shows_every_receipt_as_text_and_json(applied: Path) -> None:
    mark = len(world(applied).request_log())
    as_json = cli(applied, "receipts", "list", "-f", "examples/", "--format", "json")
    assert as_json.code == 0, as_json.err
    rows = {row["address"]: row for row in json.loads(as_json.out)["receipts"]}
    assert set(rows) == {IMPORT, ADHOC, INVENTORY_BACKUP}
    task_ids = {task["task_id"] for task in world(applied).tasks()}
    for row in rows.values():
        assert row["phase"] == "done" and row["fingerprint_matches"] is True
        assert row["task_id"] in task_ids and row["created_at"]
    assert rows[IMPORT]["key"] == IMPORT_KEY

    text = cli(applied, "receipts", "list", "-f", "examples/")
    assert text.code == 0
    lines = text.out.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert " done " in line and "fingerprint matches" in line
    assert writes(applied, mark) == []  # read-only


def test_list_flags_a_changed_fingerprint(applied: Path) -> None:
    orders = applied / "examples" / "orders.yaml"
    orders.write_text(orders.read_text().replace("orders-3_of_3.rdb.gz", "orders-3_of_3-fixed.rdb.gz"))
    rows = {
        row["address"]: row
        for row in json.loads(cli(applied, "receipts", "list", "-f", "examples/", "--format", "json").out)["receipts"]
    }
    assert rows[IMPORT]["fingerprint_matches"] is False
    assert rows[ADHOC]["fingerprint_matches"] is True
    text = cli(applied, "receipts", "list", "-f", "examples/").out
    assert any(IMPORT in line and "CHANGED" in line for line in text.splitlines())


def test_forget_deletes_exactly_one_tag_and_plan_plans_it_again(applied: Path) -> None:
    before = peek_tags(applied, INVENTORY)
    orders_before = peek_tags(applied, ORDERS)
    mark = len(world(applied).request_log())

    ran = cli(applied, "receipts", "forget", INVENTORY_BACKUP, "-f", "examples/", "--auto-approve")

    assert ran.code == 0, ran.err
    assert f"Forgot {INVENTORY_BACKUP}." in ran.out
    assert writes(applied, mark) == [
        ("DELETE", "/v1/subscriptions/1234568/databases/7654402/tags/rcr_backup_pre-reindex-2026-11")
    ]
    after = peek_tags(applied, INVENTORY)
    assert set(before) - set(after) == {"rcr_backup_pre-reindex-2026-11"} and len(after) == len(before) - 1
    assert peek_tags(applied, ORDERS) == orders_before

    replan = json.loads(cli(applied, "plan", "-f", "examples/", "--format", "json").out)
    assert [(c["address"], c["action"]) for c in replan["changes"]] == [(INVENTORY_BACKUP, "backup")]


def test_forget_an_unknown_address_is_an_error(applied: Path) -> None:
    ran = cli(applied, "receipts", "forget", "orders-prod.imports.never-ran", "-f", "examples/", "--auto-approve")
    assert ran.code == 1 and "no receipt with this address" in ran.err


def test_forget_without_a_tty_or_auto_approve_is_refused(applied: Path) -> None:
    mark = len(world(applied).request_log())
    process = spawn(applied, "receipts", "forget", IMPORT, "-f", "examples/")
    try:
        ran = finish(process)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert ran.code == 1
    assert "--auto-approve" in ran.err and "Traceback" not in ran.err
    assert writes(applied, mark) == []
    assert peek_tags(applied)[IMPORT_KEY].startswith("v1 done ")


# --- issue 20 item 5: forgetting a receipt while its operation runs --------------------------------------------


def test_forgetting_a_claimed_receipt_needs_force_and_a_running_import_writes_its_receipt_back(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path, **{"import": 1.5})
    process = spawn(directory, "apply", "-f", "examples/", "--auto-approve", "--target", IMPORT)
    try:
        deadline = time.monotonic() + 20
        while not (value := peek_tags(directory).get(IMPORT_KEY, "")).startswith("v1 claimed ") or "task:" not in value:
            assert process.poll() is None and time.monotonic() < deadline, "the import never got a task id"
            time.sleep(0.005)
        mark = len(world(directory).request_log())

        refused = cli(directory, "receipts", "forget", IMPORT, "-f", "examples/", "--auto-approve")

        assert refused.code == 1, refused.err
        assert "the operation may be running now" in refused.err and "--force" in refused.err
        assert writes(directory, mark) == [] and peek_tags(directory)[IMPORT_KEY] == value

        forced = cli(directory, "receipts", "forget", IMPORT, "-f", "examples/", "--auto-approve", "--force")

        assert forced.code == 0, forced.err
        assert IMPORT_KEY not in peek_tags(directory)
        ran = finish(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # The import ran: apply writes its receipt back, so the next apply does not import again.
    assert ran.code == 0, ran.out + ran.err
    assert peek_tags(directory)[IMPORT_KEY].startswith("v1 done ")
    assert [run.status for run in world(directory).import_history(ORDERS)] == ["success"]
    again = cli(directory, "apply", "-f", "examples/", "--auto-approve", "--target", IMPORT)
    assert again.code == 0, again.err
    assert len(world(directory).import_history(ORDERS)) == 1
