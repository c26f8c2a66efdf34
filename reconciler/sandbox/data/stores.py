"""Local stand-ins for the storage each URI scheme names, and the clients that fetch from and upload to them.

| scheme       | stand-in                           | addressing                                  |
|--------------|------------------------------------|---------------------------------------------|
| s3://b/k     | moto's server (its own process)    | path style `http://127.0.0.1:P/b/k`         |
| gs://b/k     | gcp-storage-emulator (in memory)   | the JSON API, no auth                       |
| ftp(s)://    | pyftpdlib's ThreadedFTPServer      | user and password from the sandbox's seed   |
| http(s)://   | the standard library's HTTP server | GET only                                    |
| abs://       | azurite, on first use (azure.py)   | SharedKey with the key from the URI         |

An ftp or http URI whose host is 127.0.0.1/localhost is fetched from that very server; any other host maps
onto the local stand-in, under a folder named after the host (`ftp://u:p@ftp.acme.example/x.rdb` is
`ftp.acme.example/x.rdb` there). All servers bind 127.0.0.1 on a free port and, but for moto, run in this process.
Credentials in URIs are checked by the stores themselves and never logged.
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

import httpx

from reconciler.sandbox.data.errors import DataPlaneError, SourceDenied, SourceMissing
from reconciler.sandbox.data.object_stores import GcsStore, S3Store
from reconciler.sandbox.data.process import HOST, free_port

LOOPBACK = ("127.0.0.1", "localhost")
DEFAULT_FTP_USER = "sandbox"
DEFAULT_FTP_PASSWORD = "sandbox-ftp-password"


class Store(Protocol):
    name: str
    url: str

    def get(self, uri: str) -> bytes: ...

    def put(self, uri: str, data: bytes) -> None: ...

    def list(self, uri: str) -> list[str]:
        """The URIs of every object under `uri` (a folder or prefix), sorted."""
        ...

    def stop(self) -> None: ...


class FtpStore:
    name = "ftp"

    def __init__(self, root: Path, user: str = DEFAULT_FTP_USER, password: str = DEFAULT_FTP_PASSWORD) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # pyftpdlib 2.x still imports asyncore
            from pyftpdlib.authorizers import DummyAuthorizer
            from pyftpdlib.handlers import FTPHandler
            from pyftpdlib.servers import ThreadedFTPServer

        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.user, self.password = user, password
        authorizer = DummyAuthorizer()
        authorizer.add_user(user, password, str(root), perm="elradfmwMT")
        handler: Any = type("SandboxFTPHandler", (FTPHandler,), {})
        handler.authorizer = authorizer
        handler.banner = "reconciler sandbox FTP"
        base = free_port()
        handler.passive_ports = list(range(base + 1, base + 9)) if base < 65000 else None
        handler.log_prefix = "%(remote_ip)s"
        handler.auth_failed_timeout = 0  # the default 3 s pause after a bad password only slows tests
        self.port = base
        self._server = ThreadedFTPServer((HOST, self.port), handler)
        _quiet_pyftpdlib()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"handle_exit": False}, daemon=True)
        self._thread.start()
        self.url = f"ftp://{HOST}:{self.port}"

    def _place(self, uri: str) -> tuple[str, int, str, str, str]:
        """(host, port, user, password, path) of the server that holds `uri` (see the module docstring)."""
        parts = urlsplit(uri)
        user = unquote(parts.username) if parts.username else "anonymous"
        password = unquote(parts.password) if parts.password else ""
        path = unquote(parts.path)
        if parts.hostname in LOOPBACK:
            return HOST, parts.port or 21, user, password, path
        return HOST, self.port, user, password, f"/{parts.hostname}{path}"

    def _connect(self, uri: str) -> tuple[ftplib.FTP, str]:
        host, port, user, password, path = self._place(uri)
        ftp = ftplib.FTP()
        try:
            ftp.connect(host, port, timeout=30)
            ftp.login(user, password)
        except ftplib.error_perm:
            ftp.close()
            raise SourceDenied(f"{_safe(uri)}: the FTP server refused the login") from None
        except OSError:
            ftp.close()
            raise SourceMissing(f"{_safe(uri)}: nothing answers on {host}:{port}") from None
        return ftp, path

    def get(self, uri: str) -> bytes:
        ftp, path = self._connect(uri)
        buffer = io.BytesIO()
        try:
            ftp.retrbinary(f"RETR {path}", buffer.write)
        except ftplib.error_perm:
            raise SourceMissing(f"{_safe(uri)}: no such file") from None
        finally:
            ftp.close()
        return buffer.getvalue()

    def put(self, uri: str, data: bytes) -> None:
        ftp, path = self._connect(uri)
        try:
            folder = ""
            for part in path.strip("/").split("/")[:-1]:
                folder += f"/{part}"
                with contextlib.suppress(ftplib.error_perm):
                    ftp.mkd(folder)  # STOR into a missing folder answers 550
            ftp.storbinary(f"STOR {path}", io.BytesIO(data))
        finally:
            ftp.close()

    def list(self, uri: str) -> list[str]:
        _, _, _, _, path = self._place(uri)
        base = self.root / path.strip("/")
        parts = urlsplit(uri)
        prefix = f"{parts.scheme}://{parts.netloc}"
        found = [p for p in base.rglob("*") if p.is_file()] if base.is_dir() else []
        if not parts.hostname or parts.hostname in LOOPBACK:
            return sorted(f"{prefix}/{p.relative_to(self.root).as_posix()}" for p in found)
        return sorted(f"{prefix}/{p.relative_to(self.root / parts.hostname).as_posix()}" for p in found)

    def stop(self) -> None:
        self._server.close_all()


class HttpStore:
    name = "http"

    def __init__(self, root: Path) -> None:
        from functools import partial
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                pass  # request lines may carry credentials: log nothing

        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._server = ThreadingHTTPServer((HOST, self.port), partial(Quiet, directory=str(root)))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://{HOST}:{self.port}"

    def _local(self, uri: str) -> tuple[str, Path]:
        parts = urlsplit(uri)
        if parts.hostname in LOOPBACK:
            return f"http://{parts.hostname}:{parts.port or 80}{parts.path}", self.root / unquote(parts.path).strip("/")
        relative = f"{parts.hostname}{unquote(parts.path)}"
        return f"{self.url}/{quote(relative)}", self.root / relative

    def get(self, uri: str) -> bytes:
        url, _ = self._local(uri)
        try:
            response = httpx.get(url, timeout=60)
        except httpx.TransportError:
            raise SourceMissing(f"{_safe(uri)}: nothing answers") from None
        if response.status_code == 404:
            raise SourceMissing(f"{_safe(uri)}: no such file")
        if response.status_code in (401, 403):
            raise SourceDenied(f"{_safe(uri)}: access denied")
        response.raise_for_status()
        return response.content

    def put(self, uri: str, data: bytes) -> None:
        _, path = self._local(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def list(self, uri: str) -> list[str]:
        _, path = self._local(uri)
        found = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else []
        base = uri.rstrip("/")
        return sorted(f"{base}/{p.relative_to(path).as_posix()}" for p in found)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Stores:
    """Every running stand-in, by URI scheme."""

    by_scheme: dict[str, Store] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # scheme -> why it is not available
    root: Path | None = None  # where on-demand stores (azurite) keep their files
    on_start: Callable[[], None] | None = None  # told when an on-demand store has started
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def for_uri(self, uri: str) -> Store:
        scheme = uri.split("://", 1)[0].lower()  # not urlsplit: Azure keys in the user-info may hold "/"
        if scheme == "abs":
            self._start_azure()
        store = self.by_scheme.get(scheme)
        if store is None:
            why = self.missing.get(scheme, f"no stand-in for {scheme}:// URIs")
            raise DataPlaneError(f"{scheme}:// is not available in this sandbox: {why}")
        return store

    def urls(self) -> dict[str, str]:
        seen: dict[str, str] = {}
        for store in self.by_scheme.values():
            seen[store.name] = store.url
        return seen

    def wait_ready(self) -> None:
        s3 = self.by_scheme.get("s3")
        if isinstance(s3, S3Store):
            s3.wait_ready()

    def _start_azure(self) -> None:
        """azurite costs ~0.9 s and ~110 MB: started on the first abs:// URI, not with the default set."""
        from reconciler.sandbox.data.azure import AzureStore, find_azurite

        with self._lock:
            if "abs" in self.by_scheme or self.root is None:
                return
            executable, why = find_azurite()
            if executable is None:
                self.missing["abs"] = why
                return
            self.by_scheme["abs"] = AzureStore(self.root / "azure", executable)
            self.missing.pop("abs", None)
        if self.on_start is not None:
            self.on_start()

    def pids(self) -> list[int]:
        pids = [getattr(store, "pid", None) for store in self.by_scheme.values()]
        return sorted({pid for pid in pids if isinstance(pid, int)})

    def stop(self) -> None:
        """All at once: each threaded server takes up to its 0.5 s poll interval to notice."""
        threads = [
            threading.Thread(target=_quietly_stop, args=(store,))
            for store in {id(s): s for s in self.by_scheme.values()}.values()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def start_stores(
    root: Path,
    *,
    gcs: bool = True,
    ftp_user: str = DEFAULT_FTP_USER,
    ftp_password: str = DEFAULT_FTP_PASSWORD,
    s3: tuple[int, int] | None = None,
) -> Stores:
    """The default set: S3, FTP, HTTP, and GCS (cheap in memory). Azure needs node and azurite: not started."""
    stores = Stores()
    _quiet_pyftpdlib()
    try:
        stores.by_scheme["s3"] = S3Store(s3)
        ftp = FtpStore(root / "ftp", ftp_user, ftp_password)
        stores.by_scheme |= {"ftp": ftp, "ftps": ftp}
        http = HttpStore(root / "http")
        stores.by_scheme |= {"http": http, "https": http}
        if gcs:
            stores.by_scheme["gs"] = GcsStore()
    except ImportError as exc:
        stores.stop()
        raise DataPlaneError(f"a storage stand-in is not installed ({exc.name}): pip install -e '.[sandbox]'") from None
    stores.root = root
    from reconciler.sandbox.data.azure import find_azurite

    executable, why = find_azurite()
    if executable is None:
        stores.missing["abs"] = why
    return stores


def _quietly_stop(store: Store) -> None:
    with contextlib.suppress(Exception):
        store.stop()


def _safe(uri: str) -> str:
    """The URI without its user-info: credentials are never logged or echoed. Not urlsplit: an Azure key
    in the user-info may hold `/` (the user-info of abs:// runs to the first `@`)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    if scheme.lower() == "abs":
        rest = rest.split("@", 1)[1] if "@" in rest else rest
    else:
        authority, slash, path = rest.partition("/")
        rest = authority.rsplit("@", 1)[-1] + slash + path
    return f"{scheme}://{rest}"


def _quiet_pyftpdlib() -> None:
    """pyftpdlib and moto's werkzeug log every request to stderr; the sandbox logs no request lines."""
    import logging

    for name in ("pyftpdlib", "werkzeug"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.propagate = False
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
