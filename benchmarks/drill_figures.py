"""python -m benchmarks.drill_figures [--runs N]: the drill figure of issue 15, written to benchmarks/DRILL.md.

Run by hand (not in the suite: machines are noisy). Each run starts `reconciler sandbox up` in a scratch directory
and runs `reconciler --sandbox drill --format json` as a user would: a drill of catalog-prod (100,000 generated
keys, its backups switched on) into the scratch database, verified with `match_source` and `min_keys: 100000`.
Each step's duration is the drill report's own. Two worlds:

- the example seed's timings (a task takes 1.5 s, a backup and an import 2 s each): what a demo shows;
- the same seed with every emulated delay at 0: the product's own cost plus the real data work (dump, upload,
  list, download, check, load, count).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
STEPS = ("backup", "list", "import", "verify")
MANIFEST = """version: 1
databases:
  - name: catalog-prod
    subscription: 1234567
    database: 7654323
    drills:
      - {id: weekly, into: scratch, every: 7d, path: 's3://acme-drills/catalog',
         verify: {match_source: true, min_keys: 100000}}
  - name: scratch
    subscription: 2345678
    database: 8765433
    tier: essentials
    scratch: true
"""


NOTE = (
    "With every emulated delay at 0 the steps still take seconds: each is waits of the product's own pacing, which is",
    "sized for the real API. Ahead of its POST a step waits for the server's clock to leave the second of its receipt",
    "write (up to 1 s, so that a status of that second is never taken for this run's), then the task's first poll",
    "(1 s), then the outcome: the backup and import status reads are tasks themselves, read after a pause (1 s) and",
    "polled (1 s). The data work itself (dump, upload, download, check and load of 100,000 keys) is about 0.2 s",
    "(SANDBOX-DATA.md). The claim's 2 s settle comes before the first step and is in the wall time only.",
)


def reconciler(*args: str, cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDISCLOUD_")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    return time.perf_counter() - started, done


def one_run(work: Path) -> dict[str, Any]:
    _, started = reconciler("sandbox", "up", "--seed", "seed.yaml", cwd=work)
    if started.returncode != 0:
        raise SystemExit(f"sandbox up failed: {started.stderr}")
    try:
        wall, ran = reconciler(
            "--sandbox", "drill", "-f", "drills.yaml", "--auto-approve", "--format", "json", cwd=work
        )
    finally:
        reconciler("sandbox", "down", cwd=work)
    if ran.returncode != 0:
        raise SystemExit(f"drill failed ({ran.returncode}): {ran.stdout}{ran.stderr}")
    [drill] = json.loads(ran.stdout)["drills"]
    seconds = {step["step"]: step["seconds"] for step in drill["steps"]}
    return {"wall_s": round(wall, 3), "keys": drill["keys"], "source_keys": drill["source_keys"], **seconds}


def world(work: Path, *, instant: bool) -> None:
    seed = yaml.safe_load((ROOT / "examples" / "sandbox-world.yaml").read_text(encoding="utf-8"))
    for subscription in seed["subscriptions"]:
        for database in subscription["databases"]:
            if database["name"] == "catalog-prod":  # backups on, so its backup status can be read (API-NOTES §3)
                database["backup"] = {"path": "s3://acme-backups/catalog", "interval": "every-24-hours"}
    if instant:
        seed["timings"] = {name: 0 for name in seed["timings"]} | {"rate_limit_window": 60}
    (work / "seed.yaml").write_text(yaml.safe_dump(seed, sort_keys=False), encoding="utf-8")
    (work / "drills.yaml").write_text(MANIFEST, encoding="utf-8")


def main(argv: list[str]) -> int:
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 3
    results: dict[str, list[dict[str, Any]]] = {}
    for label, instant in (("example seed timings", False), ("emulated delays at 0", True)):
        work = Path(tempfile.mkdtemp(prefix="drill-bench-"))
        try:
            world(work, instant=instant)
            results[label] = []
            for n in range(runs):
                print(f"{label}: run {n + 1}/{runs}", file=sys.stderr)
                results[label].append(one_run(work))
                shutil.rmtree(work / ".reconciler-sandbox", ignore_errors=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    document = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} at the end",
        "results": results,
    }
    (HERE / "DRILL.md").write_text(render(document))
    print((HERE / "DRILL.md").read_text())
    return 0


def render(doc: dict[str, Any]) -> str:
    lines = [
        "# A restore drill of 100,000 keys in the sandbox (issue 15)",
        "",
        f"Regenerated by `python -m benchmarks.drill_figures` on {doc['date']}; {doc['machine']}.",
        "`reconciler --sandbox drill` after `sandbox up`: catalog-prod (100,000 keys) backed up to the S3 stand-in,",
        "listed, imported into the scratch database, keys counted on both servers. Seconds per step are the drill",
        "report's; wall is the whole `drill` process (start-up, reading the manifest and the receipt, the claim's",
        "2 s settle, each step).",
        "",
        "| world | " + " | ".join(f"{step} s" for step in STEPS) + " | wall s | keys counted |",
        "|---|" + "---|" * (len(STEPS) + 2),
    ]
    for label, runs in doc["results"].items():
        medians = [f"{statistics.median(run[step] for run in runs):.3f}" for step in STEPS]
        wall = statistics.median(run["wall_s"] for run in runs)
        counted = ", ".join(sorted({f"{run['keys']:,} of {run['source_keys']:,}" for run in runs}))
        lines.append(f"| {label} (median of {len(runs)}) | " + " | ".join(medians) + f" | {wall:.3f} | {counted} |")
    lines += ["", *NOTE]
    lines += ["", "| world | run | " + " | ".join(STEPS) + " | wall |", "|---|---|" + "---|" * (len(STEPS) + 1)]
    for label, runs in doc["results"].items():
        for n, run in enumerate(runs, 1):
            lines.append(f"| {label} | {n} | " + " | ".join(str(run[step]) for step in STEPS) + f" | {run['wall_s']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
