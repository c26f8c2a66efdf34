"""Seed files (`kind: redis-cloud-sandbox-world`): the YAML description of a sandbox account.

Seed keys are snake_case and describe what the *server* stores (e.g. a 12-hourly backup at "16:00"),
not what the API reads back. The example account, `examples/sandbox-world.yaml`, documents the format by example
and ships inside the package as `DEFAULT_SEED`, so every sandbox command starts from it in any directory.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import ReconcilerError
from reconciler.sandbox.data.seeding import parse_data_seed
from reconciler.sandbox.state import (
    FORMAT_VERSION,
    WORLD_KIND,
    ApiKey,
    BackupRun,
    Database,
    ImportRun,
    StoredBackup,
    StoredTag,
    WorldData,
    default_options,
    disabled_backup,
    empty_world,
)
from reconciler.sandbox.storage import BACKUP_INTERVALS, BACKUP_SCHEMES, storage_type_for, uri_has_scheme
from reconciler.sandbox.timings import Timings

# The owner key pair added when a seed names no keys; printed by `serve`, used by `--sandbox`.
SANDBOX_ACCESS_KEY = "sandbox-account-key"
SANDBOX_SECRET_KEY = "sandbox-owner-secret-key"
SANDBOX_VIEWER_SECRET_KEY = "sandbox-viewer-secret-key"
SEED_EPOCH = 1_750_000_000.0  # createdAt of seeded tags and lastModified of seeded databases
# A link to examples/sandbox-world.yaml in the repository, a file in an installed package (package data). A real
# path, not an importlib resource: `sandbox up` hands it to its daemon process, and pip never installs zipped.
DEFAULT_SEED = Path(__file__).parent / "seeds" / "sandbox-world.yaml"


class SandboxSeedError(ReconcilerError):
    """A seed file that cannot describe a world; the message names the file and the key."""


def load_seed(path: Path | None) -> WorldData:
    """The world a seed describes; an empty world with the default owner key when `path` is None."""
    if path is None:
        world = empty_world()
        world["api_keys"] = [_default_owner()]
        return world
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SandboxSeedError(f"{path}: cannot read sandbox seed: {exc}") from exc
    try:
        return world_from_document(document)
    except (ValueError, TypeError, KeyError) as exc:
        raise SandboxSeedError(f"{path}: {exc}") from exc


def world_from_document(document: Any) -> WorldData:
    doc = _mapping(document, "the document")
    _only(
        doc,
        "the document",
        {"kind", "format_version", "account_id", "api_keys", "options", "timings", "subscriptions", "sources", "files"},
    )
    if doc.get("kind") != WORLD_KIND:
        raise ValueError(f"kind must be {WORLD_KIND!r}")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format_version {doc.get('format_version')!r} is not supported (supported: {FORMAT_VERSION})")
    world = empty_world(int(doc.get("account_id", 40131)))
    world["api_keys"] = [_api_key(item) for item in doc.get("api_keys") or []] or [_default_owner()]
    world["options"] = _options(_mapping(doc.get("options") or {}, "options"))
    world["timings"] = Timings.from_dict(_mapping(doc.get("timings") or {}, "timings")).to_dict()
    for item in doc.get("subscriptions") or []:
        sub = _mapping(item, "a subscription")
        _only(sub, "subscription", {"id", "name", "tier", "status", "databases"})
        tier = sub.get("tier", "pro")
        if tier not in ("pro", "essentials"):
            raise ValueError(f"subscription {sub.get('id')}: tier must be pro or essentials, got {tier!r}")
        world["subscriptions"].append(
            {"id": int(sub["id"]), "name": str(sub["name"]), "tier": tier, "status": str(sub.get("status", "active"))}
        )
        for db in sub.get("databases") or []:
            raw = _mapping(db, "a database")
            world["databases"].append(_database(raw, int(sub["id"]), tier))
            _history(world, raw, int(sub["id"]), time.time())
    ids = [db["id"] for db in world["databases"]]
    if len(ids) != len(set(ids)):
        raise ValueError("database ids must be unique")
    sources = _mapping(doc.get("sources") or {}, "sources")
    for uri, state in sources.items():
        if state not in ("missing", "corrupt"):
            raise ValueError(f"sources[{uri!r}] must be missing or corrupt, got {state!r}")
        world["sources"][str(uri)] = state
    parse_data_seed(doc)  # the data plane's parts (`data:`, `files:`): checked here, used by `sandbox up`
    return world


def _default_owner() -> ApiKey:
    return {"name": "owner", "access_key": SANDBOX_ACCESS_KEY, "secret_key": SANDBOX_SECRET_KEY, "role": "owner"}


def _api_key(item: Any) -> ApiKey:
    key = _mapping(item, "an api key")
    _only(key, "api key", {"name", "access_key", "secret_key", "role"})
    role = str(key.get("role", "owner")).lower()
    if role not in ("owner", "viewer"):
        raise ValueError(f"api key {key.get('name')!r}: role must be owner or viewer")
    return {
        "name": str(key["name"]),
        "access_key": str(key["access_key"]),
        "secret_key": str(key["secret_key"]),
        "role": "viewer" if role == "viewer" else "owner",
    }


def _options(raw: dict[str, Any]) -> Any:
    options = default_options()
    _only(raw, "options", set(options))
    merged: dict[str, Any] = {**options, **raw}
    if merged["validation_errors"] not in ("task", "synchronous"):
        raise ValueError("options.validation_errors must be task or synchronous")
    if merged["status_vocabulary"] not in ("cloud", "cluster"):
        raise ValueError("options.status_vocabulary must be cloud or cluster")
    if merged["backup_limit_refusal"] not in ("rate-limited", "conflict", "task-error"):
        raise ValueError("options.backup_limit_refusal must be rate-limited, conflict or task-error")
    if merged["tasks_list"] not in ("recent", "running"):
        raise ValueError("options.tasks_list must be recent or running")
    if merged["tasks_envelope"] not in ("object", "array"):
        raise ValueError("options.tasks_envelope must be object or array")
    if merged["task_processing"] not in ("concurrent", "one-at-a-time"):
        raise ValueError("options.task_processing must be concurrent or one-at-a-time")
    return merged


def _database(raw: dict[str, Any], subscription_id: int, tier: str) -> Database:
    _only(raw, "database", {"id", "name", "status", "backup", "regions", "tags", "data", "last_backup", "last_import"})
    tags = _mapping(raw.get("tags") or {}, "tags")
    database: Database = {
        "id": int(raw["id"]),
        "subscription_id": subscription_id,
        "name": str(raw["name"]),
        "status": str(raw.get("status", "active")),
        "backup": _backup(_mapping(raw.get("backup") or {}, "backup"), tier, int(raw["id"])),
        "tags": {str(k): _seed_tag(v) for k, v in tags.items()},
        "data": {"generation": 0, "loaded_from": None, "loaded_at": None},
        "busy_status": "active",
        "busy_until": None,
        "last_modified": SEED_EPOCH,
    }
    if "regions" in raw:
        database["regions"] = _regions(raw, tier)
    return database


def _regions(raw: dict[str, Any], tier: str) -> dict[str, StoredBackup]:
    """An Active-Active database: `regions: {us-east-1: {path, interval, time_utc}, …}`, each a Pro backup block."""
    where = f"database {raw['id']}"
    if tier != "pro":
        raise ValueError(f"{where}: only Pro databases can be Active-Active (regions)")
    if "backup" in raw:
        raise ValueError(
            f"{where}: an Active-Active database has no backup of its own; give each region's under regions"
        )
    regions = _mapping(raw["regions"], f"{where} regions")
    if not regions:
        raise ValueError(f"{where}: regions must name at least one region")
    return {
        str(name): _backup(_mapping(block or {}, f"{where} region {name}"), tier, int(raw["id"]))
        for name, block in regions.items()
    }


_AGO = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
_HISTORY_KEYS = {"ago", "failure_reason"}


def _history(world: WorldData, raw: dict[str, Any], subscription_id: int, now: float) -> None:
    """`last_backup` / `last_import: {ago: 30h, failure_reason: …}`: a run that ended `ago` before the world was
    made, failed when a reason is given, so that `check` has an old, failed or fresh backup to judge. An
    Active-Active database's `last_backup` is by region: `{us-east-1: {ago: 3h}, eu-west-1: {ago: 2d}}`."""
    database_id = int(raw["id"])
    stored = world["databases"][-1]
    if raw.get("last_backup") is not None:
        where = f"database {database_id} last_backup"
        history = _mapping(raw["last_backup"], where)
        whose = (subscription_id, database_id)
        if "regions" not in stored:
            world["backup_runs"].append(_backup_run(history, where, now, whose, stored["backup"]["path"]))
        for region, item in history.items() if "regions" in stored else ():
            if region not in stored["regions"]:
                raise ValueError(f"{where}: {region!r} is not one of its regions ({', '.join(stored['regions'])})")
            path = stored["regions"][region]["path"]
            run = _backup_run(_mapping(item, f"{where}.{region}"), f"{where}.{region}", now, whose, path, str(region))
            world["backup_runs"].append(run)
    if raw.get("last_import") is not None:
        item = _mapping(raw["last_import"], f"database {database_id} last_import")
        _only(item, f"database {database_id} last_import", _HISTORY_KEYS)
        ends = now - _ago(item.get("ago"), f"database {database_id} last_import.ago")
        reason = str(item["failure_reason"]) if item.get("failure_reason") else None
        imported: ImportRun = {
            "task_id": f"seeded-import-{database_id}",
            "subscription_id": subscription_id,
            "database_id": database_id,
            "source_type": "aws-s3",
            "uris": [],
            "started": ends - 60.0,
            "ends": ends,
            "outcome": "failed" if reason else "success",
            "failure_reason": reason,
            "applied": True,  # history: its effect on the data is not replayed
        }
        world["import_runs"].append(imported)


def _backup_run(
    item: dict[str, Any],
    where: str,
    now: float,
    whose: tuple[int, int],
    destination: str,
    region: str | None = None,
) -> BackupRun:
    """A scheduled backup of database `whose` (subscription, database), or of one of its regions, that ended
    `ago` before `now`; failed when a reason is given."""
    _only(item, where, _HISTORY_KEYS)
    ends = now - _ago(item.get("ago"), f"{where}.ago")
    run: BackupRun = {
        "task_id": f"seeded-backup-{whose[1]}" + (f"-{region}" if region else ""),
        "subscription_id": whose[0],
        "database_id": whose[1],
        "destination": destination,
        "adhoc": False,
        "started": ends - 60.0,
        "ends": ends,
    }
    if item.get("failure_reason"):
        run["failure_reason"] = str(item["failure_reason"])
    if region is not None:
        run["region"] = region
    return run


def _ago(text: Any, where: str) -> float:
    """`90s`, `30m`, `26h`, `2d` or a combination in that order (`1d12h`), in seconds."""
    match = _AGO.fullmatch(str(text)) if isinstance(text, str) and text else None
    if match is None:
        raise ValueError(f"{where} must be a duration such as 30m, 26h or 2d, got {text!r}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


def _seed_tag(value: Any) -> StoredTag:
    return {"value": str(value), "created_at": SEED_EPOCH, "updated_at": SEED_EPOCH}


def _backup(raw: dict[str, Any], tier: str, database_id: int) -> StoredBackup:
    where = f"database {database_id} backup"
    _only(raw, where, {"enabled", "path", "storage_type", "interval", "time_utc"})
    if not raw.get("path") or raw.get("enabled") is False:
        return disabled_backup()
    path = str(raw["path"])
    storage_type = str(raw.get("storage_type") or storage_type_for(path) or "")
    if storage_type not in BACKUP_SCHEMES or not uri_has_scheme(path, BACKUP_SCHEMES[storage_type]):
        raise ValueError(f"{where}: path {path!r} does not match a backup storage type")
    interval = str(raw.get("interval", "every-24-hours"))
    if tier == "essentials" and interval != "every-24-hours":
        raise ValueError(f"{where}: Essentials backs up every 24 hours only")
    if interval not in BACKUP_INTERVALS:
        raise ValueError(f"{where}: interval {interval!r} is not one of {', '.join(BACKUP_INTERVALS)}")
    return {
        "enabled": True,
        "interval": interval,
        "time_utc": str(raw.get("time_utc", "")),
        "storage_type": storage_type,
        "path": path,
    }


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a mapping")
    return value


def _only(raw: dict[str, Any], what: str, allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown key(s) {', '.join(unknown)}")
