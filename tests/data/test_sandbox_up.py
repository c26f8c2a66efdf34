"""`reconciler sandbox up | status | down` as processes: real data through the CLI, and nothing left behind."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from tests.support.cli import run_reconciler
from tests.support.workdirs import copy_examples

ORDERS = "7654321"


def keys_in(database: dict[str, Any]) -> int:
    host, port = database["endpoint"].rsplit(":", 1)
    client = redis.Redis(host=host, port=int(port), password=database["password"])
    try:
        return int(client.dbsize())
    finally:
        client.close()


def listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return copy_examples(tmp_path)


def test_up_imports_real_data_through_the_cli_and_down_leaves_nothing_running(work: Path) -> None:
    started = run_reconciler("sandbox", "up", "--seed", "examples/sandbox-world.yaml", "--verbose", cwd=work)
    assert started.returncode == 0, started.stderr
    assert "REDISCLOUD_URL=http://127.0.0.1:" in started.stdout and "redis-cli -u redis://default:" in started.stdout
    logged = next(line for line in started.stdout.splitlines() if line.startswith("Every API request is logged to"))
    assert logged.endswith("/.reconciler-sandbox/sandbox.log.") and Path(logged.split()[-1][:-1]).is_absolute()
    try:
        shown = run_reconciler("sandbox", "status", "--format", "json", cwd=work)
        assert shown.returncode == 0, shown.stderr
        status = json.loads(shown.stdout)
        databases = {str(db["id"]): db for db in status["databases"]}
        assert set(status["stores"]) >= {"s3", "ftp", "http", "gcs"}
        assert keys_in(databases[ORDERS]) == 3  # the seed's literal keys

        applied = run_reconciler("--sandbox", "apply", "-f", "examples/", "--auto-approve", cwd=work)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "No sandbox is up" not in applied.stderr  # it used the running one
        assert keys_in(databases[ORDERS]) == 3000  # the union of the seed's three shard files
        requests = (work / ".reconciler-sandbox" / "sandbox.log").read_text()
        assert f"INFO POST /v1/subscriptions/1234567/databases/{ORDERS}/import -> 200 (key owner, " in requests

        manifest = json.loads((work / ".reconciler-sandbox" / "sandbox.json").read_text())
    finally:
        stopped = run_reconciler("sandbox", "down", cwd=work)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    pids = [manifest["pid"], *(db["pid"] for db in manifest["databases"].values())]
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:200] for pid in pids if alive(pid)}
    log = (work / ".reconciler-sandbox" / "sandbox.log").read_text()[-2000:]
    assert left == {}, log
    addresses = [urlsplit(manifest["api_url"]).netloc, *(db["endpoint"] for db in manifest["databases"].values())]
    addresses += [urlsplit(url).netloc for url in manifest["stores"].values()]
    assert [address for address in addresses if listening(address)] == [], log
    assert not (work / ".reconciler-sandbox" / "sandbox.json").exists()


def test_status_and_down_without_a_sandbox_say_so(work: Path) -> None:
    shown = run_reconciler("sandbox", "status", cwd=work)
    assert shown.returncode == 1
    assert shown.stderr.strip() == (
        f"Error: no sandbox is up in {work.resolve()}/.reconciler-sandbox/: start one with `reconciler sandbox up`"
    )
    stopped = run_reconciler("sandbox", "down", cwd=work)
    assert stopped.returncode == 0 and "No sandbox was up" in stopped.stdout


def test_a_bad_data_seed_is_one_clear_error_and_starts_nothing(work: Path) -> None:
    seed = work / "bad.yaml"
    seed.write_text(
        "kind: redis-cloud-sandbox-world\nformat_version: 1\n"
        "subscriptions: [{id: 1, name: s, databases: [{id: 2, name: d, data: {keys: lots}}]}]\n",
        encoding="utf-8",
    )
    started = run_reconciler("sandbox", "up", "--seed", "bad.yaml", cwd=work)
    assert started.returncode == 1
    assert started.stderr.strip() == (
        "Error: bad.yaml: database 2 data.keys must be a number of keys or a mapping of keys to values"
    )
    assert not (work / ".reconciler-sandbox" / "sandbox.json").exists()
