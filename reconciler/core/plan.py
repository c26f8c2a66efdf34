"""The plan: typed changes, each carrying the API calls it will make, and the receipts that need a person.
Frozen data, no I/O; `planner.py` builds it, `planfile.py` alone turns it into JSON and back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.core.calls import ApiCall, Json, database_path, fingerprint
from reconciler.core.desired import DatabaseSpec, OperationKind, Tier
from reconciler.core.live import LiveAccount
from reconciler.core.normalise import Settings
from reconciler.core.receipt_tags import Receipt


class Action(StrEnum):
    """Declaration order is the apply order within a database (its owner tag, settings, backups, imports): a set
    that loses the race for a database's ownership writes nothing else there."""

    OWN = "own"
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
    ADOPTED = "adopted"  # done by hand, recorded by `receipts adopt` (issue 17): it will not run
    OWNER = "owner"  # the live owner of an observed database (issue 17)

    @property
    def needs_attention(self) -> bool:
        """These wait for a person (issue 12 §4); apply records a settled receipt by itself, and a tag-budget
        note only informs (apply compacts, or refuses a claim that finds no room, writing nothing)."""
        return self not in _INFORMATIONAL


_INFORMATIONAL = (
    WarningKind.SETTLED,
    WarningKind.TAG_BUDGET,
    WarningKind.UNVERIFIABLE,
    WarningKind.ADOPTED,
    WarningKind.OWNER,
)


@dataclass(frozen=True, slots=True)
class DatabaseRef:
    """The manifest's handle (`name`) and, as the API reports it, the live database's own name: a reviewer
    must see which database a change overwrites, not only what the manifest calls it (issue 12)."""

    name: str
    subscription: int
    database: int
    tier: Tier
    live_name: str | None = None  # None: a plan file written before issue 12
    active_active: bool = False  # as the refresh read it (`activeActiveRedis`); shown, for what an import does

    @classmethod
    def of(cls, spec: DatabaseSpec, live_name: str | None = None, *, active_active: bool = False) -> DatabaseRef:
        return cls(spec.name, spec.subscription, spec.database, spec.tier, live_name, active_active)

    @property
    def path(self) -> str:
        return database_path(self.tier, self.subscription, self.database)


SettingValue = str | bool | None


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One setting that differs after normalisation; values are masked display values."""

    field: str
    before: SettingValue
    after: SettingValue


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    """The backup settings of one database, brought to the manifest by one PUT.

    `before` is the live state the plan saw (path masked): apply refuses a saved plan once it no longer holds.
    `after` holds the managed settings (None: not managed, the live value stays), the path as the manifest writes it.
    """

    address: str
    database: DatabaseRef
    before: Settings
    after: Settings
    call: ApiCall
    fields: tuple[FieldChange, ...]
    storage_type: str | None = None  # sent, never read back (API-NOTES §1): shown, never compared with live
    risky: bool = False  # switches remote backup off: no backups from then on (issue 12)

    action = Action.UPDATE
    destructive = False

    @property
    def calls(self) -> tuple[ApiCall, ...]:
        return (self.call,)

    @property
    def kept_interval(self) -> str | None:
        return kept_interval(self.before, self.after)


def kept_interval(before: Settings, after: Settings) -> str | None:
    """The live interval a settings write sends because the manifest does not manage one (a database's PUT, or a
    region's part of the PUT of its regions)."""
    return before.interval if after.enabled and after.interval is None else None


@dataclass(frozen=True, slots=True)
class RegionUpdate:
    """One region's part of a `RegionalUpdate`, shown and checked like a `SettingsUpdate` under its own address
    (`orders-aa.backup["us-east-1"]`)."""

    address: str
    region: str
    before: Settings
    after: Settings
    fields: tuple[FieldChange, ...]
    storage_type: str | None = None
    risky: bool = False

    @property
    def kept_interval(self) -> str | None:
        return kept_interval(self.before, self.after)


@dataclass(frozen=True, slots=True)
class RegionalUpdate:
    """The backup settings of an Active-Active database's regions, brought to the manifest by one `PUT …/regions`
    that carries only the regions that change (API-NOTES §2, §11). `regions` are in the order of the call."""

    address: str  # `orders-aa.backup`
    database: DatabaseRef
    regions: tuple[RegionUpdate, ...]
    call: ApiCall

    action = Action.UPDATE
    destructive = False

    @property
    def calls(self) -> tuple[ApiCall, ...]:
        return (self.call,)

    @property
    def risky(self) -> bool:
        """Switches some region's remote backup off."""
        return any(region.risky for region in self.regions)

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(region.address for region in self.regions)


@dataclass(frozen=True, slots=True)
class OneShot:
    """An on-demand backup or an import, guarded by a receipt: it runs once, ever.

    `calls` are what apply sends, in order: an import with `backup_first` carries the on-demand backup before it.
    `replaces` is the failed or uncertain receipt a retry (`--retry-failed`, `--retry-uncertain`) replaces.
    """

    address: str
    database: DatabaseRef
    kind: OperationKind
    op_id: str
    calls: tuple[ApiCall, ...]
    replaces: Receipt | None = None

    risky = False

    @property
    def action(self) -> Action:
        return Action(self.kind.value)

    @property
    def destructive(self) -> bool:
        """An import replaces every key in the database."""
        return self.kind is OperationKind.IMPORT

    @property
    def call(self) -> ApiCall:
        """The call the receipt guards (the import itself, after any backup_first)."""
        return self.calls[-1]

    @property
    def backup_first(self) -> bool:
        return len(self.calls) > 1

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.call)

    @property
    def target(self) -> str | None:
        """A backup's own destination (`adhocBackupPath`); None: the configured one."""
        return _text(self.call.body, "adhocBackupPath")

    @property
    def region(self) -> str | None:
        """The region of an Active-Active database a backup is of (`regionName`); None: the whole database."""
        return _text(self.call.body, "regionName")

    @property
    def sources(self) -> tuple[str, ...]:
        found = (self.call.body or {}).get("importFromUri")
        return tuple(str(uri) for uri in found) if isinstance(found, tuple) else ()

    @property
    def source_type(self) -> str | None:
        return _text(self.call.body, "sourceType")


@dataclass(frozen=True, slots=True)
class OwnerTag:
    """The owner tag of the manifest set, written first on a database it manages (issue 17, ownership.py).

    `previous` is the owner a takeover (`--takeover`) replaces; None: the database is unowned, and the tag is
    created only if still absent (of racing sets one wins). `call` is that write, shown and stored for review;
    apply writes the same key and value through the ledger, which reads it back.
    """

    address: str
    database: DatabaseRef
    owner: str
    previous: str | None
    call: ApiCall

    action = Action.OWN
    destructive = False
    risky = False

    @property
    def calls(self) -> tuple[ApiCall, ...]:
        return (self.call,)

    @property
    def takeover(self) -> bool:
        return self.previous is not None


Change = SettingsUpdate | RegionalUpdate | OneShot | OwnerTag


def _text(body: Mapping[str, Json] | None, key: str) -> str | None:
    value = body.get(key) if body is not None else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """A receipt that needs a person's attention; never a change (SPEC §10 "Receipts in a plan").

    For `settled`, `outcome` (`done` or `failed`) is the phase apply writes into the receipt.
    """

    address: str
    kind: WarningKind
    message: str
    outcome: str | None = None
    database: DatabaseRef | None = None  # for `settled`: where apply records the outcome (None: a plan file 1.1)
    observed: bool = False  # on an observed database: shown, never acted on (not a settlement, not attention)


def _change_order(change: Change) -> tuple[str, int]:
    return (change.database.name, change.action.order)


@dataclass(frozen=True, slots=True)
class Plan:
    """Changes sorted by database name, then apply order, then declaration order (the sort is stable).

    `observed` holds the changes of observed databases (`mode: observe`, `--observe`): what apply would do were
    they managed. They are shown and counted apart, and are never among `changes`, the only ones apply runs.
    """

    changes: tuple[Change, ...]
    warnings: tuple[PlanWarning, ...] = ()
    live: LiveAccount | None = field(default=None, compare=False, repr=False)  # the snapshot planned from
    observed: tuple[Change, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=_change_order)))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "observed", tuple(sorted(self.observed, key=_change_order)))

    @property
    def is_empty(self) -> bool:
        """No changes. Warnings are not changes, but those needing attention still fail `--detailed-exitcode`."""
        return not self.changes

    @property
    def settlements(self) -> tuple[PlanWarning, ...]:
        """Interrupted receipts apply records from the API's evidence (`settled`: those with an `outcome`)."""
        return tuple(warning for warning in self.warnings if warning.outcome and not warning.observed)

    @property
    def has_work(self) -> bool:
        """Something for apply to do: a change, or a receipt to settle."""
        return bool(self.changes or self.settlements)

    @property
    def attention(self) -> tuple[PlanWarning, ...]:
        """Receipts that wait for a person (failed, uncertain, in-progress, claimed by another run)."""
        return tuple(w for w in self.warnings if w.kind.needs_attention and not w.observed)

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
        if self.is_empty and self.observed:
            line = "No changes to apply."
        elif self.is_empty:
            line = "No changes." if self.attention else "No changes. Live state matches the manifest."
        else:
            owning = f"{self.count(Action.OWN)} to own, " if self.count(Action.OWN) else ""
            line = (
                f"Plan: {owning}{self.count(Action.UPDATE)} to update, {self.count(Action.BACKUP)} to back up, "
                f"{self.count(Action.IMPORT)} to import"
            )
            destructive = self.destructive_count
            line += f" ({destructive} destructive)." if destructive else "."
        if self.observed:
            line += f" {len(self.observed)} observed only (never applied)."
        return f"{line} {self.attention_line}" if self.attention else line

    @property
    def attention_line(self) -> str:
        """`2 operations need attention: a (failed), b (uncertain).`; empty when none does."""
        return _attention_phrase(self.attention) if self.attention else ""


_ATTENTION_LISTED = 5  # the summary line names this many; the warnings section lists every one


def _attention_phrase(items: tuple[PlanWarning, ...]) -> str:
    """`2 operations need attention: a (failed), b (uncertain).`"""
    count = len(items)
    named = ", ".join(f"{w.address} ({w.kind.value})" for w in items[:_ATTENTION_LISTED])
    more = f" and {count - _ATTENTION_LISTED} more" if count > _ATTENTION_LISTED else ""
    verb = "operation needs" if count == 1 else "operations need"
    return f"{count} {verb} attention: {named}{more}."
