"""On-demand backups and imports: `POST|GET …/backup` and `POST|GET …/import` (API-NOTES §3, §4)."""

from __future__ import annotations

from typing import Any, Literal

from reconciler.sandbox.context import Answer, Context, Params
from reconciler.sandbox.data import hooks as data_hooks
from reconciler.sandbox.operations import running_backups
from reconciler.sandbox.problems import ApiProblem, error_object
from reconciler.sandbox.state import BackupRun, Database, Effect, ImportRun
from reconciler.sandbox.storage import IMPORT_SCHEMES, storage_type_for, uri_has_scheme

BACKUP = "databaseBackupRequest"
BACKUP_STATUS = "databaseBackupStatusRequest"
IMPORT = "databaseImportRequest"
IMPORT_STATUS = "databaseImportStatusRequest"


def post_backup(ctx: Context, params: Params) -> Answer:
    database = _operation_target(ctx, params, "BACKUP_A_FIXED_DATABASE_IS_NOT_ALLOWED_WITH_A_FLEXIBLE_SUBSCRIPTION")
    body = ctx.body_object()
    refused = ctx.refuse_unless_active(BACKUP, database)
    if refused is not None:
        return refused
    region = body.get("regionName")
    problem = _region_problem(database, region, status=False)
    if problem is not None:
        return ctx.reject(BACKUP, database, *problem)
    adhoc = body.get("adhocBackupPath")
    if adhoc is not None and (not isinstance(adhoc, str) or storage_type_for(adhoc) is None):
        return ctx.reject(BACKUP, database, "DATABASE_INVALID_BACKUP_PATH", f"Invalid backup path: {adhoc!r}")
    # An Active-Active database backs up each region on its own, to that region's destination (API-NOTES §3).
    stored = database["regions"][region] if "regions" in database and isinstance(region, str) else database["backup"]
    destination = adhoc or (stored["path"] if stored["enabled"] else "")
    if not destination:
        # API-NOTES §3: without adhocBackupPath a backup location must be configured.
        if params.tier == "pro":
            return ctx.reject(BACKUP, database, "DATABASE_BACKUP_DISABLED", "Database backup is disabled")
        return ctx.reject(BACKUP, database, "DATABASE_BACKUP_NOT_CONFIGURED", "Database backup is not configured")
    limit = ctx.world["options"]["max_concurrent_backups_per_subscription"]
    running = running_backups(ctx.world, database["subscription_id"], ctx.now)
    # Each region's backup is a backup of its own: it takes one of the subscription's slots, as any other does.
    # UNCONFIRMED (API-NOTES §3, §11): the limit is documented per subscription or per cluster, never per region.
    if len(running) >= limit:
        return _refuse_beyond_limit(ctx, database, limit)
    task = ctx.start_task(
        BACKUP,
        {"kind": "none", "database_id": database["id"]},
        resource_id=database["id"],
        additional_resource_id=database["subscription_id"],
    )
    if task["error"] is None:
        # UNCONFIRMED (API-NOTES §3): the task completes when the backup has started; the backup itself
        # runs for `timings.backup` from the POST, visible through GET …/backup.
        run: BackupRun = {
            "task_id": task["task_id"],
            "subscription_id": database["subscription_id"],
            "database_id": database["id"],
            "destination": destination,
            "adhoc": bool(adhoc),
            "started": ctx.now,
            "ends": ctx.now + ctx.timings.backup,
        }
        if isinstance(region, str) and "regions" in database:
            run["region"] = region
        ctx.world["backup_runs"].append(run)
        peaks = ctx.world["peak_concurrent_backups"]
        key = str(database["subscription_id"])
        peaks[key] = max(peaks.get(key, 0), len(running) + 1)
        data_hooks.run_backup(database, destination, adhoc=bool(adhoc), at=ctx.now, task_id=task["task_id"])
    return 200, ctx.render(task)


def _refuse_beyond_limit(ctx: Context, database: Database, limit: int) -> Answer:
    """UNCONFIRMED (API-NOTES §3, §11): how the limit surfaces; the world's `backup_limit_refusal` picks one.
    Nothing starts in any of the three."""
    refusal = ctx.world["options"].get("backup_limit_refusal", "rate-limited")
    description = f"Too many backups in progress in subscription {database['subscription_id']} (limit {limit})"
    if refusal == "conflict":
        raise ApiProblem(409, description=description)
    if refusal == "task-error":
        task = ctx.start_task(
            BACKUP,
            {"kind": "none", "database_id": database["id"]},
            resource_id=database["id"],
            additional_resource_id=database["subscription_id"],
            error=error_object("DATABASE_BACKUP_FAILED", description),
        )
        return 200, ctx.render(task)
    # The OpenAPI documents 429 as "Too many resources are concurrently created / updated / deleted in the account".
    raise ApiProblem(429)


def get_backup_status(ctx: Context, params: Params) -> Answer:
    """Itself asynchronous: a status task whose resource is computed when it completes (API-NOTES §3); of one region
    (`?regionName=`) for an Active-Active database, which refuses the read without one."""
    database = _operation_target(ctx, params, "BACKUP_A_FIXED_DATABASE_IS_NOT_ALLOWED_WITH_A_FLEXIBLE_SUBSCRIPTION")
    region = ctx.query.get("regionName")
    problem = _region_problem(database, region, status=True)
    if problem is not None:
        return ctx.reject(BACKUP_STATUS, database, *problem)
    effect: Effect = {"kind": "backup_status", "database_id": database["id"]}
    if region and "regions" in database:
        effect["region"] = region
    task = ctx.start_task(
        BACKUP_STATUS, effect, resource_id=database["id"], additional_resource_id=database["subscription_id"]
    )
    return 200, ctx.render(task)


def _region_problem(database: Database, region: Any, *, status: bool) -> tuple[str, str] | None:
    """`regionName` is required on an Active-Active database, must be one of its regions, and is refused on a
    single-region one (API-NOTES §3, §7, §11; the names of the OpenAPI error enum)."""
    word = "BACKUP_STATUS" if status else "BACKUP"
    if "regions" not in database:
        if region:
            return (
                f"{word}_REGION_NAME_IS_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION",
                "regionName is only for Active-Active databases",
            )
        return None
    if not region:
        return f"ACTIVE_ACTIVE_{word}_MISSING_REGION_NAME", "regionName is required for an Active-Active database"
    if region not in database["regions"]:
        return f"ACTIVE_ACTIVE_INVALID_{word}_REGION_NAME", f"Region {region!r} is not a region of this database"
    return None


def post_import(ctx: Context, params: Params) -> Answer:
    database = _operation_target(ctx, params, "IMPORT_A_FIXED_DATABASE_IS_NOT_ALLOWED_WITH_A_FLEXIBLE_SUBSCRIPTION")
    body = ctx.body_object()
    refused = ctx.refuse_unless_active(IMPORT, database)
    if refused is not None:
        return refused
    source_type = body.get("sourceType")
    uris = body.get("importFromUri")
    problem = _import_problem(source_type, uris)
    if problem is not None:
        return ctx.reject(IMPORT, database, *problem)
    assert isinstance(source_type, str) and isinstance(uris, list)
    # issue 14: real files when the data plane serves this database, else the world's source markers.
    verdict = data_hooks.judge_import(ctx.world, database, source_type, [str(uri) for uri in uris])
    task = ctx.start_task(
        IMPORT,
        {"kind": "none", "database_id": database["id"]},
        resource_id=database["id"],
        additional_resource_id=database["subscription_id"],
        error=verdict.task_error,
    )
    if task["error"] is None:
        verdict.carry_out(task["task_id"])
        run: ImportRun = {
            "task_id": task["task_id"],
            "subscription_id": database["subscription_id"],
            "database_id": database["id"],
            "source_type": source_type,
            "uris": [str(uri) for uri in uris],
            "started": ctx.now,
            "ends": ctx.now + ctx.timings.import_,
            "outcome": verdict.outcome,
            "failure_reason": verdict.failure_reason,
            "applied": False,
        }
        ctx.world["import_runs"].append(run)
    return 200, ctx.render(task)


def get_import_status(ctx: Context, params: Params) -> Answer:
    """Asynchronous like the backup status (API-NOTES §4)."""
    return _status_task(
        ctx,
        params,
        IMPORT_STATUS,
        "import_status",
        "IMPORT_A_FIXED_DATABASE_IS_NOT_ALLOWED_WITH_A_FLEXIBLE_SUBSCRIPTION",
    )


def _status_task(
    ctx: Context, params: Params, command: str, kind: Literal["backup_status", "import_status"], fixed_error: str
) -> Answer:
    database = _operation_target(ctx, params, fixed_error)
    task = ctx.start_task(
        command,
        {"kind": kind, "database_id": database["id"]},
        resource_id=database["id"],
        additional_resource_id=database["subscription_id"],
    )
    return 200, ctx.render(task)


def _import_problem(source_type: Any, uris: Any) -> tuple[str, str] | None:
    """The first problem with an import body, as (error type, description); codes from API-NOTES §4."""
    if source_type not in IMPORT_SCHEMES:
        return "DATABASE_INVALID_IMPORT_SOURCE_TYPE", f"Invalid import source type: {source_type!r}"
    if not isinstance(uris, list) or not uris:
        return "DATABASE_IMPORT_URI_NOT_PROVIDED", "importFromUri must list at least one URI"
    if len(set(map(str, uris))) != len(uris):
        return "DUPLICATE_DATABASE_IMPORT_SOURCE_PATH", "importFromUri lists the same URI twice"
    if source_type == "redis" and len(uris) > 1:
        return "DATABASE_IMPORT_MULTIPLE_REDIS_SOURCES", "Only one redis source may be imported at a time"
    schemes, bad_uri = IMPORT_SCHEMES[source_type]
    for uri in uris:
        if not isinstance(uri, str) or not uri_has_scheme(uri, schemes):
            return bad_uri, f"URI does not match source type {source_type}"
    return None


def _operation_target(ctx: Context, params: Params, mixup_error: str) -> Database:
    """A `/fixed/…` backup or import of a Pro database has its own error type (API-NOTES §4, §7)."""
    if params.tier == "essentials":
        pro = [s for s in ctx.world["subscriptions"] if s["id"] == params.subscription_id and s["tier"] == "pro"]
        if pro:
            raise ApiProblem(400, mixup_error, "Use the Pro endpoint for a database in a Pro subscription")
    return ctx.database(params.tier, params.subscription_id, params.database_id)
