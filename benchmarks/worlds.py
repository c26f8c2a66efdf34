"""Generated accounts and matching manifests: N databases over S subscriptions, Pro and Essentials mixed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from reconciler.sandbox import Emulator, Timings, WorldData
from reconciler.sandbox.seed import world_from_document

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when PyYAML has it: 20,000 databases in seconds


@dataclass(frozen=True)
class Fleet:
    databases: int
    subscriptions: int
    essentials_share: float = 0.25
    operations_share: float = 0.10  # databases that declare a one-shot operation
    operation: Literal["backup", "import"] = "backup"
    drift: bool = False  # the manifests move every backup destination: one settings update per database

    def layout(self) -> list[tuple[int, str, list[int]]]:
        """(subscription id, tier, database ids), databases spread evenly."""
        per = math.ceil(self.databases / self.subscriptions)
        essentials = round(self.subscriptions * self.essentials_share)
        out = []
        next_db = 1_000_001
        for i in range(self.subscriptions):
            count = min(per, self.databases - i * per)
            if count <= 0:
                break
            tier = "essentials" if i >= self.subscriptions - essentials else "pro"
            out.append((200_001 + i, tier, list(range(next_db, next_db + count))))
            next_db += count
        return out

    def has_operation(self, database: int) -> bool:
        return (database % 100) < self.operations_share * 100

    def with_operations(self) -> int:
        return sum(1 for _, _, dbs in self.layout() for db in dbs if self.has_operation(db))


def _backup(tier: str, database: int, *, moved: bool = False) -> dict[str, Any]:
    backup: dict[str, Any] = {"path": f"s3://bench-backups/db-{database}{'-moved' if moved else ''}"}
    if tier == "pro":
        backup |= {"interval": "every-24-hours", "time_utc": "02:00"}
    return backup


def seed(fleet: Fleet, timings: Timings, **options: Any) -> dict[str, Any]:
    """The sandbox seed document; its request log keeps every request (the figures count them)."""
    subscriptions = []
    for sid, tier, databases in fleet.layout():
        dbs = [{"id": db, "name": f"db-{db}", "backup": _backup(tier, db)} for db in databases]
        subscriptions.append({"id": sid, "name": f"sub-{sid}", "tier": tier, "databases": dbs})
    return {
        "kind": "redis-cloud-sandbox-world",
        "format_version": 1,
        "options": {"max_concurrent_backups_per_subscription": 4, "request_log_limit": 10**8, **options},
        "timings": timings.to_dict(),
        "subscriptions": subscriptions,
    }


def world(fleet: Fleet, timings: Timings, **options: Any) -> WorldData:
    return world_from_document(seed(fleet, timings, **options))


def emulator(fleet: Fleet, timings: Timings, **options: Any) -> Emulator:
    """In memory, on the process's clock (scaled, under the warp)."""
    return Emulator(world(fleet, timings, **options))


def manifests(fleet: Fleet, directory: Path, files: int = 40) -> Path:
    """The manifests for the seed: no drift unless `fleet.drift`; a one-shot operation on `operations_share`."""
    entries: list[dict[str, Any]] = []
    for sid, tier, databases in fleet.layout():
        for db in databases:
            entry: dict[str, Any] = {"name": f"db-{db}", "subscription": sid, "database": db, "tier": tier}
            entry["backup"] = _backup(tier, db, moved=fleet.drift)
            if fleet.has_operation(db) and fleet.operation == "backup":
                entry["backups"] = [{"id": "bench-restore-point"}]
            elif fleet.has_operation(db):
                source = f"s3://bench-seeds/db-{db}.rdb.gz"
                entry["imports"] = [{"id": "bench-seed", "from": source, "confirm": f"db-{db}"}]
            entries.append(entry)
    directory.mkdir(parents=True, exist_ok=True)
    per = math.ceil(len(entries) / files)
    for i in range(files):
        chunk = entries[i * per : (i + 1) * per]
        if chunk:
            text = yaml.dump({"version": 1, "databases": chunk}, Dumper=_DUMPER, sort_keys=False)
            (directory / f"fleet-{i:03d}.yaml").write_text(text)
    return directory
