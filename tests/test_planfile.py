"""Plan files: versioned, atomic, and read back into the very same Plan."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.desired import Tier
from reconciler.core.normalise import Settings
from reconciler.core.plan import DatabaseRef, Plan, PlanWarning, WarningKind
from reconciler.errors import ReconcilerError
from reconciler.output.planfile import FORMAT_VERSION, build_document, change_document, read_plan, write_plan
from tests.support.api_calls import import_change, settings_change

REF = DatabaseRef("orders", 1234567, 7654321, Tier.PRO, live_name="orders-prod")
PLAN = Plan(
    (
        import_change("orders.imports.seed", REF, ["s3://${env:B}/x.rdb"], backup_first=True),
        settings_change("orders.backup", REF, Settings(True, "s3://b", "every-6-hours"), Settings(False), risky=True),
    ),
    (PlanWarning("orders.imports.old", WarningKind.SETTLED, "apply will record done", "done"),),
)
META: dict[str, Any] = {
    "tool_version": "0.1.0",
    "created_at": "2026-11-24T06:30:00Z",
    "manifest_digest": "sha256:abc",
    "manifest_paths": ["manifests/prod.yaml"],
    "api_url": "https://api.redislabs.com/v1",
    "account_id": 40131,
}


def test_document_shape() -> None:
    document = build_document(PLAN, **META)
    assert document["format_version"] == FORMAT_VERSION == "1.2"
    assert document["account_id"] == 40131 and document["plan_digest"].startswith("sha256:")
    assert [c["address"] for c in document["changes"]] == ["orders.backup", "orders.imports.seed"]
    assert set(document["changes"][1]) >= {"address", "action", "database", "before", "after", "destructive"}
    assert document["changes"][1]["database"] == {
        "name": "orders",
        "subscription": 1234567,
        "database": 7654321,
        "tier": "pro",
        "live_name": "orders-prod",
    }
    assert [c["risky"] for c in document["changes"]] == [True, False]
    assert document["summary"]["risky"] == 1 and document["summary"]["attention"] == 0
    assert document["summary"]["line"] == "Plan: 1 to update, 0 to back up, 1 to import (1 destructive)."
    assert document["warnings"] == [
        {"address": "orders.imports.old", "kind": "settled", "message": "apply will record done", "outcome": "done"}
    ]


def test_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    write_plan(target, build_document(PLAN, **META))
    saved = read_plan(target)
    assert saved.plan == PLAN
    assert saved.manifest_digest == "sha256:abc" and saved.manifest_paths == ("manifests/prod.yaml",)
    assert saved.plan.summary_line == PLAN.summary_line


def test_a_plan_file_from_before_issue_12_still_loads(tmp_path: Path) -> None:
    """No `live_name`, no `risky`: read as unknown and not risky, and shown with the ids alone (format 1.0: no
    account id, no digest; apply refuses it, `test_apply_cli` checks)."""
    document = build_document(PLAN, **META)
    del document["account_id"], document["plan_digest"]
    document["format_version"] = "1.0"
    for change in document["changes"]:
        del change["database"]["live_name"], change["risky"]
    target = tmp_path / "old.json"
    target.write_text(json.dumps(document))
    saved = read_plan(target)
    assert not saved.is_sealed and saved.account_id is None
    assert [c.database.live_name for c in saved.plan.changes] == [None, None]
    assert [c.risky for c in saved.plan.changes] == [False, False]
    assert "live_name" not in change_document(saved.plan.changes[0])["database"]


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    write_plan(target, build_document(PLAN, **META))
    assert os.listdir(tmp_path) == ["plan.json"]
    assert json.loads(target.read_text())["format_version"] == "1.2"


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_plan(target, {"format_version": "1.0", "bad": object()})
    assert os.listdir(tmp_path) == ["plan.json"] and target.read_text() == "old"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            '{"format_version": "2.0", "changes": []}', "format_version '2.0' is not supported", id="unknown-version"
        ),
        pytest.param('{"changes": []}', "not a plan file", id="no-version"),
        pytest.param("{oops", "invalid JSON", id="not-json"),
        pytest.param('{"format_version": "1.0", "changes": [{"action": "delete"}]}', "damaged plan file", id="damaged"),
    ],
)
def test_unreadable_plans_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    target = tmp_path / "plan.json"
    target.write_text(content)
    with pytest.raises(ReconcilerError, match=message):
        read_plan(target)


# --- issue 20 -------------------------------------------------------------------------------------------------


def test_an_edited_plan_file_is_refused_by_its_digest(tmp_path: Path) -> None:
    """Item 6: any edit to what apply acts on (here the import's URI) no longer matches `plan_digest`."""
    target = tmp_path / "plan.json"
    write_plan(target, build_document(PLAN, **META))
    assert read_plan(target).account_id == 40131
    target.write_text(target.read_text().replace("s3://${env:B}/x.rdb", "s3://${env:B}/other.rdb"))
    with pytest.raises(ReconcilerError, match="the plan file was edited after `reconciler plan` wrote it"):
        read_plan(target)


def test_the_digest_is_over_the_redacted_file(tmp_path: Path) -> None:
    """What the file holds is sealed: a redacted value does not make an honest plan file look edited."""
    target = tmp_path / "plan.json"
    write_plan(target, build_document(PLAN, **META), redact=lambda text: text.replace("orders-prod", "****"))
    assert read_plan(target).plan.changes[0].database.live_name == "****"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels", id="deep-recursion"),
        pytest.param('{"a": ' * 70 + "1" + "}" * 70, "nested deeper than 64 levels", id="deeper-than-64"),
        pytest.param('{"format_version": 1e999}', "the number 1e999 is out of range", id="1e999"),
        pytest.param('{"format_version": NaN}', "NaN is not a number a plan holds", id="nan"),
        pytest.param('{"format_version": -Infinity}', "-Infinity is not a number a plan holds", id="infinity"),
        pytest.param('{"a": ' + "9" * 5_000 + "}", "a number of 5,000 digits is out of range", id="5000-digits"),
        pytest.param(b"\xff\xfe{}", "not UTF-8 text", id="not-utf8"),
        pytest.param(
            '{"format_version": "1.0", "tool_version": "x", "created_at": "x", "manifest_digest": "x", '
            '"manifest_paths": [], "api_url": "x", "warnings": [], "changes": [{"database": 5}]}',
            "damaged plan file",
            id="database-not-a-mapping",
        ),
    ],
)
def test_hostile_plan_files_are_one_line_errors(tmp_path: Path, content: str | bytes, message: str) -> None:
    """Item 16: these crashed with exit 3 (RecursionError, OverflowError, AttributeError) or loaded `inf`."""
    target = tmp_path / "plan.json"
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    with pytest.raises(ReconcilerError, match=message) as caught:
        read_plan(target)
    assert "\n" not in str(caught.value) and str(target) in str(caught.value)


def test_a_plan_file_over_10_mb_is_refused_before_reading(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    with target.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(ReconcilerError, match="file is larger than 10 MB"):
        read_plan(target)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_device_as_plan_file_exits_1_at_once(tmp_path: Path, kind: str) -> None:
    """Item 16: a FIFO hung `apply`/`show` forever and /dev/zero crashed; both are named for what they are."""
    from tests.support.cli import run_reconciler

    if kind == "fifo":
        target = tmp_path / "plan.json"
        os.mkfifo(target)
        words = "a named pipe (FIFO)"
    else:
        target, words = Path("/dev/zero"), "a character device"
    for command in ("show", "apply"):
        ran = run_reconciler(command, str(target), cwd=tmp_path)
        assert ran.returncode == 1, ran.stderr
        assert f"{target}: not a plan file: this is {words}, not a regular file" in ran.stderr
        assert "Traceback" not in ran.stderr and "Internal error" not in ran.stderr
