"""Asynchronous tasks: creation, their state at "now", their JSON, and the effects they apply.

States and JSON follow API-NOTES §5: `initialized → received → processing-in-progress →
processing-completed | processing-error`, and `response.error` is an object `{type, status, description}`.
"""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.sandbox.operations import backup_status_at, find_database, finish_import, import_status_at
from reconciler.sandbox.problems import error_object
from reconciler.sandbox.state import Effect, ErrorObject, ImportRun, JsonObject, Task, WorldData
from reconciler.sandbox.timings import Timings, iso_utc

# Wording as in the Redis Cloud docs' task examples (DOC-TASKS); only the error one is quoted in API-NOTES §7.
DESCRIPTIONS = {
    "initialized": "Task request initialized.",
    "received": "Task request received and is being queued for processing.",
    "processing-in-progress": "Task request is being processed.",
    "processing-completed": "Request processing completed successfully",
    "processing-error": "Task request failed during processing. See error information for failure details.",
}
TASK_RETENTION_SECONDS = 10 * 24 * 3600  # DOC-TASKS: GET /tasks lists tasks of the past 10 days (API-NOTES §5).


def create_task(
    world: WorldData,
    now: float,
    timings: Timings,
    command_type: str,
    effect: Effect,
    *,
    resource_id: int | None,
    additional_resource_id: int | None,
    error: ErrorObject | None = None,
    resource: JsonObject | None = None,
) -> Task:
    received_at = now + timings.task_initialized
    processing_at = received_at + timings.task_received
    if world["options"].get("task_processing") == "one-at-a-time":
        # The account's queue: a task is processed once every task before it has finished (DOCS process-lifecycle).
        processing_at = max([processing_at, *(t["done_at"] for t in world["tasks"])])
    task: Task = {
        "task_id": str(uuid.uuid4()),
        "command_type": command_type,
        "created": now,
        "received_at": received_at,
        "processing_at": processing_at,
        "done_at": processing_at + timings.task_processing,
        "error": error,
        "resource_id": resource_id,
        "additional_resource_id": additional_resource_id,
        "resource": resource,
        "effect": effect,
        "applied": False,
    }
    world["tasks"].append(task)
    return task


def task_state(task: Task, now: float) -> tuple[str, float]:
    """The status at `now` and the moment it began (the task's `timestamp`)."""
    if now >= task["done_at"]:
        return ("processing-error" if task["error"] else "processing-completed"), task["done_at"]
    if now >= task["processing_at"]:
        return "processing-in-progress", task["processing_at"]
    if now >= task["received_at"]:
        return "received", task["received_at"]
    return "initialized", task["created"]


def render_task(task: Task, now: float, base_url: str) -> JsonObject:
    status, since = task_state(task, now)
    response: dict[str, Any] = {}
    if status in ("processing-completed", "processing-error"):
        if task["resource_id"] is not None:
            response["resourceId"] = task["resource_id"]
        if task["additional_resource_id"] is not None:
            response["additionalResourceId"] = task["additional_resource_id"]
        if task["error"] is not None:
            response["error"] = dict(task["error"])
        elif task["resource"] is not None:
            response["resource"] = task["resource"]
    return {
        "taskId": task["task_id"],
        "commandType": task["command_type"],
        "status": status,
        "description": DESCRIPTIONS[status],
        "timestamp": iso_utc(since, micros=True),
        "response": response,
        "links": [{"href": f"{base_url}/tasks/{task['task_id']}", "type": "GET", "rel": "task"}],
    }


def advance(world: WorldData, now: float) -> None:
    """Apply, in time order, every task completion and import end that happened by `now`."""
    events: list[tuple[float, int, Task | None, ImportRun | None]] = []
    for order, task in enumerate(world["tasks"]):
        if not task["applied"] and task["done_at"] <= now:
            events.append((task["done_at"], order, task, None))
    for order, run in enumerate(world["import_runs"]):
        if not run["applied"] and run["ends"] <= now:
            events.append((run["ends"], order, None, run))
    events.sort(key=lambda event: (event[0], event[1]))
    for _, _, done_task, ended_run in events:
        if done_task is not None:
            _complete_task(world, done_task)
        elif ended_run is not None:
            database = find_database(world, ended_run["database_id"])
            if database is not None:
                finish_import(database, ended_run)
            ended_run["applied"] = True


def _complete_task(world: WorldData, task: Task) -> None:
    task["applied"] = True
    if task["error"] is not None:
        return
    effect = task["effect"]
    database = find_database(world, effect["database_id"])
    if database is None or effect["kind"] == "none":
        return
    at = task["done_at"]
    if effect["kind"] == "update_backup" and "backup" in effect:
        database["backup"] = effect["backup"]
        database["last_modified"] = at
    elif effect["kind"] == "update_regions" and "regions" in database:
        database["regions"].update(effect.get("regions", {}))
        database["last_modified"] = at
    elif effect["kind"] == "backup_status":
        region = effect.get("region")
        stored = database["regions"][region] if region is not None and "regions" in database else database["backup"]
        if not stored["enabled"]:
            # API-NOTES §3 (GO-T TestGetAALatestBackup): a status read with backup off ends in this error.
            task["error"] = error_object("DATABASE_BACKUP_DISABLED", "Database backup is disabled")
        else:
            task["resource"] = backup_status_at(world, database["id"], at, region=region)
    elif effect["kind"] == "import_status":
        task["resource"] = import_status_at(world, database["id"], at)


def visible_tasks(world: WorldData, now: float, *, running_only: bool = False) -> list[Task]:
    """GET /tasks: the past 10 days, most recent status update first (DOC-TASKS, API-NOTES §5); with
    `running_only`, only those not yet finished (the OpenAPI's "currently running tasks")."""
    recent = [t for t in world["tasks"] if t["created"] >= now - TASK_RETENTION_SECONDS and t["created"] <= now]
    if running_only:
        recent = [t for t in recent if now < t["done_at"]]
    return sorted(recent, key=lambda t: task_state(t, now)[1], reverse=True)
