"""Database updates (`PUT …/databases/{id}`): backup settings, validated like the real API (API-NOTES §2)."""

from __future__ import annotations

import re
from typing import Any

from reconciler.sandbox.context import Answer, Context, Params
from reconciler.sandbox.lifecycle import hold
from reconciler.sandbox.problems import ApiProblem
from reconciler.sandbox.state import Database, StoredBackup, disabled_backup
from reconciler.sandbox.storage import (
    BACKUP_INTERVALS,
    BACKUP_SCHEMES,
    TIMED_INTERVALS,
    storage_type_for,
    uri_has_scheme,
)

UPDATE = "databaseUpdateRequest"
TRANSIENT_STATUS = "active-change-pending"  # a Go status constant (API-NOTES §1 "Database status values")
_TIME = re.compile(r"^([01]\d|2[0-3]):00$")


class InvalidSettings(Exception):
    def __init__(self, error_type: str, description: str) -> None:
        self.error_type = error_type
        self.description = description
        super().__init__(f"{error_type}: {description}")


def update_database(ctx: Context, params: Params) -> Answer:
    database = ctx.database(params.tier, params.subscription_id, params.database_id)
    body = ctx.body_object()
    refused = ctx.refuse_unless_active(UPDATE, database)
    if refused is not None:
        return refused
    try:
        if "regions" in database:
            _refuse_database_wide(body)
        new_backup = _pro_backup(body, database) if params.tier == "pro" else _essentials_backup(body, database)
    except InvalidSettings as invalid:
        return ctx.reject(UPDATE, database, invalid.error_type, invalid.description)
    dry_run = params.tier == "pro" and body.get("dryRun") is True  # OpenAPI DatabaseUpdateRequest.dryRun
    effect_kind = "update_backup" if new_backup is not None and not dry_run else "none"
    effect: Any = {"kind": effect_kind, "database_id": database["id"]}
    if effect_kind == "update_backup":
        effect["backup"] = new_backup
    task = ctx.start_task(
        UPDATE, effect, resource_id=database["id"], additional_resource_id=database["subscription_id"]
    )
    if not dry_run:
        settle = ctx.timings.database_transient if task["error"] is None else 0.0
        hold(database, TRANSIENT_STATUS, task["done_at"] + settle)
    return 200, ctx.render(task)


def update_regions(ctx: Context, params: Params) -> Answer:
    """`PUT …/databases/{id}/regions` (OpenAPI `CrdbUpdatePropertiesRequest`): an Active-Active database's local
    properties, here each listed region's `remoteBackup` (`LocalRegionProperties`, API-NOTES §2, §11); regions not
    listed keep theirs."""
    database = ctx.database(params.tier, params.subscription_id, params.database_id)
    body = ctx.body_object()
    refused = ctx.refuse_unless_active(UPDATE, database)
    if refused is not None:
        return refused
    try:
        changed = _region_backups(body, database)
    except InvalidSettings as invalid:
        return ctx.reject(UPDATE, database, invalid.error_type, invalid.description)
    effect: Any = {"kind": "update_regions", "database_id": database["id"], "regions": changed}
    if body.get("dryRun") is True:
        effect = {"kind": "none", "database_id": database["id"]}
    task = ctx.start_task(
        UPDATE, effect, resource_id=database["id"], additional_resource_id=database["subscription_id"]
    )
    if body.get("dryRun") is not True:
        hold(
            database,
            TRANSIENT_STATUS,
            task["done_at"] + (ctx.timings.database_transient if task["error"] is None else 0.0),
        )
    return 200, ctx.render(task)


def _refuse_database_wide(body: dict[str, Any]) -> None:
    """An Active-Active database takes no database-wide backup setting."""
    if body.get("periodicBackupPath") is not None:
        raise InvalidSettings(
            "ACTIVE_ACTIVE_DATABASE_PERIODIC_BACK_UP_PATH_NOT_ALLOWED",
            "periodicBackupPath is not allowed for an Active-Active database",
        )
    if body.get("remoteBackup") is not None:
        # UNCONFIRMED: the error a database-wide remoteBackup meets; this enum value's name says so.
        raise InvalidSettings(
            "UPDATING_SINGLE_REGION_DATABASE_NOT_ALLOWED_WITH_ACTIVE_ACTIVE_SUBSCRIPTION",
            "Backup settings of an Active-Active database are per region: PUT …/regions",
        )


def _region_backups(body: dict[str, Any], database: Database) -> dict[str, StoredBackup]:
    if "regions" not in database:
        # UNCONFIRMED: the error a single-region database answers; this enum value's name says so.
        raise InvalidSettings(
            "UPDATING_LOCAL_PROPERTIES_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION",
            "Local region properties exist only for Active-Active databases",
        )
    _refuse_database_wide({"periodicBackupPath": body.get("periodicBackupPath")})
    listed = body.get("regions")
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        raise ApiProblem(400, "BAD_REQUEST", "regions must be a list of objects")
    changed: dict[str, StoredBackup] = {}
    for item in listed:
        name = item.get("region")  # `LocalRegionProperties.region`: "Required. Name of the region to update."
        if not isinstance(name, str) or name not in database["regions"]:
            # UNCONFIRMED: which error an unknown region meets; the enum's names suggest this one.
            raise InvalidSettings(
                "ACTIVE_ACTIVE_MISMATCH_BETWEEN_REQUEST_REGIONS_AND_SUBSCRIPTION_REGIONS",
                f"Region {name!r} is not a region of this database",
            )
        if name in changed:
            raise InvalidSettings("ACTIVE_ACTIVE_REGIONS_MUST_BE_DEFINED_ONCE", f"Region {name} is listed twice")
        remote = item.get("remoteBackup")
        current = database["regions"][name]
        changed[name] = current if remote is None else _remote_backup(remote, current)
    return changed


def _pro_backup(body: dict[str, Any], database: Database) -> StoredBackup | None:
    """None when the body does not touch backup settings (other fields are accepted and ignored)."""
    has_remote = "remoteBackup" in body and body["remoteBackup"] is not None
    has_periodic = "periodicBackupPath" in body and body["periodicBackupPath"] is not None
    if has_remote and has_periodic:
        # API-NOTES §2: "almost certainly" what this error means (inferred from its name).
        raise InvalidSettings(
            "DATABASE_INVALID_TOO_MANY_BACKUP_SPECIFICATIONS",
            "Specify either remoteBackup or periodicBackupPath, not both",
        )
    if has_periodic:
        return _periodic_path(body["periodicBackupPath"])
    if not has_remote:
        return None
    return _remote_backup(body["remoteBackup"], database["backup"])


def _remote_backup(remote: Any, current: StoredBackup) -> StoredBackup:
    """`remoteBackup` (`DatabaseBackupConfig`), of a database or of one Active-Active region."""
    if not isinstance(remote, dict):
        raise ApiProblem(400, "BAD_REQUEST", "remoteBackup must be an object")
    if remote.get("active") is False:
        return disabled_backup()  # API-NOTES §2: `{"active": false}` switches remote backup off
    # UNCONFIRMED (API-NOTES §2): partial updates. `active` absent is taken as true, and interval, storageType
    # and storagePath are then required, as the OpenAPI descriptions say for `active: true`.
    interval = remote.get("interval")
    if interval not in BACKUP_INTERVALS:
        raise InvalidSettings("DATABASE_INVALID_BACKUP_INTERVAL", f"Invalid backup interval: {interval!r}")
    storage_type = remote.get("storageType")
    if storage_type not in BACKUP_SCHEMES:
        raise InvalidSettings("DATABASE_INVALID_BACKUP_STORAGE_TYPE", f"Invalid backup storage type: {storage_type!r}")
    path = remote.get("storagePath")
    if not isinstance(path, str) or not uri_has_scheme(path, BACKUP_SCHEMES[storage_type]):
        raise InvalidSettings("DATABASE_INVALID_BACKUP_PATH", f"Backup path does not match storage type {storage_type}")
    return {
        "enabled": True,
        "interval": interval,
        "time_utc": _time_utc(remote.get("timeUTC"), interval, current),
        "storage_type": storage_type,
        "path": path,
    }


def _time_utc(value: Any, interval: str, current: StoredBackup) -> str:
    if value is None or value == "":
        # UNCONFIRMED (API-NOTES §2): with no time given, a timed interval keeps the stored time.
        return current["time_utc"] if interval in TIMED_INTERVALS else ""
    # UNCONFIRMED (API-NOTES §2): the OpenAPI calls it "an hour", so minutes other than :00 are refused.
    if not isinstance(value, str) or not _TIME.match(value):
        raise InvalidSettings("DATABASE_INVALID_BACKUP_TIME_UTC", f"Invalid backup time: {value!r}; use HH:00")
    if interval not in TIMED_INTERVALS:
        raise InvalidSettings(
            "DATABASE_INVALID_BACKUP_INTERVAL_AND_TIME_UTC_MISMATCH",
            "timeUTC is available only with every-12-hours and every-24-hours",
        )
    return value


def _essentials_backup(body: dict[str, Any], database: Database) -> StoredBackup | None:
    # FixedDatabaseUpdateRequest has only `periodicBackupPath`; unknown fields (e.g. remoteBackup) are ignored,
    # as Spring/Jackson does by default.
    if body.get("periodicBackupPath") is None:
        return None
    return _periodic_path(body["periodicBackupPath"])


def _periodic_path(path: Any) -> StoredBackup:
    """`periodicBackupPath`: daily backups to that path; `""` removes it (OpenAPI description, API-NOTES §2)."""
    if path == "":
        return disabled_backup()
    storage_type = storage_type_for(path) if isinstance(path, str) else None
    if storage_type is None:
        raise InvalidSettings("DATABASE_INVALID_BACKUP_PATH", f"Invalid backup path: {path!r}")
    # UNCONFIRMED (API-NOTES §2): the time a periodicBackupPath-only daily backup reads back; we use "".
    return {"enabled": True, "interval": "every-24-hours", "time_utc": "", "storage_type": storage_type, "path": path}
