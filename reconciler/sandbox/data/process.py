"""One Redis-compatible server process: its own directory, a loopback bind, a free port, stopped by PID."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.sandbox.data.binary import ServerBinary, find_server
from reconciler.sandbox.data.errors import DataPlaneError

if TYPE_CHECKING:
    import redis

HOST = "127.0.0.1"
DUMP = "dump.rdb"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    directory: Path
    password: str
    port: int = 0
    binary: ServerBinary = field(default_factory=find_server)
    process: subprocess.Popen[bytes] | None = None

    @property
    def dump_path(self) -> Path:
        return self.directory / DUMP

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def start(self, *, wait: bool = True) -> None:
        # A stale dump.rdb would be loaded at start (and a corrupt one stops the server): start clean.
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        self.port = self.port or free_port()
        args = [
            str(self.binary.path),
            "--bind", HOST,
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--dbfilename", DUMP,
            "--save", "",
            "--appendonly", "no",
            "--enable-debug-command", "local",
            "--repl-diskless-sync-delay", "0",
            "--logfile", str(self.directory / "server.log"),
            "--daemonize", "no",
            *self.binary.extra_flags(),
        ]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 10.0, *, retries: int = 3) -> None:
        """Wait until it answers PING. A free port can be taken by another process between our probe and the
        server's bind (a busy machine): then start again on another port."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                if retries > 0 and "Address already in use" in self._log():
                    self.port = 0
                    self.start(wait=False)
                    retries -= 1
                    continue
                raise DataPlaneError(f"the server on port {self.port} exited at start; see {self.directory}/server.log")
            try:
                if self.client().ping():
                    return
            except Exception:  # noqa: BLE001 - not listening yet
                if time.monotonic() > deadline:
                    raise DataPlaneError(
                        f"the server on port {self.port} did not answer within {timeout:.0f} s"
                    ) from None
            time.sleep(0.01)

    def _log(self) -> str:
        try:
            return (self.directory / "server.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def client(self, *, timeout: float = 30.0) -> redis.Redis:
        import redis

        return redis.Redis(
            host=HOST, port=self.port, password=self.password or None, socket_timeout=timeout, socket_connect_timeout=2
        )

    def stop(self) -> None:
        self.terminate()
        self.wait()

    def terminate(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()  # SIGTERM: 80 ms, where redis-py's SHUTDOWN takes seconds

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
