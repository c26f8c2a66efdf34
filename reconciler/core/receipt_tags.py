"""The receipt tag format: database tags that make one-shot operations run exactly once (SPEC §4, §10; issue 12 §3).

The live account is the only record of what ran, so a receipt must survive on the database itself and
within the tag rules of API-NOTES §9 and §11: keys ≤ 64 characters, values ≤ 128 (unconfirmed maximum), only
lowercase letters, digits, spaces and `- _ . + @ :`, at most 30 tags a database counting the user's own
(Redis Software's cap; the Cloud one is unconfirmed). A receipt is written as

    key   rcr_<kind>_<id>                       e.g. rcr_import_seed-2026-11-20
          rcr_backup_<id>@<region>              one region's backup of an Active-Active database (issue 19),
                                                e.g. rcr_backup_pre-upgrade@eu-west-1; id and region together
                                                at most 52 characters, so that the key stays within 64
    value v1 <phase> fp:<12 hex> at:<epoch s> [run:<8 hex>] [task:<task id>]
          e.g. v1 claimed fp:3f9a0c2b7d1e at:1764312600 run:0c1d2e3f task:5d1e7a8e-6b2c-4f7e-9a1d-2c3b4d5e6f70

Keys carry no `.`: a dot in the last path segment of `…/tags/{tagKey}` has never been exercised by a public
client, and Spring servers may read a trailing `.x` as a file extension (API-NOTES §11). Receipts written by
earlier versions (`rcr.<kind>.<id>`) are still read, and updated under their own key.

`run` names the apply that wrote the claim, so a claim whose POST was retried after a lost answer (and so
met its own tag) can tell itself from another run's.

A done receipt that ends in ` adopted` was recorded by `reconciler receipts adopt` for an operation a person
carried out by hand (issue 17): it blocks the operation like any done receipt, and says this tool never ran it.
It is never compacted (a compact entry has no room for the mark, and a receipt must not lose it), e.g.

    v1 done fp:3f9a0c2b7d1e at:1764312600 run:0c1d2e3f adopted

Done receipts may be compacted to stay within the tag budget: one tag holds up to five of them,

    key   rcr_done_<8 hex, unique per write>
    value v1 done <k><8 hex>:<12 hex> …         k is i (import) or b (backup), then a hash of the id,
                                                then the operation's fingerprint

A compact tag is only ever created whole and deleted whole, never edited, so two runs compacting at once
cannot lose each other's entries (at worst an entry is held twice).

It never holds a URI, only the fingerprint of the operation's call (`calls.fingerprint`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from reconciler.core.desired import REGION_MARK, OperationKind, operation_address
from reconciler.core.live import LiveTag
from reconciler.errors import ReceiptError

KEY_PREFIX = "rcr_"
LEGACY_KEY_PREFIX = "rcr."  # written by version 0.1; read, and updated under its own key
COMPACT_KEY_PREFIX = "rcr_done_"
OWNER_KEY = "rcr_owner"  # the manifest set that manages the database (ownership.py); never a receipt
DRILL_KEY_PREFIX = "rcr_drill_"  # a restore drill's receipt, recurring: its format is drill_tags.py's
VALUE_VERSION = "v1"
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 128
ALLOWED = re.compile(r"^[a-z0-9 _.+@:-]+$")  # API-NOTES §9
# UNCONFIRMED (API-NOTES §11): Redis Software caps a database at 30 tags; budget for that, the user's own included.
TAG_BUDGET = 30
TAGS_A_RUN_NEEDS = 2  # one claim in flight, plus one compact tag while compacting (created before the old go)
COMPACT_ENTRIES = 5  # "v1 done" + 5 × " i0123abcd:0123456789ab" = 122 characters
NEAR_BUDGET = TAG_BUDGET - 5  # from here on the plan says so, and apply compacts done receipts

# A regional backup (one region of an Active-Active database) is `<id>@<region>`; only today's key form holds one.
_KEY = re.compile(r"^rcr([._])(import|backup)\1([a-z0-9][a-z0-9-]{0,39}(?:@[a-z0-9][a-z0-9-]{0,51})?)$")
_COMPACT_KEY = re.compile(r"^rcr_done_[0-9a-f]{8}$")
_VALUE = re.compile(
    r"^v1 (claimed|done|failed) fp:([0-9a-f]{12}) at:(\d{1,12})(?: run:([0-9a-f]{8}))?"
    r"(?: task:([a-z0-9][a-z0-9_.+@:-]{0,63}))?(?: (adopted))?$"
)
_COMPACT_ENTRY = re.compile(r"^([ib])([0-9a-f]{8}):([0-9a-f]{12})$")
_KIND_LETTER = {OperationKind.IMPORT: "i", OperationKind.BACKUP: "b"}


class Phase(StrEnum):
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Receipt:
    kind: OperationKind
    op_id: str
    phase: Phase
    fingerprint: str
    at: int  # epoch seconds when written, runner's clock: for people only, never compared
    task_id: str | None = None
    created_at: str | None = None  # the tag's `createdAt` (server clock); read, never encoded
    run: str | None = None  # 8 hex digits naming the apply that claimed it
    stored_as: str | None = None  # the tag it was read from, when not `tag_key(kind, op_id)` (legacy, compact)
    adopted: bool = False  # recorded by hand (`receipts adopt`): done, but not by this tool

    @property
    def key(self) -> str:
        return self.stored_as or tag_key(self.kind, self.op_id)

    @property
    def region(self) -> str | None:
        """The region of an Active-Active database this backup's receipt is for; None: the whole database."""
        return self.op_id.partition(REGION_MARK)[2] or None

    @property
    def compacted(self) -> bool:
        return self.key.startswith(COMPACT_KEY_PREFIX)

    @property
    def value(self) -> str:
        return encode_value(self)

    def with_phase(self, phase: Phase, *, at: int | None = None) -> Receipt:
        return replace(self, phase=phase, at=self.at if at is None else at)

    def with_task(self, task_id: str) -> Receipt:
        return replace(self, task_id=task_id.lower())


OperationKey = tuple[OperationKind, str]  # (kind, id): how a database's receipts are keyed


@dataclass(frozen=True, slots=True)
class Receipts:
    """Every receipt on one database, and one problem line per receipt tag that does not parse (never
    overwritten; the planner reports them)."""

    found: Mapping[OperationKey, Receipt] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "found", MappingProxyType(dict(self.found)))

    def get(self, kind: OperationKind, op_id: str) -> Receipt | None:
        return self.found.get((kind, op_id))

    def claimed(self) -> tuple[Receipt, ...]:
        return tuple(receipt for receipt in self.found.values() if receipt.phase is Phase.CLAIMED)


def tag_key(kind: OperationKind, op_id: str) -> str:
    if not fits(kind, op_id):
        raise ValueError(f"operation id {op_id!r} cannot form a receipt tag key")
    return f"{KEY_PREFIX}{kind.value}_{op_id}"


def fits(kind: OperationKind, op_id: str) -> bool:
    """A receipt of this operation has a key within the tag rules (a regional id may not: its region is the
    API's)."""
    key = f"{KEY_PREFIX}{kind.value}_{op_id}"
    return len(key) <= MAX_KEY_LENGTH and ALLOWED.match(key) is not None and _KEY.match(key) is not None


def keys_of(kind: OperationKind, op_id: str) -> tuple[str, str]:
    """The tag keys a receipt of this operation may sit under: today's, then version 0.1's."""
    return tag_key(kind, op_id), f"{LEGACY_KEY_PREFIX}{kind.value}.{op_id}"


def is_ours(key: str) -> bool:
    """Tags this tool writes (receipts, compact receipts), in either key form; the rest are the user's."""
    return key.startswith((KEY_PREFIX, LEGACY_KEY_PREFIX))


def encode_value(receipt: Receipt) -> str:
    value = f"{VALUE_VERSION} {receipt.phase.value} fp:{receipt.fingerprint} at:{receipt.at}"
    if receipt.run:
        value += f" run:{receipt.run}"
    if receipt.task_id:
        value += f" task:{receipt.task_id.lower()}"
    if receipt.adopted:
        value += " adopted"
    if len(value) > MAX_VALUE_LENGTH or not _VALUE.match(value):
        raise ValueError(f"receipt for {receipt.key} cannot be encoded within the tag rules")
    return value


def claim(kind: OperationKind, op_id: str, fingerprint: str, *, at: int, run: str | None = None) -> Receipt:
    """The write-ahead receipt apply creates before the call it guards."""
    return Receipt(kind, op_id, Phase.CLAIMED, fingerprint, at, run=run)


def operation_hash(kind: OperationKind, op_id: str) -> str:
    """Names an operation inside a compact tag: 8 hex digits of its id (ids are unique per database)."""
    return hashlib.sha256(f"{kind.value}:{op_id}".encode()).hexdigest()[:8]


def decode(tag: LiveTag, database_name: str) -> Receipt | None:
    """The receipt a tag holds, None for a tag that is not ours (or a compact one, the owner tag or a drill's); a
    malformed one raises."""
    if not is_ours(tag.key) or _COMPACT_KEY.match(tag.key) or tag.key == OWNER_KEY:
        return None
    if tag.key.startswith(DRILL_KEY_PREFIX):
        return None  # a drill's receipt is read by drill_tags.py
    key = _KEY.match(tag.key)
    if key is None:
        raise ReceiptError(
            [
                f"{database_name}: tag {tag.key!r} looks like a receipt but its key does not "
                "parse; it was not written by this tool version, fix or delete it"
            ]
        )
    kind, op_id = OperationKind(key.group(2)), key.group(3)
    if REGION_MARK in op_id and (key.group(1) == "." or kind is not OperationKind.BACKUP):
        raise ReceiptError(
            [
                f"{database_name}: tag {tag.key!r} looks like a receipt but only today's backup receipts "
                "name a region; it was not written by this tool version, fix or delete it"
            ]
        )
    address = operation_address(database_name, kind, op_id)
    value = _VALUE.match(tag.value)
    if value is None:
        raise ReceiptError(
            [
                f"{address}: receipt tag {tag.key} has an unreadable value {tag.value[:40]!r}; "
                f"it is never overwritten: fix it, or delete it with "
                f"`reconciler receipts forget {address}` once you know whether the operation ran"
            ]
        )
    phase, digest, at, run, task_id, adopted = value.groups()
    if adopted and phase != Phase.DONE.value:
        raise ReceiptError(
            [f"{address}: receipt tag {tag.key} says {phase} and adopted, which only a done receipt can be; fix it"]
        )
    stored_as = None if tag.key == tag_key(kind, op_id) else tag.key
    return Receipt(
        kind, op_id, Phase(phase), digest, int(at), task_id, tag.created_at, run, stored_as, adopted is not None
    )


def adopted(kind: OperationKind, op_id: str, fingerprint: str, *, at: int, run: str) -> Receipt:
    """The done receipt `receipts adopt` records for an operation carried out by hand: it says so."""
    return Receipt(kind, op_id, Phase.DONE, fingerprint, at, run=run, adopted=True)


def adopted_note(receipt: Receipt) -> str:
    """What plan and `receipts list` say of an adopted receipt: done, by a person, not by this tool."""
    when = receipt.created_at or f"at {receipt.at} (epoch seconds)"
    return (
        f"done by hand, recorded by `reconciler receipts adopt` (written {when}); this tool never ran it, and will not"
    )


@dataclass(frozen=True, slots=True)
class CompactEntry:
    """One done receipt inside a compact tag."""

    kind: OperationKind
    op_hash: str
    fingerprint: str

    @property
    def text(self) -> str:
        return f"{_KIND_LETTER[self.kind]}{self.op_hash}:{self.fingerprint}"


def compact_entry(receipt: Receipt) -> CompactEntry:
    return CompactEntry(receipt.kind, operation_hash(receipt.kind, receipt.op_id), receipt.fingerprint)


def encode_compact(entries: Iterable[CompactEntry]) -> str:
    texts = sorted({entry.text for entry in entries})
    if not 1 <= len(texts) <= COMPACT_ENTRIES:
        raise ValueError(f"a compact receipt holds 1 to {COMPACT_ENTRIES} entries, not {len(texts)}")
    return f"{VALUE_VERSION} {Phase.DONE.value} " + " ".join(texts)


def decode_compact(tag: LiveTag, database_name: str) -> tuple[CompactEntry, ...] | None:
    """The done receipts a compact tag holds; None for any other tag; a malformed one raises."""
    if not _COMPACT_KEY.match(tag.key):
        return None
    words = tag.value.split(" ")
    entries = [_COMPACT_ENTRY.match(word) for word in words[2:]]
    if words[:2] != [VALUE_VERSION, Phase.DONE.value] or not entries or None in entries:
        raise ReceiptError(
            [
                f"{database_name}: compact receipt tag {tag.key} has an unreadable value "
                f"{tag.value[:40]!r}; it is never overwritten: fix it or delete it"
            ]
        )
    kinds = {letter: kind for kind, letter in _KIND_LETTER.items()}
    return tuple(CompactEntry(kinds[m.group(1)], m.group(2), m.group(3)) for m in entries if m)


def read_receipts(database_name: str, tags: Iterable[LiveTag], operations: Iterable[OperationKey] = ()) -> Receipts:
    """Every receipt of one database, plus one problem line per tag that does not parse. Tags are decoded here
    once (by the refresh); the planner and `receipts list` read the result.

    Compacted done receipts are named through `operations` (a hash names them in the tag); without it they
    are left out. Done wins: an operation recorded done anywhere is done, whatever else a tag says.
    """
    receipts: dict[OperationKey, Receipt] = {}
    problems: list[str] = []
    names = {(kind, operation_hash(kind, op_id)): op_id for kind, op_id in operations}
    for tag in sorted(tags, key=lambda tag: (not tag.key.startswith(KEY_PREFIX), tag.key)):
        try:
            found = _receipts_in(tag, database_name, names)
        except ReceiptError as error:
            problems.extend(error.problems)
            continue
        for receipt in found:
            key = (receipt.kind, receipt.op_id)
            if key not in receipts or receipts[key].phase is not Phase.DONE:
                receipts[key] = receipt
    return Receipts(receipts, tuple(problems))


def _receipts_in(tag: LiveTag, database_name: str, names: dict[tuple[OperationKind, str], str]) -> list[Receipt]:
    entries = decode_compact(tag, database_name)
    if entries is None:
        receipt = decode(tag, database_name)
        return [receipt] if receipt else []
    return [
        Receipt(e.kind, names[(e.kind, e.op_hash)], Phase.DONE, e.fingerprint, 0, None, tag.created_at, None, tag.key)
        for e in entries
        if (e.kind, e.op_hash) in names
    ]


def budget_note(database_name: str, tags: Iterable[LiveTag], planned: int, *, owner_tag: bool = False) -> str | None:
    """A note when this database's tags come close to the budget (issue 12 §3); None when there is room.
    `planned` counts the one-shot operations this plan would claim on it; `owner_tag`: the plan creates the owner
    tag there too, which stays (an owner tag already there is among `tags`)."""
    listed = list(tags)
    needed = (TAGS_A_RUN_NEEDS if planned else 0) + (1 if owner_tag else 0)
    if len(listed) < NEAR_BUDGET and len(listed) + needed <= TAG_BUDGET:
        return None
    ours = sum(1 for tag in listed if is_ours(tag.key))
    head = (
        f"{database_name} has {len(listed)} of its {TAG_BUDGET} tags in use ({ours} receipt tag"
        f"{'s' * (ours != 1)}, {len(listed) - ours} of its own)"
    )
    if len(listed) - ours + needed + 1 > TAG_BUDGET:
        return (
            f"{head}; its receipts need {needed + 1} free tags: remove some of the database's own tags, "
            "or on-demand backups and imports will be refused (nothing is written then)"
        )
    return f"{head}; apply compacts done receipts, five to a tag, to stay within the budget"
