"""`reconciler check` over the sandbox judges the restore drills a manifest declares, from their receipts (one
tag read per database that declares drills): a recent pass holds, a failed, overdue or never-run drill fails
check (exit 2), each shown under its address in text, markdown and JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from reconciler.core.drill_tags import DrillPhase, Step, start
from tests.support.examples import ORDERS
from tests.support.manifests import weekly_drill, write_manifest
from tests.support.workdirs import copy_examples
from tests.support.workdirs import world as sandbox_world
from tests.test_check_cli import check, seeded

DRILLS = weekly_drill(check_scratch=False)
DAY = 86400


def receipt(*, days_ago: float, phase: DrillPhase) -> dict[str, Any]:
    """orders-prod's history: a fresh backup, and the weekly drill's receipt tag as a run `days_ago` left it."""
    at = int(time.time() - days_ago * DAY)
    tag = start("weekly", "0c1d2e3f", now=at, previous=None).at_step(Step.VERIFY, now=at + 50)
    tags = {"team": "orders", tag.key: tag.ended(phase, now=at + 60, why="keys-missing").value}
    return {"last_backup": {"ago": "3h"}, "tags": tags}


def test_a_recent_pass_holds_and_is_shown_under_the_drills_address(tmp_path: Path) -> None:
    # Two days and an hour: exactly two days could read as 47 h on the API's clock, whose `Date` is to the second.
    days_ago = 2 + 1 / 24
    work = copy_examples(tmp_path, seeded(orders=receipt(days_ago=days_ago, phase=DrillPhase.PASSED)))
    write_manifest(work, DRILLS, "drills.yaml")
    code, out, err = check(work, "-f", "drills.yaml")
    assert code == 0, err
    assert "ok   orders-prod.drills.weekly: drill passed 2 d ago; due in 4 d" in out.splitlines()
    assert out.splitlines()[-1] == "Check passed: 1 database checked, all hold; 1 skipped."
    code, out, _ = check(work, "-f", "drills.yaml", "--format", "json")
    (orders, _scratch) = json.loads(out)["databases"]
    drill = next(f for f in orders["findings"] if f["kind"] == "drill-passed")
    assert drill["address"] == "orders-prod.drills.weekly" and drill["severity"] == "ok"
    assert abs(drill["age_seconds"] - days_ago * DAY) <= 120 and drill["max_age_seconds"] == 14 * DAY
    assert orders["findings"][0]["address"] == "orders-prod"  # the backup's finding stays the database's
    tag_reads = [r for r in sandbox_world(work).request_log() if r.path.endswith("/tags")]
    assert [(r.method, r.path.split("/")[-2]) for r in tag_reads] == [("GET", str(ORDERS))] * 2  # one a run


def test_a_failed_last_run_fails_check_though_the_backup_is_fresh(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders=receipt(days_ago=1, phase=DrillPhase.FAILED)))
    write_manifest(work, DRILLS, "drills.yaml")
    code, out, _ = check(work, "-f", "drills.yaml")
    assert code == 2
    assert "ok   orders-prod: fresh: " in out
    (line,) = [line for line in out.splitlines() if "drills.weekly" in line]
    assert line.startswith("FAIL orders-prod.drills.weekly: drill last run failed at step verify: keys-missing")
    assert out.splitlines()[-1] == "Check failed: 1 of 1 checked database violated; 1 skipped."
    code, out, _ = check(work, "-f", "drills.yaml", "--format", "markdown")
    assert code == 2
    assert "| `orders-prod.drills.weekly` | ❌ drill-failed | drill last run failed at step verify" in out


def test_overdue_and_never_run_drills_fail_check(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, seeded(orders=receipt(days_ago=15, phase=DrillPhase.PASSED)))
    write_manifest(work, DRILLS, "drills.yaml")
    code, out, _ = check(work, "-f", "drills.yaml")
    assert code == 2 and "FAIL orders-prod.drills.weekly: drill overdue: last passed 15 d ago" in out
    work = copy_examples(tmp_path / "never", seeded(orders={"last_backup": {"ago": "3h"}}))
    write_manifest(work, DRILLS, "drills.yaml")
    code, out, _ = check(work, "-f", "drills.yaml")
    assert code == 2
    assert "FAIL orders-prod.drills.weekly: drill never run: no proof yet that its backups restore" in out
