"""When a restore drill is due, and what its receipt says of it: the verdict `drill` runs on and `check` reports.

Pure: the time is handed in. A drill is due `every` after the start of its last passing run, and at once when
it never passed; it is overdue once a whole second period has gone by without a pass (the same slack as a
backup's default `max_age`, twice the interval). A run whose receipt still says `running` holds the drill for
its lease (`drill` gives each step at most its timeout); past it the run is taken for dead: interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.core.desired import Drill
from reconciler.core.drill_tags import DrillPhase, DrillReceipt, Step

DEFAULT_TIMEOUT = 6 * 3600.0  # `drill --timeout`'s default: what `plan` and `check` assume of a running drill
_LEASE_MARGIN = 120


def lease(timeout: float) -> int:
    """A run writes its receipt ahead of each step, and a step waits at most three times the timeout (its task,
    the database's `active`, its status): a `running` receipt older than that, plus slack for the clocks of two
    runners, is a run that died."""
    return int(3 * timeout) + _LEASE_MARGIN


class DrillState(StrEnum):
    NEVER = "never run"
    PASSED = "passed"
    DUE = "due"
    OVERDUE = "overdue"
    FAILED = "last run failed"
    INTERRUPTED = "last run interrupted"
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class DrillVerdict:
    state: DrillState
    due: bool  # `drill` runs it now
    violation: bool  # `check` fails on it: no recent proof that the backup restores
    message: str


def drill_verdict(drill: Drill, receipt: DrillReceipt | None, *, now: int, lease: int) -> DrillVerdict:
    if receipt is None:
        return DrillVerdict(DrillState.NEVER, True, True, "never run: no proof yet that its backups restore")
    last_pass = f"last passed {_ago(now - receipt.ok)} ago" if receipt.ok is not None else "never passed"
    if receipt.phase is DrillPhase.RUNNING:
        if now - (receipt.at + receipt.up) <= lease:
            return DrillVerdict(
                DrillState.RUNNING, False, False, f"running (run {receipt.run}, at step {receipt.step}); {last_pass}"
            )
        return DrillVerdict(
            DrillState.INTERRUPTED,
            True,
            True,
            f"its run {receipt.run} stopped at step {receipt.step} without an outcome {_ago(now - receipt.at)} ago "
            f"(killed?); {last_pass}",
        )
    if receipt.phase is not DrillPhase.PASSED:
        state = DrillState.FAILED if receipt.phase is DrillPhase.FAILED else DrillState.INTERRUPTED
        reason = f": {receipt.why}" if receipt.why else ""
        where = f" at step {receipt.step}" if receipt.step else ""
        return DrillVerdict(
            state, True, True, f"{state.value}{where}{reason} ({_ago(now - receipt.at)} ago); {last_pass}"
        )
    assert receipt.ok is not None
    elapsed = now - receipt.ok
    if elapsed >= 2 * drill.every_seconds:
        return DrillVerdict(DrillState.OVERDUE, True, True, f"overdue: {last_pass}, every {drill.every} wanted")
    if elapsed >= drill.every_seconds:
        return DrillVerdict(DrillState.DUE, True, False, f"due: {last_pass} (every {drill.every})")
    return DrillVerdict(
        DrillState.PASSED, False, False, f"passed {_ago(elapsed)} ago; due in {_ago(drill.every_seconds - elapsed)}"
    )


def _ago(seconds: int) -> str:
    seconds = max(0, seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


class DrillOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the backup, the import or the verification failed: the restore is not proven
    ERROR = "error"  # it could not be carried out (a store, the API, a timeout): nothing is proven either
    SKIPPED = "skipped"  # another run holds it
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class StepRun:
    step: Step
    seconds: float
    detail: str


@dataclass(frozen=True, slots=True)
class DrillResult:
    """One drill run, for the drill report (text and JSON); every URI in it is masked."""

    address: str
    into: str
    outcome: DrillOutcome
    message: str
    steps: tuple[StepRun, ...] = ()
    backup_age: int | None = None  # seconds from the backup request to the import request
    keys: int | None = None
    source_keys: int | None = None
    files: tuple[str, ...] = ()
    settled: str | None = None  # what this run recorded of an earlier run that died

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "into": self.into,
            "outcome": self.outcome.value,
            "message": self.message,
            "steps": [{"step": s.step.value, "seconds": round(s.seconds, 3), "detail": s.detail} for s in self.steps],
            "backup_age_seconds": self.backup_age,
            "keys": self.keys,
            "source_keys": self.source_keys,
            "files": list(self.files),
            "settled": self.settled,
        }
