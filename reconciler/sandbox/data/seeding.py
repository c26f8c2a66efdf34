"""The data-plane parts of a seed file: each database's initial data, and sample files placed in the stores.

    subscriptions: [{databases: [{id: 1, name: x, data: {keys: 100000}}]}]   # generated `key:N` strings
    subscriptions: [{databases: [{id: 2, name: y, data: {keys: {user:1: alice}, password: s3cret}}]}]
    subscriptions: [{databases: [{id: 3, name: z, data: {keys: 1000, shards: 3, memory_limit: 64mb}}]}]
    files:                                     # placed in the stores at `sandbox up`; gzipped when the
      s3://b/seed-1_of_2.rdb.gz: {keys: 500, prefix: "order:1"}    # name ends .gz
    sources:                                   # (the control plane's markers) `corrupt` places a corrupt
      s3://b/broken.rdb.gz: corrupt            # file there; `missing` places nothing

Pure: parsing needs no data-plane package, so a bad seed is reported even without the `sandbox` extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.sandbox.storage import IMPORT_SCHEMES, uri_has_scheme

GENERATED_PREFIX = "key"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


@dataclass(frozen=True, slots=True)
class Content:
    """Generated keys (`count` strings named `prefix:N`) and/or literal string keys."""

    count: int = 0
    prefix: str = GENERATED_PREFIX
    literal: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.count + len(self.literal)


@dataclass(frozen=True, slots=True)
class DatabaseData:
    content: Content
    password: str | None = None
    memory_limit: int | None = None  # bytes; None: the tier's default
    shards: int = 1  # a backup writes one file per shard


@dataclass(frozen=True, slots=True)
class DataSeed:
    databases: dict[int, DatabaseData]
    files: dict[str, Content]
    corrupt: tuple[str, ...]


def parse_data_seed(doc: dict[str, Any]) -> DataSeed:
    databases: dict[int, DatabaseData] = {}
    for sub in doc.get("subscriptions") or []:
        for db in (sub or {}).get("databases") or []:
            if isinstance(db, dict) and db.get("data") is not None:
                databases[int(db["id"])] = _database_data(db["data"], f"database {db.get('id')} data")
    files: dict[str, Content] = {}
    raw_files = doc.get("files") or {}
    if not isinstance(raw_files, dict):
        raise ValueError("files must map URIs to {keys, prefix}")
    for uri, spec in raw_files.items():
        uri = str(uri)
        if not any(uri_has_scheme(uri, schemes) for schemes, _ in IMPORT_SCHEMES.values()) or uri.startswith("redis"):
            raise ValueError(f"files[{uri!r}]: not a file URI an import can name")
        files[uri] = _content(spec, f"files[{uri!r}]")
    corrupt = tuple(str(uri) for uri, state in (doc.get("sources") or {}).items() if state == "corrupt")
    return DataSeed(databases, files, corrupt)


def parse_size(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(str(value))
    if match is None:
        raise ValueError(f"{where} must be a size such as 1048576, 512kb or 1gb, got {value!r}")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


def _database_data(raw: Any, where: str) -> DatabaseData:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a mapping")
    unknown = sorted(set(raw) - {"keys", "prefix", "password", "memory_limit", "shards"})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    limit = raw.get("memory_limit")
    password = raw.get("password")
    shards = raw.get("shards", 1)
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= 64:
        raise ValueError(f"{where}.shards must be a whole number from 1 to 64, got {shards!r}")
    return DatabaseData(
        _content({k: v for k, v in raw.items() if k in ("keys", "prefix")}, where),
        None if password is None else str(password),
        None if limit is None else parse_size(limit, f"{where}.memory_limit"),
        shards,
    )


def _content(raw: Any, where: str) -> Content:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a mapping with `keys` (a number or a mapping of keys to values)")
    unknown = sorted(set(raw) - {"keys", "prefix"})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    keys = raw.get("keys", 0)
    prefix = str(raw.get("prefix", GENERATED_PREFIX))
    if isinstance(keys, bool) or not isinstance(keys, int | dict):
        raise ValueError(f"{where}.keys must be a number of keys or a mapping of keys to values")
    if isinstance(keys, int):
        if keys < 0:
            raise ValueError(f"{where}.keys must be >= 0")
        return Content(count=keys, prefix=prefix)
    return Content(prefix=prefix, literal={str(k): str(v) for k, v in keys.items()})
