"""Scaled time: the product, unchanged and at its own defaults, in a world where every clock runs `speed` times fast.

A ten-minute backup then takes ten seconds at speed 60, and so does everything timed around it: the product's
polling pauses, its rate limiter's 60 s window, its retry back-off and receipt settle window, and the emulator's
task phases, backup runs and fixed rate window (400 requests a minute is 400 a scaled minute). Nothing is
configured for the benchmark, so when a default changes (a poll interval, `--parallelism`) the next run measures
the new one as it is.

It works by replacing `time.time`, `time.monotonic`, `time.sleep` and `threading.Condition.wait` (which
`Event.wait` uses) for the whole process. `install()` must run before `reconciler` is imported, because the product
binds `time.monotonic` and `time.sleep` as default arguments when its modules load; it refuses otherwise. Not
scaled: `Lock.acquire(timeout=…)` and `queue.Queue.get(timeout=…)` (which keeps its own reference to the real
clock); the product waits through neither.

What it cannot scale is the CPU: a request that costs 1.5 ms of real time costs `speed` x 1.5 ms of scaled time
(90 ms at speed 60, about what the real API answers in). Figures say the speed they ran at and the share of one
core the run used, so a run that the machine could not keep up with shows as such.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import SupportsIndex

real_monotonic = time.monotonic
real_time = time.time
real_sleep = time.sleep
_real_wait = threading.Condition.wait

_lock = threading.Lock()
# (speed, real monotonic at the last change, scaled monotonic at that moment); replaced whole, read without the lock
_frame = (1.0, real_monotonic(), real_monotonic())
_wall_offset = real_time() - real_monotonic()  # scaled wall time = scaled monotonic + this


def monotonic() -> float:
    speed, real_at, scaled_at = _frame
    return scaled_at + speed * (real_monotonic() - real_at)


def wall() -> float:
    return monotonic() + _wall_offset


def sleep(seconds: float | SupportsIndex) -> None:
    real_sleep(float(seconds) / _frame[0])


def _wait(self: threading.Condition, timeout: float | None = None) -> bool:
    return _real_wait(self, None if timeout is None else timeout / _frame[0])


def install() -> None:
    """Route every clock and timed wait of this process through the scaled frame (speed 1 until told)."""
    if time.monotonic is monotonic:
        return
    loaded = sorted(name for name in sys.modules if name == "reconciler" or name.startswith("reconciler."))
    if loaded:
        raise RuntimeError(f"install the time warp before importing the product ({', '.join(loaded[:3])} loaded)")
    time.monotonic, time.time, time.sleep = monotonic, wall, sleep
    threading.Condition.wait = _wait  # type: ignore[method-assign]


def set_speed(speed: float) -> None:
    global _frame
    with _lock:
        _frame = (speed, real_monotonic(), monotonic())


def speed() -> float:
    return _frame[0]


@contextmanager
def running_at(scale: float) -> Iterator[None]:
    """Scaled time for the block, real time again after it."""
    set_speed(scale)
    try:
        yield
    finally:
        set_speed(1.0)
