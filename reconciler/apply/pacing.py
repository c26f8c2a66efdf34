"""When to read an operation's latest status again: where the answer can be, not every second.

Each read of a latest backup or import status is itself a task (API-NOTES §3, §4), so reading from 1 s again
after every one spent most of a backup's requests on "still running" (issue 16). Three rules, per kind:

- **Learn the length.** The run learns how long its operations take from its first outcomes, and reads a later one
  of the same kind only once it has run that long and one shortest pause more; after that, the ordinary backoff
  applies. What is learnt is the operation's own length where the API's clock tells it (`length_seen`), not when
  the outcome happened to be read: an outcome read 20 s late would otherwise make every later read 20 s late too,
  wave after wave.
- **One scout.** Until something is learnt, only the earliest operation of a kind still waiting reads with the
  backoff; the others (started later, so due later) pause at least twice their time so far (reads at about 1, 3, 9,
  27, 81 s) and wake as soon as the scout's outcome teaches the length. Operations started together mostly last alike,
  so the first wave costs one operation's reads and not forty; one far quicker than its scout is still seen, at
  most three times late, and only in that first wave.
- **Far apart once long.** Past twice the backoff's longest pause (a minute by default), reads are at least that
  longest pause (30 s) apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from reconciler.core.desired import OperationKind
from reconciler.core.polling import PollPolicy

FOLLOWER_FACTOR = 2.0  # a follower's pause, in multiples of its time so far, until its kind's length is learnt


class Pacing:
    def __init__(self, policy: PollPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.clock = clock
        self._changed = threading.Condition()
        self._lengths: dict[OperationKind, list[float]] = {}
        self._waiting: dict[OperationKind, list[float]] = {}  # the start of each operation awaiting its outcome

    def learn(self, kind: OperationKind, seconds: float) -> None:
        with self._changed:
            self._lengths.setdefault(kind, []).append(seconds)
            self._changed.notify_all()

    def expected(self, kind: OperationKind) -> float | None:
        """The shortest length seen so far: reading a little early costs one request where reading late costs
        time, and every later operation of the kind would pay it."""
        with self._changed:
            return self._expected(kind)

    @contextmanager
    def waiting(self, kind: OperationKind, started: float) -> Iterator[StatusPauses]:
        """The pauses of one operation (started at `started`) while it awaits its outcome."""
        with self._changed:
            self._waiting.setdefault(kind, []).append(started)
        try:
            yield StatusPauses(self, kind, started)
        finally:
            with self._changed:
                self._waiting[kind].remove(started)

    def _expected(self, kind: OperationKind) -> float | None:
        lengths = self._lengths.get(kind)
        return min(lengths) if lengths else None

    def _scouted(self, kind: OperationKind, started: float) -> bool:
        """Another operation of this kind, started earlier, is still out: its outcome will tell the length."""
        return any(other < started for other in self._waiting.get(kind, ()))


@dataclass(frozen=True, slots=True)
class StatusPauses:
    """The pauses between status reads of one operation accepted at `started` (a `polling.Pauses`), and the sleep
    that waits them out (woken early when the kind's length is first learnt)."""

    pacing: Pacing
    kind: OperationKind
    started: float

    def delays(self) -> Iterator[float]:
        pacing, policy = self.pacing, self.pacing.policy
        backoff = policy.delays()
        while True:
            elapsed = pacing.clock() - self.started
            pause = next(backoff)
            with pacing._changed:
                expected, scouted = pacing._expected(self.kind), pacing._scouted(self.kind, self.started)
            if expected is not None:
                if self._due(expected) > elapsed:
                    pause = max(pause, self._due(expected) - elapsed)
            elif scouted:
                pause = max(pause, FOLLOWER_FACTOR * elapsed)
            if elapsed >= 2 * policy.maximum:
                pause = max(pause, policy.maximum)
            yield pause

    def _due(self, expected: float) -> float:
        """When to read, learnt `expected`: one shortest pause after it, so that an operation as long as the one
        learnt from is read just after its end, not just before (which would cost a whole pause of 30 s)."""
        return expected + self.pacing.policy.initial

    def sleep(self, seconds: float) -> None:
        """Pause `seconds`, unless the kind's length is learnt meanwhile: then only until this operation has run
        that long (at once if it already has)."""
        pacing = self.pacing
        with pacing._changed:
            known = len(pacing._lengths.get(self.kind, ()))
            end = pacing.clock() + seconds
            while (now := pacing.clock()) < end:
                if len(pacing._lengths.get(self.kind, ())) != known:
                    known = len(pacing._lengths[self.kind])
                    expected = pacing._expected(self.kind)
                    assert expected is not None
                    end = min(end, self.started + self._due(expected))
                    continue
                pacing._changed.wait(end - now)


def length_seen(*, api_length: float | None, running_at: float, seen_at: float) -> float:
    """How long an operation ran, for `Pacing.learn`: its length on the API's clock (from the claim's `createdAt`
    to the status's time), kept between what the reads themselves prove, the last read that still said running
    (`running_at`) and the read that showed the outcome (`seen_at`). Where the API gives no time, or a clock so far
    off that it leaves that bracket, the bracket's end is taken."""
    if api_length is None:
        return seen_at
    return min(seen_at, max(running_at, api_length))
