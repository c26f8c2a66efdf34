"""What a handler gets to answer one request: the world, the time, the body, and shared helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.faults import take_task_fault
from reconciler.sandbox.lifecycle import ACTIVE, NOT_ACTIVE_ERROR, NOT_ACTIVE_STATUS, status_at
from reconciler.sandbox.problems import ApiProblem, error_object
from reconciler.sandbox.state import Database, Effect, ErrorObject, JsonObject, Subscription, Task, Tier, WorldData
from reconciler.sandbox.tasks import create_task, render_task
from reconciler.sandbox.timings import Timings

Answer = tuple[int, JsonObject | list[JsonObject]]  # a bare array only where the API may send one (GET /tasks)


@dataclass(frozen=True, slots=True)
class Params:
    """The parts of a matched path."""

    tier: Tier = "pro"
    subscription_id: int = 0
    database_id: int = 0
    tag_key: str = ""
    task_id: str = ""


@dataclass(slots=True)
class Context:
    world: WorldData
    now: float
    timings: Timings
    base_url: str  # scheme://host/v1, for `links`
    path: str  # as requested, including /v1
    query: Mapping[str, str]
    body: Any

    def subscription(self, tier: Tier, subscription_id: int) -> Subscription:
        for sub in self.world["subscriptions"]:
            if sub["id"] == subscription_id and sub["tier"] == tier:
                return sub
        raise ApiProblem(404)

    def database(self, tier: Tier, subscription_id: int, database_id: int) -> Database:
        self.subscription(tier, subscription_id)
        for db in self.world["databases"]:
            if db["id"] == database_id and db["subscription_id"] == subscription_id:
                return db
        raise ApiProblem(404)

    def body_object(self) -> dict[str, Any]:
        """The JSON object body; an absent body counts as `{}` (optional bodies, e.g. POST …/backup)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise ApiProblem(400, "BAD_REQUEST", "Request body must be a JSON object")
        return self.body

    def start_task(
        self,
        command_type: str,
        effect: Effect,
        *,
        resource_id: int | None,
        additional_resource_id: int | None,
        error: ErrorObject | None = None,
    ) -> Task:
        """Create a task; an injected task fault may make it end in `processing-error` with no effect."""
        fault = take_task_fault(self.world, command_type) if error is None else None
        if fault is not None:
            error = {"type": fault["error_type"], "status": fault["error_status"], "description": fault["description"]}
        task = create_task(
            self.world,
            self.now,
            self.timings,
            command_type,
            effect,
            resource_id=resource_id,
            additional_resource_id=additional_resource_id,
            error=error,
        )
        return task

    def render(self, task: Task) -> JsonObject:
        return render_task(task, self.now, self.base_url)

    def reject(
        self, command_type: str, database: Database, error_type: str, description: str, status: int = 400
    ) -> Answer:
        """A validation failure: a synchronous 400 or a task ending `processing-error`, per the world's option."""
        if self.world["options"]["validation_errors"] == "synchronous":
            raise ApiProblem(status, error_type, description)
        task = self.start_task(
            command_type,
            {"kind": "none", "database_id": database["id"]},
            resource_id=database["id"],
            additional_resource_id=database["subscription_id"],
            error=error_object(error_type, description, status),
        )
        return 200, self.render(task)

    def refuse_unless_active(self, command_type: str, database: Database) -> Answer | None:
        """A write on a database that is not `active` answers DATABASE_NOT_ACTIVE (API-NOTES §7, §11), the way
        the world's `validation_errors` option says (a synchronous 4xx or a failed task); None when active."""
        status = status_at(database, self.now)
        if status == ACTIVE:
            return None
        description = f"Database {database['id']} is not active (status {status})"
        return self.reject(command_type, database, NOT_ACTIVE_ERROR, description, NOT_ACTIVE_STATUS)
