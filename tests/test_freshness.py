"""`check`'s verdicts as a pure function: one table of (manifest entry, live database, latest statuses, now) and
what a user reads, plus the durations a manifest writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.core.desired import BackupSettings, DatabaseSpec, Import, Position, Tier
from reconciler.core.durations import format_duration, parse_duration
from reconciler.core.freshness import (
    CheckReport,
    Clock,
    Finding,
    FindingKind,
    Severity,
    backup_reads,
    judge,
    max_age_for,
    reads_import_status,
)
from reconciler.core.live import LatestStatus, LiveBackup, LiveDatabase

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def ago(delta: timedelta) -> str:
    return (NOW - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def spec(
    *,
    tier: Tier = Tier.PRO,
    backup: BackupSettings | None = None,
    check: bool = True,
    imports: bool = False,
) -> DatabaseSpec:
    return DatabaseSpec(
        name="orders-prod",
        subscription=11,
        database=22,
        tier=tier,
        protected=False,
        backup=backup,
        backups=(),
        imports=(Import("seed", ("s3://seeds/a.rdb",), "aws-s3", confirm="orders-prod"),) if imports else (),
        position=Position("m.yaml", 1, 1),
        check=check,
    )


ON = BackupSettings(enabled=True, path="s3://b/orders", interval="every-12-hours")
ON_NO_INTERVAL = BackupSettings(enabled=True, path="s3://b/orders")
ON_26H = BackupSettings(enabled=True, path="s3://b/orders", interval="every-12-hours", max_age=26 * HOUR)


def live(*, enabled: bool = True, interval: str | None = "every-6-hours", tier: Tier = Tier.PRO) -> LiveDatabase:
    backup = LiveBackup(enabled=True, path="s3://b/orders", interval=interval) if enabled else LiveBackup(False)
    return LiveDatabase(tier, 11, 22, "orders-prod", "active", backup)


SUCCESS = LatestStatus(status="success", time=ago(3 * HOUR))

CASES = [
    # (id, spec, live, backup status, import status, expected kinds, words the message must say)
    ("fresh", spec(backup=ON), live(), SUCCESS, None, ["fresh"], "3h ago, within max_age 1d"),
    ("cluster word", spec(backup=ON), live(), LatestStatus("succeeded", ago(HOUR)), None, ["fresh"], "1h ago"),
    ("stale past twice the interval", spec(backup=ON), live(), LatestStatus("success", ago(25 * HOUR)), None,
     ["stale"], "over max_age 1d"),
    ("max_age given wins", spec(backup=ON_26H), live(), LatestStatus("success", ago(25 * HOUR)), None, ["fresh"],
     "within max_age 1d2h"),
    ("live interval when the manifest has none", spec(backup=ON_NO_INTERVAL), live(interval="every-6-hours"),
     LatestStatus("success", ago(13 * HOUR)), None, ["stale"], "over max_age 12h"),
    ("unmanaged backup judged by the live interval", spec(), live(interval="every-24-hours"),
     LatestStatus("success", ago(47 * HOUR)), None, ["fresh"], "within max_age 2d"),
    ("essentials: 48 h", spec(tier=Tier.ESSENTIALS, backup=ON_NO_INTERVAL), live(tier=Tier.ESSENTIALS, interval=None),
     LatestStatus("success", ago(49 * HOUR)), None, ["stale"], "over max_age 2d"),
    ("never backed up: {}", spec(backup=ON), live(), LatestStatus(), None, ["never-backed-up"], "on-demand backup"),
    ("failed, with its reason", spec(backup=ON), live(), LatestStatus("failed", ago(HOUR), "access-denied"), None,
     ["backup-failed"], "failed at 2026-12-01T17:00:00Z: access-denied"),
    ("a failure reason's URI is masked", spec(backup=ON), live(),
     LatestStatus("failed", None, "cannot write s3://key:s3cr3t@bucket/x"), None, ["backup-failed"], "****@bucket"),
    ("running, last success fresh", spec(backup=ON), live(), LatestStatus("in-progress", ago(2 * HOUR)), None,
     ["fresh"], "another is running now"),
    ("running, last success stale", spec(backup=ON), live(), LatestStatus("exporting", ago(30 * HOUR)), None,
     ["stale"], "another is running now"),
    ("a first backup running", spec(backup=ON), live(), LatestStatus("in-progress"), None, ["backup-running"],
     "none has completed"),
    ("an unknown word is no success", spec(backup=ON), live(), LatestStatus("queued", ago(HOUR)), None,
     ["status-unknown"], "'queued'"),
    ("success without a time", spec(backup=ON), live(), LatestStatus("success"), None, ["age-unknown"],
     "not when it ran"),
    ("a time that is not one", spec(backup=ON), live(), LatestStatus("success", "yesterday"), None, ["age-unknown"],
     "'yesterday'"),
    ("the status read failed", spec(backup=ON), live(), LatestStatus(error_type="SUBSCRIPTION_NOT_ACTIVE"), None,
     ["status-unavailable"], "SUBSCRIPTION_NOT_ACTIVE"),
    ("on live but not read: never taken for fresh", spec(backup=ON), live(), None, None, ["status-unavailable"],
     "NOT_READ"),
    ("switched off live", spec(backup=ON), live(enabled=False), None, None, ["backup-off-live"], "reconciler apply"),
    ("off live and not managed", spec(), live(enabled=False), None, None, ["backup-not-configured"], "check: false"),
    ("check: false", spec(backup=ON, check=False), None, None, None, ["skipped"], "check: false"),
    ("the manifest switches it off", spec(backup=BackupSettings(enabled=False)), live(enabled=False), None, None,
     ["skipped"], "switches its backup off"),
    ("missing", spec(backup=ON), None, None, None, ["database-missing"], "database 22 in pro subscription 11"),
    ("on the other tier", spec(backup=ON), live(tier=Tier.ESSENTIALS), None, None, ["database-missing"],
     "set tier: essentials"),
    ("import failed", spec(backup=ON, imports=True), live(), SUCCESS,
     LatestStatus("failed", ago(2 * HOUR), "file-corrupted"), ["fresh", "import-failed"], "file-corrupted"),
    ("import succeeded", spec(backup=ON, imports=True), live(), SUCCESS, LatestStatus("success", ago(2 * HOUR)),
     ["fresh", "import-succeeded"], "succeeded at 2026-12-01T16:00:00Z"),
    ("never imported", spec(backup=ON, imports=True), live(), SUCCESS, LatestStatus(), ["fresh", "never-imported"],
     "no import has run yet"),
    ("import running", spec(backup=ON, imports=True), live(), SUCCESS, LatestStatus("importing"),
     ["fresh", "import-running"], "running"),
    ("unknown import word", spec(backup=ON, imports=True), live(), SUCCESS, LatestStatus("paused"),
     ["fresh", "import-status-unknown"], "'paused'"),
]  # fmt: skip

VIOLATIONS = {
    "stale", "never-backed-up", "backup-failed", "status-unknown", "age-unknown", "status-unavailable",
    "backup-off-live", "backup-not-configured", "database-missing", "import-failed", "import-status-unknown",
}  # fmt: skip


@pytest.mark.parametrize(
    ("wanted", "found", "backup", "imported", "kinds", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_each_finding_says_what_holds_and_what_to_do(
    wanted: DatabaseSpec,
    found: LiveDatabase | None,
    backup: LatestStatus | None,
    imported: LatestStatus | None,
    kinds: list[str],
    words: str,
) -> None:
    verdict = judge(wanted, found, backup, imported, NOW)
    assert [finding.kind.value for finding in verdict.findings] == kinds
    assert any(words in finding.message for finding in verdict.findings), [f.message for f in verdict.findings]
    assert verdict.holds is not any(kind in VIOLATIONS for kind in kinds)
    for finding in verdict.findings:
        assert (finding.severity is Severity.VIOLATION) is (finding.kind.value in VIOLATIONS)


def test_the_age_is_measured_from_now_and_never_negative() -> None:
    fresh = judge(spec(backup=ON), live(), LatestStatus("success", ago(90 * timedelta(minutes=1))), None, NOW)
    assert fresh.findings[0].age == timedelta(minutes=90)
    assert fresh.findings[0].max_age == 24 * HOUR
    ahead = judge(spec(backup=ON), live(), LatestStatus("success", ago(-HOUR)), None, NOW)  # a clock ahead of ours
    assert ahead.findings[0].age == timedelta(0) and ahead.holds


def test_a_later_finding_kind_joins_the_verdict_and_decides_it_by_its_severity() -> None:
    verdict = judge(spec(backup=ON), live(), SUCCESS, None, NOW)
    assert verdict.holds
    extra = Finding(FindingKind.STALE, Severity.VIOLATION, "a later kind of problem")
    assert not verdict.with_findings(extra).holds


def test_status_reads_are_made_only_where_they_can_tell_something() -> None:
    assert backup_reads(spec(backup=ON), live()) == (None,)
    assert backup_reads(spec(backup=ON), live(enabled=False)) == ()  # it would answer DATABASE_BACKUP_DISABLED
    assert backup_reads(spec(backup=ON, check=False), live()) == ()
    assert backup_reads(spec(backup=ON), None) == ()
    assert not reads_import_status(spec(backup=ON), live())  # no import in the manifest: not read
    assert reads_import_status(spec(backup=ON, imports=True), live(enabled=False))


def test_the_default_max_age_is_twice_the_interval_or_48_hours() -> None:
    def of(wanted: DatabaseSpec, found: LiveDatabase) -> timedelta:
        return max_age_for(wanted.backup, wanted.tier, found.backup)

    assert of(spec(backup=ON), live(interval="every-1-hours")) == 24 * HOUR  # the manifest's 12 h
    assert of(spec(backup=ON_NO_INTERVAL), live(interval="every-4-hours")) == 8 * HOUR
    assert of(spec(tier=Tier.ESSENTIALS, backup=ON_NO_INTERVAL), live(interval=None)) == 48 * HOUR
    assert of(spec(), live(interval="every-fortnight")) == 48 * HOUR  # unreadable: as 24 h


def test_the_summary_counts_checked_violated_and_skipped() -> None:
    verdicts = (
        judge(spec(backup=ON), live(), SUCCESS, None, NOW),
        judge(spec(backup=ON), live(), LatestStatus(), None, NOW),
        judge(spec(backup=ON, check=False), None, None, None, NOW),
    )
    assert CheckReport(NOW, Clock.API, verdicts).summary_line == (
        "Check failed: 1 of 2 checked databases violated; 1 skipped."
    )
    assert CheckReport(NOW, Clock.API, verdicts[:1]).summary_line == "Check passed: 1 database checked, all hold."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("26h", timedelta(hours=26)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("0h", None),
        ("", None),
        ("12h1d", None),
        ("26 h", None),
        ("1.5h", None),
        ("26H", None),
        ("90s", None),
    ],
)
def test_durations_are_days_hours_minutes_in_that_order(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("duration", "text"),
    [(timedelta(hours=26), "1d2h"), (timedelta(minutes=90), "1h30m"), (timedelta(seconds=59), "0m")],
)
def test_durations_are_shown_to_the_minute(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text
