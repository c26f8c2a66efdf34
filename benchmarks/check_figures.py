"""Figure 8 (issue 15): `check` over 2,000 databases, every backup fresh: the requests it sends per database, by
endpoint, against its target (one status read each, plus the list pages), and its wall time at 400 requests a
(scaled) minute against the rate-limit floor of those requests.

`python -m benchmarks --only check` runs this figure alone and rewrites RESULTS.md with it (the other figures are
kept from results.json as the last full run left them).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks import warp
from benchmarks.endpoints import breakdown
from benchmarks.flags import Defaults, client
from benchmarks.plan_figures import rate_floor
from benchmarks.worlds import Fleet, manifests, world
from reconciler.core.desired import Manifest, OperationKind
from reconciler.core.freshness import judge
from reconciler.manifest.load import load_manifest
from reconciler.refresh import fetch_freshness
from reconciler.sandbox import Emulator, Timings

# A status task is answered in well under a second (the sandbox's default phases: received 0.2 s, processing
# 0.5 s); the backups themselves ran an hour before the check.
STATUS_TIMINGS = Timings(task_received=0.2, task_processing=0.5)
AGE = 3600.0  # seconds since each database's last backup: all fresh, so the check holds


def _account(fleet: Fleet) -> Emulator:
    """Each database's last backup `AGE` ago, written into the world before it starts (as `seed_backup` does, but
    in one go: that copies the world once per call)."""
    data = world(fleet, STATUS_TIMINGS)
    ends = time.time() - AGE  # the process's wall clock, which the emulator runs on (scaled, under the warp)
    for database in data["databases"]:
        data["backup_runs"].append(
            {
                "task_id": f"scheduled-{database['id']}",
                "subscription_id": database["subscription_id"],
                "database_id": database["id"],
                "destination": database["backup"]["path"],
                "adhoc": False,
                "started": ends - 60.0,
                "ends": ends,
            }
        )
    return Emulator(data)


def _one_check(fleet: Fleet, manifest: Manifest, rate_limit: int) -> dict[str, Any]:
    """The check as `reconciler check` makes it (its reads, then the verdicts), in scaled seconds."""
    account = _account(fleet)
    product = client(account, rate_limit=rate_limit)
    began, began_cpu = time.monotonic(), time.process_time()
    live, statuses = fetch_freshness(product, manifest)
    now = product.session.server_now()
    assert now is not None, "the emulator's answers carry a Date"
    verdicts = [
        judge(
            spec,
            live.databases.get((spec.subscription, spec.database)),
            statuses.get((spec.name, OperationKind.BACKUP, None)),
            statuses.get((spec.name, OperationKind.IMPORT, None)),
            now,
        )
        for spec in manifest.databases
    ]
    elapsed = time.monotonic() - began
    cpu = time.process_time() - began_cpu
    assert all(verdict.holds for verdict in verdicts), "every backup was seeded fresh"
    log = account.request_log()
    limit, window = account.snapshot()["options"]["rate_limit"], STATUS_TIMINGS.rate_limit_window
    return {
        "requests": len(log),
        "seconds": elapsed,
        "cpu_share": round(cpu * warp.speed() / elapsed, 2) if elapsed else None,
        "floor_seconds": rate_floor(len(log), limit, window),
        "by_endpoint": dict(breakdown(log)),
        "responses_429": sum(1 for entry in log if entry.status == 429),
    }


def check_figure(fleet: Fleet, work: Path, defaults: Defaults, *, runs: int, speed: float) -> dict[str, Any]:
    manifest = load_manifest([manifests(fleet, work / f"check-manifests-{fleet.databases}")])
    pages = sum(max(1, math.ceil(len(dbs) / 100)) for _, _, dbs in fleet.layout())
    imports = sum(1 for spec in manifest.databases if spec.imports)
    target = fleet.databases + imports + pages  # a backup status each, an import status where declared, the pages
    results = []
    with warp.running_at(speed):
        for _ in range(runs):
            results.append(_one_check(fleet, manifest, defaults.rate_limit))
    requests = [run["requests"] for run in results]
    ratios = [run["seconds"] / run["floor_seconds"] if run["floor_seconds"] else None for run in results]
    last = results[-1]
    return {
        "databases": fleet.databases,
        "subscriptions": fleet.subscriptions,
        "with_imports": imports,
        "pages": pages,
        "target_requests": target,
        "runs": runs,
        "speed": speed,
        "requests": sorted(set(requests)),
        "per_database": round(statistics.median(requests) / fleet.databases, 3),
        "ratio_to_target": round(statistics.median(requests) / target, 3),
        "by_endpoint_per_database": {
            name: round(count / fleet.databases, 3)
            for name, count in sorted(last["by_endpoint"].items(), key=lambda item: -item[1])
        },
        "floor_seconds": last["floor_seconds"],
        "median_seconds": round(statistics.median(run["seconds"] for run in results), 1),
        "worst_seconds": round(max(run["seconds"] for run in results), 1),
        "median_ratio": round(statistics.median(r for r in ratios if r is not None), 3) if any(ratios) else None,
        "worst_ratio": round(max(r for r in ratios if r is not None), 3) if any(ratios) else None,
        "responses_429": sum(run["responses_429"] for run in results),
        "cpu_share": max(run["cpu_share"] or 0 for run in results),
        "load": round(os.getloadavg()[0], 2),
    }
