"""Periodic backups: each database with remote backup on is dumped to its configured path on its interval,
optionally accelerated (`sandbox up --backup-speedup 3600` runs an hourly backup every second).

The files are real, like on-demand ones. UNCONFIRMED (API-NOTES §1, §2): the real schedule's anchor (`timeUTC`)
is not modelled: the first backup runs one interval after the sandbox starts. Periodic backups are not
recorded in the emulated `GET …/backup` status, which reports on-demand backups only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.state import WorldData

log = logging.getLogger("reconciler.sandbox.data")
TICK = 0.25  # seconds between looks at the schedule


def interval_seconds(interval: str) -> float | None:
    """`every-6-hours` → 21600; None for anything else."""
    parts = interval.split("-")
    if len(parts) == 3 and parts[0] == "every" and parts[2] == "hours" and parts[1].isdigit():
        return int(parts[1]) * 3600.0
    return None


class PeriodicBackups:
    def __init__(
        self,
        world: Callable[[], WorldData],
        plane: DataPlane,
        *,
        speedup: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.plane = plane
        self.speedup = speedup
        self.clock = clock
        self.started = clock()
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="periodic-backups", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def run_due(self, now: float | None = None) -> list[str]:
        """Back up every database whose interval has passed; the URIs written."""
        now = self.clock() if now is None else now
        written: list[str] = []
        for database in self.world()["databases"]:
            backup = database["backup"]
            every = interval_seconds(backup["interval"]) if backup["enabled"] else None
            if every is None or not self.plane.serves(database["id"]):
                continue
            if now - self.last.get(database["id"], self.started) >= every / self.speedup:
                self.last[database["id"]] = now
                written += self.plane.backup(database, backup["path"], adhoc=False, at=now)
        return written

    def _loop(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self.run_due()
            except Exception:  # a failed look at the schedule must not end the schedule
                log.exception("periodic backups")
