"""Verdicts on receipts: what a receipt means for a plan, trusting only the API's evidence (SPEC §4, §10).

Evidence (supersedes SPEC §10 "at or after"): an operation "ran after the claim" only when the latest status time
falls in a later second than the tag's `createdAt`, both on the server's clock. A backup finishing in the very
second the claim was written is therefore never taken for ours; in return, apply sends no POST a claim guards until
the server's clock has left the claim's second (`Ledger.claim` returns only then), so our own operation always
ends in a later second. A completed backup or import task means only "accepted" (API-NOTES §11): with remote
backup off the backup status cannot be read, and such a backup stays `claimed` (uncertain) until a person checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.core.desired import OperationKind
from reconciler.core.live import LatestStatus, TaskSnapshot
from reconciler.core.plan import WarningKind
from reconciler.core.receipt_tags import Phase, Receipt
from reconciler.core.statuses import FAILED as _STATUS_FAILED
from reconciler.core.statuses import RUNNING as _STATUS_RUNNING
from reconciler.core.statuses import SUCCESS as _STATUS_SUCCESS
from reconciler.core.statuses import TASK_COMPLETED, TASK_RUNNING

# Status-read errors meaning "backup is off/not configured" (API-NOTES §3, SPEC §10): the outcome of an on-demand
# backup cannot be read then, and a completed task only says the API accepted it (issue 20 item 4): never `done`.
BACKUP_OFF_ERRORS = frozenset({"DATABASE_BACKUP_DISABLED", "DATABASE_BACKUP_NOT_CONFIGURED"})


def unreadable_while_backup_off(kind: OperationKind) -> bool:
    """The backup status answers an error while remote backup is off; the import status does not."""
    return kind is OperationKind.BACKUP


def says_backup_off(kind: OperationKind, latest: LatestStatus | None) -> bool:
    """The status read answered that backup is off, so it says nothing of this operation's outcome."""
    return unreadable_while_backup_off(kind) and latest is not None and latest.error_type in BACKUP_OFF_ERRORS


def edited_problem(receipt: Receipt, fingerprint: str, address: str) -> str | None:
    """An edited operation that already ran (or was claimed) must not run again under the same id."""
    if fingerprint == receipt.fingerprint:
        return None
    return (
        f"{address}: the manifest entry changed after the operation was {receipt.phase.value} "
        f"(receipt fingerprint {receipt.fingerprint}, manifest {fingerprint}); operation ids are immutable: "
        "restore the entry as it was, or give the changed operation a new id"
    )


@dataclass(frozen=True, slots=True)
class Assessment:
    """What a receipt means for this plan. `kind` None: done, nothing to do or say."""

    kind: WarningKind | None
    message: str = ""
    outcome: Phase | None = None  # for settled: the phase apply records


def classify(receipt: Receipt, address: str, *, latest: LatestStatus | None, task: TaskSnapshot | None) -> Assessment:
    """Decide what a receipt means, trusting only the API: the task first, then the latest status,
    compared with the tag's own `createdAt` (server clock, SPEC §10 "Which clock")."""
    if receipt.phase is Phase.DONE:
        return Assessment(None)
    if receipt.phase is Phase.FAILED:
        return Assessment(
            WarningKind.FAILED,
            f"{address} failed (receipt written {_epoch(receipt.at)}"
            f"{_task_note(receipt)}); re-run it with --retry-failed {address}",
        )
    if task is not None and receipt.task_id and task.task_id.lower() == receipt.task_id:
        return _from_task(receipt, address, task, latest)
    return status_verdict(receipt, address, latest) or _uncertain(receipt, address, latest)


def _from_task(receipt: Receipt, address: str, task: TaskSnapshot, latest: LatestStatus | None) -> Assessment:
    if task.status in TASK_RUNNING:
        return _in_progress(address, receipt, f"task {task.task_id} is {task.status}")
    if task.status != TASK_COMPLETED:
        reason = " - ".join(part for part in (task.error_type, task.error_description) if part)
        return _settled(
            address, Phase.FAILED, f"task {task.task_id} ended {task.status}" + (f": {reason}" if reason else "")
        )
    # A completed task may only mean "accepted" (API-NOTES §3, §4, §11), so the status must speak; where it cannot
    # (backup off), the outcome is unverifiable and a person must look (issue 20 item 4).
    from_status = status_verdict(receipt, address, latest)
    if from_status is not None:
        return from_status
    if says_backup_off(receipt.kind, latest):
        error_type = latest.error_type if latest is not None else None
        return Assessment(WarningKind.UNCERTAIN, unverified_backup(address, task.task_id, error_type))
    return _uncertain(receipt, address, latest)


def unverifiable_backup_note(address: str) -> str:
    """The plan's word on an on-demand backup to its own path while the database's backup is off."""
    return (
        f"{address} cannot be verified once run: backup is off on this database, so the API shows no backup "
        "status (a completed task means only that the backup was accepted); apply leaves its receipt claimed, "
        "reported uncertain, for you to check the destination; switch the database's backup on first to have it "
        "verified"
    )


def unverified_backup(address: str, task_id: str, error_type: str | None) -> str:
    """What to do about a backup whose task completed while its status cannot be read (backup off)."""
    return (
        f"{address} cannot be verified: its task {task_id} completed, which means only that the API accepted "
        f"the backup, and with remote backup off the backup status answers {error_type or 'an error'}. Check the "
        "backup destination for a file written since the claim: if it is there, the backup ran (remove its entry "
        "from the manifest; the claimed receipt stays as its record); if not, re-run it with "
        f"--retry-uncertain {address}"
    )


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
    return Assessment(
        WarningKind.SETTLED, f"{address} was interrupted, but {evidence}; apply will record {outcome.value}", outcome
    )


def _in_progress(address: str, receipt: Receipt, evidence: str) -> Assessment:
    return Assessment(
        WarningKind.IN_PROGRESS,
        f"{address} is still running ({evidence}; claimed "
        f"{receipt.created_at or _epoch(receipt.at)}); plan again when it has finished",
    )


def _uncertain(receipt: Receipt, address: str, latest: LatestStatus | None) -> Assessment:
    seen = describe_status(receipt.kind, latest)
    return Assessment(
        WarningKind.UNCERTAIN,
        f"{address} was claimed {receipt.created_at or _epoch(receipt.at)}"
        f"{_task_note(receipt)} but the API shows no outcome since ({seen}); check the database, "
        f"and if it did not run, re-run it with --retry-uncertain {address}",
    )


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


def seconds_between(earlier: str | None, later: str | None) -> int | None:
    """Whole seconds from one server-clock string to another (a claim's `createdAt`, a status's time); None when
    either is missing or unreadable."""
    start, end = _seconds(earlier), _seconds(later)
    return None if start is None or end is None else end - start


def instant(timestamp: str | None) -> float | None:
    """A server-clock string as epoch seconds with its fraction (a task's `timestamp` has microseconds, API-NOTES
    §5); None when missing or unreadable. For lengths measured on the API's own clock, not for receipts' evidence,
    which compares whole seconds."""
    try:
        moment = datetime.fromisoformat((timestamp or "").strip())
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()  # the API writes UTC


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
    moment = instant(re.sub(r"\.\d+", "", timestamp))
    return None if moment is None else int(moment)


def _epoch(at: int) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _task_note(receipt: Receipt) -> str:
    return f", task {receipt.task_id}" if receipt.task_id else ""
