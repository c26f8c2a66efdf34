"""Backup and import runs: what the latest-status endpoints report at a given moment.

Runs are stored with their start and end times; their state at time T is a pure function of those,
which is what keeps the emulator free of background threads.
"""

from __future__ import annotations

from reconciler.sandbox.data import hooks as data_hooks
from reconciler.sandbox.state import BackupRun, Database, ImportRun, JsonObject, WorldData
from reconciler.sandbox.timings import iso_utc

# UNCONFIRMED (API-NOTES §3 "Other resource.status values"): the in-progress value; "success" was observed.
BACKUP_RUNNING = "in-progress"
BACKUP_SUCCESS = "success"
BACKUP_FAILED = "failed"
# API-NOTES §4: "importing" observed; "success" is UNCONFIRMED (probably like backups); "failed" observed.
IMPORT_RUNNING = "importing"
IMPORT_SUCCESS = "success"
IMPORT_FAILED = "failed"
# API-NOTES §11: the cluster's own words, which the API may pass through (option `status_vocabulary: cluster`).
CLUSTER_BACKUP_RUNNING = "exporting"
CLUSTER_SUCCESS = "succeeded"


def running_backups(world: WorldData, subscription_id: int, at: float) -> list[BackupRun]:
    return [
        run
        for run in world["backup_runs"]
        if run["subscription_id"] == subscription_id and run["started"] <= at < run["ends"]
    ]


def backup_status_at(world: WorldData, database_id: int, at: float, *, region: str | None = None) -> JsonObject:
    """`{status, lastBackupTime, failureReason}` as of `at`; `{}` when never backed up (seen on Pro, API-NOTES §3).

    UNCONFIRMED (API-NOTES §3): `lastBackupTime` is the time the backup finished. Of an Active-Active database,
    one region's backups (each region is backed up separately).
    """
    runs = [
        r
        for r in world["backup_runs"]
        if r["database_id"] == database_id and r["started"] <= at and r.get("region") == region
    ]
    if not runs:
        return {}
    latest = max(runs, key=lambda r: r["started"])
    # issue 14: a backup the data plane could not write (e.g. the store refused the path's credentials).
    failed = {r["task_id"]: r.get("failure_reason") or data_hooks.backup_failure(r["task_id"]) for r in runs}
    finished = [r for r in runs if r["ends"] <= at]  # UNCONFIRMED: a failed run sets lastBackupTime too
    resource: JsonObject = {}
    cluster = _cluster_words(world)
    if latest["ends"] > at:
        resource["status"] = CLUSTER_BACKUP_RUNNING if cluster else BACKUP_RUNNING
    elif failed[latest["task_id"]]:
        # UNCONFIRMED (API-NOTES §11): "failed" is the word of both vocabularies; the reason's wording is ours.
        resource["status"] = BACKUP_FAILED
        resource["failureReason"] = failed[latest["task_id"]]
    else:
        resource["status"] = CLUSTER_SUCCESS if cluster else BACKUP_SUCCESS
    if finished:
        resource["lastBackupTime"] = iso_utc(max(r["ends"] for r in finished))
    return resource


def import_status_at(world: WorldData, database_id: int, at: float) -> JsonObject:
    """`{status, lastImportTime, failureReason, failureReasonParams}` as of `at` (API-NOTES §4)."""
    runs = [r for r in world["import_runs"] if r["database_id"] == database_id and r["started"] <= at]
    if not runs:
        return {}
    latest = max(runs, key=lambda r: r["started"])
    if latest["ends"] > at:
        return {"status": IMPORT_RUNNING}
    resource: JsonObject = {"lastImportTime": iso_utc(latest["ends"])}
    if latest["outcome"] == "success":
        resource["status"] = CLUSTER_SUCCESS if _cluster_words(world) else IMPORT_SUCCESS
        return resource
    resource["status"] = IMPORT_FAILED
    resource["failureReason"] = latest["failure_reason"] or "general-error"
    # Same keys as the real failure payload (API-NOTES §4); the values are made up unless the data plane ran it.
    real = data_hooks.import_failure_params(latest["task_id"])
    resource["failureReasonParams"] = (
        real
        if real is not None
        else [
            {"key": "bytes_configured_bdb_limit", "value": "1073741824"},
            {"key": "bytes_of_expected_dataset", "value": "0"},
        ]
    )
    return resource


def _cluster_words(world: WorldData) -> bool:
    return world["options"].get("status_vocabulary", "cloud") == "cluster"


def finish_import(database: Database, run: ImportRun) -> None:
    """An import replaces the data; a failed one leaves it flushed.

    UNCONFIRMED (API-NOTES §4 says only that an import overwrites all existing data).
    """
    database["data"] = {
        "generation": database["data"]["generation"] + 1,
        "loaded_from": list(run["uris"]) if run["outcome"] == "success" else None,
        "loaded_at": run["ends"],
    }
    run["applied"] = True


def find_database(world: WorldData, database_id: int) -> Database | None:
    return next((db for db in world["databases"] if db["id"] == database_id), None)
