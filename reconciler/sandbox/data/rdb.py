"""RDB files: gunzip by magic bytes (not by name), the header and version check, and the server's check mode.

RDBs are never parsed in Python (the CRC covers the header, and listpacks postdate the Python parsers).
"""

from __future__ import annotations

import gzip
import re
import shutil
import zlib
from pathlib import Path

from reconciler.sandbox.data.binary import ServerBinary
from reconciler.sandbox.data.errors import ImportFailure

GZIP_MAGIC = b"\x1f\x8b"
_HEADER = re.compile(rb"^(?:REDIS(\d{4})|VALKEY(\d{3}))")
CORRUPTED = "file-corrupted"


def unpack(raw: Path, target: Path) -> None:
    """`target` gets the RDB inside `raw`: gunzipped when `raw` starts with the gzip magic, else a copy."""
    with raw.open("rb") as source:
        magic = source.read(2)
    if magic != GZIP_MAGIC:
        shutil.copyfile(raw, target)
        return
    try:
        with gzip.open(raw, "rb") as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportFailure(CORRUPTED, f"{raw.name}: not a valid gzip file ({exc})") from None


def check(path: Path, binary: ServerBinary, name: str) -> None:
    """Raise `file-corrupted` unless the header is an RDB's, of a version the server loads, and the check passes."""
    with path.open("rb") as handle:
        head = handle.read(12)
    match = _HEADER.match(head)
    if match is None:
        raise ImportFailure(CORRUPTED, f"{name}: not an RDB file (no REDIS/VALKEY header)")
    if match.group(1) is not None and int(match.group(1)) > binary.max_redis_rdb:
        raise ImportFailure(CORRUPTED, f"{name}: RDB version {int(match.group(1))} is newer than this server loads")
    ok, detail = binary.check_rdb(path)
    if not ok:
        raise ImportFailure(CORRUPTED, f"{name}: the RDB check failed ({detail})")


def write_gzip(source: Path, target: Path) -> None:
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as sink:
        shutil.copyfileobj(raw, sink, 1 << 20)
