"""Emulated worlds: the timings tests run them at, generated accounts, and reading what they were asked."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox import Emulator, LoggedRequest, Timings, WorldData
from reconciler.sandbox.seed import world_from_document
from tests.support.examples import ORDERS

# On a ManualClock, a few milliseconds per phase: tasks finish after a couple of polls.
FAST = Timings(
    task_initialized=0.0,
    task_received=0.002,
    task_processing=0.003,
    backup=0.005,
    import_=0.005,
    database_transient=0.005,
    fresh_task_404=0.0,
    rate_limit_window=60.0,
)

# On the real clock, a few milliseconds per phase: enough for states to be observed, short enough to be fast.
TINY = Timings(
    task_initialized=0.0,
    task_received=0.002,
    task_processing=0.003,
    backup=0.02,
    import_=0.02,
    database_transient=0.005,
    fresh_task_404=0.0,
    rate_limit_window=60.0,
)

# The emulator's own tests (tests/sandbox/) step a ManualClock through each phase, so the phases are distinct.
TEST_TIMINGS = Timings(
    task_initialized=0.0,
    task_received=0.1,
    task_processing=0.2,
    backup=1.0,
    import_=1.0,
    database_transient=0.5,
    fresh_task_404=0.0,
    rate_limit_window=60.0,
)

WRITES = ("POST", "PUT", "DELETE")


def generated_world(*, pro: int = 0, essentials: int = 0) -> WorldData:
    """An account with one big Pro subscription (1000001) and one big Essentials subscription (2000001)."""

    def databases(first: int, count: int, interval: str) -> list[dict[str, Any]]:
        return [
            {
                "id": first + n,
                "name": f"db-{first + n}",
                "backup": {"path": f"s3://bulk-backups/db-{first + n}", "interval": interval},
            }
            for n in range(count)
        ]

    subscriptions = []
    if pro:
        subscriptions.append(
            {"id": 1000001, "name": "bulk-pro", "tier": "pro", "databases": databases(100000, pro, "every-6-hours")}
        )
    if essentials:
        subscriptions.append(
            {
                "id": 2000001,
                "name": "bulk-essentials",
                "tier": "essentials",
                "databases": databases(200000, essentials, "every-24-hours"),
            }
        )
    return world_from_document(
        {"kind": "redis-cloud-sandbox-world", "format_version": 1, "subscriptions": subscriptions}
    )


def calls(log: list[LoggedRequest], method: str | None = None, suffix: str = "") -> list[LoggedRequest]:
    """The logged requests with this method whose path ends with `suffix`."""
    return [entry for entry in log if (method is None or entry.method == method) and entry.path.endswith(suffix)]


def import_runs(emulator: Emulator, database: int = ORDERS) -> list[Any]:
    return list(emulator.import_history(database))
