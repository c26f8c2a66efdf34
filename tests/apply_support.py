"""Shared by the apply tests: the emulator on a real clock with tiny timings, our client over its HTTP
transport, and a sandbox directory for the CLI (in-process `main()` or `python -m reconciler`)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from conftest import BASE_URL, EXAMPLES, ROOT, SEED

from reconciler.apply import Applier, ApplyOptions
from reconciler.cli import main
from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.desired import Manifest
from reconciler.manifest import load_manifest
from reconciler.outcomes import StepResult
from reconciler.plan import Plan
from reconciler.planner import PlanOptions, plan
from reconciler.polling import PollPolicy
from reconciler.refresh import fetch_live
from reconciler.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Emulator,
    LoggedRequest,
    Timings,
    WorldData,
    reset,
)
from reconciler.sandbox import local_emulator as _local_emulator

# Real clock, a few milliseconds per phase: enough for states to be observed, short enough to be fast.
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

ORDERS_SEEDS = tuple(f"s3://acme-seeds/orders/orders-{n}_of_3.rdb.gz" for n in (1, 2, 3))
IMPORT = "orders-prod.imports.seed-2026-11-20"
IMPORT_KEY = "rcr_import_seed-2026-11-20"
ORDERS, INVENTORY = 7654321, 7654402
WRITES = ("POST", "PUT", "DELETE")


@dataclass
class Account:
    """One emulated account and our client on it, with the manifest the test plans from."""

    emulator: Emulator
    client: RedisCloudClient
    manifest: Manifest
    session: Session
    environ: dict[str, str] = field(default_factory=dict)
    backoffs: list[float] = field(default_factory=list)  # every retry delay the session asked for

    def plan(self, **options: Any) -> Plan:
        opts = PlanOptions(**{k: frozenset(v) for k, v in options.items()})
        return plan(self.manifest, fetch_live(self.client, self.manifest), opts)

    def apply(self, the_plan: Plan, *, stop: threading.Event | None = None, **options: Any) -> list[StepResult]:
        opts = ApplyOptions(run_id=options.pop("run_id", "0a1b2c3d"), environ=self.environ, **options)
        return Applier(self.client, the_plan, opts, stop=stop).run()

    def writes(self, since: int = 0) -> list[LoggedRequest]:
        return [r for r in self.emulator.request_log()[since:] if r.method in WRITES]

    def log_size(self) -> int:
        return len(self.emulator.request_log())


def open_client(
    emulator: Emulator, *, attempts: int = 6, backoffs: list[float] | None = None
) -> tuple[RedisCloudClient, Session]:
    """Our client over the emulator's HTTP transport. Retry delays are recorded and then slept for at most
    10 ms: the emulator's 429 asks for a whole second, which would only make the suite slow."""
    record = backoffs if backoffs is not None else []

    def sleep(seconds: float) -> None:
        record.append(seconds)
        time.sleep(min(seconds, 0.01))

    http = open_http(BASE_URL, Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY), transport=emulator.transport())
    session = Session(
        http,
        # Effectively unlimited, and a short window: a 429 answers `X-Rate-Limit-Remaining: 0`, which the
        # limiter (rightly) reads as "the window is spent"; a 60 s window would make the test wait a minute.
        limiter=RateLimiter(1000, window=0.05),
        retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.02),
        sleep=sleep,
    )
    return RedisCloudClient(session, poll=PollPolicy(initial=0.005, maximum=0.05)), session


def account(
    *,
    world_data: WorldData | None = None,
    seed: Path | None = SEED,
    manifest_paths: list[Path] | None = None,
    timings: Timings = TINY,
    environ: Mapping[str, str] | None = None,
    attempts: int = 6,
) -> Account:
    emulator = Emulator(world_data, seed=None if world_data else seed, timings=timings)
    emulator.set_options(rate_limit=1_000_000)  # the 400/min budget is not what these tests are about
    backoffs: list[float] = []
    client, session = open_client(emulator, attempts=attempts, backoffs=backoffs)
    manifest = load_manifest(manifest_paths or [EXAMPLES])
    return Account(emulator, client, manifest, session, dict(environ or {}), backoffs)


def import_runs(emulator: Emulator, database: int = ORDERS) -> list[Any]:
    return list(emulator.import_history(database))


def wait_for(condition: Callable[[], bool], *, timeout: float = 10.0, every: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


# --- the CLI against the file-backed sandbox --------------------------------------------------------------

STATE = ".reconciler-sandbox"


# The tag behaviours API-NOTES §11 leaves UNCONFIRMED (issue 12 §3), as sandbox options: the exactly-once tests
# run under each.
TAG_VARIANTS = {
    "duplicate-create-409": {},
    "duplicate-create-overwrites": {"tag_create_existing": "overwrite"},
    "keys-lowercased": {"tag_keys": "lowercase"},
    "30-tag-cap": {"max_tags_per_database": 30},
    "dotted-path-suffix-stripped": {"tag_path_suffix_stripping": True},
}


def sandbox_dir(directory: Path, options: Mapping[str, Any] | None = None, **timings: float) -> Path:
    """`examples/` copied into `directory` and a world seeded with fast timings (all 0 unless given)."""
    shutil.copytree(EXAMPLES, directory / "examples", ignore=shutil.ignore_patterns("invalid"))
    document = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    document["timings"] = {name: 0 for name in document["timings"]} | {"rate_limit_window": 60} | timings
    document["options"]["rate_limit"] = 1_000_000
    document["options"].update(options or {})
    seed = directory / "fast-world.yaml"
    seed.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    reset(directory / STATE, seed)
    return directory


def world(directory: Path) -> Emulator:
    """The file-backed world a `--sandbox` process in `directory` sees (read it, inject faults into it)."""
    return _local_emulator(directory / STATE)


@dataclass
class Ran:
    code: int
    out: str
    err: str


def cli(directory: Path, *argv: str, environ: Mapping[str, str] | None = None) -> Ran:
    """`reconciler --sandbox …` in-process, from `directory` (stdin is not a TTY under pytest)."""
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(directory)
    try:
        code = main(["--sandbox", *argv], out=out, err=err, environ=dict(environ or {}))
    finally:
        os.chdir(previous)
    return Ran(code, out.getvalue(), err.getvalue())


def process_env(**extra: str) -> dict[str, str]:
    drop = ("REDISCLOUD_", "GITHUB_STEP_SUMMARY", "NO_COLOR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return env | {"PYTHONPATH": str(ROOT)} | extra


def spawn(directory: Path, *argv: str) -> subprocess.Popen[str]:
    """`python -m reconciler --sandbox …` as a process of its own (stdin closed: no TTY)."""
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "--sandbox", *argv],
        cwd=directory,
        env=process_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 30.0) -> Ran:
    out, err = process.communicate(timeout=timeout)
    return Ran(process.returncode, out, err)


def peek_tags(directory: Path, database: int = ORDERS) -> dict[str, str]:
    """The tags in the saved world, read without the lock (the file is replaced atomically): watching must
    not slow the process under test down."""
    try:
        data = json.loads((directory / STATE / "world.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    db = next(d for d in data["databases"] if d["id"] == database)
    return {key: tag["value"] for key, tag in db["tags"].items()}
