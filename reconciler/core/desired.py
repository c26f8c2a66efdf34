"""The desired state: what the manifests say, as frozen data. No I/O here; `manifest.py` builds it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    PRO = "pro"
    ESSENTIALS = "essentials"


class OperationKind(StrEnum):
    """The two one-shot operations; the value is the `<kind>` of a receipt tag `rcr_<kind>_<id>`."""

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
class DrillVerify:
    """What a restore drill checks beyond a successful import: key counts, which only a data plane can give (the
    API reports none: API-NOTES §3, §4 name no key count or dataset size in any status)."""

    min_keys: int | None = None
    match_source: bool = False

    @property
    def counts_keys(self) -> bool:
        return self.min_keys is not None or self.match_source


@dataclass(frozen=True, slots=True)
class Drill:
    """A recurring restore drill (issue 15 §2): back the database up, import that backup into the scratch
    database `into`, verify; due again `every_seconds` after the start of its last passing run."""

    id: str
    into: str  # the manifest name of a database marked `scratch: true`
    every: str  # as written (`7d`, `12h`)
    every_seconds: int
    path: str  # where its backups go, unresolved: the drill's `path`, else the database's backup path
    verify: DrillVerify = DrillVerify()


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
    scratch: bool = False  # restore drills may overwrite it (issue 15 §2)
    drills: tuple[Drill, ...] = ()

    @property
    def has_one_shot_operations(self) -> bool:
        return bool(self.backups or self.imports)

    def operations(self) -> tuple[tuple[OperationKind, OnDemandBackup | Import], ...]:
        """Its one-shot operations in apply order: on-demand backups, then imports."""
        backups = tuple((OperationKind.BACKUP, backup) for backup in self.backups)
        return backups + tuple((OperationKind.IMPORT, item) for item in self.imports)

    def operation_keys(self) -> tuple[tuple[OperationKind, str], ...]:
        """(kind, id) of each: what names the entries of its compact receipts."""
        return tuple((kind, operation.id) for kind, operation in self.operations())


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every database of every manifest file read in one run."""

    databases: tuple[DatabaseSpec, ...]
    paths: tuple[str, ...]  # the files read, in reading order
    digest: str  # sha256 over the files' bytes in reading order; a saved plan must match it


def settings_address(database_name: str) -> str:
    return f"{database_name}.backup"


def drill_address(database_name: str, drill_id: str) -> str:
    return f"{database_name}.drills.{drill_id}"


def operation_address(database_name: str, kind: OperationKind, op_id: str) -> str:
    plural = "imports" if kind is OperationKind.IMPORT else "backups"
    return f"{database_name}.{plural}.{op_id}"
