"""Shared fixtures: the built-in emulator behind real HTTP, and our client wired to it.

Time is a `ManualClock` shared by the emulator and every sleeper on our side (retry back-off, task
polling, the rate limiter): a sleep moves the clock, so a test waits for nothing and still sees tasks
finish, 429 windows roll over and fresh task ids start to exist, in order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.desired import Manifest
from reconciler.manifest import load_manifest
from reconciler.polling import PollPolicy
from reconciler.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Emulator,
    LoggedRequest,
    ManualClock,
    Timings,
    WorldData,
)
from reconciler.sandbox.seed import world_from_document

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEED = EXAMPLES / "sandbox-world.yaml"
BASE_URL = "https://sandbox.test/v1"

# A few milliseconds per phase: tasks finish after a couple of polls.
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

# The example account (examples/sandbox-world.yaml).
PROD_EU, ANALYTICS, MARKETING = 1234567, 1234568, 2345678
ORDERS, SESSIONS, CATALOG, LEGACY = 7654321, 7654322, 7654323, 7654324
ANALYTICS_DB, INVENTORY = 7654401, 7654402
MARKETING_CACHE, SCRATCH = 8765432, 8765433


@dataclass(slots=True)
class Api:
    """Our client and what a test wants to look at around it."""

    client: RedisCloudClient
    session: Session
    limiter: RateLimiter
    backoffs: list[float] = field(default_factory=list)  # every retry delay the session slept


MakeApi = Callable[..., Api]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Emulator:
    return Emulator(seed=SEED, clock=clock, timings=FAST)


@pytest.fixture
def make_api(clock: ManualClock) -> Iterator[MakeApi]:
    """Build a client against an emulator, with a chosen key, request budget or poll policy."""
    sessions: list[Session] = []

    def build(
        emulator: Emulator,
        *,
        access_key: str = SANDBOX_ACCESS_KEY,
        secret_key: str = SANDBOX_SECRET_KEY,
        limit: int = 400,
        window: float = 60.0,
        attempts: int = 6,
        poll: PollPolicy | None = None,
    ) -> Api:
        http = open_http(BASE_URL, Credentials(access_key, secret_key), transport=emulator.transport())
        limiter = RateLimiter(limit, window, clock=clock, sleep=clock.advance)
        backoffs: list[float] = []

        def backoff(seconds: float) -> None:
            backoffs.append(seconds)
            clock.advance(seconds)

        session = Session(
            http, limiter=limiter, retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.05), sleep=backoff
        )
        sessions.append(session)
        client = RedisCloudClient(
            session, poll=poll or PollPolicy(initial=0.005, maximum=0.05), clock=clock, sleep=clock.advance
        )
        return Api(client, session, limiter, backoffs)

    yield build
    for session in sessions:
        session.close()


@pytest.fixture
def api(emulator: Emulator, make_api: MakeApi) -> Api:
    """The owner's client on the example account."""
    return make_api(emulator)


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


def write_manifest(directory: Path, text: str, name: str = "manifest.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def manifest_from(directory: Path, text: str) -> Manifest:
    return load_manifest([write_manifest(directory, text)])


def calls(log: list[LoggedRequest], method: str | None = None, suffix: str = "") -> list[LoggedRequest]:
    """The logged requests with this method whose path ends with `suffix`."""
    return [entry for entry in log if (method is None or entry.method == method) and entry.path.endswith(suffix)]


# --- the CLI as a process -------------------------------------------------------------------------------


def copy_examples(target: Path, edit_world: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """`examples/` copied into `target`, its sandbox world made fast (tasks take a few ms, not seconds)."""
    shutil.copytree(EXAMPLES, target / "examples")
    seed = target / "examples" / "sandbox-world.yaml"
    world = yaml.safe_load(seed.read_text(encoding="utf-8"))
    world["timings"] = FAST.to_dict()
    if edit_world is not None:
        edit_world(world)
    seed.write_text(yaml.safe_dump(world, sort_keys=False), encoding="utf-8")
    return target


def clean_environ(**extra: str) -> dict[str, str]:
    """The runner's environment without any Redis Cloud settings or CI summary file of its own."""
    drop = ("REDISCLOUD_", "GITHUB_STEP_SUMMARY", "NO_COLOR")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    return {**env, **extra}


def run_reconciler(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m reconciler ARGS` in `cwd`, with only the Redis Cloud settings given here."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=clean_environ(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
