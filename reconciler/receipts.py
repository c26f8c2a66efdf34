"""Receipts: database tags that make one-shot operations run exactly once (SPEC §4, §10; issue 12 §3).

The live account is the only record of what ran, so a receipt must survive on the database itself and
within the tag rules of API-NOTES §9 and §11: keys ≤ 64 characters, values ≤ 128 (unconfirmed maximum), only
lowercase letters, digits, spaces and `- _ . + @ :`, at most 30 tags a database counting the user's own
(Redis Software's cap; the Cloud one is unconfirmed). A receipt is written as

    key   rcr_<kind>_<id>                       e.g. rcr_import_seed-2026-11-20
    value v1 <phase> fp:<12 hex> at:<epoch s> [run:<8 hex>] [task:<task id>]
          e.g. v1 claimed fp:3f9a0c2b7d1e at:1764312600 run:0c1d2e3f task:5d1e7a8e-6b2c-4f7e-9a1d-2c3b4d5e6f70

Keys carry no `.`: a dot in the last path segment of `…/tags/{tagKey}` has never been exercised by a public
client, and Spring servers may read a trailing `.x` as a file extension (API-NOTES §11). Receipts written by
earlier versions (`rcr.<kind>.<id>`) are still read, and updated under their own key.

`run` names the apply that wrote the claim, so a claim whose POST was retried after a lost answer (and so
met its own tag) can tell itself from another run's.

Done receipts may be compacted to stay within the tag budget: one tag holds up to five of them,

    key   rcr_done_<8 hex, unique per write>
    value v1 done <k><8 hex>:<12 hex> …         k is i (import) or b (backup), then a hash of the id,
                                                then the operation's fingerprint

A compact tag is only ever created whole and deleted whole, never edited, so two runs compacting at once
cannot lose each other's entries (at worst an entry is held twice).

It never holds a URI, only the fingerprint of the unresolved operation spec.

Evidence (supersedes SPEC §10 "at or after"): an operation "ran after the claim" only when the latest status time
falls in a later second than the tag's `createdAt`, both on the server's clock. A backup finishing in the very
second the claim was written is therefore never taken for ours; in return, apply sends no POST a claim guards until
the server's clock has left the claim's second (`Ledger.claim` returns only then), so our own operation always
ends in a later second. A completed backup or import task means only "accepted" (API-NOTES §11): with remote
backup off the backup status cannot be read, and such a backup stays `claimed` (uncertain) until a person checks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from reconciler.errors import UnsafePlanError
from reconciler.model import (
    DatabaseSpec,
    Import,
    LatestStatus,
    LiveTag,
    OnDemandBackup,
    OperationKind,
    TaskSnapshot,
    WarningKind,
    operation_address,
)
from reconciler.statuses import FAILED as _STATUS_FAILED
from reconciler.statuses import RUNNING as _STATUS_RUNNING
from reconciler.statuses import SUCCESS as _STATUS_SUCCESS

KEY_PREFIX = "rcr_"
LEGACY_KEY_PREFIX = "rcr."  # written by version 0.1; read, and updated under its own key
COMPACT_KEY_PREFIX = "rcr_done_"
VALUE_VERSION = "v1"
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 128
ALLOWED = re.compile(r"^[a-z0-9 _.+@:-]+$")  # API-NOTES §9
# UNCONFIRMED (API-NOTES §11): Redis Software caps a database at 30 tags; budget for that, the user's own included.
TAG_BUDGET = 30
TAGS_A_RUN_NEEDS = 2  # one claim in flight, plus one compact tag while compacting (created before the old go)
COMPACT_ENTRIES = 5  # "v1 done" + 5 × " i0123abcd:0123456789ab" = 122 characters
NEAR_BUDGET = TAG_BUDGET - 5  # from here on the plan says so, and apply compacts done receipts

_KEY = re.compile(r"^rcr([._])(import|backup)\1([a-z0-9][a-z0-9-]{0,39})$")
_COMPACT_KEY = re.compile(r"^rcr_done_[0-9a-f]{8}$")
_VALUE = re.compile(
    r"^v1 (claimed|done|failed) fp:([0-9a-f]{12}) at:(\d{1,12})(?: run:([0-9a-f]{8}))?"
    r"(?: task:([a-z0-9][a-z0-9_.+@:-]{0,63}))?$"
)
_COMPACT_ENTRY = re.compile(r"^([ib])([0-9a-f]{8}):([0-9a-f]{12})$")
_KIND_LETTER = {OperationKind.IMPORT: "i", OperationKind.BACKUP: "b"}


# Task states (API-NOTES §5): the first three are still running; anything but completed is a failure.
_TASK_RUNNING = frozenset({"initialized", "received", "processing-in-progress"})
_TASK_COMPLETED = "processing-completed"
# Status-read errors meaning "backup is off/not configured" (API-NOTES §3, SPEC §10): the outcome of an on-demand
# backup cannot be read then, and a completed task only says the API accepted it (issue 20 item 4): never `done`.
BACKUP_OFF_ERRORS = frozenset({"DATABASE_BACKUP_DISABLED", "DATABASE_BACKUP_NOT_CONFIGURED"})



class Phase(StrEnum):
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


class ReceiptError(UnsafePlanError):
    """Receipts that cannot be trusted; one line per address. Such a tag is never overwritten."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


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

    @property
    def key(self) -> str:
        return self.stored_as or tag_key(self.kind, self.op_id)

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


def tag_key(kind: OperationKind, op_id: str) -> str:
    key = f"{KEY_PREFIX}{kind.value}_{op_id}"
    if len(key) > MAX_KEY_LENGTH or not ALLOWED.match(key):
        raise ValueError(f"operation id {op_id!r} cannot form a receipt tag key")
    return key


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
    if len(value) > MAX_VALUE_LENGTH or not _VALUE.match(value):
        raise ValueError(f"receipt for {receipt.key} cannot be encoded within the tag rules")
    return value


def claim(kind: OperationKind, operation: Import | OnDemandBackup, *, at: int, run: str | None = None) -> Receipt:
    """The write-ahead receipt apply creates before the call it guards."""
    return Receipt(kind, operation.id, Phase.CLAIMED, fingerprint(operation), at, run=run)


def fingerprint(operation: Import | OnDemandBackup) -> str:
    """A short hash of what the API call would send, unresolved (`${env:…}` in place); `confirm` and
    `backup_first` are not part of the call, so editing them is not editing the operation."""
    if isinstance(operation, Import):
        body: dict[str, object] = {
            "sourceType": operation.source_type,
            "importFromUri": list(operation.sources),
        }
    else:
        body = {"adhocBackupPath": operation.path}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def operation_hash(kind: OperationKind, op_id: str) -> str:
    """Names an operation inside a compact tag: 8 hex digits of its id (ids are unique per database)."""
    return hashlib.sha256(f"{kind.value}:{op_id}".encode()).hexdigest()[:8]


def decode(tag: LiveTag, database_name: str) -> Receipt | None:
    """The receipt a tag holds, None for a tag that is not ours (or a compact one); a malformed one raises."""
    if not is_ours(tag.key) or _COMPACT_KEY.match(tag.key):
        return None
    key = _KEY.match(tag.key)
    if key is None:
        raise ReceiptError([f"{database_name}: tag {tag.key!r} looks like a receipt but its key does not "
                            "parse; it was not written by this tool version, fix or delete it"])
    kind, op_id = OperationKind(key.group(2)), key.group(3)
    address = operation_address(database_name, kind, op_id)
    value = _VALUE.match(tag.value)
    if value is None:
        raise ReceiptError([f"{address}: receipt tag {tag.key} has an unreadable value {tag.value[:40]!r}; "
                            f"it is never overwritten: fix it, or delete it with "
                            f"`reconciler receipts forget {address}` once you know whether the operation ran"])
    phase, digest, at, run, task_id = value.groups()
    stored_as = None if tag.key == tag_key(kind, op_id) else tag.key
    return Receipt(kind, op_id, Phase(phase), digest, int(at), task_id, tag.created_at, run, stored_as)


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
        raise ReceiptError([f"{database_name}: compact receipt tag {tag.key} has an unreadable value "
                            f"{tag.value[:40]!r}; it is never overwritten: fix it or delete it"])
    kinds = {letter: kind for kind, letter in _KIND_LETTER.items()}
    return tuple(CompactEntry(kinds[m.group(1)], m.group(2), m.group(3)) for m in entries if m)


def operation_ids(spec: DatabaseSpec) -> tuple[tuple[OperationKind, str], ...]:
    """What a database's manifest entry declares, to name the entries of its compact receipts."""
    return tuple((OperationKind.BACKUP, b.id) for b in spec.backups) + tuple(
        (OperationKind.IMPORT, i.id) for i in spec.imports
    )


def read_receipts(
    database_name: str, tags: Iterable[LiveTag], operations: Iterable[tuple[OperationKind, str]] = ()
) -> tuple[dict[str, Receipt], tuple[str, ...]]:
    """Every receipt of one database by address, plus one problem line per tag that does not parse.

    Compacted done receipts are named through `operations` (a hash names them in the tag); without it they
    are left out. Done wins: an operation recorded done anywhere is done, whatever else a tag says.
    """
    receipts: dict[str, Receipt] = {}
    problems: list[str] = []
    names = {(kind, operation_hash(kind, op_id)): op_id for kind, op_id in operations}
    for tag in sorted(tags, key=lambda tag: (not tag.key.startswith(KEY_PREFIX), tag.key)):
        try:
            found = _receipts_in(tag, database_name, names)
        except ReceiptError as error:
            problems.extend(error.problems)
            continue
        for receipt in found:
            address = operation_address(database_name, receipt.kind, receipt.op_id)
            if address not in receipts or receipts[address].phase is not Phase.DONE:
                receipts[address] = receipt
    return receipts, tuple(problems)


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


def budget_note(database_name: str, tags: Iterable[LiveTag], planned: int) -> str | None:
    """A note when this database's tags come close to the budget (issue 12 §3); None when there is room.
    `planned` counts the one-shot operations this plan would claim on it."""
    listed = list(tags)
    needed = TAGS_A_RUN_NEEDS if planned else 0
    if len(listed) < NEAR_BUDGET and len(listed) + needed <= TAG_BUDGET:
        return None
    ours = sum(1 for tag in listed if is_ours(tag.key))
    head = (f"{database_name} has {len(listed)} of its {TAG_BUDGET} tags in use ({ours} receipt tag"
            f"{'s' * (ours != 1)}, {len(listed) - ours} of its own)")
    if len(listed) - ours + needed + 1 > TAG_BUDGET:
        return (f"{head}; its receipts need {needed + 1} free tags: remove some of the database's own tags, "
                "or on-demand backups and imports will be refused (nothing is written then)")
    return f"{head}; apply compacts done receipts, five to a tag, to stay within the budget"


def fingerprint_problem(receipt: Receipt, operation: Import | OnDemandBackup, address: str) -> str | None:
    """An edited operation that already ran (or was claimed) must not run again under the same id."""
    current = fingerprint(operation)
    if current == receipt.fingerprint:
        return None
    return (f"{address}: the manifest entry changed after the operation was {receipt.phase.value} "
            f"(receipt fingerprint {receipt.fingerprint}, manifest {current}); operation ids are immutable: "
            "restore the entry as it was, or give the changed operation a new id")


@dataclass(frozen=True, slots=True)
class Assessment:
    """What a receipt means for this plan. `kind` None: done, nothing to do or say."""

    kind: WarningKind | None
    message: str = ""
    outcome: Phase | None = None  # for settled: the phase apply records


def classify(
    receipt: Receipt, address: str, *, latest: LatestStatus | None, task: TaskSnapshot | None
) -> Assessment:
    """Decide what a receipt means, trusting only the API: the task first, then the latest status,
    compared with the tag's own `createdAt` (server clock, SPEC §10 "Which clock")."""
    if receipt.phase is Phase.DONE:
        return Assessment(None)
    if receipt.phase is Phase.FAILED:
        return Assessment(WarningKind.FAILED, f"{address} failed (receipt written {_epoch(receipt.at)}"
                          f"{_task_note(receipt)}); re-run it with --retry-failed {address}")
    if task is not None and receipt.task_id and task.task_id.lower() == receipt.task_id:
        return _from_task(receipt, address, task, latest)
    return status_verdict(receipt, address, latest) or _uncertain(receipt, address, latest)


def _from_task(receipt: Receipt, address: str, task: TaskSnapshot, latest: LatestStatus | None) -> Assessment:
    if task.status in _TASK_RUNNING:
        return _in_progress(address, receipt, f"task {task.task_id} is {task.status}")
    if task.status != _TASK_COMPLETED:
        reason = " - ".join(part for part in (task.error_type, task.error_description) if part)
        return _settled(address, Phase.FAILED, f"task {task.task_id} ended {task.status}"
                        + (f": {reason}" if reason else ""))
    # A completed task may only mean "accepted" (API-NOTES §3, §4, §11), so the status must speak; where it cannot
    # (backup off), the outcome is unverifiable and a person must look (issue 20 item 4).
    from_status = status_verdict(receipt, address, latest)
    if from_status is not None:
        return from_status
    if receipt.kind is OperationKind.BACKUP and latest is not None and latest.error_type in BACKUP_OFF_ERRORS:
        return Assessment(WarningKind.UNCERTAIN, unverified_backup(address, task.task_id, latest.error_type))
    return _uncertain(receipt, address, latest)


def unverifiable_backup_note(address: str) -> str:
    """The plan's word on an on-demand backup to its own path while the database's backup is off."""
    return (f"{address} cannot be verified once run: backup is off on this database, so the API shows no backup "
            "status (a completed task means only that the backup was accepted); apply leaves its receipt claimed, "
            "reported uncertain, for you to check the destination; switch the database's backup on first to have it "
            "verified")


def unverified_backup(address: str, task_id: str, error_type: str | None) -> str:
    """What to do about a backup whose task completed while its status cannot be read (backup off)."""
    return (f"{address} cannot be verified: its task {task_id} completed, which means only that the API accepted "
            f"the backup, and with remote backup off the backup status answers {error_type or 'an error'}. Check the "
            "backup destination for a file written since the claim: if it is there, the backup ran (remove its entry "
            "from the manifest; the claimed receipt stays as its record); if not, re-run it with "
            f"--retry-uncertain {address}")


def status_verdict(receipt: Receipt, address: str, latest: LatestStatus | None) -> Assessment | None:
    """What the latest backup/import status says of this receipt's operation; None when it says nothing
    (unavailable, or its time is before the claim)."""
    if latest is None or latest.error_type or not latest.status:
        return None
    status = latest.status.lower()
    if status in _STATUS_RUNNING:
        return _in_progress(address, receipt, f"the latest {receipt.kind.value} is {status}")
    if not ran_after(latest.time, receipt.created_at):
        return None
    when = f"the latest {receipt.kind.value} ({status}, {latest.time}) ran after the claim"
    if status in _STATUS_SUCCESS:
        return _settled(address, Phase.DONE, when)
    if status in _STATUS_FAILED:
        reason = f": {latest.failure_reason}" if latest.failure_reason else ""
        return _settled(address, Phase.FAILED, when + reason)
    return None


def _settled(address: str, outcome: Phase, evidence: str) -> Assessment:
    return Assessment(WarningKind.SETTLED, f"{address} was interrupted, but {evidence}; "
                      f"apply will record {outcome.value}", outcome)


def _in_progress(address: str, receipt: Receipt, evidence: str) -> Assessment:
    return Assessment(WarningKind.IN_PROGRESS, f"{address} is still running ({evidence}; claimed "
                      f"{receipt.created_at or _epoch(receipt.at)}); plan again when it has finished")


def _uncertain(receipt: Receipt, address: str, latest: LatestStatus | None) -> Assessment:
    seen = describe_status(receipt.kind, latest)
    return Assessment(WarningKind.UNCERTAIN, f"{address} was claimed {receipt.created_at or _epoch(receipt.at)}"
                      f"{_task_note(receipt)} but the API shows no outcome since ({seen}); check the database, "
                      f"and if it did not run, re-run it with --retry-uncertain {address}")


def describe_status(kind: OperationKind, latest: LatestStatus | None) -> str:
    """The latest backup/import status in words, for messages: never a Python `None`."""
    if latest is None:
        return f"the {kind.value} status was not read"
    if latest.error_type:
        return f"the {kind.value} status answered {latest.error_type}"
    if not latest.status:
        return f"no {kind.value} has run yet"
    when = f" at {latest.time}" if latest.time else ", no time given"
    reason = f", {latest.failure_reason}" if latest.failure_reason else ""
    return f"the latest {kind.value} is {latest.status}{when}{reason}"


def ran_after(status_time: str | None, created_at: str | None) -> bool:
    """True when the status time falls in a later second than the claim, both server-clock strings: a status of the
    claim's own second may be another operation's, finished just before the claim (issue 20 item 3)."""
    status_epoch, claim_epoch = _seconds(status_time), _seconds(created_at)
    return status_epoch is not None and claim_epoch is not None and status_epoch > claim_epoch


def left_in_claim_second(created_at: str | None) -> float:
    """Seconds until the server's clock has surely left the second of a claim's `createdAt`, counted from when the
    claim was answered (the server stamped it no later). A time without fractions (or none) could be late in its
    second, so the whole second is waited."""
    match = re.search(r"\.(\d+)", created_at or "")
    fraction = float("0." + match.group(1)) if match and _seconds(created_at) is not None else 0.0
    return 1.0 - fraction


def _seconds(timestamp: str | None) -> int | None:
    if not timestamp:
        return None
    # Fractions are dropped before parsing: comparisons are to the second, and the API's precision varies.
    text = re.sub(r"\.\d+", "", timestamp.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the API writes UTC
    return int(moment.timestamp())


def _epoch(at: int) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _task_note(receipt: Receipt) -> str:
    return f", task {receipt.task_id}" if receipt.task_id else ""
