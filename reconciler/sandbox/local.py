"""The file-backed sandbox used by `--sandbox`: one account shared by every CLI process in a directory."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from reconciler.sandbox.emulator import Emulator
from reconciler.sandbox.faults import Fault
from reconciler.sandbox.store import FileStore
from reconciler.sandbox.timings import Clock, Timings

DEFAULT_STATE_DIR = Path(".reconciler-sandbox")


def local_emulator(
    state_dir: Path, seed: Path | None = None, *, clock: Clock = time.time, timings: Timings | None = None
) -> Emulator:
    """An emulator whose world is `state_dir/world.json`, created from `seed` on first use."""
    return Emulator(store=FileStore(state_dir, seed), clock=clock, timings=timings)


def local_transport(state_dir: Path, seed: Path | None = None) -> httpx.BaseTransport:
    return local_emulator(state_dir, seed).transport()


def reset(state_dir: Path, seed: Path | None = None) -> None:
    """Replace the saved world with a fresh one from `seed` (empty world with the default owner key if None)."""
    FileStore(state_dir, seed).reset()


def inject_fault(state_dir: Path, fault: Fault, seed: Path | None = None) -> None:
    """Persist a fault so that the next CLI process (or `serve --state-dir`) meets it."""
    local_emulator(state_dir, seed).inject(fault)
