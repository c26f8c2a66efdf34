"""Plan files: versioned, atomic, and read back into the very same Plan."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ReconcilerError
from reconciler.model import Action, Change, DatabaseRef, FieldChange, Plan, PlanWarning, Tier, WarningKind
from reconciler.planfile import FORMAT_VERSION, build_document, read_plan, write_plan

REF = DatabaseRef("orders", 1234567, 7654321, Tier.PRO, live_name="orders-prod")
PLAN = Plan(
    (
        Change("orders.imports.seed", Action.IMPORT, REF, {"receipt": None},
               {"id": "seed", "from": ["s3://${env:B}/x.rdb"], "source_type": "aws-s3", "backup_first": True},
               destructive=True),
        Change("orders.backup", Action.UPDATE, REF, {"enabled": True, "path": "s3://b"},
               {"enabled": False}, fields=(FieldChange("enabled", True, False),), risky=True),
    ),
    (PlanWarning("orders.imports.old", WarningKind.SETTLED, "apply will record done", "done"),),
)
META: dict[str, Any] = {"tool_version": "0.1.0", "created_at": "2026-11-24T06:30:00Z", "manifest_digest": "sha256:abc",
        "manifest_paths": ["manifests/prod.yaml"], "api_url": "https://api.redislabs.com/v1"}


def test_document_shape() -> None:
    document = build_document(PLAN, **META)
    assert document["format_version"] == FORMAT_VERSION == "1.0"
    assert [c["address"] for c in document["changes"]] == ["orders.backup", "orders.imports.seed"]
    assert set(document["changes"][1]) >= {"address", "action", "database", "before", "after", "destructive"}
    assert document["changes"][1]["database"] == {"name": "orders", "subscription": 1234567,
                                                  "database": 7654321, "tier": "pro", "live_name": "orders-prod"}
    assert [c["risky"] for c in document["changes"]] == [True, False]
    assert document["summary"]["risky"] == 1 and document["summary"]["attention"] == 0
    assert document["summary"]["line"] == "Plan: 1 to update, 0 to back up, 1 to import (1 destructive)."
    assert document["warnings"] == [{"address": "orders.imports.old", "kind": "settled",
                                     "message": "apply will record done", "outcome": "done"}]


def test_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    write_plan(target, build_document(PLAN, **META))
    saved = read_plan(target)
    assert saved.plan == PLAN
    assert saved.manifest_digest == "sha256:abc" and saved.manifest_paths == ("manifests/prod.yaml",)
    assert saved.plan.summary_line == PLAN.summary_line


def test_a_plan_file_from_before_issue_12_still_loads(tmp_path: Path) -> None:
    """No `live_name`, no `risky`: read as unknown and not risky, and shown with the ids alone."""
    document = build_document(PLAN, **META)
    for change in document["changes"]:
        del change["database"]["live_name"], change["risky"]
    target = tmp_path / "old.json"
    target.write_text(json.dumps(document))
    saved = read_plan(target)
    assert [c.database.live_name for c in saved.plan.changes] == [None, None]
    assert [c.risky for c in saved.plan.changes] == [False, False]
    assert "live_name" not in saved.plan.to_dict()["changes"][0]["database"]


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    write_plan(target, build_document(PLAN, **META))
    assert os.listdir(tmp_path) == ["plan.json"]
    assert json.loads(target.read_text())["format_version"] == "1.0"


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_plan(target, {"format_version": "1.0", "bad": object()})
    assert os.listdir(tmp_path) == ["plan.json"] and target.read_text() == "old"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"format_version": "2.0", "changes": []}', "format_version '2.0' is not supported",
                     id="unknown-version"),
        pytest.param('{"changes": []}', "not a plan file", id="no-version"),
        pytest.param("{oops", "invalid JSON", id="not-json"),
        pytest.param('{"format_version": "1.0", "changes": [{"action": "delete"}]}', "damaged plan file",
                     id="damaged"),
    ],
)
def test_unreadable_plans_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    target = tmp_path / "plan.json"
    target.write_text(content)
    with pytest.raises(ReconcilerError, match=message):
        read_plan(target)
