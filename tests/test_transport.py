"""The wire under httpx (cloud/transport.py), over real sockets: a small HTTP/1.1 server that closes, drops, gzips
and stalls as a real one can, and the session on top, as apply uses it. What matters to a user: a write is never
sent twice nor lost to a connection the server had already closed, and every failure says whether it was sent."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import trustme

from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.cloud.transport import StdlibTransport, default_transport
from reconciler.errors import OutcomeUnknownError, ServerError


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str]] = []  # (method, path) of every request that arrived whole
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive unless a handler closes
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, self.path))
        if self.path.endswith("/drop"):  # the request arrived; the answer never leaves
            self.close_connection = True
            return
        if self.path.endswith("/slow"):
            time.sleep(1.0)
        body = json.dumps({"n": len(self.server.seen), "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.endswith("/gzip"):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # `/idle-close`: answered as kept alive, then closed, as a server does once a connection idles too long
        self.close_connection = self.path.endswith("/idle-close")

    do_GET = do_POST = do_PUT = _any


@pytest.fixture
def server() -> Iterator[_Server]:
    served = _Server()
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


_OPEN: list[Session] = []


@pytest.fixture(autouse=True)
def _closed() -> Iterator[None]:
    """Every session a test opens is closed after it (its kept-alive sockets with it)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def _session(url: str, *, attempts: int = 3, timeout: float = 30.0) -> Session:
    http = httpx.Client(base_url=url, timeout=httpx.Timeout(timeout), transport=StdlibTransport())
    return _kept(
        Session(http, limiter=RateLimiter(10_000), retry=RetryPolicy(attempts, base_delay=0.001), sleep=lambda _: None)
    )


def _kept(session: Session) -> Session:
    _OPEN.append(session)
    return session


def test_requests_share_one_kept_alive_connection(server: _Server) -> None:
    session = _session(server.url)
    answers = [session.call("GET", f"/databases/{n}") for n in range(5)]
    assert [a["n"] for a in answers] == [1, 2, 3, 4, 5]
    assert server.connections == 1


def test_a_write_after_the_server_closed_an_idle_connection_is_sent_once_on_a_new_one(server: _Server) -> None:
    session = _session(server.url)
    session.call("GET", "/idle-close")
    time.sleep(0.2)  # the server's close reaches us
    answer = session.call("POST", "/subscriptions/1/databases/2/import", json={"x": 1}, safe=False)
    assert answer["path"] == "/v1/subscriptions/1/databases/2/import"
    assert server.seen.count(("POST", "/v1/subscriptions/1/databases/2/import")) == 1
    assert server.connections == 2


def test_a_write_whose_answer_is_lost_is_not_sent_again_and_says_its_outcome_is_unknown(server: _Server) -> None:
    session = _session(server.url)
    with pytest.raises(OutcomeUnknownError):
        session.call("POST", "/backup/drop", safe=False)
    assert server.seen == [("POST", "/v1/backup/drop")]


def test_a_read_whose_answer_is_lost_is_tried_again(server: _Server) -> None:
    session = _session(server.url, attempts=3)
    with pytest.raises(ServerError) as caught:
        session.call("GET", "/tasks/drop")
    assert caught.value.error_type == "CONNECTION_LOST"
    assert server.seen == [("GET", "/v1/tasks/drop")] * 3


def test_a_server_nobody_listens_on_is_retried_even_for_a_write_as_nothing_was_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = _session(f"http://127.0.0.1:{port}/v1", attempts=2)
    with pytest.raises(ServerError) as caught:
        session.call("POST", "/backup", safe=False)
    assert caught.value.error_type == "CONNECTION_FAILED" and session.retries == 1


def test_a_gzipped_answer_is_read_as_json(server: _Server) -> None:
    assert _session(server.url).call("GET", "/gzip")["path"] == "/v1/gzip"


def test_an_answer_slower_than_the_timeout_is_a_lost_answer(server: _Server) -> None:
    session = _session(server.url, attempts=1, timeout=0.2)
    with pytest.raises(OutcomeUnknownError):
        session.call("PUT", "/slow", json={}, safe=False)
    assert server.seen == [("PUT", "/v1/slow")]


def test_the_keys_go_out_as_headers_and_the_query_as_written(server: _Server) -> None:
    seen: list[dict[str, str]] = []

    class Recording(_Handler):
        def _any(self) -> None:
            seen.append({key.lower(): value for key, value in self.headers.items()} | {"path": self.path})
            super()._any()

        do_GET = _any

    server.RequestHandlerClass = Recording
    http = open_http(server.url, Credentials("k@/:+=", "s" * 300))
    _kept(Session(http)).call("GET", "/subscriptions/1/databases", params={"offset": 100, "limit": 100})
    assert seen[0]["x-api-key"] == "k@/:+=" and seen[0]["x-api-secret-key"] == "s" * 300
    assert seen[0]["path"] == "/v1/subscriptions/1/databases?offset=100&limit=100"


def test_a_proxy_in_the_environment_leaves_the_requests_to_httpx_own_transport(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx honours HTTP(S)_PROXY only with its own transport: through the proxy, not around it."""
    monkeypatch.setenv("HTTP_PROXY", server.url.removesuffix("/v1"))
    assert default_transport() is None
    http = open_http("http://api.example.invalid/v1", Credentials("a", "b"))
    assert _kept(Session(http)).call("GET", "/subscriptions")["path"] == "http://api.example.invalid/v1/subscriptions"
    monkeypatch.delenv("HTTP_PROXY")
    assert isinstance(default_transport(), StdlibTransport)


@pytest.fixture
def tls_server(server: _Server, tmp_path: Any) -> Iterator[tuple[_Server, str]]:
    """The same server behind TLS, its certificate signed by a throwaway CA written to a file."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    yield server, str(tmp_path / "ca.pem")


def test_https_is_verified_against_the_trusted_authorities(
    tls_server: tuple[_Server, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with httpx's own transport: SSL_CERT_FILE names the authority to trust; an unknown one is refused
    before anything is sent (a connect failure, tried again), never skipped."""
    server, authority = tls_server
    url = server.url.replace("http://", "https://")
    with pytest.raises(ServerError) as caught:
        _session(url, attempts=1).call("POST", "/backup", safe=False)
    assert caught.value.error_type == "CONNECTION_FAILED" and "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert server.seen == []
    monkeypatch.setenv("SSL_CERT_FILE", authority)
    assert _session(url).call("POST", "/backup", safe=False)["path"] == "/v1/backup"
    assert server.seen == [("POST", "/v1/backup")]
