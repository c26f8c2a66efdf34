"""Redis Cloud endpoints this product uses, as methods that return model objects (never a Response).

Shapes come from API-NOTES §1-§5 and §9; every asynchronous call returns a task id. Waits (`wait_for_task`,
`wait_until_active`, the task of a status read) go through the client's one `Watch`, which reads for every
waiter at once with backoff (`polling.PollPolicy`: 1 s growing to 30 s), tolerating a few 404s on a fresh id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reconciler.cloud.session import Session
from reconciler.cloud.watch import DatabaseKey, Watch, nonempty_text
from reconciler.core.calls import ApiCall, database_path, plain, subscriptions_path
from reconciler.core.desired import OperationKind, Tier
from reconciler.core.live import LatestStatus, LiveBackup, LiveDatabase, LiveRegion, LiveTag, TaskSnapshot
from reconciler.core.polling import PollPolicy, unless_stopped
from reconciler.core.statuses import TASK_COMPLETED, TASK_RUNNING
from reconciler.core.uris import mask_in_text
from reconciler.errors import NotFoundError, TaskFailedError, TaskTimeoutError

PAGE_SIZE = 100
_TIME_FIELDS = {OperationKind.BACKUP: "lastBackupTime", OperationKind.IMPORT: "lastImportTime"}


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    snapshot: TaskSnapshot
    resource: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DatabaseListing:
    """A list item; `backup` is None when the item carried no backup object (Pro lists may not, API-NOTES §1), or,
    for an Active-Active database, when a region carried none; the database is then read on its own."""

    database: int
    name: str
    status: str
    backup: LiveBackup | None
    account_id: int | None = None  # the page's `accountId` (API-NOTES §1): which account answered
    active_active: bool = False  # `activeActiveRedis: true`: backup is per region, in `crdbDatabases` (§11)
    regions: tuple[LiveRegion, ...] | None = None  # Active-Active: each region's backup (None: single-region)


class RedisCloudClient:
    def __init__(
        self,
        session: Session,
        *,
        poll: PollPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.poll = poll or PollPolicy()
        self._lock = threading.Lock()  # guards the two maps below
        self._pages: dict[DatabaseKey, int] = {}  # the list page offset each database was last seen on
        self._accepted: dict[str, Mapping[str, Any]] = {}  # task id -> the write's answer, until its task is waited for
        self.watch = Watch(self, policy=self.poll, clock=clock, sleep=sleep)

    # --- reads -------------------------------------------------------------------------------------------

    def list_subscriptions(self, tier: Tier) -> list[int]:
        body = self.session.call("GET", subscriptions_path(tier))
        items = body.get("subscriptions", []) if isinstance(body, dict) else []
        return [int(item["id"]) for item in items if isinstance(item, dict) and "id" in item]

    def list_databases(self, tier: Tier, subscription: int) -> Iterator[DatabaseListing]:
        """All databases of a subscription, 100 a page. Past the end, Pro answers 404 and Essentials an empty page."""
        offset = 0
        while True:
            try:
                page = self._page(tier, subscription, offset)
            except NotFoundError:
                if offset == 0:
                    raise
                return
            yield from page
            if len(page) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _page(self, tier: Tier, subscription: int, offset: int) -> list[DatabaseListing]:
        body = self.session.call(
            "GET", f"{subscriptions_path(tier)}/{subscription}/databases", params={"offset": offset, "limit": PAGE_SIZE}
        )
        account = body.get("accountId") if isinstance(body, dict) else None
        page = [
            _parse_listing(tier, item, account if isinstance(account, int) and not isinstance(account, bool) else None)
            for item in _page_items(body)
        ]
        with self._lock:
            self._pages.update(((tier, subscription, listing.database), offset) for listing in page)
        return page

    def get_database(self, tier: Tier, subscription: int, database: int) -> LiveDatabase:
        item = self.session.call("GET", database_path(tier, subscription, database))
        backup = item.get("backup")
        return LiveDatabase(
            tier=tier,
            subscription=subscription,
            database=database,
            name=str(item.get("name", "")),
            status=str(item.get("status", "")),
            # A database that never had backup configured may carry no object at all: that is "off".
            backup=_parse_backup(tier, backup) if isinstance(backup, dict) else LiveBackup(enabled=False),
            regions=_parse_regions(item, complete_only=False),
        )

    def list_tags(self, tier: Tier, subscription: int, database: int) -> tuple[LiveTag, ...]:
        body = self.session.call("GET", database_path(tier, subscription, database) + "/tags")
        items = body.get("tags", []) if isinstance(body, dict) else []
        return tuple(_parse_tag(item) for item in items if isinstance(item, dict))

    def get_task(self, task_id: str) -> TaskSnapshot | None:
        """None when the API no longer (or not yet) knows the task."""
        try:
            return _snapshot(self.task_body(task_id))
        except NotFoundError:
            return None

    def latest(
        self,
        kind: OperationKind,
        tier: Tier,
        subscription: int,
        database: int,
        *,
        timeout: float,
        region: str | None = None,
    ) -> LatestStatus:
        """`GET …/backup` or `GET …/import` is itself asynchronous: a task whose resource is the status (API-NOTES
        §3, §4). `region`: the backup status of one region of an Active-Active database (`?regionName=`, a real
        query parameter: the Go client once encoded it into the path, API-NOTES §3)."""
        path = database_path(tier, subscription, database) + f"/{kind.value}"
        params = {"regionName": region} if region is not None else None
        task_id = self._accept("GET", path, self.session.call("GET", path, params=params))
        try:
            resource = self.wait_for_task(task_id, timeout=timeout).resource
        except TaskFailedError as exc:  # e.g. DATABASE_BACKUP_DISABLED when backup is off
            return LatestStatus(error_type=exc.error_type)
        return LatestStatus(
            status=nonempty_text(resource.get("status")),
            time=nonempty_text(resource.get(_TIME_FIELDS[kind])),
            failure_reason=nonempty_text(resource.get("failureReason")),
        )

    # --- raw reads, for the watch ------------------------------------------------------------------------

    def task_body(self, task_id: str) -> Mapping[str, Any]:
        body = self.session.call("GET", f"/tasks/{quote(task_id, safe='')}")
        return body if isinstance(body, dict) else {}

    def task_bodies(self) -> list[Mapping[str, Any]]:
        """`GET /tasks`: the `{"tasks": [...]}` envelope or a bare array, whichever the API sends (API-NOTES §11)."""
        body = self.session.call("GET", "/tasks")
        items = body.get("tasks", []) if isinstance(body, dict) else body
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def status_of(self, key: DatabaseKey) -> str:
        return self.get_database(*key).status

    def page_statuses(self, tier: Tier, subscription: int, offset: int) -> dict[int, str]:
        return {listing.database: listing.status for listing in self._page(tier, subscription, offset)}

    def page_of(self, key: DatabaseKey) -> int | None:
        with self._lock:
            return self._pages.get(key)

    # --- writes ------------------------------------------------------------------------------------------

    def send(self, call: ApiCall) -> str:
        """One of a plan's calls, resolved; the answer is a task id. A PUT is idempotent, so it may be retried; a
        POST of a backup or an import is not repeated after an unknown outcome (`OutcomeUnknownError`). On a backup,
        `RateLimitedError` (429) and `ConflictError` (409) mean the API refused it and nothing started: the
        subscription may be running its maximum of backups (API-NOTES §11)."""
        body = None if call.body is None else plain(call.body)
        answer = self.session.call(call.method, call.path, json=body, safe=call.repeatable)
        return self._accept(call.method, call.path, answer)

    def _accept(self, method: str, path: str, answer: Any) -> str:
        """The answer's task id; the answer is kept for the wait on that task, which learns from its times."""
        task_id = _task_id(method, path, answer)
        with self._lock:
            self._accepted[task_id] = answer
        return task_id

    def create_tag(self, tier: Tier, subscription: int, database: int, key: str, value: str) -> LiveTag:
        """409 (`ConflictError`) when the key exists: the receipt's create-if-absent claim (API-NOTES §9)."""
        path = database_path(tier, subscription, database) + "/tags"
        return _parse_tag(self.session.call("POST", path, json={"key": key, "value": value}))

    def update_tag(self, tier: Tier, subscription: int, database: int, key: str, value: str) -> LiveTag:
        path = database_path(tier, subscription, database) + f"/tags/{quote(key, safe='')}"
        return _parse_tag(self.session.call("PUT", path, json={"value": value}))

    def delete_tag(self, tier: Tier, subscription: int, database: int, key: str) -> None:
        self.session.call("DELETE", database_path(tier, subscription, database) + f"/tags/{quote(key, safe='')}")

    # --- waiting -----------------------------------------------------------------------------------------

    def wait_for_task(self, task_id: str, *, timeout: float) -> TaskOutcome:
        """Until the task leaves the processing states; any other end (`processing-error`) raises
        `TaskFailedError`."""

        def finished(body: Mapping[str, Any]) -> TaskOutcome | None:
            snapshot = _snapshot(body)
            if snapshot.error_type is not None or (
                snapshot.status not in TASK_RUNNING and snapshot.status != TASK_COMPLETED
            ):
                raise TaskFailedError(
                    f"task {task_id}", snapshot.error_type or snapshot.status, snapshot.error_description
                )
            if snapshot.status != TASK_COMPLETED:
                return None
            response = body.get("response") or {}
            resource = response.get("resource") if isinstance(response, dict) else None
            return TaskOutcome(snapshot, resource if isinstance(resource, dict) else {})

        def timed_out() -> TaskTimeoutError:
            return TaskTimeoutError(f"task {task_id} did not finish within {timeout:g} s")

        with self._lock:
            accepted = self._accepted.pop(task_id, None)
        return self.watch.task(task_id, finished, timeout=timeout, timed_out=timed_out, accepted=accepted)

    def wait_until_active(
        self,
        tier: Tier,
        subscription: int,
        database: int,
        *,
        timeout: float,
        stop: threading.Event | None = None,
        after_change: bool = False,
    ) -> None:
        """After a task completes the database passes through transient statuses (API-NOTES §1); `error` is final.
        With `stop`, the wait gives up (`WaitInterrupted`) as soon as it is set, also once `active` is seen. With
        `after_change` (a change's task just completed) the first reading is one pause later: the database is
        still applying it then, and a reading at once would only say so."""

        def active(status: str) -> bool | None:
            if status == "error":
                raise TaskFailedError(
                    f"database {database_path(tier, subscription, database)}",
                    "DATABASE_ERROR",
                    "the database is in status `error`",
                )
            if status != "active":
                return None
            unless_stopped(stop)
            return True

        def timed_out() -> TaskTimeoutError:
            return TaskTimeoutError(f"database {database} did not return to `active` within {timeout:g} s")

        self.watch.database(
            (tier, subscription, database), active, timeout=timeout, timed_out=timed_out, stop=stop, settle=after_change
        )


def _page_items(body: Any) -> list[dict[str, Any]]:
    """Pro's `subscription` is a one-element array, Essentials' a single object (API-NOTES §1)."""
    subscription = body.get("subscription") if isinstance(body, dict) else None
    if isinstance(subscription, list):
        subscription = subscription[0] if subscription else {}
    databases = subscription.get("databases", []) if isinstance(subscription, dict) else []
    return [item for item in databases if isinstance(item, dict)]


def _parse_listing(tier: Tier, item: Mapping[str, Any], account_id: int | None) -> DatabaseListing:
    regions = _parse_regions(item, complete_only=True)
    if regions is not None or _active_active(item):
        # Active-Active: no database-wide backup object (API-NOTES §11); a region without one is read on its own.
        backup = LiveBackup(enabled=False) if regions is not None else None
    else:
        backup = _parse_backup(tier, item["backup"]) if isinstance(item.get("backup"), dict) else None
    return DatabaseListing(
        database=int(item["databaseId"]),
        name=str(item.get("name", "")),
        status=str(item.get("status", "")),
        backup=backup,
        account_id=account_id,
        active_active=regions is not None or _active_active(item),
        regions=regions,
    )


def _active_active(item: Mapping[str, Any]) -> bool:
    """The Go client tells Active-Active databases from single-region ones by `activeActiveRedis` (API-NOTES §1)."""
    return item.get("activeActiveRedis") is True


def _parse_regions(item: Mapping[str, Any], *, complete_only: bool) -> tuple[LiveRegion, ...] | None:
    """`crdbDatabases[]`, each `region` with its own Pro-shaped `backup` (API-NOTES §1, §11); None for a single-region
    database. A region without a backup object reads as off; with `complete_only` (a list item) the whole database
    is None then, so that the refresh reads it on its own rather than take a missing object for "off"."""
    if not _active_active(item):
        return None
    listed = item.get("crdbDatabases")
    elements = [e for e in listed if isinstance(e, dict) and isinstance(e.get("region"), str)] if listed else []
    if complete_only and (not elements or any(not isinstance(e.get("backup"), dict) for e in elements)):
        return None
    return tuple(
        LiveRegion(
            str(e["region"]),
            _parse_backup(Tier.PRO, e["backup"]) if isinstance(e.get("backup"), dict) else LiveBackup(enabled=False),
        )
        for e in elements
    )


def _parse_backup(tier: Tier, backup: Mapping[str, Any]) -> LiveBackup:
    """Pro reads `enableRemoteBackup`, Essentials `remoteBackupEnabled`; "" means unset (API-NOTES §1)."""
    flag = "remoteBackupEnabled" if tier is Tier.ESSENTIALS else "enableRemoteBackup"
    return LiveBackup(
        enabled=bool(backup.get(flag, False)),
        path=nonempty_text(backup.get("destination")),
        interval=nonempty_text(backup.get("interval")),
        time_utc=nonempty_text(backup.get("timeUTC")),
    )


def _parse_tag(item: Mapping[str, Any]) -> LiveTag:
    return LiveTag(
        key=str(item["key"]),
        value=str(item.get("value", "")),
        created_at=str(item.get("createdAt", "")),
        updated_at=str(item.get("updatedAt", "")),
    )


def _snapshot(body: Any) -> TaskSnapshot:
    response = body.get("response") if isinstance(body.get("response"), dict) else {}
    error = response.get("error")
    if isinstance(error, dict):
        error_type, description = nonempty_text(error.get("type")), nonempty_text(error.get("description"))
        description = mask_in_text(description) if description else None
    else:
        error_type, description = nonempty_text(error), None
    return TaskSnapshot(
        task_id=str(body.get("taskId", "")),
        status=str(body.get("status", "")),
        error_type=error_type,
        error_description=description,
    )


def _task_id(method: str, path: str, body: Any) -> str:
    """The task id an asynchronous call answers with; without one, the work it asked for cannot be followed."""
    if not isinstance(body, dict) or not isinstance(body.get("taskId"), str):
        raise TaskFailedError(f"{method} {path}", "NO_TASK", "the API answered without a task id")
    return str(body["taskId"])
