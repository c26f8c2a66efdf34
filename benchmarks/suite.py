"""Every figure of issue 16 (and issue 7's start-up, issue 15's check), in one run: results.json, then RESULTS.md
from it. `--only check` (figure 8) and `--only footprint` (figures 6 and 7) run those alone into the last run's
results."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.apply_figures import Pace, apply_run, one_shots, settings
from benchmarks.check_figures import check_figure
from benchmarks.diff_cost import diff_cost
from benchmarks.flags import defaults
from benchmarks.footprint import plan_footprint, validate_footprint
from benchmarks.plan_figures import plan_requests, plan_under_rate_limit
from benchmarks.report import render
from benchmarks.worlds import Fleet

HERE = Path(__file__).resolve().parent
MINUTE = 60.0


def main(argv: list[str]) -> int:
    if argv[:2] == ["--only", "check"]:
        return _only(_check_figure)
    if argv[:2] == ["--only", "footprint"]:
        return _only(_footprint_figures)
    quick = "--quick" in argv
    began = time.perf_counter()
    flags = defaults()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        "quick": quick,
        "defaults": asdict(flags),
    }
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        _step("figures 1 and 5: what a plan reads")
        sizes = (200, 2_000) if quick else (200, 2_000, 10_000)
        results["plan_requests"] = [plan_requests(Fleet(n, 10 if n < 2_000 else 40), work, flags, 60) for n in sizes]
        _step("figure 4: plan under the rate limit")
        results["plan_rate_limited"] = plan_under_rate_limit(
            Fleet(2_000, 40), work, flags, runs=3 if quick else 10, speed=20
        )
        _step("figures 2 and 3: apply")
        results["apply"] = _apply_runs(flags, quick)
        results |= _footprint_figures(work, quick)
        _step("figure 8: check")
        results["check"] = _check(work, flags, quick)
    results["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    results["minutes"] = round((time.perf_counter() - began) / 60, 1)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (HERE / "RESULTS.md").write_text(render(results), encoding="utf-8")
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))
    return 0


def _check(work: Path, flags: Any, quick: bool) -> dict[str, Any]:
    return check_figure(Fleet(2_000, 40), work / "check", flags, runs=1 if quick else 3, speed=5)


def _footprint_figures(work: Path, quick: bool) -> dict[str, Any]:
    """Figures 6 and 7: their own processes' CPU and memory, and `plan()` per database."""
    _step("figure 6: plan at 20,000 databases, and plan() per database")
    plan = plan_footprint(Fleet(5_000 if quick else 20_000, 200), work / "footprint", 60)
    cost = diff_cost(5_000)
    _step("figure 7: validate and --version")
    return {
        "plan_footprint": plan,
        "diff_cost": cost,
        "validate": [validate_footprint(Fleet(2_000, 40), work / "validate")],
    }


def _check_figure(work: Path, quick: bool) -> dict[str, Any]:
    _step("figure 8: check")
    return {"check": _check(work, defaults(), quick)}


def _only(figures: Callable[[Path, bool], dict[str, Any]]) -> int:
    """`python -m benchmarks --only check` (figure 8, about 4 minutes) or `--only footprint` (figures 6 and 7,
    about 2): those figures alone, written into the last full run's results.json and RESULTS.md, whose other
    figures are kept as they are; each figure rerun carries its own date and load average."""
    results = json.loads((HERE / "results.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        fresh = figures(Path(scratch), False)
    stamp = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load": round(os.getloadavg()[0], 2)}
    for name, figure in fresh.items():
        for one in figure if isinstance(figure, list) else [figure]:
            one |= stamp
        results[name] = figure
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (HERE / "RESULTS.md").write_text(render(results), encoding="utf-8")
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))
    return 0


def _apply_runs(flags: Any, quick: bool) -> list[dict[str, Any]]:
    pace = Pace(reference_real=5.0, cap_real=15.0) if quick else Pace(reference_real=10.0, cap_real=90.0)
    operations = (0.5 * MINUTE, 2 * MINUTE) if quick else (0.5 * MINUTE, 2 * MINUTE, 10 * MINUTE)
    tasks = (10.0, 2 * MINUTE)
    matrix = [
        (settings(200, 10), tasks),
        (settings(2_000, 40), tasks[:1] if quick else tasks),
        (one_shots("backup", 200, 10), operations),
        (one_shots("import", 200, 10), operations),
    ]
    runs = []
    for workload, durations in matrix:
        for duration in durations:
            _step(f"  {workload.label}, d = {duration:g} s")
            runs.append(apply_run(workload, duration, flags, pace))
    _step("  best case: 200 backups, d = 30 s, every database at once, no rate limit")
    runs.append(apply_run(one_shots("backup", 200, 10), 0.5 * MINUTE, flags, pace, best_case=True))
    _step("  for comparison: 200 backups, d = 2 min, at speed 50 (every request's CPU 50 times its cost)")
    runs.append(apply_run(one_shots("backup", 200, 10), 2 * MINUTE, flags, pace, speed=50.0))
    return runs


def _step(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)
