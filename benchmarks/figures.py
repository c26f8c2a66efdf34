"""Each figure measured against its bound, in one run (compare ratios, not seconds: machines here are noisy)."""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.worlds import Fleet, manifests, seed, write_seed
from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.core.desired import Manifest
from reconciler.core.plan import Action
from reconciler.core.planner import plan
from reconciler.core.polling import PollPolicy
from reconciler.manifest.load import load_manifest
from reconciler.refresh import fetch_live
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator, Timings

BASE = "https://sandbox.invalid/v1"


def _client(
    emulator: Emulator, *, limit: int = 10**9, window: float = 60.0, poll: PollPolicy | None = None
) -> RedisCloudClient:
    http = open_http(BASE, Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY), emulator.transport())
    session = Session(http, limiter=RateLimiter(limit, window), retry=RetryPolicy(base_delay=0.01, max_delay=0.5))
    return RedisCloudClient(session, poll=poll or PollPolicy(initial=0.01, maximum=0.2))


def _world(fleet: Fleet, work: Path, timings: Timings, **options: Any) -> tuple[Emulator, Manifest]:
    seed_path = write_seed(seed(fleet, timings, **options), work / "world.yaml")
    manifest = load_manifest([manifests(fleet, work / "manifests")])
    return Emulator(seed=seed_path, timings=timings), manifest


def _minimum(fleet: Fleet) -> int:
    pages = sum(max(1, math.ceil(len(dbs) / 100)) for _, _, dbs in fleet.layout())
    tags = sum(1 for _, _, dbs in fleet.layout() for db in dbs if fleet.has_operation(db))
    return pages + tags


def plan_requests(fleet: Fleet) -> dict[str, Any]:
    """Figure 1: requests a plan makes vs the minimum (list pages + tag reads), in both list modes."""
    out: dict[str, Any] = {
        "databases": fleet.databases,
        "subscriptions": fleet.subscriptions,
        "minimum": _minimum(fleet),
        "terraform_style_baseline": fleet.databases,
    }
    for mode, includes in (("list_without_backup", False), ("list_with_backup", True)):
        with tempfile.TemporaryDirectory() as work:
            emulator, manifest = _world(
                fleet, Path(work), Timings.instant(), pro_list_includes_backup=includes, rate_limit=10**9
            )
            client = _client(emulator)
            started = time.perf_counter()
            result = plan(manifest, fetch_live(client, manifest))
            elapsed = time.perf_counter() - started
            assert result.count(Action.UPDATE) == 0, result.summary_line  # no drift: only the one-shots
            pro_gets = 0 if includes else sum(len(d) for _, t, d in fleet.layout() if t == "pro")
            out[mode] = {
                "requests": client.session.requests,
                "seconds": round(elapsed, 3),
                "minimum_for_mode": out["minimum"] + pro_gets,
                "ratio_to_minimum": round(client.session.requests / out["minimum"], 3),
            }
    return out


def plan_under_rate_limit(fleet: Fleet, window: float) -> dict[str, Any]:
    """Figure 2: wall time with 400 requests per (scaled) minute enforced, vs the floor requests/limit."""
    with tempfile.TemporaryDirectory() as work:
        timings = Timings(0, 0, 0, 0, 0, 0, 0, window)
        emulator, manifest = _world(fleet, Path(work), timings, pro_list_includes_backup=False, rate_limit=400)
        client = _client(emulator, limit=400, window=window)
        started = time.perf_counter()
        fetch_live(client, manifest)
        elapsed = time.perf_counter() - started
        requests = client.session.requests
        refused = sum(1 for entry in emulator.request_log() if entry.status == 429)
    floor = requests / 400 * window
    return {
        "databases": fleet.databases,
        "window_seconds": window,
        "requests": requests,
        "seconds": round(elapsed, 3),
        "floor_seconds": round(floor, 3),
        "ratio": round(elapsed / floor, 3),
        "responses_429": refused,
        "goal": "ratio <= 1.05 and no 429",
    }


def apply_makespan(backups: int, subscriptions: int, duration: float, parallelism: int) -> dict[str, Any]:
    """Figure 3: makespan of on-demand backups vs max over subscriptions of ceil(k_s / 4) x d."""
    from reconciler.apply.applier import Applier, ApplyOptions

    fleet = Fleet(backups, subscriptions, essentials_share=0.0, operations_share=1.0)
    with tempfile.TemporaryDirectory() as work:
        timings = Timings(0, 0, 0, duration, duration, 0, 0, 60)
        emulator, manifest = _world(fleet, Path(work), timings, rate_limit=10**9)
        # The product's polling (1 s growing to 30 s) scaled as if each backup took five minutes.
        scale = duration / 300
        default = PollPolicy()
        client = _client(emulator, poll=PollPolicy(initial=default.initial * scale, maximum=default.maximum * scale))
        result = plan(manifest, fetch_live(client, manifest))
        options = ApplyOptions(run_id="0badbe11", environ={}, parallelism=parallelism)
        started = time.perf_counter()
        outcomes = Applier(client, result, options).run()
        elapsed = time.perf_counter() - started
        peak = max(emulator.peak_concurrent_backups(sid) for sid, _, _ in fleet.layout())
    optimum = max(math.ceil(len(dbs) / 4) for _, _, dbs in fleet.layout()) * duration
    return {
        "backups": backups,
        "subscriptions": subscriptions,
        "duration_seconds": duration,
        "parallelism": parallelism,
        "done": sum(1 for o in outcomes if o.outcome.value == "done"),
        "makespan_seconds": round(elapsed, 3),
        "optimum_seconds": round(optimum, 3),
        "ratio": round(elapsed / optimum, 3),
        "peak_backups_per_subscription": peak,
        "requests": client.session.requests,
        "goal": "ratio <= 1.10, peak <= 4",
    }


def _measure(argv: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of `python -m reconciler ARGV` in a fresh process."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) benchmark process.
    probe = (
        "import sys; from reconciler.cli import main; code = main(sys.argv[1:]); "
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]; "
        "print(hwm, file=sys.stderr); sys.exit(code)"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, *argv], cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    rss_kb = int(done.stderr.strip().splitlines()[-1])
    return elapsed, rss_kb // 1024


def validate_cost(fleet: Fleet) -> dict[str, Any]:
    """Figure 4: validate of the fleet's manifests (40 files) and `reconciler --version`."""
    with tempfile.TemporaryDirectory() as work:
        manifests(fleet, Path(work) / "manifests")
        runs = [_measure(["validate", "-f", "manifests"], Path(work)) for _ in range(3)]
    seconds = min(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    version = min(_timed([sys.executable, "-m", "reconciler", "--version"]) for _ in range(5))
    return {
        "databases": fleet.databases,
        "files": 40,
        "validate_seconds": round(seconds, 3),
        "validate_ratio": round(seconds / 1.0, 3),
        "validate_peak_rss_mb": rss,
        "rss_ratio": round(rss / 150, 3),
        "version_seconds": round(version, 3),
        "version_ratio": round(version / 0.25, 3),
        "goal": "validate <= 1.0 s and 150 MB; --version <= 0.25 s",
    }


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - started
