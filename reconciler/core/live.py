"""The live state: what the refresh read from the API, as frozen data (raw values, no interpretation), with the
receipt tags decoded once into `Receipt`s. No I/O here; `refresh.py` builds it, `receipt_tags.py` decodes tags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from reconciler.core.desired import OperationKind, Tier

if TYPE_CHECKING:  # the receipt format module reads `LiveTag`; the types only are needed here
    from reconciler.core.receipt_tags import Receipts


@dataclass(frozen=True, slots=True)
class LiveBackup:
    """Remote-backup settings as read, tier-independent: Pro `backup.enableRemoteBackup/interval/timeUTC/
    destination`, Essentials `backup.remoteBackupEnabled/interval/destination` (API-NOTES §1)."""

    enabled: bool
    path: str | None = None
    interval: str | None = None
    time_utc: str | None = None


@dataclass(frozen=True, slots=True)
class LiveRegion:
    """One region of an Active-Active database: `crdbDatabases[].region` and its own `backup` object, in the Pro
    shape (API-NOTES §1, §11). An Active-Active database has no database-wide backup: its settings are these."""

    region: str
    backup: LiveBackup


@dataclass(frozen=True, slots=True)
class LiveTag:
    """A database tag; `created_at` is the API's string (server clock), compared to status times."""

    key: str
    value: str
    created_at: str
    updated_at: str = ""  # the tag's `updatedAt` (server clock): when a drill's receipt last moved (drill_tags.py)


@dataclass(frozen=True, slots=True)
class LatestStatus:
    """The result of a backup/import status task (`GET …/backup`, `GET …/import`).

    `error_type` is set when the status task itself failed, e.g. `DATABASE_BACKUP_DISABLED`.
    """

    status: str | None = None
    time: str | None = None  # lastBackupTime / lastImportTime, RFC 3339
    failure_reason: str | None = None
    error_type: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """`GET /tasks/{id}` for a task id recorded in a receipt, while the API still keeps it."""

    task_id: str
    status: str  # initialized | received | processing-in-progress | processing-completed | processing-error
    error_type: str | None = None
    error_description: str | None = None


@dataclass(frozen=True, slots=True)
class LiveDatabase:
    tier: Tier
    subscription: int
    database: int
    name: str
    status: str
    backup: LiveBackup  # of an Active-Active database: off (it has none of its own), `regions` hold its settings
    tags: tuple[LiveTag, ...] | None = None  # None: tags were not read
    receipts: Receipts | None = None  # decoded from `tags` once, by the refresh; None: tags were not read
    regions: tuple[LiveRegion, ...] | None = None  # None: single-region; Active-Active (`activeActiveRedis`): these

    @property
    def active_active(self) -> bool:
        return self.regions is not None

    def region(self, name: str) -> LiveRegion | None:
        return next((region for region in self.regions or () if region.region == name), None)


DatabaseKey = tuple[int, int]  # (subscription, database)


@dataclass(frozen=True, slots=True)
class LiveAccount:
    """One refresh of the account. Statuses are fetched only for databases holding a `claimed` receipt;
    `tasks` holds snapshots of task ids recorded in such receipts."""

    databases: Mapping[DatabaseKey, LiveDatabase]
    latest: Mapping[tuple[DatabaseKey, OperationKind], LatestStatus] = field(default_factory=dict)
    tasks: Mapping[str, TaskSnapshot] = field(default_factory=dict)
    account_id: int | None = None  # the list pages' `accountId` (API-NOTES §1); None: no page listed a database
    # The latest backup of one region of an Active-Active database (`GET …/backup?regionName=`), by region.
    region_latest: Mapping[tuple[DatabaseKey, str], LatestStatus] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("databases", "latest", "tasks", "region_latest"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def latest_status(self, kind: OperationKind, key: DatabaseKey, region: str | None = None) -> LatestStatus | None:
        """The latest backup or import status of a database (of one of its regions), when it was read."""
        return self.latest.get((key, kind)) if region is None else self.region_latest.get((key, region))

    @classmethod
    def of(
        cls,
        *databases: LiveDatabase,
        latest: Mapping[tuple[DatabaseKey, OperationKind], LatestStatus] | None = None,
        tasks: Mapping[str, TaskSnapshot] | None = None,
        region_latest: Mapping[tuple[DatabaseKey, str], LatestStatus] | None = None,
    ) -> LiveAccount:
        """Build an account from databases, keying each by (subscription, database)."""
        keyed = {(db.subscription, db.database): db for db in databases}
        return cls(keyed, latest=latest or {}, tasks=tasks or {}, region_latest=region_latest or {})
