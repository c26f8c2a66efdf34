"""`serve`: the same emulator on a real socket, started in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Fault, inject_fault

from .helpers import ORDERS, SEED, pro_db

REPO = Path(__file__).resolve().parents[2]
HEADERS = {"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": SANDBOX_SECRET_KEY}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    state_dir = tmp_path_factory.mktemp("served")
    port = _free_port()
    code = (
        "import sys; from pathlib import Path; from reconciler.sandbox import serve; "
        "serve('127.0.0.1', int(sys.argv[1]), Path(sys.argv[2]), state_dir=Path(sys.argv[3]))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(port), str(SEED), str(state_dir)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(base_url + "/subscriptions", timeout=0.5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield base_url, state_dir
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
        assert SANDBOX_SECRET_KEY in out and base_url in out  # serve printed the URL and the credentials


def test_serve_answers_a_real_envelope_over_a_socket(server: tuple[str, Path]) -> None:
    base_url, _ = server
    response = httpx.get(base_url + "/subscriptions/1234567/databases", headers=HEADERS, params={"limit": 1})
    assert response.status_code == 200
    assert response.headers["x-rate-limit-remaining"].isdigit()
    body = response.json()
    assert body["subscription"][0]["databases"][0]["databaseId"] == ORDERS
    assert body["links"][0]["href"] == base_url + "/subscriptions/1234567/databases"
    assert httpx.get(base_url + "/subscriptions").status_code == 401


def test_serve_drops_the_connection_when_a_fault_says_so(server: tuple[str, Path]) -> None:
    base_url, state_dir = server
    inject_fault(state_dir, Fault.drop(method="GET", path="/subscriptions/*/databases/*"))
    with pytest.raises(httpx.TransportError):
        httpx.get(base_url + pro_db(ORDERS), headers=HEADERS, timeout=5)
    assert httpx.get(base_url + pro_db(ORDERS), headers=HEADERS).status_code == 200
