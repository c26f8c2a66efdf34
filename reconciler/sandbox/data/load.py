"""Replace a server's data with the union of RDB files: replace dump.rdb, then `DEBUG RELOAD … NOSAVE`.

The first file flushes and loads; the others load with `NOFLUSH MERGE`, so the result is their union.
TTLs are kept. A file the server still refuses leaves it flushed (and the import failed).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from reconciler.sandbox.data.errors import ImportFailure
from reconciler.sandbox.data.process import RedisServer
from reconciler.sandbox.data.rdb import CORRUPTED


def load(server: RedisServer, files: Sequence[Path]) -> None:
    import redis

    client = server.client(timeout=300)
    for index, path in enumerate(files):
        os.replace(path, server.dump_path)
        options = ["NOSAVE"] if index == 0 else ["NOFLUSH", "MERGE", "NOSAVE"]
        try:
            cast(Any, client).execute_command("DEBUG", "RELOAD", *options)
        except redis.ResponseError as exc:
            client.flushall()  # partially loaded data is worse than none
            raise ImportFailure(CORRUPTED, f"the server refused the RDB file ({exc})") from None
        finally:
            server.dump_path.unlink(missing_ok=True)  # never loaded again at a restart


def flush(server: RedisServer) -> None:
    server.client().flushall()
