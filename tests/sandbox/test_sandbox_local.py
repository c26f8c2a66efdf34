"""The file-backed world: shared by processes, locked, saved atomically, survives SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import (
    FORMAT_VERSION,
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Fault,
    SandboxSeedError,
    inject_fault,
    local_emulator,
    local_transport,
    reset,
)
from tests.support.clients import BASE_URL
from tests.support.emulator_http import pro_db
from tests.support.examples import ORDERS, ROOT, SEED

HEADERS = {"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": SANDBOX_SECRET_KEY}
TAGS = pro_db(ORDERS) + "/tags"

CHILD = """
import sys, httpx
from pathlib import Path
from reconciler.sandbox import local_transport
client = httpx.Client(transport=local_transport(Path(sys.argv[1]), Path(sys.argv[2])), base_url=sys.argv[3],
                      headers={"x-api-key": sys.argv[4], "x-api-secret-key": sys.argv[5]})
mode = sys.argv[6]
if mode == "claim":
    print(client.post(sys.argv[7], json={"key": "rcr_import_seed-1", "value": "claimed"}).status_code)
else:
    n = 0
    while True:
        client.post(sys.argv[7], json={"key": f"k{n}", "value": "v" * 100})
        n += 1
"""


def _child(state_dir: Path, mode: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", CHILD, str(state_dir), str(SEED), BASE_URL, *HEADERS.values(), mode, TAGS]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def _client(state_dir: Path) -> httpx.Client:
    return httpx.Client(transport=local_transport(state_dir, SEED), base_url=BASE_URL, headers=HEADERS)


def test_local_world_is_created_from_the_seed_with_a_format_version(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        assert client.get(pro_db(ORDERS)).json()["name"] == "orders-prod"
    saved = json.loads((tmp_path / "world.json").read_text())
    assert saved["format_version"] == FORMAT_VERSION
    assert saved["kind"] == "redis-cloud-sandbox-world"


def test_two_emulators_on_one_state_dir_see_one_account(tmp_path: Path) -> None:
    with _client(tmp_path) as first:
        first.post(TAGS, json={"key": "rcr_backup_b1", "value": "claimed"})
    with _client(tmp_path) as second:
        assert second.post(TAGS, json={"key": "rcr_backup_b1", "value": "claimed"}).status_code == 409
    assert local_emulator(tmp_path).tags(ORDERS)["rcr_backup_b1"] == "claimed"


def test_racing_processes_claim_a_tag_exactly_once(tmp_path: Path) -> None:
    children = [_child(tmp_path, "claim") for _ in range(3)]
    statuses = sorted(int(child.communicate(timeout=30)[0]) for child in children)
    assert statuses == [200, 409, 409]


def test_injected_fault_persists_for_the_next_process(tmp_path: Path) -> None:
    inject_fault(tmp_path, Fault.server_error(503, count=1), seed=SEED)
    with _client(tmp_path) as client:
        assert client.get("/subscriptions").status_code == 503
        assert client.get("/subscriptions").status_code == 200


def test_time_passes_between_processes(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        task_id = client.put(pro_db(ORDERS), json={"remoteBackup": {"active": False}}).json()["taskId"]
    time.sleep(0.01)
    emulator = local_emulator(tmp_path)
    [task] = [t for t in emulator.tasks() if t["task_id"] == task_id]
    assert task["done_at"] > task["created"]


def test_reset_restores_the_seed(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        client.delete(TAGS + "/team")
    reset(tmp_path, SEED)
    assert local_emulator(tmp_path).tags(ORDERS) == {"team": "orders", "env": "prod"}


def test_reset_without_seed_gives_an_empty_world_with_the_default_owner(tmp_path: Path) -> None:
    reset(tmp_path, None)
    with _client(tmp_path) as client:
        assert client.get("/subscriptions").json()["subscriptions"] == []


def test_unsupported_world_format_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "world.json").write_text(json.dumps({"kind": "redis-cloud-sandbox-world", "format_version": 99}))
    with pytest.raises(SandboxSeedError, match="format 99 is not supported"):
        local_emulator(tmp_path).snapshot()


def test_sigkill_at_any_point_leaves_a_consistent_world(tmp_path: Path) -> None:
    child = _child(tmp_path, "flood")
    deadline = time.monotonic() + 10
    while not (tmp_path / "world.json").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=10)
    world = json.loads((tmp_path / "world.json").read_text())  # parses: never half-written
    assert world["format_version"] == FORMAT_VERSION
    with _client(tmp_path) as client:
        assert client.get(TAGS).status_code == 200
    assert not list(tmp_path.glob(".world-*"))  # a temp file left by the kill is cleaned up
