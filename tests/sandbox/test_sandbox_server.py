"""`serve`: the same emulator on a real socket, started in a subprocess."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Fault, inject_fault
from tests.support.emulator_http import pro_db
from tests.support.examples import ORDERS, ROOT, SEED

HEADERS = {"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": SANDBOX_SECRET_KEY}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The served sandbox's URL and world; its log (stderr) is `LOG` beside the world."""
    state_dir = tmp_path_factory.mktemp("served")
    log = (state_dir.parent / f"{state_dir.name}.log").open("w", encoding="utf-8")
    port = _free_port()
    code = (
        "import sys; from pathlib import Path; from reconciler.sandbox import serve; "
        "serve('127.0.0.1', int(sys.argv[1]), Path(sys.argv[2]), state_dir=Path(sys.argv[3]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(port), str(SEED), str(state_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
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
        log.close()
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


def _log(state_dir: Path) -> str:
    return (state_dir.parent / f"{state_dir.name}.log").read_text(encoding="utf-8")


TAGS = "/subscriptions/1234567/databases/7654321/tags"
HOSTILE = [
    pytest.param("POST", TAGS, "[" * 100_000 + "]" * 100_000, id="deeply-nested-body"),
    pytest.param("POST", TAGS, '{"key": "a", "value": ' + "[" * 500 + "]" * 500 + "}", id="nested-past-the-limit"),
    pytest.param("POST", TAGS, '{"key": "a", "value": ' + "7" * 5000 + "}", id="5000-digit-number-in-body"),
    pytest.param("GET", "/subscriptions/1234567/databases/" + "9" * 5000, None, id="5000-digit-database-id"),
    pytest.param("GET", "/fixed/subscriptions/" + "9" * 5000, None, id="5000-digit-subscription-id"),
    pytest.param("GET", "/subscriptions/1234567/databases/2147483648", None, id="id-past-int32"),
]


@pytest.mark.parametrize(("method", "path", "body"), HOSTILE)
def test_a_hostile_request_gets_400_and_the_server_stays_up_without_a_traceback(
    server: tuple[str, Path], method: str, path: str, body: str | None
) -> None:
    base_url, state_dir = server
    headers = HEADERS | {"content-type": "application/json"}
    response = httpx.request(method, base_url + path, headers=headers, content=body, timeout=30)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["status"] == 400
    assert httpx.get(base_url + pro_db(ORDERS), headers=HEADERS).status_code == 200  # still up, world intact
    assert "Traceback" not in _log(state_dir) and "Exception" not in _log(state_dir)


def test_a_body_nested_a_little_is_parsed_as_usual(server: tuple[str, Path]) -> None:
    base_url, _ = server
    nested = '{"key": "a", "value": ' + "[" * 20 + "]" * 20 + "}"
    response = httpx.post(base_url + TAGS, headers=HEADERS, content=nested)
    assert "Malformed JSON" not in response.text  # the depth limit is far beyond any real body


def test_serve_on_a_busy_port_exits_1_with_the_reason_and_no_banner(server: tuple[str, Path]) -> None:
    base_url, _ = server
    port = base_url.split(":")[2].split("/")[0]
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", port, "--seed", str(SEED)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # no banner promising a server that never starts
    assert result.stderr == (
        f"Error: cannot serve on 127.0.0.1:{port}: the port is in use (another sandbox, or another server); "
        "pass --port N, or stop what holds it\n"
    )


def test_serve_verbose_logs_a_line_per_request_without_keys_or_bodies() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port), "--seed", str(SEED), "--verbose"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    password = "p%40ss%2F%3A%2B%3Dw0rd" + "Q" * 200  # as the product percent-encodes it into a URI
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(base_url + "/subscriptions", headers=HEADERS, params={"offset": 0}, timeout=0.5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        body = {"sourceType": "ftp", "importFromUri": [f"ftp://loader:{password}@ftp.example/x.rdb"]}
        httpx.post(base_url + pro_db(ORDERS) + "/import", headers=HEADERS, json=body)
        httpx.get(base_url + "/subscriptions", headers={"x-api-key": "nobody", "x-api-secret-key": "wrong-Hd82Rt"})
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    lines = [line.split(" ", 1)[1] for line in out.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]
    assert lines[-3].startswith("GET /v1/subscriptions?offset=0 -> 200 (key owner, ")
    assert re.match(rf"POST /v1{pro_db(ORDERS)}/import -> 20\d \(key owner, \d+ ms\)$", lines[-2]), lines[-2]
    assert re.match(r"GET /v1/subscriptions -> 401 \(unknown key, \d+ ms\)$", lines[-1]), lines[-1]
    logged = "\n".join(lines)
    assert "w0rd" not in logged and "QQQQ" not in logged and "wrong-Hd82Rt" not in logged
    assert SANDBOX_SECRET_KEY not in logged and "Traceback" not in err
