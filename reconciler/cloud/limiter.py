"""Client-side request budget: 400 requests a minute per API key (API-NOTES §6), shared by every thread."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """A sliding log of request times: never more than `limit` requests in any `window` seconds.

    A sliding log stays under the server's limit whether the server counts in fixed or sliding windows.
    `observe()` folds in `X-Rate-Limit-Remaining`, so other automation sharing the key is accounted for.
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
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for budget, for --debug and benchmarks

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                pause = self._sent[0] + self.window - now
                self.waited += pause
                self._sleep(pause)

    def observe(self, remaining: int) -> None:
        """The server says only `remaining` requests are left in its window: count the ones we didn't send."""
        with self._lock:
            unseen = self.limit - max(remaining, 0) - len(self._sent)
            if unseen > 0:
                now = self._clock()
                self._sent.extend([now] * unseen)
