"""python -m benchmarks.sandbox_data [--runs N]: the figures of issue 14, written to benchmarks/SANDBOX-DATA.md.

Run by hand (not in the suite: machines are noisy). Each run starts `reconciler sandbox up` with the example
seed in a scratch directory, as a user would, and measures:

1. `sandbox up` until it returns (it returns once the API, every server and every store answer) and the
   resident memory of everything it started (bound: 2 s, 200 MB);
2. an import of 100,000 keys (a gzipped RDB in the S3 stand-in) into orders-prod through the API: the POST
   does the work (fetch, gunzip, check, load), so its latency is the import's cost (bound: 2 s);
3. `sandbox down`, and whether any recorded process or port is left.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis

from reconciler.sandbox.data.dump import dump
from reconciler.sandbox.data.process import RedisServer

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
KEYS = 100_000
FAKE_SIGV4 = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def reconciler(*args: str, cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDISCLOUD_")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    return time.perf_counter() - started, done


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[-1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def listening(netloc: str) -> bool:
    host, port = netloc.rsplit(":", 1)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def make_rdb(directory: Path) -> bytes:
    server = RedisServer(directory / "maker", "")
    server.start()
    try:
        client = server.client()
        client.execute_command("DEBUG", "POPULATE", KEYS - 1, "bench", 20)
        client.set("bench:ttl", "x", ex=3600)
        target = directory / "bench.rdb"
        dump(server, target, foreground=True)
        return gzip.compress(target.read_bytes(), 6)
    finally:
        server.stop()


def one_run(work: Path, rdb_gz: bytes) -> dict[str, Any]:
    up_seconds, started = reconciler("sandbox", "up", cwd=work)
    if started.returncode != 0:
        raise SystemExit(f"sandbox up failed: {started.stderr}")
    try:
        return measure(work, rdb_gz, up_seconds)
    finally:
        reconciler("sandbox", "down", cwd=work)  # a no-op when measure() already stopped it


def measure(work: Path, rdb_gz: bytes, up_seconds: float) -> dict[str, Any]:
    manifest = json.loads((work / ".reconciler-sandbox" / "sandbox.json").read_text())
    pids = [manifest["pid"], *children(manifest["pid"]), *manifest["store_pids"]]
    memory = rss_mb(pids)
    owner = next(k for k in manifest["api_keys"] if k["role"] == "owner")
    headers = {"x-api-key": owner["access_key"], "x-api-secret-key": owner["secret_key"]}
    orders = manifest["databases"]["7654321"]
    with httpx.Client(base_url=manifest["api_url"], headers=headers, timeout=60) as api:
        ready = api.get("/subscriptions").status_code == 200
        s3 = manifest["stores"]["s3"]
        httpx.put(f"{s3}/bench-seeds", headers=FAKE_SIGV4).raise_for_status()
        httpx.put(f"{s3}/bench-seeds/100k.rdb.gz", content=rdb_gz, headers=FAKE_SIGV4).raise_for_status()
        body = {"sourceType": "aws-s3", "importFromUri": ["s3://bench-seeds/100k.rdb.gz"]}
        begun = time.perf_counter()
        answer = api.post("/subscriptions/1234567/databases/7654321/import", json=body)
        import_seconds = time.perf_counter() - begun
        answer.raise_for_status()
    host, port = orders["endpoint"].rsplit(":", 1)
    client = redis.Redis(host=host, port=int(port), password=orders["password"])
    keys, ttl = int(client.dbsize()), int(client.ttl("bench:ttl"))
    client.close()
    down_seconds, stopped = reconciler("sandbox", "down", cwd=work)
    addresses = [urlsplit(manifest["api_url"]).netloc, *(db["endpoint"] for db in manifest["databases"].values())]
    addresses += [urlsplit(url).netloc for url in manifest["stores"].values()]
    return {
        "up_s": round(up_seconds, 3),
        "api_ready": ready,
        "rss_mb": round(memory, 1),
        "processes": len(pids),
        "import_100k_s": round(import_seconds, 3),
        "keys_after_import": keys,
        "ttl_kept": 0 < ttl <= 3600,
        "down_s": round(down_seconds, 3),
        "down_ok": stopped.returncode == 0,
        "left_processes": sum(alive(pid) for pid in pids),
        "left_listening": sum(listening(address) for address in addresses),
    }


def main(argv: list[str]) -> int:
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 5
    scratch = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    try:
        shutil.copytree(ROOT / "examples", scratch / "examples")
        rdb_gz = make_rdb(scratch)
        results = []
        for n in range(runs):
            print(f"run {n + 1}/{runs}", file=sys.stderr)
            results.append(one_run(scratch, rdb_gz))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = os.getloadavg()
    document = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} at the end",
        "rdb_gz_bytes": len(rdb_gz),
        "runs": results,
    }
    (HERE / "SANDBOX-DATA.md").write_text(render(document))
    print((HERE / "SANDBOX-DATA.md").read_text())
    return 0


def render(doc: dict[str, Any]) -> str:
    runs = doc["runs"]

    def figure(key: str) -> str:
        values = [run[key] for run in runs]
        return f"median {statistics.median(values):.3f}, max {max(values):.3f}"

    lines = [
        "# Sandbox with real data (issue 14)",
        "",
        f"Regenerated by `python -m benchmarks.sandbox_data` on {doc['date']}; {doc['machine']}.",
        f"Example seed (8 databases, one with 100,000 generated keys); import file: {KEYS:,} keys, "
        f"{doc['rdb_gz_bytes']:,} bytes gzipped.",
        "",
        "| figure | bound | result |",
        "|---|---|---|",
        f"| `sandbox up` until it returns, s | 2 | {figure('up_s')} |",
        f"| resident memory of everything it started, MB | 200 | {figure('rss_mb')} |",
        f"| import of 100,000 keys (the POST does the work), s | 2 | {figure('import_100k_s')} |",
        f"| `sandbox down`, s | - | {figure('down_s')} |",
        "",
        "| run | up s | RSS MB | processes | import s | keys after | TTL kept | down s | left processes | left ports |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, run in enumerate(runs, 1):
        lines.append(
            f"| {n} | {run['up_s']} | {run['rss_mb']} | {run['processes']} | {run['import_100k_s']} | "
            f"{run['keys_after_import']:,} | {run['ttl_kept']} | {run['down_s']} | {run['left_processes']} | "
            f"{run['left_listening']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
