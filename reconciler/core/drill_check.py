"""`check`'s findings on a database's restore drills (issue 15 §2): a backup nobody has restored lately is not
known to restore, so `check` fails on a drill that is overdue, whose last run failed or was interrupted, or that
never ran (`core.drills.drill_verdict` decides which; this only says it as findings, under the drill's address).

Pure: the tags are handed in, as read (one `GET …/tags` per database that declares drills). Receipt times are
the runner's clock, seconds since the epoch; they are compared with check's `now`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from reconciler.core.desired import DatabaseSpec, Drill, drill_address
from reconciler.core.drill_tags import DrillReceipt, decode, drill_key
from reconciler.core.drills import DrillState, drill_verdict
from reconciler.core.freshness import Finding, FindingKind, Severity
from reconciler.core.live import LiveTag
from reconciler.errors import ReceiptError

_KINDS = {
    DrillState.NEVER: FindingKind.DRILL_NEVER_RUN,
    DrillState.PASSED: FindingKind.DRILL_PASSED,
    DrillState.DUE: FindingKind.DRILL_DUE,
    DrillState.OVERDUE: FindingKind.DRILL_OVERDUE,
    DrillState.FAILED: FindingKind.DRILL_FAILED,
    DrillState.INTERRUPTED: FindingKind.DRILL_INTERRUPTED,
    DrillState.RUNNING: FindingKind.DRILL_RUNNING,
}
_FIXES = {
    DrillState.NEVER: "run `reconciler drill`",
    DrillState.OVERDUE: "run `reconciler drill`, and find out why the scheduled drills stopped",
    DrillState.FAILED: "the backup may not restore: see `reconciler drill`'s report, fix the cause, run it again",
    DrillState.INTERRUPTED: "run `reconciler drill` again",
}


def drill_findings(
    spec: DatabaseSpec, tags: Sequence[LiveTag] | None, now: datetime, *, lease: int
) -> tuple[Finding, ...]:
    """One finding per drill of `spec`; none when its tags were not read (`reads_drill_receipts`)."""
    if tags is None:
        return ()
    by_key = {tag.key: tag for tag in tags}
    return tuple(_finding(spec.name, drill, by_key.get(drill_key(drill.id)), now, lease) for drill in spec.drills)


def _finding(name: str, drill: Drill, tag: LiveTag | None, now: datetime, lease: int) -> Finding:
    address = drill_address(name, drill.id)
    try:
        receipt = decode(tag, address) if tag is not None else None
    except ReceiptError as error:
        message = "; ".join(problem.removeprefix(f"{address}: ") for problem in error.problems)
        return Finding(FindingKind.DRILL_RECEIPT_UNREADABLE, Severity.VIOLATION, message, address=address)
    verdict = drill_verdict(drill, receipt, now=int(now.timestamp()), lease=lease)
    fix = _FIXES.get(verdict.state) if verdict.violation else None
    if verdict.violation:
        severity = Severity.VIOLATION
    else:
        severity = Severity.OK if verdict.state is DrillState.PASSED else Severity.NOTE
    at, age = _last_pass(receipt, now)
    return Finding(
        _KINDS[verdict.state],
        severity,
        f"drill {verdict.message}" + (f" — {fix}" if fix else ""),
        at=at,
        age=age,
        max_age=timedelta(seconds=2 * drill.every_seconds),
        reason=receipt.why if receipt is not None else None,
        address=address,
    )


def _last_pass(receipt: DrillReceipt | None, now: datetime) -> tuple[datetime | None, timedelta | None]:
    """When the last passing run started, and how long ago: the age of the last proof that a backup restores."""
    if receipt is None or receipt.ok is None:
        return None, None
    at = datetime.fromtimestamp(receipt.ok, UTC)
    return at, max(now - at, timedelta(0))
