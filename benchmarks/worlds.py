"""Generated accounts and matching manifests: N databases over S subscriptions, Pro and Essentials mixed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox import Timings


@dataclass(frozen=True)
class Fleet:
    databases: int
    subscriptions: int
    essentials_share: float = 0.25
    operations_share: float = 0.10  # databases that declare an on-demand backup

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


def seed(fleet: Fleet, timings: Timings, **options: Any) -> dict[str, Any]:
    subscriptions = []
    for sid, tier, databases in fleet.layout():
        dbs = []
        for db in databases:
            backup: dict[str, Any] = {"path": f"s3://bench-backups/db-{db}"}
            if tier == "pro":
                backup |= {"interval": "every-24-hours", "time_utc": "02:00"}
            dbs.append({"id": db, "name": f"db-{db}", "backup": backup})
        subscriptions.append({"id": sid, "name": f"sub-{sid}", "tier": tier, "databases": dbs})
    return {
        "kind": "redis-cloud-sandbox-world",
        "format_version": 1,
        "options": {"max_concurrent_backups_per_subscription": 4, **options},
        "timings": timings.to_dict(),
        "subscriptions": subscriptions,
    }


def manifests(fleet: Fleet, directory: Path, files: int = 40) -> Path:
    """The manifests that match the seed (no drift), with on-demand backups on `operations_share` of them."""
    entries: list[dict[str, Any]] = []
    for sid, tier, databases in fleet.layout():
        for db in databases:
            entry: dict[str, Any] = {"name": f"db-{db}", "subscription": sid, "database": db, "tier": tier}
            backup: dict[str, Any] = {"path": f"s3://bench-backups/db-{db}"}
            if tier == "pro":
                backup |= {"interval": "every-24-hours", "time_utc": "02:00"}
            entry["backup"] = backup
            if fleet.has_operation(db):
                entry["backups"] = [{"id": "bench-restore-point"}]
            entries.append(entry)
    directory.mkdir(parents=True, exist_ok=True)
    per = math.ceil(len(entries) / files)
    for i in range(files):
        chunk = entries[i * per : (i + 1) * per]
        if chunk:
            text = yaml.safe_dump({"version": 1, "databases": chunk}, sort_keys=False)
            (directory / f"fleet-{i:03d}.yaml").write_text(text)
    return directory


def write_seed(document: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
