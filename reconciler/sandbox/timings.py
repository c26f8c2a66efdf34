"""Durations and clocks of the emulated world.

Time in the sandbox is lazy: nothing runs in the background, every record keeps the time it started,
and a request computes the state "now". Injecting the clock and the durations lets a test make a
backup take 50 ms of fake time and a demo take 2 s of wall time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds each emulated phase lasts; `fresh_task_404` is how long a new task id answers 404."""

    task_initialized: float = 0.0
    task_received: float = 0.2
    task_processing: float = 0.5
    backup: float = 2.0
    import_: float = 2.0
    database_transient: float = 1.0
    fresh_task_404: float = 0.0
    rate_limit_window: float = 60.0

    @property
    def task_total(self) -> float:
        return self.task_initialized + self.task_received + self.task_processing

    def to_dict(self) -> dict[str, float]:
        return {name.rstrip("_"): value for name, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Timings:
        """Accepts the seed/world spelling (`import`, not `import_`); unknown keys are an error."""
        known = {f.name.rstrip("_"): f.name for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown timings: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        values: dict[str, float] = {}
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"timings.{key} must be a number of seconds >= 0, got {value!r}")
            values[known[key]] = float(value)
        return replace(cls(), **values)

    @classmethod
    def instant(cls) -> Timings:
        """Every phase finishes at once: handy for tests that only care about shapes."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 60.0)


class ManualClock:
    """A clock that moves only when told to; thread-safe so the apply engine's threads can share it."""

    def __init__(self, start: float = 1_764_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def iso_utc(timestamp: float, *, micros: bool = False) -> str:
    """RFC 3339 in UTC with a `Z`, as the API writes `lastBackupTime` (seconds) and task `timestamp` (µs)."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    if micros:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
