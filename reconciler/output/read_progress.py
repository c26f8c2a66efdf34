"""While plan reads a large account (thousands of requests, paced by the 400-a-minute rate limit), a person or a
CI log sees that it is still at it: counted from the HTTP session's exchanges, so every request counts, status
polls included, and the time spent waiting for the rate limit is named as such."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from reconciler.output.progress import duration_text

if TYPE_CHECKING:  # the session module loads httpx; only its data type is needed here
    from reconciler.cloud.session import Exchange

EVERY = 15.0  # seconds between lines in a CI log; a plan quicker than this prints none
_PACED = 0.5  # a wait this long for the rate limiter is worth naming
_REDRAW = 0.1  # seconds between redraws of the terminal's counter
_ERASE = "\r\x1b[K"  # back to the start of the line, and clear it


class ReadProgress:
    """A counter redrawn in place on a terminal (erased when reading ends, before the plan is printed), or a
    line every `every` seconds in a log. An observer of the session: call it with each `Exchange`."""

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool,
        every: float = EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._live = live
        self._every = every
        self._clock = clock
        self._started = clock()
        self._shown = self._started  # when the latest line (or redraw) was written
        self._drawn = False
        self._requests = 0
        self._paced = False  # a request waited for the rate limit since the last line
        self._lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            self._requests += 1
            self._paced = self._paced or exchange.waited >= _PACED
            now = self._clock()
            if self._live and (not self._drawn or now - self._shown >= _REDRAW):
                self._write(f"{_ERASE}{self._text(now)}...")
                self._drawn = True
            elif not self._live and now - self._shown >= self._every:
                self._write(f"{self._text(now)}\n")
            else:
                return
            self._shown, self._paced = now, False

    def _text(self, now: float) -> str:
        count = f"{self._requests} request{'s' * (self._requests != 1)}"
        text = f"Reading the live account: {count} in {duration_text(now - self._started)}"
        return text + (", paced by the API's rate limit" if self._paced else "")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def __enter__(self) -> ReadProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._drawn:
                self._write(_ERASE)
