"""Where the world lives between requests: in memory, or in a JSON file shared by processes.

The file store takes an exclusive `fcntl` lock per request, loads, lets the emulator handle the
request, and saves atomically (temp file in the same directory, fsync, `os.replace`), so a process
killed with SIGKILL at any point leaves either the old world or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from reconciler.sandbox.seed import SandboxSeedError, load_seed
from reconciler.sandbox.state import FORMAT_VERSION, WORLD_KIND, WorldData

WORLD_FILE = "world.json"
LOCK_FILE = "world.lock"
_TEMP_PREFIX = ".world-"


class Store(Protocol):
    def transaction(self) -> contextlib.AbstractContextManager[WorldData]:
        """The world, exclusively, for one request; saved when the block exits without an exception."""
        ...


class MemoryStore:
    def __init__(self, world: WorldData) -> None:
        self.world = world

    @contextlib.contextmanager
    def transaction(self) -> Iterator[WorldData]:
        yield self.world  # the Emulator's own lock makes this exclusive


class FileStore:
    def __init__(self, state_dir: Path, seed: Path | None = None) -> None:
        self.state_dir = state_dir
        self.seed = seed

    @contextlib.contextmanager
    def transaction(self) -> Iterator[WorldData]:
        with self._locked():
            world = self._load()
            yield world
            _save(self.state_dir, world)

    def reset(self) -> None:
        with self._locked():
            _save(self.state_dir, load_seed(self.seed))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if the process dies
            yield
        finally:
            os.close(fd)

    def _load(self) -> WorldData:
        for stale in self.state_dir.glob(f"{_TEMP_PREFIX}*"):
            stale.unlink(missing_ok=True)  # left by a process killed mid-save; the lock says nobody is writing
        path = self.state_dir / WORLD_FILE
        if not path.exists():
            return load_seed(self.seed)
        try:
            world: WorldData = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SandboxSeedError(f"{path}: unreadable sandbox world ({exc}); run `reset`") from exc
        if world.get("kind") != WORLD_KIND or world.get("format_version") != FORMAT_VERSION:
            raise SandboxSeedError(
                f"{path}: sandbox world format {world.get('format_version')!r} is not supported "
                f"(supported: {FORMAT_VERSION}); delete the directory or run `reset`"
            )
        return world


def _save(state_dir: Path, world: WorldData) -> None:
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=state_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(world, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, state_dir / WORLD_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    dir_fd = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
