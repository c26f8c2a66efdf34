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
    backup: LiveBackup
    tags: tuple[LiveTag, ...] | None = None  # None: tags were not read
    receipts: Receipts | None = None  # decoded from `tags` once, by the refresh; None: tags were not read


DatabaseKey = tuple[int, int]  # (subscription, database)


@dataclass(frozen=True, slots=True)
class LiveAccount:
    """One refresh of the account. Statuses are fetched only for databases holding a `claimed` receipt;
    `tasks` holds snapshots of task ids recorded in such receipts."""

    databases: Mapping[DatabaseKey, LiveDatabase]
    latest: Mapping[tuple[DatabaseKey, OperationKind], LatestStatus] = field(default_factory=dict)
    tasks: Mapping[str, TaskSnapshot] = field(default_factory=dict)
    account_id: int | None = None  # the list pages' `accountId` (API-NOTES §1); None: no page listed a database

    def __post_init__(self) -> None:
        for name in ("databases", "latest", "tasks"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def latest_status(self, kind: OperationKind, key: DatabaseKey) -> LatestStatus | None:
        """The latest backup or import status of a database, when it was read."""
        return self.latest.get((key, kind))

    @classmethod
    def of(
        cls,
        *databases: LiveDatabase,
        latest: Mapping[tuple[DatabaseKey, OperationKind], LatestStatus] | None = None,
        tasks: Mapping[str, TaskSnapshot] | None = None,
    ) -> LiveAccount:
        """Build an account from databases, keying each by (subscription, database)."""
        keyed = {(db.subscription, db.database): db for db in databases}
        return cls(keyed, latest=latest or {}, tasks=tasks or {})
