"""The Azure Blob stand-in: azurite (npm), started on first use and only where node is present.

`abs://:KEY@ACCOUNT/container/path/blob` (API-NOTES §11: the leading-colon form; the no-colon form is accepted
too). azurite knows one account, `devstoreaccount1`, with its well-known key: every account name in a URI maps
onto it, and each request is signed (SharedKey) with the key from the URI, so azurite itself refuses a wrong
key (403), as the real service would. Keys are never logged.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ElementTree
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, unquote

import httpx

from reconciler.sandbox.data.errors import DataPlaneError, SourceDenied, SourceMissing
from reconciler.sandbox.data.process import HOST, free_port

ACCOUNT = "devstoreaccount1"
# The development storage account's published key (Microsoft's docs and azurite's README).
WELL_KNOWN_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
API_VERSION = "2021-12-02"
AZURITE_ENV = "RECONCILER_AZURITE"  # an explicit azurite-blob executable
CACHED = Path.home() / ".cache" / "reconciler-sandbox" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
INSTALL_HINT = "npm install azurite@3.35.0 (azurite 3.37 needs node 22)"


def find_azurite() -> tuple[Path | None, str]:
    """(the azurite-blob executable, '') or (None, why not)."""
    if shutil.which("node") is None:
        return None, "Azure Blob needs node for azurite, and node is not on PATH"
    candidates = [os.environ.get(AZURITE_ENV), shutil.which("azurite-blob"), str(CACHED)]
    candidates.append(str(Path.cwd() / "node_modules" / ".bin" / "azurite-blob"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate), ""
    return None, f"Azure Blob needs azurite: {INSTALL_HINT}"


def split_abs(uri: str) -> tuple[str, str, str]:
    """(key, container, blob) of `abs://[:]KEY@ACCOUNT/container/blob`; keys may hold `/`, `+` and `=`."""
    rest = uri.split("://", 1)[1]
    key = ""
    if "@" in rest:
        userinfo, rest = rest.split("@", 1)
        key = unquote(userinfo.removeprefix(":"))
    _account, _, path = rest.partition("/")
    container, _, blob = path.partition("/")
    return key, container, blob


class AzureStore:
    name = "azure"

    def __init__(self, root: Path, executable: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)  # its debug log would go here; data stays in memory
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(executable),
                "--blobHost", HOST,
                "--blobPort", str(self.port),
                "--silent",
                "--skipApiVersionCheck",
                "--disableTelemetry",  # else it calls applicationinsights.azure.com
                "--inMemoryPersistence",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.url = f"http://{HOST}:{self.port}/{ACCOUNT}"
        self._http = httpx.Client(timeout=60)
        self._wait_ready()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise DataPlaneError(f"azurite exited at start with status {self.process.returncode}")
            try:
                self._http.get(self.url)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise DataPlaneError(f"azurite did not answer within {timeout:.0f} s") from None
                time.sleep(0.02)

    def _request(
        self,
        method: str,
        key: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        content: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        query = query or {}
        sent = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": API_VERSION, **(headers or {})}
        length = str(len(content)) if content else ""
        canonical_headers = "".join(f"{k}:{sent[k]}\n" for k in sorted(h for h in sent if h.startswith("x-ms-")))
        resource = f"/{ACCOUNT}/{ACCOUNT}{path}" + "".join(f"\n{k}:{query[k]}" for k in sorted(query))
        content_type = "application/octet-stream" if content else ""
        to_sign = (
            "\n".join([method, "", "", length, "", content_type, "", "", "", "", "", ""])
            + "\n"
            + canonical_headers
            + resource
        )
        try:
            secret = base64.b64decode(key, validate=True)
        except ValueError:
            secret = key.encode()  # not base64: it cannot be the account key, and azurite will say so
        signature = base64.b64encode(hmac.new(secret, to_sign.encode(), hashlib.sha256).digest()).decode()
        sent["Authorization"] = f"SharedKey {ACCOUNT}:{signature}"
        if content:
            sent["Content-Type"] = content_type
        return self._http.request(
            method, f"http://{HOST}:{self.port}/{ACCOUNT}{path}", params=query, content=content, headers=sent
        )

    def get(self, uri: str) -> bytes:
        key, container, blob = split_abs(uri)
        response = self._request("GET", key, f"/{container}/{quote(blob)}")
        if response.status_code == 404:
            raise SourceMissing(f"abs://{container}/{blob}: no such blob")
        if response.status_code == 403:
            raise SourceDenied(f"abs://{container}/{blob}: the storage key was refused")
        response.raise_for_status()
        return response.content

    def put(self, uri: str, data: bytes) -> None:
        key, container, blob = split_abs(uri)
        made = self._request("PUT", key, f"/{container}", query={"restype": "container"})
        if made.status_code == 403:
            raise SourceDenied(f"abs://{container}: the storage key was refused")
        if made.status_code not in (201, 409):
            raise DataPlaneError(f"azurite: cannot create container {container!r} ({made.status_code})")
        put = self._request(
            "PUT", key, f"/{container}/{quote(blob)}", content=data, headers={"x-ms-blob-type": "BlockBlob"}
        )
        if put.status_code == 403:
            raise SourceDenied(f"abs://{container}/{blob}: the storage key was refused")
        put.raise_for_status()

    def list(self, uri: str) -> list[str]:
        key, container, prefix = split_abs(uri)
        query = {"restype": "container", "comp": "list", "prefix": prefix}
        response = self._request("GET", key, f"/{container}", query=query)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        names = [el.text or "" for el in ElementTree.fromstring(response.content).iter("Name")]
        base = uri[: len(uri) - len(prefix)] if prefix else uri.rstrip("/") + "/"
        return sorted(base + name for name in names)

    def stop(self) -> None:
        self._http.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
