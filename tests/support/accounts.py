"""An emulated account on the real clock, our client on it and the manifest a test plans and applies from."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.apply.applier import Applier, ApplyOptions
from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.session import Session
from reconciler.core.desired import Manifest
from reconciler.core.outcomes import StepResult
from reconciler.core.plan import Plan
from reconciler.core.planner import PlanOptions, plan
from reconciler.manifest.load import load_manifest
from reconciler.refresh import fetch_live
from reconciler.sandbox import Emulator, LoggedRequest, Timings, WorldData
from tests.support.clients import open_client
from tests.support.examples import EXAMPLES, SEED
from tests.support.world import TINY, WRITES


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
