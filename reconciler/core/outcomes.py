"""What apply did with each change or settlement: the data the progress display, the summary table, the JSON
report and the exit code are made from. Output modules depend on this, never on the applier itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # the receipt stays claimed; the next plan settles it
    CLAIMED_BY_OTHER_RUN = "claimed-by-other-run"
    REFUSED = "refused"  # the API refused the claim: nothing was written or run; the next plan plans it again
    SKIPPED = "skipped"  # not started: interrupted, or an earlier step on the database did not finish
    SETTLED = "settled"  # an interrupted receipt recorded from the API's evidence


@dataclass(frozen=True, slots=True)
class StepResult:
    address: str
    action: str
    outcome: Outcome
    duration: float
    message: str = ""
    task_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.DONE, Outcome.SETTLED)

    def to_dict(self) -> dict[str, str | float | None]:
        return {
            "address": self.address,
            "action": self.action,
            "outcome": self.outcome.value,
            "duration_seconds": round(self.duration, 3),
            "message": self.message,
            "task_id": self.task_id,
        }
