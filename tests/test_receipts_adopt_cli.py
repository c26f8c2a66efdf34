"""`reconciler receipts adopt` (issue 17): a done receipt, marked adopted, for an operation carried out by hand,
so apply never runs it; refused where a receipt exists; confirmed like `receipts forget`."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.core.desired import OperationKind, Tier
from reconciler.core.receipt_tags import OWNER_KEY, Phase, Receipt
from tests.support.cli import Ran, cli, finish, process_env, spawn
from tests.support.clients import open_client
from tests.support.examples import IMPORT, IMPORT_KEY, ORDERS, PROD_EU
from tests.support.workdirs import peek_tags, sandbox_dir, world
from tests.support.world import WRITES, import_runs

ORDERS_TAGS = f"/v1/subscriptions/{PROD_EU}/databases/{ORDERS}/tags"


def writes(directory: Path, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in world(directory).request_log()[since:] if r.method in WRITES]


def test_adopt_records_an_adopted_done_receipt_and_apply_never_runs_the_import(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    mark = len(world(directory).request_log())

    ran = cli(directory, "receipts", "adopt", IMPORT, "-f", "examples/", "--auto-approve")

    assert ran.code == 0, ran.err
    for said in ("kind:        import", "done, adopted: carried out by hand", "fingerprint:", "time:", IMPORT_KEY):
        assert said in ran.out
    assert f"Adopted {IMPORT}" in ran.out
    assert {w for w in writes(directory, mark)} == {("POST", ORDERS_TAGS)}  # the claim (and its identical probe)
    value = peek_tags(directory)[IMPORT_KEY]
    assert value.startswith("v1 done fp:") and value.endswith(" adopted")

    listed = json.loads(cli(directory, "receipts", "list", "-f", "examples/", "--format", "json").out)
    (row,) = [row for row in listed["receipts"] if row["address"] == IMPORT]
    assert row["adopted"] is True and row["phase"] == "done" and row["fingerprint_matches"] is True
    assert "adopted: done by hand" in cli(directory, "receipts", "list", "-f", "examples/").out

    plan = json.loads(cli(directory, "plan", "-f", "examples/", "--format", "json").out)
    assert IMPORT not in [change["address"] for change in plan["changes"]]
    (note,) = [w for w in plan["warnings"] if w["address"] == IMPORT]
    assert note["kind"] == "adopted" and "never ran it" in note["message"]
    assert plan["summary"]["attention"] == 0

    assert cli(directory, "apply", "-f", "examples/", "--auto-approve").code == 0
    assert import_runs(world(directory)) == []
    assert peek_tags(directory)[IMPORT_KEY] == value


def test_plan_hints_at_adopt_for_a_pending_operation(tmp_path: Path) -> None:
    text = cli(sandbox_dir(tmp_path), "plan", "-f", "examples/").out
    assert "reconciler receipts adopt ADDRESS" in text


def test_adopt_refuses_where_a_done_receipt_exists(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    assert cli(directory, "apply", "-f", "examples/", "--auto-approve").code == 0
    before = peek_tags(directory)[IMPORT_KEY]
    mark = len(world(directory).request_log())

    ran = cli(directory, "receipts", "adopt", IMPORT, "-f", "examples/", "--auto-approve")

    assert ran.code == 1
    assert f"a done receipt exists already (tag {IMPORT_KEY}" in ran.err and "nothing was recorded" in ran.err
    assert writes(directory, mark) == [] and peek_tags(directory)[IMPORT_KEY] == before


def test_adopt_refuses_where_a_claim_exists_and_names_it(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    client, _ = open_client(world(directory))
    claim = Receipt(OperationKind.IMPORT, "seed-2026-11-20", Phase.CLAIMED, "0123456789ab", 1764312600, "t-9")
    client.create_tag(Tier.PRO, PROD_EU, ORDERS, claim.key, claim.value)
    mark = len(world(directory).request_log())

    ran = cli(directory, "receipts", "adopt", IMPORT, "-f", "examples/", "--auto-approve")

    assert ran.code == 1 and "a claimed receipt exists already" in ran.err and "task t-9" in ran.err
    assert writes(directory, mark) == [] and peek_tags(directory)[IMPORT_KEY] == claim.value


def test_adopt_an_address_the_manifests_do_not_have_is_an_error(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    ran = cli(directory, "receipts", "adopt", "orders-prod.imports.never", "-f", "examples/", "--auto-approve")
    assert ran.code == 1 and "no on-demand backup or import in the manifests has this address" in ran.err
    assert "Traceback" not in ran.err


def test_adopt_without_a_terminal_or_auto_approve_is_refused(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    mark = len(world(directory).request_log())
    process = spawn(directory, "receipts", "adopt", IMPORT, "-f", "examples/")
    try:
        ran = finish(process)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert ran.code == 1 and "--auto-approve" in ran.err and "Traceback" not in ran.err
    assert writes(directory, mark) == [] and IMPORT_KEY not in peek_tags(directory)


@pytest.mark.parametrize(("typed", "adopted"), [(IMPORT, True), ("orders-prod.imports.other", False)])
def test_adopt_asks_for_the_address_to_be_typed_back(tmp_path: Path, typed: str, adopted: bool) -> None:
    directory = sandbox_dir(tmp_path)
    ran = _typing(directory, typed + "\n", "receipts", "adopt", IMPORT, "-f", "examples/")
    assert f"Type the address to confirm ({IMPORT}): " in ran.out
    assert ran.code == (0 if adopted else 1), ran.err
    assert (IMPORT_KEY in peek_tags(directory)) is adopted
    if not adopted:
        assert "Not adopted; nothing was changed." in ran.err


def _typing(directory: Path, answer: str, *argv: str) -> Ran:
    """The CLI with its stdin on a pseudo-terminal, `answer` typed into it (stdout and stderr piped)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "--sandbox", *argv],
        cwd=directory,
        env=process_env(),
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        os.write(controller, answer.encode())
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
    return Ran(process.returncode, out, err)


def test_adopt_refuses_a_database_another_manifest_set_owns(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    client, _ = open_client(world(directory))
    client.create_tag(Tier.PRO, PROD_EU, ORDERS, OWNER_KEY, "payments")
    orders = directory / "examples" / "orders.yaml"
    orders.write_text(orders.read_text().replace("version: 1\n", "version: 1\nowner: platform\n", 1))
    mark = len(world(directory).request_log())

    ran = cli(directory, "receipts", "adopt", IMPORT, "-f", "examples/", "--auto-approve")

    assert ran.code == 1 and "owned by another manifest set, 'payments', not by 'platform'" in ran.err
    assert writes(directory, mark) == [] and IMPORT_KEY not in peek_tags(directory)
