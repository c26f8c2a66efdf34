"""The wire under httpx: the standard library's `http.client`, with a small pool of kept-alive connections.

httpx stays the client (URLs, headers, JSON, timeouts, errors, the decoding of answers); this only moves the bytes.
Its default transport, httpcore with the pure-Python h11, cost about 0.45 ms of CPU a request more than this one
does on the two-core machine the benchmarks run on: about 1 s of a plan of 20,000 databases, whose 2,400 requests
were most of its 10 s CPU budget (issue 16). The default is kept wherever it does what this cannot: a proxy from
the environment (httpx honours `HTTPS_PROXY` and friends only with its own transport), and the built-in emulator's
in-process transport.

Safety of writes rests on two things the default also does. A connection is reopened, never reused, once the server
has closed it (an idle kept-alive connection the server dropped would otherwise swallow the next request, a POST
of an import included, and leave its outcome unknown); and every failure is raised as the httpx error that says
whether anything was sent: `ConnectError`/`ConnectTimeout` before the first byte, a `TransportError` after.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import urllib.request

import httpx


def default_transport() -> httpx.BaseTransport | None:
    """This transport, or None (httpx's own) when the environment names a proxy: httpx reads it only then."""
    return None if urllib.request.getproxies() else StdlibTransport()


_KEPT = 32  # idle connections kept a server: as many as `check` has status reads in flight (refresh.py)

Key = tuple[str, str, int | None]


class StdlibTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[Key, list[http.client.HTTPConnection]] = {}  # answered, open, free for the next request
        self._closed = False
        self._tls: ssl.SSLContext | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        key = (request.url.scheme, request.url.host, request.url.port)
        connection = self._connection(request, key, timeouts)
        body = request.read()
        try:
            connection.putrequest(
                request.method, request.url.raw_path.decode("ascii"), skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers.raw:  # httpx's own: Host, Content-Length, Accept-Encoding, …
                connection.putheader(name, value)
            connection.endheaders(body or None)
            answer = connection.getresponse()
            content = answer.read()
        except TimeoutError as exc:
            connection.close()
            raise httpx.ReadTimeout(str(exc) or "timed out waiting for the answer", request=request) from exc
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        if answer.will_close:
            connection.close()
        else:
            self._keep(key, connection)
        return httpx.Response(
            answer.status,
            headers=answer.getheaders(),
            stream=httpx.ByteStream(content),  # httpx decodes a gzip answer, as it would its own transport's
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason.encode("latin-1")},
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _connection(
        self, request: httpx.Request, key: Key, timeouts: dict[str, float | None]
    ) -> http.client.HTTPConnection:
        """An idle connection to the request's server that is still open, or a new one (a failure to connect sent
        nothing)."""
        scheme = request.url.scheme
        if scheme not in ("http", "https") or not request.url.host:  # the words of httpx's own transport
            if not scheme:
                raise httpx.UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")
            if scheme not in ("http", "https"):
                raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
            raise httpx.UnsupportedProtocol("Request URL is missing a host.")
        while (connection := self._idle_one(key)) is not None:
            if _usable(connection):
                connection.sock.settimeout(timeouts.get("read"))
                return connection
            connection.close()
        connection = self._new(request.url, timeouts.get("connect"))
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise httpx.ConnectTimeout(str(exc) or "timed out connecting", request=request) from exc
        except OSError as exc:
            connection.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        connection.sock.settimeout(timeouts.get("read"))
        return connection

    def _idle_one(self, key: Key) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def _keep(self, key: Key, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if not self._closed and len(idle) < _KEPT:
                idle.append(connection)
                return
        connection.close()

    def _new(self, url: httpx.URL, timeout: float | None) -> http.client.HTTPConnection:
        if url.scheme == "http":
            return http.client.HTTPConnection(url.host, url.port, timeout=timeout)
        if self._tls is None:
            self._tls = httpx.create_ssl_context()  # as httpx's own: certifi, or SSL_CERT_FILE / SSL_CERT_DIR
        return http.client.HTTPSConnection(url.host, url.port, timeout=timeout, context=self._tls)


def _usable(connection: http.client.HTTPConnection) -> bool:
    """Still open and silent: an idle connection with something to read has been closed (or spoken on) by the server,
    and the next request must not go on it."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
