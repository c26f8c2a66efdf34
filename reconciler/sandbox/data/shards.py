"""Split one server's dataset into per-shard RDB files, as a multi-shard database's backup has one file per
shard (API-NOTES §3). Keys go to shards by hash slot, as in Redis Cluster: CRC16 of the key (or of its
`{hash tag}`) mod 16384, the slots cut into equal ranges.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, cast

from reconciler.sandbox.data.dump import dump
from reconciler.sandbox.data.load import load
from reconciler.sandbox.data.process import RedisServer

SLOTS = 16384


def _crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM), the Redis Cluster key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: bytes) -> int:
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return _crc16(key) % SLOTS


def shard_of(key: bytes, shards: int) -> int:
    return key_slot(key) * shards // SLOTS


def split(full: Path, shards: int, scratch: RedisServer, targets: list[Path]) -> None:
    """`targets[i]` gets the keys of shard i of the RDB file `full` (TTLs kept), via a scratch server."""
    client = scratch.client(timeout=300)
    for index, target in enumerate(targets):
        copy = full.with_name(f"{full.name}.{index}")
        shutil.copyfile(full, copy)
        load(scratch, [copy])
        doomed: list[bytes] = []
        for key in client.scan_iter(count=1000):
            if shard_of(cast(bytes, key), shards) != index:
                doomed.append(cast(bytes, key))
            if len(doomed) >= 1000:
                cast(Any, client).unlink(*doomed)
                doomed.clear()
        if doomed:
            cast(Any, client).unlink(*doomed)
        dump(scratch, target, foreground=True)
    client.flushall()
