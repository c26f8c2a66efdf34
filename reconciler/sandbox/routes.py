"""Which handler answers which method and path (the part after `/v1`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from reconciler.sandbox import databases, operations_api, settings, tags
from reconciler.sandbox.context import Answer, Context, Params
from reconciler.sandbox.problems import ApiProblem
from reconciler.sandbox.tasks import render_task, visible_tasks

Handler = Callable[[Context, Params], Answer]

_DB = r"/(?P<fixed>fixed/)?subscriptions/(?P<sid>\d+)/databases/(?P<dbid>\d+)"
_ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = []


def _route(pattern: str, **handlers: Handler) -> None:
    _ROUTES.append((re.compile(f"^{pattern}/?$"), {method.upper(): h for method, h in handlers.items()}))


def get_task(ctx: Context, params: Params) -> Answer:
    """Unknown ids answer 404, and so does a fresh id for `fresh_task_404` seconds (API-NOTES §5, Go max404Errors)."""
    for task in ctx.world["tasks"]:
        if task["task_id"] == params.task_id:
            if ctx.now < task["created"] + ctx.timings.fresh_task_404 or ctx.now < task["created"]:
                break
            return 200, render_task(task, ctx.now, ctx.base_url)
    raise ApiProblem(404)


def list_tasks(ctx: Context, params: Params) -> Answer:
    """UNCONFIRMED (API-NOTES §5, §11): which tasks, and in which envelope, per the world's options."""
    options = ctx.world["options"]
    listed = visible_tasks(ctx.world, ctx.now, running_only=options.get("tasks_list") == "running")
    tasks = [render_task(t, ctx.now, ctx.base_url) for t in listed]
    return 200, tasks if options.get("tasks_envelope") == "array" else {"tasks": tasks}


_route(r"/subscriptions", get=databases.list_subscriptions)
_route(r"/(?P<fixed>fixed/)subscriptions", get=databases.list_subscriptions)
_route(r"/(?P<fixed>fixed/)?subscriptions/(?P<sid>\d+)", get=databases.get_subscription)
_route(r"/(?P<fixed>fixed/)?subscriptions/(?P<sid>\d+)/databases", get=databases.list_databases)
_route(_DB, get=databases.get_database, put=settings.update_database)
_route(_DB + "/regions", put=settings.update_regions)
_route(_DB + "/backup", get=operations_api.get_backup_status, post=operations_api.post_backup)
_route(_DB + "/import", get=operations_api.get_import_status, post=operations_api.post_import)
_route(_DB + "/tags", get=tags.list_tags, post=tags.create_tag, put=tags.replace_tags)
_route(_DB + "/tags/(?P<tag>[^/]+)", put=tags.update_tag, delete=tags.delete_tag)
_route(r"/tasks", get=list_tasks)
_route(r"/tasks/(?P<task>[^/]+)", get=get_task)


def resolve(method: str, path: str) -> tuple[Handler, Params]:
    """404 for an unknown path, 405 for a known path with another method (Spring's answers)."""
    for pattern, handlers in _ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        handler = handlers.get(method.upper())
        if handler is None:
            raise ApiProblem(405)
        groups = match.groupdict()
        params = Params(
            tier="essentials" if groups.get("fixed") else "pro",
            subscription_id=_path_id(groups.get("sid")),
            database_id=_path_id(groups.get("dbid")),
            tag_key=groups.get("tag") or "",
            task_id=groups.get("task") or "",
        )
        return handler, params
    raise ApiProblem(404)


_INT32_MAX = 2**31 - 1  # path ids are `integer`, `format: int32` (the OpenAPI spec)


def _path_id(digits: str | None) -> int:
    """An id past int32 cannot bind to the API's Integer parameter: Spring answers 400, not 404 (and a
    5,000-digit id must not reach `int()`, which refuses more than 4,300 digits)."""
    if not digits:
        return 0
    if len(digits.lstrip("0")) > len(str(_INT32_MAX)) or int(digits) > _INT32_MAX:
        raise ApiProblem(400)
    return int(digits)
