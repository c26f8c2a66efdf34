"""A Redis Cloud API emulator for tests, demos and `--sandbox` (issue #4, SPEC §8).

The rest of the product never imports this package; it only imports `reconciler.errors`.
"""

from reconciler.sandbox.emulator import Emulator
from reconciler.sandbox.faults import Fault
from reconciler.sandbox.local import DEFAULT_STATE_DIR, inject_fault, local_emulator, local_transport, reset
from reconciler.sandbox.seed import (
    DEFAULT_SEED,
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    SANDBOX_VIEWER_SECRET_KEY,
    SandboxSeedError,
    load_seed,
)
from reconciler.sandbox.server import EmulatorApp, serve
from reconciler.sandbox.state import FORMAT_VERSION, WORLD_KIND, WorldData
from reconciler.sandbox.timings import ManualClock, Timings
from reconciler.sandbox.views import BackupRecord, ImportRecord, LoggedRequest

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STATE_DIR",
    "FORMAT_VERSION",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_SECRET_KEY",
    "SANDBOX_VIEWER_SECRET_KEY",
    "WORLD_KIND",
    "BackupRecord",
    "Emulator",
    "EmulatorApp",
    "Fault",
    "ImportRecord",
    "LoggedRequest",
    "ManualClock",
    "SandboxSeedError",
    "Timings",
    "WorldData",
    "inject_fault",
    "load_seed",
    "local_emulator",
    "local_transport",
    "reset",
    "serve",
]
