"""`plan` shows the drills that are due, for a reviewer; apply never runs them (only `reconciler drill` does)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import cli
from tests.support.examples import ORDERS
from tests.support.manifests import weekly_drill
from tests.support.workdirs import world

DRILLS = weekly_drill()
SECTION = "Drills due (run by `reconciler drill`, never by apply; each overwrites its scratch database):"


def test_plan_shows_a_due_drill_and_apply_of_that_plan_never_runs_it(tmp_path: Path) -> None:
    (tmp_path / "drills.yaml").write_text(DRILLS, encoding="utf-8")
    shown = cli(tmp_path, "plan", "-f", "drills.yaml", "--out", "plan.json")
    assert shown.code == 0, shown.err
    assert f"{SECTION}\n  ~ orders-prod.drills.weekly -> scratch   (never run: no proof yet" in shown.out
    saved = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert saved["drills_due"] == [
        {
            "address": "orders-prod.drills.weekly",
            "into": "scratch",
            "why": "never run: no proof yet that its backups restore",
        }
    ]
    markdown = cli(tmp_path, "plan", "-f", "drills.yaml", "--format", "markdown")
    assert "- `orders-prod.drills.weekly` → `scratch`: never run" in markdown.out
    mark = len(world(tmp_path).request_log())
    applied = cli(tmp_path, "apply", "plan.json", "--auto-approve")
    assert applied.code == 0, applied.err
    posts = [r.path for r in world(tmp_path).request_log()[mark:] if r.method == "POST"]
    assert not any(path.endswith(("/backup", "/import")) for path in posts)
    assert "rcr_drill_weekly" not in world(tmp_path).tags(ORDERS)


def test_a_plan_without_drills_reads_no_more_than_before(tmp_path: Path) -> None:
    (tmp_path / "drills.yaml").write_text(DRILLS.split("    drills:")[0], encoding="utf-8")
    shown = cli(tmp_path, "plan", "-f", "drills.yaml")
    assert shown.code == 0 and "Drills due" not in shown.out
    assert not [r for r in world(tmp_path).request_log() if r.path.endswith("/tags")]
