"""Fixtures for the emulator tests: the example account, a fake clock, and clients for each key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SANDBOX_VIEWER_SECRET_KEY, Emulator, ManualClock
from tests.support.emulator_http import TERMINAL, make_client
from tests.support.examples import SEED
from tests.support.world import TEST_TIMINGS


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Emulator:
    return Emulator(seed=SEED, clock=clock, timings=TEST_TIMINGS)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    with make_client(emulator) as owner:
        yield owner


@pytest.fixture
def viewer(emulator: Emulator) -> Iterator[httpx.Client]:
    with make_client(emulator, SANDBOX_VIEWER_SECRET_KEY) as view:
        yield view


@pytest.fixture
def finish(client: httpx.Client, clock: ManualClock) -> Callable[[httpx.Response], dict[str, Any]]:
    """Advance the fake clock until the task a response announced is terminal; return its final JSON."""

    def run(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        task_id = response.json()["taskId"]
        for _ in range(100):
            task: dict[str, Any] = client.get(f"/tasks/{task_id}").json()
            if task["status"] in TERMINAL:
                return task
            clock.advance(0.1)
        raise AssertionError(f"task {task_id} never finished")

    return run
