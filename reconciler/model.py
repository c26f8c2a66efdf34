"""Frozen data that flows through the pure core: manifests in, plans out. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Tier(StrEnum):
    PRO = "pro"
    ESSENTIALS = "essentials"


class OperationKind(StrEnum):
    """The two one-shot operations; the value is the `<kind>` of a receipt tag `rcr.<kind>.<id>`."""

    BACKUP = "backup"
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class Position:
    """Where something was written in a manifest (1-based line and column)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class BackupSettings:
    """Desired remote-backup settings as the manifest states them; URIs keep their `${env:…}` references."""

    enabled: bool
    path: str | None = None
    storage_type: str | None = None  # given, or inferred from the path's scheme
    interval: str | None = None  # Pro only; None: not managed, the live interval is kept
    time_utc: str | None = None  # Pro only, with 12- or 24-hour intervals
    confirm: str | None = None  # only beside `enabled: false`: the live name, required when protected


@dataclass(frozen=True, slots=True)
class OnDemandBackup:
    id: str
    path: str | None = None  # sent as adhocBackupPath; None uses the configured destination


@dataclass(frozen=True, slots=True)
class Import:
    """An import overwrites every key in the database; it runs once, ever."""

    id: str
    sources: tuple[str, ...]  # one URI per shard file, unresolved
    source_type: str  # given, or inferred from the scheme
    backup_first: bool = False
    confirm: str | None = None


@dataclass(frozen=True, slots=True)
class DatabaseSpec:
    name: str
    subscription: int
    database: int
    tier: Tier
    protected: bool
    backup: BackupSettings | None  # None: backup settings are not managed
    backups: tuple[OnDemandBackup, ...]
    imports: tuple[Import, ...]
    position: Position

    @property
    def has_one_shot_operations(self) -> bool:
        return bool(self.backups or self.imports)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every database of every manifest file read in one run."""

    databases: tuple[DatabaseSpec, ...]
    paths: tuple[str, ...]  # the files read, in reading order
    digest: str  # sha256 over the files' bytes in reading order; a saved plan must match it


# --- Live side: what the refresh layer read from the API (raw values, no interpretation) ---------------


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


DatabaseKey = tuple[int, int]  # (subscription, database)


@dataclass(frozen=True, slots=True)
class LiveAccount:
    """One refresh of the account. Statuses are fetched only for databases holding a `claimed` receipt;
    `tasks` holds snapshots of task ids recorded in such receipts."""

    databases: Mapping[DatabaseKey, LiveDatabase]
    latest_backups: Mapping[DatabaseKey, LatestStatus] = field(default_factory=dict)
    latest_imports: Mapping[DatabaseKey, LatestStatus] = field(default_factory=dict)
    tasks: Mapping[str, TaskSnapshot] = field(default_factory=dict)
    account_id: int | None = None  # the list pages' `accountId` (API-NOTES §1); None: no page listed a database

    def __post_init__(self) -> None:
        for name in ("databases", "latest_backups", "latest_imports", "tasks"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @classmethod
    def of(cls, *databases: LiveDatabase, **statuses: Mapping[Any, Any]) -> LiveAccount:
        """Build an account from databases, keying each by (subscription, database)."""
        return cls({(db.subscription, db.database): db for db in databases}, **statuses)  # type: ignore[arg-type]


# --- Plan side ------------------------------------------------------------------------------------------


class Action(StrEnum):
    """Declaration order is the apply order within a database (settings, then backups, then imports)."""

    UPDATE = "update"
    BACKUP = "backup"
    IMPORT = "import"

    @property
    def order(self) -> int:
        return list(Action).index(self)


class WarningKind(StrEnum):
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    IN_PROGRESS = "in-progress"
    SETTLED = "settled"
    CLAIMED_BY_OTHER_RUN = "claimed-by-other-run"
    TAG_BUDGET = "tag-budget"  # a database's tags are close to the budget its receipts need (issue 12 §3)
    UNVERIFIABLE = "unverifiable"  # an on-demand backup whose outcome the API cannot show: backup is off (issue 20)

    @property
    def needs_attention(self) -> bool:
        """These wait for a person (issue 12 §4); apply records a settled receipt by itself, and a tag-budget
        note only informs (apply compacts, or refuses a claim that finds no room, writing nothing)."""
        return self not in (WarningKind.SETTLED, WarningKind.TAG_BUDGET, WarningKind.UNVERIFIABLE)


def subscriptions_path(tier: Tier) -> str:
    return "/fixed/subscriptions" if tier is Tier.ESSENTIALS else "/subscriptions"


def database_path(tier: Tier, subscription: int, database: int) -> str:
    """The API path of a database: Essentials live under `/fixed` (API-NOTES §1)."""
    prefix = "/fixed" if tier is Tier.ESSENTIALS else ""
    return f"{prefix}/subscriptions/{subscription}/databases/{database}"


def settings_address(database_name: str) -> str:
    return f"{database_name}.backup"


def operation_address(database_name: str, kind: OperationKind, op_id: str) -> str:
    plural = "imports" if kind is OperationKind.IMPORT else "backups"
    return f"{database_name}.{plural}.{op_id}"


def freeze(value: Any) -> Any:
    """JSON-like data made immutable (dicts → read-only mappings, lists → tuples) for frozen plans."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of `freeze`: plain dicts and lists, ready for `json.dumps`."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class DatabaseRef:
    """The manifest's handle (`name`) and, as the API reports it, the live database's own name: a reviewer
    must see which database a change overwrites, not only what the manifest calls it (issue 12)."""

    name: str
    subscription: int
    database: int
    tier: Tier
    live_name: str | None = None  # None: a plan file written before issue 12

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "subscription": self.subscription,
            "database": self.database,
            "tier": self.tier.value,
        }
        if self.live_name is not None:
            data["live_name"] = self.live_name
        return data


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One setting that differs after normalisation; values are masked display values."""

    field: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class Change:
    """One planned API call. `before` is what apply must still find live (else: stale plan);
    `after` is what it will do. Both are JSON-like, URIs unresolved and masked."""

    address: str
    action: Action
    database: DatabaseRef
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    destructive: bool = False
    fields: tuple[FieldChange, ...] = ()  # settings updates only
    risky: bool = False  # switches remote backup off: no backups from then on (issue 12)

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", freeze(self.before))
        object.__setattr__(self, "after", freeze(self.after))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "address": self.address,
            "action": self.action.value,
            "database": self.database.to_dict(),
            "before": thaw(self.before),
            "after": thaw(self.after),
            "destructive": self.destructive,
            "risky": self.risky,
        }
        if self.fields:
            data["fields"] = [f.to_dict() for f in self.fields]
        return data


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """A receipt that needs a person's attention; never a change (SPEC §10 "Receipts in a plan").

    For `settled`, `outcome` (`done` or `failed`) is the phase apply writes into the receipt.
    """

    address: str
    kind: WarningKind
    message: str
    outcome: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"address": self.address, "kind": self.kind.value, "message": self.message}
        if self.outcome is not None:
            data["outcome"] = self.outcome
        return data


def _change_order(change: Change) -> tuple[str, int]:
    return (change.database.name, change.action.order)


@dataclass(frozen=True, slots=True)
class Plan:
    """Changes sorted by database name, then apply order, then declaration order (the sort is stable)."""

    changes: tuple[Change, ...]
    warnings: tuple[PlanWarning, ...] = ()
    live: LiveAccount | None = field(default=None, compare=False, repr=False)  # the snapshot planned from

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=_change_order)))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def is_empty(self) -> bool:
        """No changes. Warnings are not changes, but those needing attention still fail `--detailed-exitcode`."""
        return not self.changes

    @property
    def attention(self) -> tuple[PlanWarning, ...]:
        """Receipts that wait for a person (failed, uncertain, in-progress, claimed by another run)."""
        return tuple(warning for warning in self.warnings if warning.kind.needs_attention)

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    @property
    def destructive_count(self) -> int:
        return sum(1 for change in self.changes if change.destructive)

    @property
    def risky_count(self) -> int:
        return sum(1 for change in self.changes if change.risky)

    @property
    def summary_line(self) -> str:
        if self.is_empty:
            line = "No changes." if self.attention else "No changes. Live state matches the manifest."
        else:
            line = (
                f"Plan: {self.count(Action.UPDATE)} to update, {self.count(Action.BACKUP)} to back up, "
                f"{self.count(Action.IMPORT)} to import"
            )
            destructive = self.destructive_count
            line += f" ({destructive} destructive)." if destructive else "."
        return f"{line} {self.attention_line}" if self.attention else line

    @property
    def attention_line(self) -> str:
        """`2 operations need attention: a (failed), b (uncertain).`; empty when none does."""
        return _attention_phrase(self.attention) if self.attention else ""

    def summary(self) -> dict[str, Any]:
        return {
            "update": self.count(Action.UPDATE),
            "backup": self.count(Action.BACKUP),
            "import": self.count(Action.IMPORT),
            "destructive": self.destructive_count,
            "risky": self.risky_count,
            "attention": len(self.attention),
            "line": self.summary_line,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [change.to_dict() for change in self.changes],
            "summary": self.summary(),
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


_ATTENTION_LISTED = 5  # the summary line names this many; the warnings section lists every one


def _attention_phrase(items: tuple[PlanWarning, ...]) -> str:
    """`2 operations need attention: a (failed), b (uncertain).`"""
    count = len(items)
    named = ", ".join(f"{w.address} ({w.kind.value})" for w in items[:_ATTENTION_LISTED])
    more = f" and {count - _ATTENTION_LISTED} more" if count > _ATTENTION_LISTED else ""
    verb = "operation needs" if count == 1 else "operations need"
    return f"{count} {verb} attention: {named}{more}."
