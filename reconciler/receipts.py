"""Receipts: database tags that make one-shot operations run exactly once (SPEC §4, §10).

The live account is the only record of what ran, so a receipt must survive on the database itself and
within the tag rules of API-NOTES §9: keys ≤ 64 characters, values ≤ 128 (unconfirmed maximum), only
lowercase letters, digits, spaces and `- _ . + @ :`. A receipt is written as

    key   rcr.<kind>.<id>                       e.g. rcr.import.seed-2026-11-20
    value v1 <phase> fp:<12 hex> at:<epoch s> [run:<8 hex>] [task:<task id>]
          e.g. v1 claimed fp:3f9a0c2b7d1e at:1764312600 run:0c1d2e3f task:5d1e7a8e-6b2c-4f7e-9a1d-2c3b4d5e6f70

`run` names the apply that wrote the claim, so a claim whose POST was retried after a lost answer (and so
met its own tag: 409) can tell itself from another run's.

It never holds a URI, only the fingerprint of the unresolved operation spec.
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

KEY_PREFIX = "rcr."
VALUE_VERSION = "v1"
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 128
ALLOWED = re.compile(r"^[a-z0-9 _.+@:-]+$")  # API-NOTES §9

_KEY = re.compile(r"^rcr\.(import|backup)\.([a-z0-9][a-z0-9-]{0,39})$")
_VALUE = re.compile(
    r"^v1 (claimed|done|failed) fp:([0-9a-f]{12}) at:(\d{1,12})(?: run:([0-9a-f]{8}))?"
    r"(?: task:([a-z0-9][a-z0-9_.+@:-]{0,63}))?$"
)

# Task states (API-NOTES §5): the first three are still running; anything but completed is a failure.
_TASK_RUNNING = frozenset({"initialized", "received", "processing-in-progress"})
_TASK_COMPLETED = "processing-completed"
# Status-read errors meaning "backup is off/not configured" (API-NOTES §3, SPEC §10): for an on-demand backup
# the task is then the only evidence of the outcome. No such rule exists for imports.
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

    @property
    def key(self) -> str:
        return tag_key(self.kind, self.op_id)

    @property
    def value(self) -> str:
        return encode_value(self)

    def with_phase(self, phase: Phase, *, at: int | None = None) -> Receipt:
        return replace(self, phase=phase, at=self.at if at is None else at)

    def with_task(self, task_id: str) -> Receipt:
        return replace(self, task_id=task_id.lower())


def tag_key(kind: OperationKind, op_id: str) -> str:
    key = f"{KEY_PREFIX}{kind.value}.{op_id}"
    if len(key) > MAX_KEY_LENGTH or not ALLOWED.match(key):
        raise ValueError(f"operation id {op_id!r} cannot form a receipt tag key")
    return key


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
    """The write-ahead receipt apply creates (a POST answering 409 means another run owns it)."""
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


def decode(tag: LiveTag, database_name: str) -> Receipt | None:
    """The receipt a tag holds, None for a tag that is not ours; a malformed `rcr.*` tag raises."""
    if not tag.key.startswith(KEY_PREFIX):
        return None
    key = _KEY.match(tag.key)
    if key is None:
        raise ReceiptError([f"{database_name}: tag {tag.key!r} looks like a receipt but its key does not "
                            "parse; it was not written by this tool version, fix or delete it"])
    kind, op_id = OperationKind(key.group(1)), key.group(2)
    address = operation_address(database_name, kind, op_id)
    value = _VALUE.match(tag.value)
    if value is None:
        raise ReceiptError([f"{address}: receipt tag {tag.key} has an unreadable value {tag.value[:40]!r}; "
                            f"it is never overwritten: fix it, or delete it with "
                            f"`reconciler receipts forget {address}` once you know whether the operation ran"])
    phase, digest, at, run, task_id = value.groups()
    return Receipt(kind, op_id, Phase(phase), digest, int(at), task_id, tag.created_at, run)


def read_receipts(database_name: str, tags: Iterable[LiveTag]) -> tuple[dict[str, Receipt], tuple[str, ...]]:
    """Every receipt of one database by address, plus one problem line per tag that does not parse."""
    receipts: dict[str, Receipt] = {}
    problems: list[str] = []
    for tag in tags:
        try:
            receipt = decode(tag, database_name)
        except ReceiptError as error:
            problems.extend(error.problems)
            continue
        if receipt is not None:
            receipts[operation_address(database_name, receipt.kind, receipt.op_id)] = receipt
    return receipts, tuple(problems)


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
    # A completed task may only mean "accepted" (API-NOTES §3, §4), so the status must speak; only for a backup
    # whose status endpoint says backup is off (SPEC §10) is the task the evidence.
    from_status = status_verdict(receipt, address, latest)
    if from_status is not None:
        return from_status
    if receipt.kind is OperationKind.BACKUP and latest is not None and latest.error_type in BACKUP_OFF_ERRORS:
        return _settled(address, Phase.DONE, f"task {task.task_id} completed")
    return _uncertain(receipt, address, latest)


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
    seen = "no status" if latest is None else (latest.error_type or f"status {latest.status}, {latest.time}")
    return Assessment(WarningKind.UNCERTAIN, f"{address} was claimed {receipt.created_at or _epoch(receipt.at)}"
                      f"{_task_note(receipt)} but the API shows no outcome since ({seen}); check the database, "
                      f"and if it did not run, re-run it with --retry-uncertain {address}")


def ran_after(status_time: str | None, created_at: str | None) -> bool:
    """True when the status time is at or after the claim, both server-clock strings, to the second."""
    status_epoch, claim_epoch = _seconds(status_time), _seconds(created_at)
    return status_epoch is not None and claim_epoch is not None and status_epoch >= claim_epoch


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
