"""When to read an operation's latest status again: where the answer can be, not every second.

Each read of a latest backup or import status is itself a task (API-NOTES §3, §4), so reading from 1 s again
after every one spent most of a backup's requests on "still running" (issue 16). The run learns how long its
operations take from its first completions (from the accepted POST to the outcome seen), per kind, and reads a
later one of the same kind only once it has run that long; after that, and before anything is learnt, the
ordinary backoff applies. Once an operation has run for twice the backoff's longest pause (a minute by
default), reads are at least that longest pause (30 s) apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from reconciler.core.desired import OperationKind
from reconciler.core.polling import PollPolicy


class Pacing:
    def __init__(self, policy: PollPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.clock = clock
        self._lock = threading.Lock()
        self._lengths: dict[OperationKind, list[float]] = {}

    def learn(self, kind: OperationKind, seconds: float) -> None:
        with self._lock:
            self._lengths.setdefault(kind, []).append(seconds)

    def expected(self, kind: OperationKind) -> float | None:
        """The shortest length seen so far: an outcome is seen up to one pause late, so the shortest is the
        closest to the truth, and reading a little early costs one request where reading late costs time."""
        with self._lock:
            lengths = self._lengths.get(kind)
            return min(lengths) if lengths else None

    def of(self, kind: OperationKind, started: float) -> StatusPauses:
        return StatusPauses(self, kind, started)


@dataclass(frozen=True, slots=True)
class StatusPauses:
    """The pauses between status reads of one operation accepted at `started` (a `polling.Pauses`)."""

    pacing: Pacing
    kind: OperationKind
    started: float

    def delays(self) -> Iterator[float]:
        policy = self.pacing.policy
        backoff = policy.delays()
        while True:
            elapsed = self.pacing.clock() - self.started
            pause = next(backoff)
            expected = self.pacing.expected(self.kind)
            if expected is not None and expected > elapsed:
                pause = max(pause, expected - elapsed)
            if elapsed >= 2 * policy.maximum:
                pause = max(pause, policy.maximum)
            yield pause
