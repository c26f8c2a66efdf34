"""Client-side request budget: 400 requests a minute per API key (API-NOTES §6), shared by every thread."""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class RateLimiter:
    """A sliding log of request times: never more than `limit` requests in any `window` seconds.

    A sliding log stays under the server's limit whether the server counts in fixed or sliding windows.
    `observe()` folds in `X-Rate-Limit-Remaining` both ways: other automation sharing the key is accounted for, and
    requests the server has provably stopped counting (its fixed window reopened) free their budget at once.
    A request sent through `slot()` counts from when its answer came back: the server counted it on arrival,
    which is no later, so our window never ends before the server's does (seen as 429s in benchmark 2).
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("rate limit must be at least 1 request per window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        # Not in time order: an answer stamps its cell late, and a 429 adds back-dated ones, so expired cells are
        # dropped wherever they are.
        self._sent: list[_Cell] = []
        self._oldest = float("inf")  # no cell counts from before this: until then + window, none has expired
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for budget, for --debug and benchmarks

    def acquire(self) -> _Cell:
        """A cell in the log once there is room; the wait happens outside the lock, so answers are stamped (and
        other threads take freed budget) while this one sleeps."""
        ready = float("-inf")
        while True:
            with self._lock:
                # Not before the moment slept for: a clock that lands a hair short of it (floating point) would
                # otherwise make the next pause vanishingly small, and a fake clock would never get there.
                now = max(self._clock(), ready)
                self._expire(now)
                if len(self._sent) < self.limit:
                    cell = _Cell(now)
                    self._sent.append(cell)
                    self._oldest = min(self._oldest, now)
                    return cell
                ready = min(cell.at for cell in self._sent) + self.window
                pause = ready - now
                self.waited += pause
            self._sleep(pause)

    @contextmanager
    def slot(self) -> Iterator[float]:
        """One request: budget taken before it is sent, counted from when it finished. It yields when the request
        went out on this limiter's clock, for `observe(…, sent_at=)`."""
        cell = self.acquire()
        sent_at = cell.at
        try:
            yield sent_at
        finally:
            with self._lock:
                cell.at = max(cell.at, self._clock())
                cell.answered = True

    def observe(self, remaining: int, *, reopens_in: float | None = None, sent_at: float | None = None) -> None:
        """The server says `remaining` requests are left in its window, in its answer to a request sent at
        `sent_at`.

        Fewer than we think: count the ones we didn't send, as sent now, so they hold the budget for a whole
        window, or, when the server said when its window reopens (`reopens_in`, from a 429), exactly until then: a
        429 costs its retry-after. More than we think: every request answered before that one was sent reached the
        server before it, so if the server counts fewer than those and that one, it has stopped counting some of
        them (its fixed window reopened): as many of the oldest are dropped, and the next window's requests go at
        once instead of at the pace of the last window's answers. Nothing else is dropped: a request still in
        flight, or answered since, may not have been counted yet.
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            counted = self.limit - max(remaining, 0)
            unseen = counted - len(self._sent)
            if unseen > 0:
                stamp = now if reopens_in is None else now + min(reopens_in, self.window) - self.window
                self._sent.extend(_Cell(stamp, answered=True) for _ in range(unseen))
                self._oldest = min(self._oldest, stamp)
            elif sent_at is not None:
                earlier = [cell for cell in self._sent if cell.answered and cell.at < sent_at]
                forgotten = len(earlier) + 1 - counted
                if forgotten > 0:  # rare (a window reopened): only then are the oldest looked for
                    dropped = {id(cell) for cell in heapq.nsmallest(forgotten, earlier, key=_at)}
                    self._sent = [cell for cell in self._sent if id(cell) not in dropped]

    def _expire(self, now: float) -> None:
        """Drop every cell older than the window, wherever it is in the log (the caller holds the lock). A cell's
        time only grows (sent, then answered), so `_oldest` stays a lower bound, and the log is walked only when
        some cell may have expired."""
        if self._oldest + self.window > now:
            return
        self._sent = [cell for cell in self._sent if cell.at + self.window > now]
        self._oldest = min((cell.at for cell in self._sent), default=float("inf"))


@dataclass(eq=False, slots=True)
class _Cell:
    """One request in the log: when it counts from (sent, then answered), and whether it was answered."""

    at: float
    answered: bool = False


def _at(cell: _Cell) -> float:
    return cell.at
