"""The desired state: what the manifests say, as frozen data. No I/O here; `manifest.py` builds it."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
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
    max_age: timedelta | None = None  # `check` fails past it; None: twice the interval (Pro), 48 h (Essentials)


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
    # An Active-Active database backs up each region on its own (`regionName`, API-NOTES §3): `region: NAME` is one
    # of them, `regions: all` (`all_regions`) each of them, one backup and one receipt per region.
    region: str | None = None
    all_regions: bool = False

    @property
    def regional(self) -> bool:
        return self.region is not None or self.all_regions

    def in_region(self, region: str) -> OnDemandBackup:
        """The backup of one region: an operation of its own, whose receipt id is `<id>@<region>`."""
        return OnDemandBackup(regional_id(self.id.partition(REGION_MARK)[0], region), self.path, region)


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
    check: bool = True  # False: `reconciler check` skips it (`check: false`)
    observe: bool = False  # `mode: observe`: planned and shown, never written to (issue 17)
    # `backup.regions`, for an Active-Active database (then `backup` is None); None: not written. Which form fits
    # is known only from the live database, so the planner checks it.
    backup_regions: tuple[RegionBackup, ...] | None = None
    scratch: bool = False  # restore drills may overwrite it (issue 15 §2)
    drills: tuple[Drill, ...] = ()

    @property
    def manages_backup(self) -> bool:
        return self.backup is not None or self.backup_regions is not None

    @property
    def has_one_shot_operations(self) -> bool:
        return bool(self.backups or self.imports)

    def operations(
        self, regions: Sequence[str] | None = None
    ) -> tuple[tuple[OperationKind, OnDemandBackup | Import], ...]:
        """Its one-shot operations in apply order: on-demand backups, then imports. With `regions` (the live regions
        of an Active-Active database) each regional backup is one operation per region it names; without, a
        `regions: all` backup is itself (what the manifest says, before the live regions are known)."""
        backups: list[tuple[OperationKind, OnDemandBackup | Import]] = []
        for backup in self.backups:
            if backup.region is not None:
                backups.append((OperationKind.BACKUP, backup.in_region(backup.region)))
            elif backup.all_regions and regions is not None:
                backups += [(OperationKind.BACKUP, backup.in_region(region)) for region in regions]
            else:
                backups.append((OperationKind.BACKUP, backup))
        return tuple(backups) + tuple((OperationKind.IMPORT, item) for item in self.imports)

    def operation_keys(self, regions: Sequence[str] | None = None) -> tuple[tuple[OperationKind, str], ...]:
        """(kind, id) of each: what names the entries of its compact receipts."""
        return tuple((kind, operation.id) for kind, operation in self.operations(regions))

    @property
    def has_all_regions_backups(self) -> bool:
        """Its receipts can be named only once the live regions are known."""
        return any(backup.all_regions for backup in self.backups)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every database of every manifest file read in one run."""

    databases: tuple[DatabaseSpec, ...]
    paths: tuple[str, ...]  # the files read, in reading order
    digest: str  # sha256 over the files' bytes in reading order; a saved plan must match it
    owner: str | None = None  # the manifest set's owner id (`owner:`, or `--owner`); None: ownership is not used


def settings_address(database_name: str) -> str:
    return f"{database_name}.backup"


def region_address(database_name: str, region: str) -> str:
    """`orders-aa.backup["us-east-1"]`: one region's settings of an Active-Active database. The region is quoted as
    in JSON, as Terraform writes `aws_instance.web["a"]`."""
    return f"{settings_address(database_name)}[{json.dumps(region)}]"


def canonical_address(address: str) -> str:
    """An address with its region written one way: `orders-aa.backup[us-east-1]` (a shell removes the quotes from an
    unquoted `--target orders-aa.backup["us-east-1"]`, and what is left still names one region) is
    `orders-aa.backup["us-east-1"]`; any other address is itself."""
    match = _REGIONAL.match(address)
    if match is None:
        return address
    region = match.group("bare")
    if region is None:
        try:
            region = json.loads(match.group("quoted"))
        except ValueError:
            return address
    return f"{match.group('base')}[{json.dumps(region)}]" if isinstance(region, str) else address


def base_address(address: str) -> str:
    """The address without its region: `orders-aa.backups.pre` for `orders-aa.backups.pre["eu-west-1"]`."""
    match = _REGIONAL.match(address)
    return match.group("base") if match else address


_REGIONAL = re.compile(r'^(?P<base>[^\[\]"]+)\[(?:(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<bare>[A-Za-z0-9_.-]+))\]$')


REGION_MARK = "@"  # never in a manifest id (lowercase letters, digits, "-"); allowed in a tag key (API-NOTES §9)


def regional_id(op_id: str, region: str) -> str:
    """The receipt id of one region's backup: `pre-upgrade@eu-west-1`."""
    return f"{op_id}{REGION_MARK}{region}"


def drill_address(database_name: str, drill_id: str) -> str:
    return f"{database_name}.drills.{drill_id}"


def operation_address(database_name: str, kind: OperationKind, op_id: str) -> str:
    """`orders.backups.pre`, `orders.imports.seed`; one region's backup: `orders-aa.backups.pre["eu-west-1"]`."""
    plural = "imports" if kind is OperationKind.IMPORT else "backups"
    base, mark, region = op_id.partition(REGION_MARK)
    return f"{database_name}.{plural}.{base}" + (f"[{json.dumps(region)}]" if mark else "")
