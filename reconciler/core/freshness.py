"""`reconciler check`'s verdict on one database's backups, from what the manifest wants, what the account has,
the latest backup (and import) status and a "now". Pure: the command reads, this judges, output/ shows.

An Active-Active database has no backup of its own: each live region is judged on its own, against its own
settings (`backup.regions.<region>`, its live interval) and its own status (`?regionName=`), and its findings
carry the region's address, `orders-aa.backup["us-east-1"]` (issue 19).

`now` should be the API's clock (its `Date` header): `lastBackupTime` is the server's, and SPEC §10 compares a
server time only with another server time. The command falls back to the local clock when no answer carried
a `Date`, and the report says which clock it used (`Clock`).

Status words are read by `statuses.meaning` (both vocabularies, API-NOTES §11); a word outside them is reported
as it is and never taken for success. `{}` (no status, no time) is a database never backed up (API-NOTES §3).

Adding a kind of finding (as `drill_check.py` adds the restore drills'): one more `FindingKind` member, and a
pure function beside `judge` that returns `Finding`s, each with its own `Severity`; the command adds them to the
database's verdict with `DatabaseVerdict.with_findings`. The exit code, the summary, the text, markdown and
JSON output read only a finding's kind, severity and fields (its `address`, when it is about a part of the
database), so none of them changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from reconciler.core.desired import BackupSettings, DatabaseSpec, Tier, region_address
from reconciler.core.durations import format_duration
from reconciler.core.live import LatestStatus, LiveBackup, LiveDatabase
from reconciler.core.statuses import StatusMeaning, meaning
from reconciler.core.uris import mask_in_text

ESSENTIALS_INTERVAL = timedelta(hours=24)  # Essentials backs up every 24 hours (API-NOTES §1)
_INTERVAL = re.compile(r"every-([0-9]{1,3})-hours")


class Severity(StrEnum):
    OK = "ok"  # this part holds
    NOTE = "note"  # worth knowing, and it holds (a backup running now, a skipped database)
    VIOLATION = "violation"  # `check` exits 2


class FindingKind(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    NEVER_BACKED_UP = "never-backed-up"
    BACKUP_RUNNING = "backup-running"
    BACKUP_FAILED = "backup-failed"
    BACKUP_OFF_LIVE = "backup-off-live"  # the manifest has it on
    BACKUP_NOT_CONFIGURED = "backup-not-configured"  # off live, and the manifest does not manage it
    AGE_UNKNOWN = "age-unknown"  # a success without a time that can be read
    STATUS_UNKNOWN = "status-unknown"
    STATUS_UNAVAILABLE = "status-unavailable"  # the status read itself failed
    IMPORT_SUCCEEDED = "import-succeeded"
    IMPORT_RUNNING = "import-running"
    NEVER_IMPORTED = "never-imported"
    IMPORT_FAILED = "import-failed"
    IMPORT_STATUS_UNKNOWN = "import-status-unknown"
    IMPORT_STATUS_UNAVAILABLE = "import-status-unavailable"
    DRILL_PASSED = "drill-passed"
    DRILL_DUE = "drill-due"  # due, and within its slack: `drill` runs it
    DRILL_RUNNING = "drill-running"
    DRILL_OVERDUE = "drill-overdue"
    DRILL_FAILED = "drill-failed"
    DRILL_INTERRUPTED = "drill-interrupted"
    DRILL_NEVER_RUN = "drill-never-run"
    DRILL_RECEIPT_UNREADABLE = "drill-receipt-unreadable"
    DATABASE_MISSING = "database-missing"
    SKIPPED = "skipped"


class Clock(StrEnum):
    API = "api"  # the `Date` header of the API's answers
    LOCAL = "local"  # this machine's: no answer carried a `Date`


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing `check` found; `message` says what, and when it fails what to do, without the database's name
    (the verdict carries it)."""

    kind: FindingKind
    severity: Severity
    message: str
    at: datetime | None = None  # the status's time: lastBackupTime or lastImportTime
    age: timedelta | None = None  # now - at, never negative
    max_age: timedelta | None = None
    reason: str | None = None  # the API's failureReason, or the error type of a failed status read
    status: str | None = None  # the API's status word, as written
    address: str | None = None  # what it is about, when not the database itself: `orders-prod.drills.weekly`


@dataclass(frozen=True, slots=True)
class DatabaseVerdict:
    name: str
    tier: Tier
    subscription: int
    database: int
    findings: tuple[Finding, ...]

    @property
    def holds(self) -> bool:
        return all(finding.severity is not Severity.VIOLATION for finding in self.findings)

    @property
    def skipped(self) -> bool:
        """The whole database (a region the manifest switches off is skipped under its address, and the database
        is still checked)."""
        return any(finding.kind is FindingKind.SKIPPED and finding.address is None for finding in self.findings)

    def with_findings(self, *more: Finding) -> DatabaseVerdict:
        return replace(self, findings=self.findings + more)


@dataclass(frozen=True, slots=True)
class CheckReport:
    now: datetime
    clock: Clock
    verdicts: tuple[DatabaseVerdict, ...]

    @property
    def holds(self) -> bool:
        return all(verdict.holds for verdict in self.verdicts)

    @property
    def summary_line(self) -> str:
        checked = [verdict for verdict in self.verdicts if not verdict.skipped]
        failing = sum(1 for verdict in checked if not verdict.holds)
        skipped = len(self.verdicts) - len(checked)
        plural = "" if len(checked) == 1 else "s"
        if failing:
            line = f"Check failed: {failing} of {len(checked)} checked database{plural} violated"
        else:
            line = f"Check passed: {len(checked)} database{plural} checked, all hold"
        return line + (f"; {skipped} skipped." if skipped else ".")


def interval_length(interval: str | None) -> timedelta | None:
    """`every-6-hours` as 6 h; None for anything else (an unset or unknown interval)."""
    match = _INTERVAL.fullmatch(interval or "")
    return timedelta(hours=int(match.group(1))) if match and int(match.group(1)) > 0 else None


def max_age_for(wanted: BackupSettings | None, tier: Tier, live: LiveBackup) -> timedelta:
    """The manifest's `max_age`, else twice the interval on Pro (the manifest's, else the live one), 48 h on
    Essentials: one missed backup is tolerated, two are not. An interval this version cannot read counts as 24 h.
    Of an Active-Active database's region: that region's settings, and its live interval."""
    if wanted is not None and wanted.max_age is not None:
        return wanted.max_age
    if tier is Tier.ESSENTIALS:
        return 2 * ESSENTIALS_INTERVAL
    interval = wanted.interval if wanted is not None else None
    return 2 * (interval_length(interval) or interval_length(live.interval) or timedelta(hours=24))


def skip_reason(spec: DatabaseSpec) -> str | None:
    """Why `check` reads nothing for this database, or None when it does."""
    if not spec.check:
        return "check: false in the manifest"
    if spec.backup is not None and not spec.backup.enabled:
        return "the manifest switches its backup off"
    return None


def backup_reads(spec: DatabaseSpec, live: LiveDatabase | None) -> tuple[str | None, ...]:
    """The latest backup statuses to read: None for the database's, a region's name for each region of an
    Active-Active database (`?regionName=`; without it the read is refused). Only where backup is on live (when
    it is off, the read only answers DATABASE_BACKUP_DISABLED), and not for a region the manifest switches off."""
    if skip_reason(spec) is not None or live is None or not _found(spec, live):
        return ()
    if live.regions is None:
        return (None,) if live.backup.enabled else ()
    return tuple(
        region.region
        for region in live.regions
        if region.backup.enabled and _region_skip(_region_settings(spec, region.region)) is None
    )


def reads_drill_receipts(spec: DatabaseSpec, live: LiveDatabase | None) -> bool:
    """Only for a database whose manifest declares drills: their receipts are its tags, one read a database."""
    return skip_reason(spec) is None and _found(spec, live) and bool(spec.drills)


def reads_import_status(spec: DatabaseSpec, live: LiveDatabase | None) -> bool:
    """Only for a database whose manifest declares imports: an import runs because a manifest asked for it, so
    elsewhere its outcome is no one's to check here, and reading it would double check's requests."""
    return skip_reason(spec) is None and _found(spec, live) and bool(spec.imports)


def judge(
    spec: DatabaseSpec,
    live: LiveDatabase | None,
    backup: LatestStatus | None,
    imported: LatestStatus | None,
    now: datetime,
    *,
    regions: Mapping[str, LatestStatus] | None = None,
) -> DatabaseVerdict:
    """`backup` and `imported` are None where they were not read (`backup_reads`, `reads_import_status`);
    `regions`, an Active-Active database's backup statuses by region, likewise (`backup` is then unused)."""
    verdict = DatabaseVerdict(spec.name, spec.tier, spec.subscription, spec.database, ())
    skipped = skip_reason(spec)
    if skipped is not None:
        return verdict.with_findings(Finding(FindingKind.SKIPPED, Severity.NOTE, f"skipped: {skipped}"))
    if live is None or live.tier is not spec.tier:
        return verdict.with_findings(_missing(spec, live))
    if live.regions is None:
        findings = [_backup_finding(spec.backup, spec.tier, live.backup, backup, now)]
    else:
        findings = [
            _region_finding(spec, region.region, region.backup, (regions or {}).get(region.region), now)
            for region in live.regions
        ]
    if imported is not None:
        findings.append(_import_finding(imported, now))
    return verdict.with_findings(*findings)


def _found(spec: DatabaseSpec, live: LiveDatabase | None) -> bool:
    return live is not None and live.tier is spec.tier


def _missing(spec: DatabaseSpec, live: LiveDatabase | None) -> Finding:
    where = f"database {spec.database} in {spec.tier.value} subscription {spec.subscription}"
    if live is not None:
        fix = f"it is a {live.tier.value} database: set tier: {live.tier.value}"
    else:
        fix = "check the ids in the manifest, or remove the entry if the database is gone"
    return Finding(FindingKind.DATABASE_MISSING, Severity.VIOLATION, f"not found: {where} — {fix}")


def _region_settings(spec: DatabaseSpec, region: str) -> BackupSettings | None:
    return next((item.settings for item in spec.backup_regions or () if item.region == region), None)


def _region_skip(wanted: BackupSettings | None) -> str | None:
    return "the manifest switches this region's backup off" if wanted is not None and not wanted.enabled else None


def _region_finding(
    spec: DatabaseSpec, region: str, live: LiveBackup, status: LatestStatus | None, now: datetime
) -> Finding:
    wanted = _region_settings(spec, region)
    address = region_address(spec.name, region)
    skipped = _region_skip(wanted)
    if skipped is not None:
        return Finding(FindingKind.SKIPPED, Severity.NOTE, f"skipped: {skipped}", address=address)
    return _backup_finding(wanted, spec.tier, live, status, now, address=address)


def _backup_finding(
    wanted: BackupSettings | None,
    tier: Tier,
    live: LiveBackup,
    status: LatestStatus | None,
    now: datetime,
    *,
    address: str | None = None,
) -> Finding:
    """Of the database, or (`address`) of one region of an Active-Active database, judged on its own."""
    if not live.enabled:
        if wanted is not None:
            return Finding(
                FindingKind.BACKUP_OFF_LIVE,
                Severity.VIOLATION,
                "remote backup is off in Redis Cloud while the manifest has it on — `reconciler apply` switches it "
                "back on (plan shows the change)",
                address=address,
            )
        declare = "`backup:` with a path" if address is None else "this region under `backup.regions` with a path"
        return Finding(
            FindingKind.BACKUP_NOT_CONFIGURED,
            Severity.VIOLATION,
            f"remote backup is off, and the manifest does not manage it — declare {declare}, or set "
            "`check: false` if this database needs no backups",
            address=address,
        )
    max_age = max_age_for(wanted, tier, live)
    status = status or LatestStatus(error_type="NOT_READ")  # backup is on, so it should have been read
    if status.error_type is not None:
        return Finding(
            FindingKind.STATUS_UNAVAILABLE,
            Severity.VIOLATION,
            f"the latest backup status could not be read ({status.error_type}) — run check again; if it persists, "
            "look at the database in the Redis Cloud console",
            max_age=max_age,
            reason=status.error_type,
            address=address,
        )
    at = _moment(status.time)
    age = max(now - at, timedelta(0)) if at is not None else None
    reason = mask_in_text(status.failure_reason) if status.failure_reason else None

    def found(kind: FindingKind, severity: Severity, message: str) -> Finding:
        return Finding(kind, severity, message, at, age, max_age, reason, status.status, address)

    what = meaning(status.status)
    if status.time is not None and at is None:
        return found(
            FindingKind.AGE_UNKNOWN,
            Severity.VIOLATION,
            f"the API wrote the last backup time as {status.time[:40]!r}, which is not a time: its age is unknown",
        )
    if what is None and at is None:
        return found(
            FindingKind.NEVER_BACKED_UP,
            Severity.VIOLATION,
            "never backed up: no backup has completed yet (after backup is switched on, the first comes within "
            "its interval) — to take one now, declare an on-demand backup under `backups:` and apply",
        )
    if what is StatusMeaning.FAILED:
        when = f" at {iso(at)}" if at is not None else ""
        return found(
            FindingKind.BACKUP_FAILED,
            Severity.VIOLATION,
            f"the latest backup failed{when}: {reason or 'no reason given'} — check that the destination exists "
            "and that Redis Cloud may write to it",
        )
    if what is None or what is StatusMeaning.UNKNOWN:
        return found(
            FindingKind.STATUS_UNKNOWN,
            Severity.VIOLATION,
            f"the latest backup status is {status.status!r}, which this version does not know, so it is not taken "
            "for a success — look at the database in the Redis Cloud console",
        )
    running = what is StatusMeaning.RUNNING
    if at is None or age is None:
        if running:
            return found(FindingKind.BACKUP_RUNNING, Severity.NOTE, "a first backup is running; none has completed")
        return found(
            FindingKind.AGE_UNKNOWN,
            Severity.VIOLATION,
            "the API reports a successful backup but not when it ran, so its age cannot be judged",
        )
    last = f"last successful backup {iso(at)}, {format_duration(age)} ago"
    also = " (another is running now)" if running else ""
    if age > max_age:
        return found(
            FindingKind.STALE,
            Severity.VIOLATION,
            f"stale: {last}, over max_age {format_duration(max_age)}{also} — find out why the scheduled backups "
            "stopped (`reconciler status`), or take one now with an on-demand backup under `backups:`",
        )
    return found(FindingKind.FRESH, Severity.OK, f"fresh: {last}, within max_age {format_duration(max_age)}{also}")


def _import_finding(status: LatestStatus, now: datetime) -> Finding:
    if status.error_type is not None:
        return Finding(
            FindingKind.IMPORT_STATUS_UNAVAILABLE,
            Severity.VIOLATION,
            f"the latest import status could not be read ({status.error_type}) — run check again",
            reason=status.error_type,
        )
    at = _moment(status.time)
    age = max(now - at, timedelta(0)) if at is not None else None
    reason = mask_in_text(status.failure_reason) if status.failure_reason else None

    def found(kind: FindingKind, severity: Severity, message: str) -> Finding:
        return Finding(kind, severity, message, at, age, None, reason, status.status)

    what = meaning(status.status)
    when = f" at {iso(at)}" if at is not None else ""
    if what is None and status.time is None:
        return found(FindingKind.NEVER_IMPORTED, Severity.NOTE, "no import has run yet (apply runs the manifest's)")
    if what is StatusMeaning.SUCCESS:
        return found(FindingKind.IMPORT_SUCCEEDED, Severity.OK, f"last import succeeded{when}")
    if what is StatusMeaning.RUNNING:
        return found(FindingKind.IMPORT_RUNNING, Severity.NOTE, "an import is running now")
    if what is StatusMeaning.FAILED:
        return found(
            FindingKind.IMPORT_FAILED,
            Severity.VIOLATION,
            f"the last import failed{when}: {reason or 'no reason given'} — the database may hold partial data or "
            "none; fix the source, then `reconciler plan --retry-failed <the import's address>`",
        )
    return found(
        FindingKind.IMPORT_STATUS_UNKNOWN,
        Severity.VIOLATION,
        f"the latest import status is {status.status!r}, which this version does not know, so it is not taken "
        "for a success",
    )


def _moment(text: str | None) -> datetime | None:
    """RFC 3339 as the API writes it (`2024-05-21T10:36:26Z`, tags with milliseconds); None if it is not one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, with `Z`: how check shows and writes every time."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
