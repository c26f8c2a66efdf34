"""Apply's CI progress: a line per start and finish, and a heartbeat while an operation runs, so that a 6-hour
import does not look hung (issue 18)."""

from __future__ import annotations

import io
import threading
import time

import pytest

from reconciler.core.outcomes import Outcome, StepResult
from reconciler.output.progress import LineProgress, duration_text, heartbeat_line

IMPORT = "orders-prod.imports.seed"


@pytest.mark.parametrize(
    ("address", "elapsed", "status", "line"),
    [
        pytest.param(IMPORT, 720, "importing", f"still importing {IMPORT} (12m elapsed, status importing)", id="issue"),
        pytest.param(IMPORT, 60, None, f"still importing {IMPORT} (1m elapsed)", id="no-status-yet"),
        pytest.param(
            "orders-prod.backups.pre-2026",
            6 * 3600 + 5 * 60 + 59,
            "in-progress",
            "still backing up orders-prod.backups.pre-2026 (6h 05m elapsed, status in-progress)",
            id="hours",
        ),
        pytest.param(
            "orders-prod.backup", 59.9, None, "still updating orders-prod.backup (59s elapsed)", id="settings"
        ),
        pytest.param("odd", 61, None, "still running odd (1m elapsed)", id="not-an-address"),
    ],
)
def test_a_heartbeat_line(address: str, elapsed: float, status: str | None, line: str) -> None:
    assert heartbeat_line(address, elapsed, status) == line


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.99, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h 00m"), (86400, "24h 00m")]
)
def test_a_duration_is_as_coarse_as_a_long_log_wants(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_running_operation_beats_once_a_minute_with_its_latest_status() -> None:
    stream, clock = io.StringIO(), _Clock()
    progress = LineProgress(stream, clock=clock)  # the timer is not started: beats are driven by hand here
    progress("start", IMPORT, None)
    clock.now += 59
    progress.beat()
    assert stream.getvalue() == f"start    {IMPORT}\n"  # under a minute: quiet
    clock.now += 1
    progress("status", IMPORT, "importing")
    progress.beat()
    progress.beat()  # at once again: nothing more, a minute has not passed
    clock.now += 60
    progress("start", "catalog-prod.backup", None)
    progress.beat()
    clock.now += 30
    progress("finish", IMPORT, StepResult(IMPORT, "import", Outcome.DONE, 150.0))
    clock.now += 30
    progress.beat()
    assert stream.getvalue().splitlines() == [
        f"start    {IMPORT}",
        f"still importing {IMPORT} (1m elapsed, status importing)",
        "start    catalog-prod.backup",
        f"still importing {IMPORT} (2m elapsed, status importing)",
        f"done     {IMPORT} (150.0s)",
        "still updating catalog-prod.backup (1m elapsed)",  # the finished import beats no more
    ]


def test_the_heartbeat_runs_on_its_own_and_stops_with_the_display() -> None:
    stream = io.StringIO()
    with LineProgress(stream, heartbeat=0.05) as progress:
        progress("start", IMPORT, None)
        deadline = time.monotonic() + 10
        while "still importing" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        progress("finish", IMPORT, StepResult(IMPORT, "import", Outcome.FAILED, 0.1, "file-corrupted"))
    assert f"still importing {IMPORT} (0s elapsed)" in stream.getvalue()
    assert stream.getvalue().splitlines()[-1] == f"failed   {IMPORT} (0.1s): file-corrupted"
    assert not [thread for thread in threading.enumerate() if thread.name == "heartbeat"]
