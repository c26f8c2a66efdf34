"""What `reconciler discover` writes for each live database: a valid, unique manifest name, and the backup block
that reproduces its live settings, so that `plan` on the result is empty (issue 17).

Pure: the live databases in, manifest entries out. An Active-Active database gets the per-region form
(`backup.regions`, issue 19), each region judged as a single-region database is. Whatever a manifest cannot say (a
destination no manifest can hold, a time that is not a whole hour) becomes a note, and the setting is left out,
i.e. not managed: plan never touches what discover could not write down. A literal credential in a destination
becomes a `${env:NAME}` reference; the entry keeps the variable's name, never the secret.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from reconciler.core.desired import BackupSettings, RegionBackup, Tier
from reconciler.core.live import DatabaseKey, LiveBackup, LiveRegion
from reconciler.core.normalise import TIMED_INTERVALS, from_live
from reconciler.core.uris import (
    BACKUP_STORAGE_TYPES,
    has_literal_credential,
    infer_type,
    mask,
    scheme_of,
    suggest_reference,
)

NAME_LIMIT = 40  # the schema's `id`: ^[a-z0-9][a-z0-9-]{0,39}$
# The schema's enum of intervals (API-NOTES §2, Go `BackupIntervals()`).
INTERVALS = ("every-1-hours", "every-2-hours", "every-4-hours", "every-6-hours", "every-12-hours", "every-24-hours")
# The schema's `uri` and `time_utc` patterns: a value that fails them could not be read back.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\x00-\x1f\x7f]+")
_WHOLE_HOUR = re.compile(r"([01][0-9]|2[0-3]):00")
_OTHER = re.compile(r"[^a-z0-9]+")
_TOP_LEVEL = 2  # `db-<subscription>-<database>`: unique whatever the live names are

ACTIVE_ACTIVE_NOTE = (
    "Active-Active, but Redis Cloud reported none of its regions: no backup block, so plan leaves its backups alone."
)


@dataclass(frozen=True, slots=True)
class FoundDatabase:
    """A database as discover read it from the list pages (or its own GET, when its list item had no backup)."""

    tier: Tier
    subscription: int
    database: int
    name: str  # as Redis Cloud reports it
    backup: LiveBackup | None  # None: Active-Active, whose backup is per region (API-NOTES §11)
    regions: tuple[LiveRegion, ...] | None = None  # an Active-Active database's regions, each with its backup

    @property
    def key(self) -> DatabaseKey:
        return (self.subscription, self.database)


@dataclass(frozen=True, slots=True)
class Variable:
    """An environment variable a discovered manifest refers to, in place of a credential it may not hold."""

    name: str
    database: str  # the manifest name of the database whose destination needs it
    destination: str  # the live destination, masked


@dataclass(frozen=True, slots=True)
class Entry:
    """One database of a discovered manifest; `backup` None: not managed (see `notes`)."""

    name: str
    found: FoundDatabase
    backup: BackupSettings | None
    variables: tuple[Variable, ...] = ()  # the references written in place of destinations' credentials
    notes: tuple[str, ...] = ()  # what could not be written, for a comment under the entry
    regions: tuple[RegionBackup, ...] = ()  # Active-Active: `backup.regions`, in the order Redis Cloud lists them


def discovered(found: Iterable[FoundDatabase]) -> tuple[Entry, ...]:
    """Every database as a manifest entry, ordered by tier, subscription and database id."""
    databases = sorted(found, key=lambda db: (db.tier.value, db.subscription, db.database))
    names = manifest_names(databases)
    return tuple(_entry(db, names[db.key]) for db in databases)


def base_name(live: str) -> str:
    """The live name made valid: accents dropped, lowercase, each run of other characters one `-`, no `-` at either
    end, cut to 40 characters. May be empty (a name of symbols only)."""
    letters = "".join(c for c in unicodedata.normalize("NFKD", live) if not unicodedata.combining(c))
    return _OTHER.sub("-", letters.lower()).strip("-")[:NAME_LIMIT].rstrip("-")


def manifest_names(databases: Sequence[FoundDatabase]) -> dict[DatabaseKey, str]:
    """A name per database, unique across all of them, that depends on the set and not on its order.

    A database is named `base_name(live)`; when that is empty, or shared with another database, it gets
    `-<database id>` (the name cut shorter to fit); when even that is taken, `db-<subscription>-<database id>`.
    Of the databases that share a name, those with the least distinctive form move up, so the plain name goes
    to no one when two want it.
    """
    bases = {db.key: base_name(db.name) for db in databases}
    level = {key: 0 if base else 1 for key, base in bases.items()}
    while True:
        names = {key: _named(key, bases[key], level[key]) for key in bases}
        holders: dict[str, list[DatabaseKey]] = {}
        for key, name in names.items():
            holders.setdefault(name, []).append(key)
        clashes = [keys for keys in holders.values() if len(keys) > 1]
        if not clashes:
            return names
        for keys in clashes:
            lowest = min(level[key] for key in keys)  # below the top level: top-level names are all distinct
            for key in keys:
                if level[key] == lowest:
                    level[key] += 1


def _named(key: DatabaseKey, base: str, level: int) -> str:
    subscription, database = key
    if level >= _TOP_LEVEL:
        return f"db-{subscription}-{database}"
    if level == 0:
        return base
    tag = f"-{database}"
    stem = base[: NAME_LIMIT - len(tag)].rstrip("-")
    return f"{stem}{tag}" if stem else f"db{tag}"


def variable_name(database_name: str, scheme: str | None) -> str:
    """`orders-prod` → `ORDERS_PROD_BACKUP_PASSWORD` (`…_BACKUP_KEY` for an Azure key). One-to-one, since names
    hold no `_`; a leading `_` keeps a name that starts with a digit a valid variable name."""
    stem = database_name.upper().replace("-", "_")
    return f"{'_' if stem[:1].isdigit() else ''}{stem}_BACKUP_{'KEY' if scheme == 'abs' else 'PASSWORD'}"


def _entry(db: FoundDatabase, name: str) -> Entry:
    if db.backup is None:
        return _regional_entry(db, name)
    backup, variable, notes = _settings(name, db.backup, db.tier)
    return Entry(name, db, backup, (variable,) if variable else (), notes)


def _regional_entry(db: FoundDatabase, name: str) -> Entry:
    """Each region as a single-region database; a region that cannot be written is left out (not managed), with a
    note naming it."""
    if not db.regions:
        return Entry(name, db, None, notes=(ACTIVE_ACTIVE_NOTE,))
    regions: list[RegionBackup] = []
    variables: list[Variable] = []
    notes: list[str] = []
    for region in db.regions:
        backup, variable, left = _settings(f"{name}-{region.region}", region.backup, db.tier)
        notes.extend(f"{region.region}: {note}" for note in left)
        if backup is not None:
            regions.append(RegionBackup(region.region, backup))
        if variable is not None:
            variables.append(replace(variable, database=f"{name} ({region.region})"))
    return Entry(name, db, None, tuple(variables), tuple(notes), tuple(regions))


def _settings(
    name: str, live: LiveBackup, tier: Tier
) -> tuple[BackupSettings | None, Variable | None, tuple[str, ...]]:
    """The backup block for one set of live settings (a database's, or a region's), the variable its destination
    refers to, and notes on what was left out. `name` names the variable."""
    settings = from_live(live, tier)
    if not settings.enabled:
        # Not `protected`: discover cannot know which databases deserve it, and `confirm` is only for those.
        return BackupSettings(enabled=False), None, ()
    # The destination as Redis Cloud reports it (a trailing "/" too): what the team recognises, equal to it anyway.
    path, variable, refused = _destination(name, live.path if settings.path else None)
    if path is None:
        return None, None, (refused,)
    interval, time_utc, notes = _schedule(settings.interval, settings.time_utc)
    return BackupSettings(enabled=True, path=path, interval=interval, time_utc=time_utc), variable, notes


def _destination(name: str, live: str | None) -> tuple[str | None, Variable | None, str]:
    """(the path to write, the variable it refers to, or why no path can be written)."""
    if live is None:
        return None, None, "backup is on but Redis Cloud reports no destination: no backup block, not managed."
    scheme = scheme_of(live)
    if not _URI.fullmatch(live) or infer_type(live) not in BACKUP_STORAGE_TYPES or "${" in live:
        kind = f"a {scheme}:// destination" if scheme else "a destination that is not a URI"
        return None, None, f"backup is on, to {kind}, which a manifest cannot hold: no backup block, not managed."
    if not has_literal_credential(live):
        return live, None, ""
    if live.count("@") > 1:
        # `ftp://user:p@ss/x@host/…`: an unencoded '@' (and '/') in the secret, or an '@' in the path; either way
        # where the secret ends is a guess, and a wrong guess would write part of it into the path.
        return (
            None,
            None,
            (
                "backup is on, to a destination whose credential holds an unencoded '@' (or whose path does), so where "
                "the credential ends cannot be told: no backup block, not managed; write it by hand with ${env:…}."
            ),
        )
    variable = Variable(variable_name(name, scheme), name, mask(live))
    return suggest_reference(live, variable.name), variable, ""


def _schedule(interval: str | None, time_utc: str | None) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The interval and time to write (None: left out, the live one kept) and notes on what was left out."""
    if interval is None:
        return None, None, ()
    if interval not in INTERVALS:
        return None, None, (f"interval {interval!r} is not one a manifest can say: left out, not managed.",)
    if time_utc is None or interval not in TIMED_INTERVALS:
        return interval, None, ()
    if not _WHOLE_HOUR.fullmatch(time_utc):
        return interval, None, (f"time_utc {time_utc!r} is not a whole hour: left out, not managed.",)
    return interval, time_utc, ()
