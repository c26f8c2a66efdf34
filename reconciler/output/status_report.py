"""What `status` reports of one managed database: its live backup settings, last backup and last import, as the
JSON row `status --format json` prints (and its text form is drawn from). Pure: the command fetches the data.

The settings go through `normalise.from_live`, so a disabled backup shows as off (not as empty strings) and
the path is masked; a status value keeps the API's own word beside what it means (statuses.py).
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from reconciler.core.desired import DatabaseSpec
from reconciler.core.live import LatestStatus, LiveDatabase
from reconciler.core.normalise import from_live
from reconciler.core.statuses import meaning
from reconciler.core.uris import mask


class BackupView(TypedDict):
    enabled: bool
    path: str | None  # masked: a live destination may hold credentials
    interval: str | None
    time_utc: str | None


class LatestView(TypedDict):
    status: str | None  # exactly as the API wrote it
    outcome: str | None  # a `StatusMeaning` value, in either vocabulary; None when there is no status
    time: str | None
    failure_reason: str | None
    error: str | None  # the status task itself failed, e.g. DATABASE_BACKUP_DISABLED


class StatusRow(TypedDict):
    name: str
    tier: str
    subscription: int
    database: int
    error: NotRequired[str]  # the database is not there; nothing below is then set
    status: NotRequired[str]
    backup: NotRequired[BackupView]
    last_backup: NotRequired[LatestView]
    last_import: NotRequired[LatestView]


def status_row(
    spec: DatabaseSpec, live: LiveDatabase, last_backup: LatestStatus, last_import: LatestStatus
) -> StatusRow:
    settings = from_live(live.backup, live.tier)
    row = _identity(spec)
    row["status"] = live.status
    row["backup"] = {
        "enabled": settings.enabled,
        "path": mask(settings.path) if settings.path else None,
        "interval": settings.interval,
        "time_utc": settings.time_utc,
    }
    row["last_backup"] = _latest(last_backup)
    row["last_import"] = _latest(last_import)
    return row


def missing_row(spec: DatabaseSpec) -> StatusRow:
    """A database the manifest declares but the account does not have."""
    row = _identity(spec)
    row["error"] = f"database {spec.database} not found in {spec.tier.value} subscription {spec.subscription}"
    return row


def _identity(spec: DatabaseSpec) -> StatusRow:
    return {"name": spec.name, "tier": spec.tier.value, "subscription": spec.subscription, "database": spec.database}


def _latest(status: LatestStatus) -> LatestView:
    what = meaning(status.status)
    return {
        "status": status.status,
        "outcome": what.value if what is not None else None,
        "time": status.time,
        "failure_reason": status.failure_reason,
        "error": status.error_type,
    }
