"""Shared fixtures: the built-in emulator behind real HTTP, and our client wired to it.

Time is a `ManualClock` shared by the emulator and every sleeper on our side (retry back-off, task
polling, the rate limiter): a sleep moves the clock, so a test waits for nothing and still sees tasks
finish, 429 windows roll over and fresh task ids start to exist, in order. The builders behind these
fixtures, and everything else tests share, are in tests/support/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.cloud.session import Session
from reconciler.sandbox import (
    Emulator,
    ManualClock,
)
from tests.support.clients import Api, MakeApi, open_api
from tests.support.examples import SEED
from tests.support.world import FAST


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Emulator:
    return Emulator(seed=SEED, clock=clock, timings=FAST)


@pytest.fixture
def make_api(clock: ManualClock) -> Iterator[MakeApi]:
    """Build a client against an emulator, with a chosen key, request budget or poll policy (see `open_api`)."""
    sessions: list[Session] = []

    def build(emulator: Emulator, **options: Any) -> Api:
        api = open_api(emulator, clock, **options)
        sessions.append(api.session)
        return api

    yield build
    for session in sessions:
        session.close()


@pytest.fixture
def api(emulator: Emulator, make_api: MakeApi) -> Api:
    """The owner's client on the example account."""
    return make_api(emulator)
