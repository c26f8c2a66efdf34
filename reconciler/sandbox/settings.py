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
    remote = body["remoteBackup"]
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
        "time_utc": _time_utc(remote.get("timeUTC"), interval, database),
        "storage_type": storage_type,
        "path": path,
    }


def _time_utc(value: Any, interval: str, database: Database) -> str:
    if value is None or value == "":
        # UNCONFIRMED (API-NOTES §2): with no time given, a timed interval keeps the stored time.
        return database["backup"]["time_utc"] if interval in TIMED_INTERVALS else ""
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
