"""What `status` reports of one managed database: its live backup settings, last backup and last import, as the
JSON row `status --format json` prints (and its text form is drawn from). Pure: the command fetches the data.

The settings go through `normalise.from_live`, so a disabled backup shows as off (not as empty strings) and
the path is masked; a status value keeps the API's own word beside what it means (statuses.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NotRequired, TypedDict

from reconciler.core.desired import DatabaseSpec, Tier, region_address
from reconciler.core.live import LatestStatus, LiveBackup, LiveDatabase
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


class RegionView(TypedDict):
    """One region of an Active-Active database: its own settings and its own last backup."""

    address: str  # orders-aa.backup["us-east-1"]
    region: str
    backup: BackupView
    last_backup: LatestView


class StatusRow(TypedDict):
    name: str
    tier: str
    subscription: int
    database: int
    error: NotRequired[str]  # the database is not there; nothing below is then set
    status: NotRequired[str]
    backup: NotRequired[BackupView]  # not for an Active-Active database: it has none of its own
    last_backup: NotRequired[LatestView]
    regions: NotRequired[list[RegionView]]  # an Active-Active database's, in the API's order
    last_import: NotRequired[LatestView]  # database-wide, also on Active-Active databases (API-NOTES §4)


def status_row(
    spec: DatabaseSpec,
    live: LiveDatabase,
    last_backup: LatestStatus | Sequence[LatestStatus],
    last_import: LatestStatus,
) -> StatusRow:
    """`last_backup`: one status, or for an Active-Active database one per region of `live.regions`, in order."""
    row = _identity(spec)
    row["status"] = live.status
    if live.regions is not None and not isinstance(last_backup, LatestStatus):
        row["regions"] = [
            {
                "address": region_address(spec.name, region.region),
                "region": region.region,
                "backup": _backup_view(region.backup, Tier.PRO),
                "last_backup": _latest(latest),
            }
            for region, latest in zip(live.regions, last_backup, strict=True)
        ]
    elif isinstance(last_backup, LatestStatus):
        row["backup"] = _backup_view(live.backup, live.tier)
        row["last_backup"] = _latest(last_backup)
    row["last_import"] = _latest(last_import)
    return row


def _backup_view(backup: LiveBackup, tier: Tier) -> BackupView:
    settings = from_live(backup, tier)
    return {
        "enabled": settings.enabled,
        "path": mask(settings.path) if settings.path else None,
        "interval": settings.interval,
        "time_utc": settings.time_utc,
    }


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
