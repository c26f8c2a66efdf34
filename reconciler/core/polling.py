"""The one backoff loop: ask, and ask again later, until there is an answer, a deadline, or a stop.

Every wait in the product is this loop (a task, a database returning to `active`, the latest status after a
task, a backup slot the API keeps refusing); what differs is the question, which is the caller's `check`.
Pure: the clock and the sleep are handed in, so tests run it on fake time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from reconciler.errors import WaitInterrupted

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Pauses between asks: `initial`, then times `factor`, never above `maximum` (seconds)."""

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(self.maximum, delay * self.factor)


class Pauses(Protocol):
    """Anything that says how long to pause between asks (a `PollPolicy`, or apply's pacing of status reads)."""

    def delays(self) -> Iterator[float]: ...


def poll(
    check: Callable[[], T | None],
    *,
    policy: Pauses,
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
    timed_out: Callable[[], Exception],
    stop: threading.Event | None = None,
    pause_first: bool = False,
) -> T:
    """`check()` until it returns something other than None, and return that; whatever it raises goes through.

    After each None: if `stop` is set, `WaitInterrupted`; else, if the next pause would end past `deadline`
    (read on `clock`), `timed_out()` is raised; else it pauses, `sleep(delay)` without a `stop` and
    `stop.wait(delay)` with one, so that setting it ends the pause at once. `check` then runs again: one that
    must not run once stopped calls `unless_stopped(stop)` itself. With `pause_first`, the first check too comes
    after a pause (for a question whose answer cannot be there yet: a status read just after a start).
    """
    delays = policy.delays()
    answer = None if pause_first else check()
    while answer is None:
        unless_stopped(stop)
        delay = next(delays)
        if clock() + delay > deadline:
            raise timed_out()
        if stop is None:
            sleep(delay)
        else:
            stop.wait(delay)
        answer = check()
    return answer


def unless_stopped(stop: threading.Event | None) -> None:
    """`WaitInterrupted` once `stop` is set: for a check that must not run, or answer, after a stop."""
    if stop is not None and stop.is_set():
        raise WaitInterrupted("the wait was interrupted")
