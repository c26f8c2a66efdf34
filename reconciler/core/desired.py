"""The desired state: what the manifests say, as frozen data. No I/O here; `manifest.py` builds it."""

from __future__ import annotations

import json
import re
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
class RegionBackup:
    """One region's remote-backup settings of an Active-Active database (`backup.regions.<region>`): the regions
    are backed up separately, each to its own destination (API-NOTES §1, §11)."""

    region: str
    settings: BackupSettings


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
    # `backup.regions`, for an Active-Active database (then `backup` is None); None: not written. Which form fits
    # is known only from the live database, so the planner checks it.
    backup_regions: tuple[RegionBackup, ...] | None = None

    @property
    def manages_backup(self) -> bool:
        return self.backup is not None or self.backup_regions is not None

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


def region_address(database_name: str, region: str) -> str:
    """`orders-aa.backup["us-east-1"]`: one region's settings of an Active-Active database. The region is quoted as
    in JSON, so the address reads back unambiguously (`parse_region_address`)."""
    return f"{settings_address(database_name)}[{json.dumps(region)}]"


def parse_region_address(address: str) -> tuple[str, str] | None:
    """(database name, region) of a region address; None for any other address. The quotes may be missing: a shell
    removes them from an unquoted `--target orders-aa.backup["us-east-1"]`, and what is left still names one region."""
    match = _REGION_ADDRESS.match(address)
    if match is None:
        return None
    quoted, bare = match.group(2), match.group(3)
    if bare is not None:
        return match.group(1), bare
    try:
        region = json.loads(quoted)
    except ValueError:
        return None
    return (match.group(1), region) if isinstance(region, str) else None


_REGION_ADDRESS = re.compile(r'^([a-z0-9][a-z0-9-]{0,39})\.backup\[(?:("(?:[^"\\]|\\.)*")|([A-Za-z0-9_.-]+))\]$')


def operation_address(database_name: str, kind: OperationKind, op_id: str) -> str:
    plural = "imports" if kind is OperationKind.IMPORT else "backups"
    return f"{database_name}.{plural}.{op_id}"
