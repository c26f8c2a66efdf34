"""The object stores of the sandbox: S3 (moto's server, its own process) and GCS (gcp-storage-emulator, in this
process). `stores.py` starts them beside the FTP and HTTP servers and routes each URI to its store."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx

from reconciler.sandbox.data.errors import DataPlaneError, SourceDenied, SourceMissing
from reconciler.sandbox.data.process import HOST, free_port

# moto answers an unsigned GET of a private object with an empty 403; it never checks signatures
# (SANDBOX-COMPONENTS: moto gotchas), so any SigV4-looking header will do.
_FAKE_SIGV4 = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


def _bucket_key(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    return parts.netloc, unquote(parts.path.lstrip("/"))


class S3Store:
    """moto's server in a process of its own: its imports are the slowest part of the sandbox's start, so
    it starts first and runs beside everything else (SANDBOX-COMPONENTS: moto is the critical path)."""

    name = "s3"

    def __init__(self, adopt: tuple[int, int] | None = None) -> None:
        """`adopt`: (port, pid) of a moto server already started by `spawn_moto` (`sandbox up` starts it
        before anything else)."""
        self.process: subprocess.Popen[bytes] | None = None
        if adopt is not None:
            self.port, self._pid = adopt
        else:
            import importlib.util

            if importlib.util.find_spec("moto") is None:
                raise ImportError("moto is not installed", name="moto")
            self.port = free_port()
            self.process = spawn_moto(self.port)
            self._pid = self.process.pid
        self.url = f"http://{HOST}:{self.port}"
        self._http = httpx.Client(base_url=self.url, timeout=60, headers=_FAKE_SIGV4)
        self._buckets: set[str] = set()
        self._ready = False

    @property
    def pid(self) -> int:
        return self._pid

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        respawned = False
        while not self._ready:
            exited = self.process.poll() is not None if self.process is not None else not _running(self._pid)
            if exited and not respawned:
                # Most likely its port was taken between our probe and its bind (a busy machine): once more.
                respawned = True
                self.port = free_port()
                self.process = spawn_moto(self.port)
                self._pid = self.process.pid
                self.url = f"http://{HOST}:{self.port}"
                self._http.base_url = httpx.URL(self.url)
                continue
            if exited:
                raise DataPlaneError("the S3 stand-in (moto) exited at start")
            try:
                self._ready = self._http.get("/moto-api/").status_code < 500
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise DataPlaneError(f"the S3 stand-in did not answer within {timeout:.0f} s") from None
                time.sleep(0.02)

    def get(self, uri: str) -> bytes:
        self.wait_ready()
        bucket, key = _bucket_key(uri)
        response = self._http.get(f"/{bucket}/{quote(key)}")
        if response.status_code == 404:
            raise SourceMissing(f"{uri}: no such object")
        if response.status_code == 403:
            raise SourceDenied(f"{uri}: access denied")
        response.raise_for_status()
        return response.content

    def ensure_bucket(self, bucket: str) -> None:
        self.wait_ready()
        if bucket in self._buckets:
            return
        response = self._http.put(f"/{bucket}")
        if response.status_code not in (200, 409):
            raise DataPlaneError(f"s3 stand-in: cannot create bucket {bucket!r} ({response.status_code})")
        self._buckets.add(bucket)

    def put(self, uri: str, data: bytes) -> None:
        bucket, key = _bucket_key(uri)
        self.ensure_bucket(bucket)  # lenient: the real service needs an existing bucket shared with Redis
        self._http.put(f"/{bucket}/{quote(key)}", content=data).raise_for_status()

    def list(self, uri: str) -> list[str]:
        self.wait_ready()
        bucket, prefix = _bucket_key(uri)
        response = self._http.get(f"/{bucket}", params={"list-type": "2", "prefix": prefix})
        if response.status_code == 404:
            return []
        response.raise_for_status()
        root = ElementTree.fromstring(response.content)
        keys = [el.text or "" for el in root.iter() if el.tag.endswith("}Key") or el.tag == "Key"]
        return sorted(f"s3://{bucket}/{key}" for key in keys)

    def stop(self) -> None:
        self._http.close()
        if self.process is None:  # adopted: not our child, so no wait(); watch /proc instead
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _running(self._pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def spawn_moto(port: int) -> subprocess.Popen[bytes]:
    """moto's server on 127.0.0.1:`port`, in a session of its own (stdlib only: callable before any import)."""
    return subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # werkzeug's request lines: noise, and never wanted in a log
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


class GcsStore:
    name = "gcs"

    def __init__(self) -> None:
        from gcp_storage_emulator.server import create_server

        self.port = free_port()
        self._server = create_server(HOST, self.port, in_memory=True)
        self._server.start()
        self.url = f"http://{HOST}:{self.port}"
        self._http = httpx.Client(base_url=self.url, timeout=60)
        self._buckets: set[str] = set()

    def get(self, uri: str) -> bytes:
        bucket, key = _bucket_key(uri)
        response = self._http.get(f"/storage/v1/b/{bucket}/o/{quote(key, safe='')}", params={"alt": "media"})
        if response.status_code == 404:
            raise SourceMissing(f"{uri}: no such object")
        response.raise_for_status()
        return response.content

    def ensure_bucket(self, bucket: str) -> None:
        if bucket in self._buckets:
            return
        response = self._http.post("/storage/v1/b", params={"project": "sandbox"}, json={"name": bucket})
        if response.status_code not in (200, 409):
            raise DataPlaneError(f"gcs stand-in: cannot create bucket {bucket!r} ({response.status_code})")
        self._buckets.add(bucket)

    def put(self, uri: str, data: bytes) -> None:
        bucket, key = _bucket_key(uri)
        self.ensure_bucket(bucket)
        self._http.post(
            f"/upload/storage/v1/b/{bucket}/o", params={"uploadType": "media", "name": key}, content=data
        ).raise_for_status()

    def list(self, uri: str) -> list[str]:
        bucket, prefix = _bucket_key(uri)
        response = self._http.get(f"/storage/v1/b/{bucket}/o", params={"prefix": prefix})
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return sorted(f"gs://{bucket}/{item['name']}" for item in response.json().get("items", []))

    def stop(self) -> None:
        self._http.close()
        self._server.stop()
