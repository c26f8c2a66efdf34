"""`check`'s findings on restore drills (core/drill_check.py): pure, one table of (receipt tag, now) and what a
user reads, each under the drill's address; overdue, failed, interrupted and never-run drills fail check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.core.desired import Drill
from reconciler.core.drill_check import drill_findings
from reconciler.core.drill_tags import DrillPhase, Step, start
from reconciler.core.drills import DEFAULT_TIMEOUT, lease
from reconciler.core.freshness import Severity, judge
from reconciler.core.live import LiveTag
from tests.test_freshness import NOW, ON, SUCCESS, live, spec

DAY = 86400
T = int(NOW.timestamp())
WEEKLY = Drill("weekly", "scratch", "7d", 7 * DAY, "s3://b/drills")
DAILY = Drill("daily", "scratch", "1d", DAY, "s3://b/drills")
LEASE = lease(DEFAULT_TIMEOUT)


def receipt_tag(value: str, drill: str = "weekly") -> LiveTag:
    return LiveTag(f"rcr_drill_{drill}", value, "2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z")


def passed(days_ago: float) -> str:
    at = T - int(days_ago * DAY)
    return start("weekly", "0c1d2e3f", now=at, previous=None).ended(DrillPhase.PASSED, now=at + 60).value


def failed(days_ago: float, last_pass_days_ago: float | None) -> str:
    at = T - int(days_ago * DAY)
    before = None if last_pass_days_ago is None else T - int(last_pass_days_ago * DAY)
    running = replace(start("weekly", "0c1d2e3f", now=at, previous=None), ok=before).at_step(Step.IMPORT, now=at + 30)
    return running.ended(DrillPhase.FAILED, now=at + 40, why="file-corrupted").value


def running(seconds_ago: int) -> str:
    return start("weekly", "0c1d2e3f", now=T - seconds_ago, previous=None).value


CASES = [
    # (id, receipt tag value or None, kind, severity, words the message must say)
    ("passed lately", passed(2), "drill-passed", Severity.OK, "passed 2 d ago; due in 5 d"),
    ("due, within its slack", passed(8), "drill-due", Severity.NOTE, "due: last passed 8 d ago"),
    ("overdue past twice its every", passed(15), "drill-overdue", Severity.VIOLATION, "run `reconciler drill`"),
    ("never run", None, "drill-never-run", Severity.VIOLATION, "never run: no proof yet"),
    ("last run failed", failed(1, 3), "drill-failed", Severity.VIOLATION, "at step import: file-corrupted"),
    ("failed and never passed", failed(1, None), "drill-failed", Severity.VIOLATION, "never passed"),
    ("running within its lease", running(600), "drill-running", Severity.NOTE, "running (run 0c1d2e3f"),
    ("running past its lease: a run that died", running(LEASE + 600), "drill-interrupted", Severity.VIOLATION,
     "without an outcome"),
    ("an unreadable receipt", "v1 passed nonsense", "drill-receipt-unreadable", Severity.VIOLATION,
     "drill receipt tag rcr_drill_weekly has an unreadable value"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "kind", "severity", "words"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_each_drill_is_judged_under_its_address(value: str | None, kind: str, severity: Severity, words: str) -> None:
    tags = [LiveTag("team", "orders", "", "")] + ([receipt_tag(value)] if value is not None else [])
    (finding,) = drill_findings(replace(spec(backup=ON), drills=(WEEKLY,)), tags, NOW, lease=LEASE)
    assert (finding.kind.value, finding.severity) == (kind, severity)
    assert finding.address == "orders-prod.drills.weekly"
    assert words in finding.message, finding.message
    assert not finding.message.startswith("orders-prod.drills.weekly")  # the address is shown once, before it


def test_the_last_pass_is_the_findings_time_and_twice_every_its_max_age() -> None:
    (finding,) = drill_findings(replace(spec(), drills=(WEEKLY,)), [receipt_tag(passed(2))], NOW, lease=LEASE)
    assert finding.at == datetime.fromtimestamp(T - 2 * DAY, UTC)
    assert finding.age == timedelta(days=2) and finding.max_age == timedelta(days=14)


def test_one_finding_per_drill_and_none_where_the_tags_were_not_read() -> None:
    both = replace(spec(backup=ON), drills=(WEEKLY, DAILY))
    findings = drill_findings(both, [receipt_tag(passed(2))], NOW, lease=LEASE)
    assert [(f.address, f.kind.value) for f in findings] == [
        ("orders-prod.drills.weekly", "drill-passed"),
        ("orders-prod.drills.daily", "drill-never-run"),
    ]
    assert drill_findings(both, None, NOW, lease=LEASE) == ()


def test_a_failing_drill_fails_a_database_whose_backups_are_fresh() -> None:
    wanted = replace(spec(backup=ON), drills=(WEEKLY,))
    verdict = judge(wanted, live(), SUCCESS, None, NOW)
    assert verdict.holds
    assert not verdict.with_findings(*drill_findings(wanted, [], NOW, lease=LEASE)).holds
    fresh = verdict.with_findings(*drill_findings(wanted, [receipt_tag(passed(1))], NOW, lease=LEASE))
    assert fresh.holds
