"""Figures 1, 4 and 5: what a plan reads, against its minimum and a Terraform-style refresh, and how long it takes
at 400 requests a (scaled) minute against a fixed-window server."""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks import warp
from benchmarks.flags import Defaults, client
from benchmarks.worlds import Fleet, emulator, manifests
from reconciler.core.desired import Manifest
from reconciler.core.plan import Action
from reconciler.core.planner import plan
from reconciler.manifest.load import load_manifest
from reconciler.refresh import fetch_live
from reconciler.sandbox import Emulator, Timings

# What the Terraform provider sends to refresh one database (RedisLabs/terraform-provider-rediscloud):
# `resourceRedisCloudProDatabaseRead` (provider/pro/resource_rediscloud_pro_database.go) calls
# `api.Client.Database.Get` and then `ReadTags` (provider/pro/utils.go: `api.Client.Tags.Get`);
# `resourceRedisCloudEssentialsDatabaseRead` (provider/resource_rediscloud_essentials_database.go) calls
# `api.Client.FixedDatabases.Get` and then `readFixedTags` (`api.Client.Tags.GetFixed`).
TERRAFORM_REQUESTS_PER_DATABASE = 2
TIMED_GOAL = 1.05


def minimum(fleet: Fleet) -> int:
    """One request per page of 100 databases, and a tag read per database with one-shot operations."""
    pages = sum(max(1, math.ceil(len(dbs) / 100)) for _, _, dbs in fleet.layout())
    return pages + fleet.with_operations()


def rate_floor(requests: int, limit: int, window: float) -> float:
    """A fixed-window server lets `limit` requests through per window: the last of `requests` cannot go before
    the start of window ceil(requests / limit)."""
    return (math.ceil(requests / limit) - 1) * window


def _server(account: Emulator) -> tuple[int, float]:
    world = account.snapshot()
    return world["options"]["rate_limit"], Timings.from_dict(world["timings"]).rate_limit_window


def _manifest(fleet: Fleet, work: Path) -> Manifest:
    return load_manifest([manifests(fleet, work / f"manifests-{fleet.databases}")])


def _one_plan(fleet: Fleet, manifest: Manifest, rate_limit: int | None, *, list_backup: bool) -> dict[str, Any]:
    """A no-drift plan as `reconciler plan` makes it: the refresh, then the planner (scaled seconds). `rate_limit`
    None: none on either side, to see what the requests cost without waiting."""
    unlimited = {} if rate_limit is not None else {"rate_limit": 10**9}
    account = emulator(fleet, Timings.instant(), pro_list_includes_backup=list_backup, **unlimited)
    product = client(account, rate_limit=rate_limit or 10**9)
    began, began_wall = time.monotonic(), time.time()
    result = plan(manifest, fetch_live(product, manifest))
    elapsed = time.monotonic() - began
    assert result.count(Action.UPDATE) == 0, result.summary_line  # no drift: only the one-shots
    log = account.request_log()
    return {
        "requests": len(log),
        "seconds": elapsed,
        "arrivals": [entry.time - began_wall for entry in log],  # on the emulator's clock, from the start
        "floor_seconds": rate_floor(len(log), *_server(account)),
        "responses_429": sum(1 for entry in log if entry.status == 429),
    }


def plan_requests(fleet: Fleet, work: Path, defaults: Defaults, speed: float) -> dict[str, Any]:
    """Figures 1 and 5: requests of a no-drift plan in both list modes, at the default --rate-limit."""
    least = minimum(fleet)
    terraform = TERRAFORM_REQUESTS_PER_DATABASE * fleet.databases
    out: dict[str, Any] = {
        "databases": fleet.databases,
        "subscriptions": fleet.subscriptions,
        "minimum": least,
        "terraform_style": terraform,
        "speed": speed,
    }
    manifest = _manifest(fleet, work)
    with warp.running_at(speed):
        for mode, list_backup in (("list_without_backup", False), ("list_with_backup", True)):
            run = _one_plan(fleet, manifest, defaults.rate_limit, list_backup=list_backup)
            out[mode] = {
                "requests": run["requests"],
                "ratio_to_minimum": round(run["requests"] / least, 3),
                "floor_seconds": run["floor_seconds"],
                "responses_429": run["responses_429"],
            }
    limit, window = _server(emulator(Fleet(1, 1), Timings.instant()))
    out["terraform_floor_seconds"] = rate_floor(terraform, limit, window)
    return out


def plan_under_rate_limit(fleet: Fleet, work: Path, defaults: Defaults, *, runs: int, speed: float) -> dict[str, Any]:
    """Figure 4: wall time of the same plan, `runs` times, against (ceil(N / 400) - 1) x window; every run counts."""
    ratios, tail_ratios, seconds, requests, refused = [], [], [], [], []
    manifest = _manifest(fleet, work)
    limit, window = _server(emulator(Fleet(1, 1), Timings.instant()))
    with warp.running_at(speed):
        unlimited = _one_plan(fleet, manifest, None, list_backup=False)
        for _ in range(runs):
            run = _one_plan(fleet, manifest, defaults.rate_limit, list_backup=False)
            # The last window's requests cannot go before it opens, and then take what the same requests took here
            # with no limit: from the arrival of the first of them to the end of the plan.
            first_of_last = limit * (math.ceil(run["requests"] / limit) - 1)
            tail = unlimited["seconds"] - unlimited["arrivals"][first_of_last]
            ratios.append(run["seconds"] / run["floor_seconds"])
            tail_ratios.append(run["seconds"] / (run["floor_seconds"] + tail))
            seconds.append(run["seconds"])
            requests.append(run["requests"])
            refused.append(run["responses_429"])
    floor = rate_floor(requests[0], limit, window)
    return {
        "databases": fleet.databases,
        "runs": runs,
        "speed": speed,
        "requests": sorted(set(requests)),
        "floor_seconds": floor,
        "unlimited_seconds": round(unlimited["seconds"], 1),
        "last_window_seconds": round(tail, 1),
        "median_seconds": round(statistics.median(seconds), 1),
        "worst_seconds": round(max(seconds), 1),
        "median_ratio": round(statistics.median(ratios), 3),
        "worst_ratio": round(max(ratios), 3),
        "runs_within_goal": sum(1 for ratio in ratios if ratio <= TIMED_GOAL),
        "median_ratio_with_tail": round(statistics.median(tail_ratios), 3),
        "worst_ratio_with_tail": round(max(tail_ratios), 3),
        "goal": TIMED_GOAL,
        "responses_429": sum(refused),
    }
