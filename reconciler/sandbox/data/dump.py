"""Dump a running server to an RDB file: BGSAVE, wait on `rdb_saves`, copy (gzip when the name ends `.gz`)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from reconciler.sandbox.data.errors import DataPlaneError
from reconciler.sandbox.data.process import RedisServer
from reconciler.sandbox.data.rdb import write_gzip


def dump(server: RedisServer, target: Path, *, timeout: float = 120.0, foreground: bool = False) -> None:
    """Callers serialise dumps per server (a second BGSAVE would answer "already in progress").

    `foreground`: SAVE instead, for a server nobody else uses (a BGSAVE's end is noticed by the server's
    cron, up to 100 ms later; a SAVE of a small dataset takes 3 ms)."""
    client = server.client()
    if foreground:
        client.save()
        _copy(server, target)
        return
    before = int(client.info("persistence")["rdb_saves"])
    client.bgsave()
    deadline = time.monotonic() + timeout
    while True:
        info = client.info("persistence")
        # LASTSAVE has a 1 s resolution: the counter is what tells this save from the previous one.
        if int(info["rdb_saves"]) > before and not int(info["rdb_bgsave_in_progress"]):
            if info["rdb_last_bgsave_status"] != "ok":
                raise DataPlaneError(f"BGSAVE failed on port {server.port}; see {server.directory}/server.log")
            break
        if time.monotonic() > deadline:
            raise DataPlaneError(f"BGSAVE on port {server.port} did not finish within {timeout:.0f} s")
        time.sleep(0.005)
    _copy(server, target)


def _copy(server: RedisServer, target: Path) -> None:
    if target.name.endswith(".gz"):
        write_gzip(server.dump_path, target)
    else:
        shutil.copyfile(server.dump_path, target)
