"""`reconciler sandbox up | status | down`: start the daemon, read what it wrote, stop it by recorded PIDs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TypedDict

from reconciler.sandbox.data.errors import DataPlaneError

MANIFEST = "sandbox.json"
FAILURE = "failure.txt"  # why the daemon did not start, in words for the user
DAEMON_MODULE = "reconciler.sandbox.data.daemon"


class DataManifest(TypedDict):
    pid: int
    api_url: str
    api_keys: list[dict[str, Any]]
    databases: dict[str, dict[str, Any]]
    stores: dict[str, str]
    store_pids: list[int]
    unavailable: dict[str, str]
    server: str
    ftp_user: str


def write_manifest(directory: Path, manifest: DataManifest) -> None:
    temp = directory / f".{MANIFEST}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the sandbox's passwords
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2)
    os.replace(temp, directory / MANIFEST)


def read_manifest(directory: Path) -> DataManifest | None:
    """What a running sandbox in `directory` wrote, or None when none is up (a stale file is ignored)."""
    try:
        manifest: DataManifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _ours(manifest.get("pid", 0), DAEMON_MODULE):
        return None
    return manifest


def key_count(database: dict[str, Any]) -> int | None:
    """DBSIZE of a sandbox database, None when its server does not answer."""
    import redis

    host, port = str(database["endpoint"]).rsplit(":", 1)
    client = redis.Redis(host=host, port=int(port), password=database["password"], socket_timeout=5)
    try:
        return int(client.dbsize())
    except redis.RedisError:
        return None
    finally:
        client.close()


def up(
    directory: Path,
    seed: Path | None,
    *,
    s3: tuple[int, int] | None = None,
    backup_speedup: float = 1.0,
    timeout: float = 60.0,
    verbose: bool = False,
) -> DataManifest:
    """`s3`: (port, pid) of a moto server the caller started first (see `commands/sandbox.py`); `verbose`: a
    line per API request in `sandbox.log`."""
    directory.mkdir(parents=True, exist_ok=True)
    if read_manifest(directory) is not None:
        if s3 is not None:
            _stop_pid(s3[1], "moto.server")
        raise DataPlaneError(f"a sandbox is already up in {directory}/: run `reconciler sandbox down` first")
    (directory / MANIFEST).unlink(missing_ok=True)
    args = [sys.executable, "-m", DAEMON_MODULE, "--dir", str(directory.resolve())]
    if seed is not None:
        args += ["--seed", str(seed)]  # as given: the daemon runs in this directory, and errors name it so
    if s3 is not None:
        args += ["--s3", str(s3[0]), str(s3[1])]
    if backup_speedup != 1.0:
        args += ["--backup-speedup", repr(backup_speedup)]
    if verbose:
        args.append("--verbose")
    with (directory / "daemon.out").open("wb") as output:
        daemon = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True, close_fds=True
        )
    deadline = time.monotonic() + timeout
    while True:
        manifest = read_manifest(directory)
        if manifest is not None and manifest["pid"] == daemon.pid:
            return manifest
        if daemon.poll() is not None:
            if s3 is not None:
                _stop_pid(s3[1], "moto.server")
            try:
                raise DataPlaneError((directory / FAILURE).read_text(encoding="utf-8"))
            except OSError:
                raise DataPlaneError(f"the sandbox did not start: {_last_problem(directory)}") from None
        if time.monotonic() > deadline:
            _stop_pid(daemon.pid, DAEMON_MODULE)
            raise DataPlaneError(f"the sandbox did not start within {timeout:.0f} s: see {directory}/sandbox.log")
        time.sleep(0.02)


def down(directory: Path) -> bool:
    """Stop the daemon and every server it recorded; False when nothing was up."""
    try:
        manifest: DataManifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stopped = 0
    if _stop_pid(manifest["pid"], DAEMON_MODULE):
        stopped += 1
    # Left behind only if the daemon itself was killed. A server retitles itself "…-server HOST:PORT".
    leftovers = [(int(db["pid"]), str(db["endpoint"])) for db in manifest["databases"].values()]
    leftovers += [(pid, "moto.server") for pid in manifest.get("store_pids", [])]
    leftovers += [(pid, "azurite") for pid in manifest.get("store_pids", [])]
    for pid, marker in leftovers:
        if _stop_pid(pid, marker):
            stopped += 1
    (directory / MANIFEST).unlink(missing_ok=True)
    return stopped > 0


def _ours(pid: int, marker: str) -> bool:
    """`pid` is alive and is the process we recorded (its command line names `marker`), not a reused PID."""
    if pid <= 0:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
    state = _proc_state(pid)
    return marker in cmdline and state not in ("Z", "X")


def _proc_state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "X"
    return stat.rsplit(")", 1)[-1].split()[0]


def _stop_pid(pid: int, marker: str, timeout: float = 10.0) -> bool:
    if not _ours(pid, marker):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _ours(pid, marker):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    return True


def _last_problem(directory: Path) -> str:
    for name in ("sandbox.log", "daemon.out"):
        try:
            lines = [line for line in (directory / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError:
            continue
        problems = [line for line in lines if "Error" in line or "ERROR" in line]
        if problems:
            return problems[-1][-300:]
    return f"see {directory}/sandbox.log"
