"""Figures 6 and 7: the CPU and memory of `reconciler plan` at 20,000 databases, and of `validate` and `--version`,
each in a process of its own, measured by its parent with getrusage(RUSAGE_CHILDREN).

The parent is a small launcher, not the benchmark: Linux carries a process's peak RSS across exec, so a child
forked from the (large) benchmark process would report the benchmark's memory as its own.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.served import Served
from benchmarks.worlds import Fleet, manifests, seed
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Timings

ROOT = Path(__file__).resolve().parent.parent
PLAN_GOALS = {"cpu_seconds": 10.0, "peak_rss_mb": 250.0}  # issue 16, at 20,000 databases
VALIDATE_GOALS = {"seconds": 1.0, "peak_rss_mb": 150.0, "version_seconds": 0.25}  # issue 7, at 2,000 databases
_LAUNCHER = (
    "import json, resource, subprocess, sys, time; began = time.perf_counter(); "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "wall = time.perf_counter() - began; usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(json.dumps({'code': code, 'wall': wall, 'cpu': usage.ru_utime + usage.ru_stime, "
    "'maxrss_kb': usage.ru_maxrss}))"
)


def child_environ() -> dict[str, str]:
    """This environment without the API's variables, with the repository on the path (for `benchmarks`), and the
    product's bytecode compiled first (into its __pycache__, ignored by git), as pip compiles an installed
    package's. This checkout is an editable install and the machine sets PYTHONDONTWRITEBYTECODE: each measured
    process compiled every module of the product from source again (0.2 s of validate's 0.7 s, more of plan's)."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("REDISCLOUD_")}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), environ.get("PYTHONPATH"))))
    compiled = [sys.executable, "-m", "compileall", "-q", str(ROOT / "reconciler"), str(ROOT / "benchmarks")]
    subprocess.run(compiled, env=environ, check=True, stdout=subprocess.DEVNULL)
    return environ


def measured(argv: list[str], cwd: Path, environ: dict[str, str]) -> dict[str, Any]:
    """Exit code, wall seconds, CPU seconds and peak RSS (MB) of `python ARGV` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, sys.executable, *argv],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"launcher failed: {done.stderr[-2000:]}")
    usage = json.loads(done.stdout.strip().splitlines()[-1])
    if usage["code"] not in (0, 2):
        raise RuntimeError(f"`{' '.join(argv)}` exited {usage['code']}: {done.stderr[-2000:]}")
    return {"wall": usage["wall"], "cpu": usage["cpu"], "rss_mb": usage["maxrss_kb"] / 1024}


def plan_footprint(fleet: Fleet, work: Path, speed: float, runs: int = 3) -> dict[str, Any]:
    """Figure 6: `reconciler plan -f manifests` at its default flags against the emulator served over HTTP (its
    server has no rate limit; the CLI keeps its own 400 a minute, in scaled time, so it waits seconds).

    The median of `runs` runs, with the lowest and highest beside it: the same run's CPU went from 8.3 to 10.0 s
    from one minute to the next on this two-core machine (its emulator shares the cores), so one run says little."""
    manifests(fleet, work / "manifests")
    environ = child_environ()
    with Served(seed(fleet, Timings.instant(), rate_limit=10**9, request_log_limit=1), work) as url:
        environ |= {"REDISCLOUD_URL": url, "REDISCLOUD_ACCESS_KEY": SANDBOX_ACCESS_KEY}
        environ["REDISCLOUD_SECRET_KEY"] = SANDBOX_SECRET_KEY
        argv = ["-m", "benchmarks.warped_cli", str(speed), "plan", "-f", "manifests"]
        measures = [measured(argv, work, environ) for _ in range(runs)]
    cpu = sorted(run["cpu"] for run in measures)
    median_cpu, rss = statistics.median(cpu), max(run["rss_mb"] for run in measures)
    return {
        "databases": fleet.databases,
        "subscriptions": fleet.subscriptions,
        "speed": speed,
        "runs": runs,
        "wall_real_seconds": round(statistics.median(run["wall"] for run in measures), 1),
        "cpu_seconds": round(median_cpu, 2),
        "cpu_range": [round(cpu[0], 2), round(cpu[-1], 2)],
        "peak_rss_mb": round(rss),
        "cpu_ratio": round(median_cpu / PLAN_GOALS["cpu_seconds"], 3),
        "rss_ratio": round(rss / PLAN_GOALS["peak_rss_mb"], 3),
        "goals": PLAN_GOALS,
    }


def validate_footprint(fleet: Fleet, work: Path) -> dict[str, Any]:
    """Figure 7: `validate` of the fleet's manifests (40 files), best of three, and `reconciler --version`."""
    manifests(fleet, work / "manifests")
    environ = child_environ()
    runs = [measured(["-m", "reconciler", "validate", "-f", "manifests"], work, environ) for _ in range(3)]
    version = min(measured(["-m", "reconciler", "--version"], work, environ)["wall"] for _ in range(5))
    seconds = min(run["wall"] for run in runs)
    rss = max(run["rss_mb"] for run in runs)
    return {
        "databases": fleet.databases,
        "files": 40,
        "validate_seconds": round(seconds, 3),
        "validate_ratio": round(seconds / VALIDATE_GOALS["seconds"], 3),
        "validate_peak_rss_mb": round(rss),
        "rss_ratio": round(rss / VALIDATE_GOALS["peak_rss_mb"], 3),
        "version_seconds": round(version, 3),
        "version_ratio": round(version / VALIDATE_GOALS["version_seconds"], 3),
        "goals": VALIDATE_GOALS,
    }
