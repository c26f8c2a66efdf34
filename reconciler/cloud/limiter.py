"""Client-side request budget: 400 requests a minute per API key (API-NOTES §6), shared by every thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """A sliding log of request times: never more than `limit` requests in any `window` seconds.

    A sliding log stays under the server's limit whether the server counts in fixed or sliding windows.
    `observe()` folds in `X-Rate-Limit-Remaining`, so other automation sharing the key is accounted for.
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
        # [time] cells, so `slot()` can move one to its answer. Not in time order: an answer stamps its cell late,
        # and a 429 adds back-dated ones, so expired cells are dropped wherever they are.
        self._sent: list[list[float]] = []
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for budget, for --debug and benchmarks

    def acquire(self) -> list[float]:
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
                    cell = [now]
                    self._sent.append(cell)
                    return cell
                ready = min(cell[0] for cell in self._sent) + self.window
                pause = ready - now
                self.waited += pause
            self._sleep(pause)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One request: budget taken before it is sent, counted from when it finished."""
        cell = self.acquire()
        try:
            yield
        finally:
            with self._lock:
                cell[0] = max(cell[0], self._clock())

    def observe(self, remaining: int, *, reopens_in: float | None = None) -> None:
        """The server says only `remaining` requests are left in its window: count the ones we didn't send.

        They are counted as sent now, so they hold the budget for a whole window, or, when the server said
        when its window reopens (`reopens_in`, from a 429), exactly until then: a 429 costs its retry-after.
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            unseen = self.limit - max(remaining, 0) - len(self._sent)
            if unseen > 0:
                stamp = now if reopens_in is None else now + min(reopens_in, self.window) - self.window
                self._sent.extend([stamp] for _ in range(unseen))

    def _expire(self, now: float) -> None:
        """Drop every cell older than the window, wherever it is in the log (the caller holds the lock)."""
        self._sent = [cell for cell in self._sent if cell[0] + self.window > now]
