"""The Redis Cloud API emulator: one `handle(request) -> response` entry point over a world.

The same object backs the in-process transport (tests), the file-backed transport (`--sandbox`,
several CLI processes sharing one account) and the real HTTP server (`sandbox serve`).
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from pathlib import Path
from typing import Any, Literal

import httpx

from reconciler.sandbox.faults import Fault, add_fault
from reconciler.sandbox.lifecycle import hold
from reconciler.sandbox.pipeline import Incoming, Outcome, process
from reconciler.sandbox.seed import load_seed
from reconciler.sandbox.state import BackupRun, Database, LogEntry, Task, WorldData, default_options
from reconciler.sandbox.store import MemoryStore, Store
from reconciler.sandbox.tasks import advance
from reconciler.sandbox.timings import Clock, Timings
from reconciler.sandbox.views import (
    BackupRecord,
    ImportRecord,
    LoggedRequest,
    backup_record,
    import_record,
    logged_request,
)


class Emulator:
    """Thread-safe: one lock serialises requests (the apply engine calls it from several threads)."""

    def __init__(
        self,
        world: WorldData | None = None,
        *,
        seed: Path | None = None,
        store: Store | None = None,
        clock: Clock = time.time,
        timings: Timings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if store is None:
            store = MemoryStore(world if world is not None else load_seed(seed))
        self.store = store
        self.clock = clock
        self.timings_override = timings
        self.sleep = sleep
        self._lock = threading.Lock()

    # --- serving -------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request; dropped-connection faults raise the httpx error a real client would see."""
        request.read()
        incoming = Incoming(
            method=request.method,
            path=request.url.path,
            query=dict(request.url.params.items()),
            raw_body=request.content,
            origin=f"{request.url.scheme}://{request.url.netloc.decode('ascii')}",
            access_key=request.headers.get("x-api-key"),
            secret_key=request.headers.get("x-api-secret-key"),
        )
        outcome = self.process(incoming)
        if outcome.delay > 0:
            self.sleep(outcome.delay)
        if outcome.drop == "before":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if outcome.drop == "after":
            raise httpx.ReadError("Connection reset by peer (sandbox fault after processing)", request=request)
        assert outcome.status is not None and outcome.body is not None
        # RFC 9110 §6.6.1: a server with a clock sends `Date`; the real API's server does, as `sandbox serve`'s
        # does (uvicorn adds it). Read on the world's clock, so that it agrees with the times the answers carry.
        headers = {**outcome.headers, "date": formatdate(self.clock(), usegmt=True)}
        return httpx.Response(outcome.status, json=outcome.body, headers=headers, request=request)

    def process(self, incoming: Incoming) -> Outcome:
        """The transport-neutral core of `handle`, also used by the HTTP server."""
        with self._world() as (world, now):
            outcome = process(world, incoming, now, self._timings(world))
            self._log(world, incoming, outcome, now)
            return outcome

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.handle)

    # --- test controls -------------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        with self._world() as (world, _):
            add_fault(world, fault)

    def clear_faults(self) -> None:
        with self._world() as (world, _):
            world["faults"].clear()

    def mark_source(self, uri: str, state: Literal["missing", "corrupt"] | None) -> None:
        """Make an import source URI missing or corrupt (None: present and sound)."""
        with self._world() as (world, _):
            if state is None:
                world["sources"].pop(uri, None)
            else:
                world["sources"][uri] = state

    def hold_status(self, database_id: int, status: str, seconds: float) -> None:
        """Keep a database in a transient `status` (e.g. `active-change-pending`) for `seconds` from now."""
        with self._world() as (world, now):
            database = next((db for db in world["databases"] if db["id"] == database_id), None)
            if database is None:
                raise KeyError(database_id)
            hold(database, status, now + seconds)

    def start_foreign_backup(self, database_id: int, seconds: float) -> None:
        """A backup we did not start (a scheduled one, or another tool's) that holds one of the subscription's
        concurrent-backup slots for `seconds` (API-NOTES §11: scheduled backups count toward the limit)."""
        with self._world() as (world, now):
            database = next((db for db in world["databases"] if db["id"] == database_id), None)
            if database is None:
                raise KeyError(database_id)
            world["backup_runs"].append(
                {
                    "task_id": f"scheduled-{len(world['backup_runs']) + 1}",
                    "subscription_id": database["subscription_id"],
                    "database_id": database_id,
                    "destination": database["backup"]["path"],
                    "adhoc": False,
                    "started": now,
                    "ends": now + seconds,
                }
            )

    def seed_backup(self, database_id: int, ago: float, failure_reason: str | None = None) -> None:
        """A backup that finished `ago` seconds before now (a scheduled one), failed when a reason is given: what
        `check` judges. The seed file's `last_backup` says the same for a whole world."""
        with self._world() as (world, now):
            database = next((db for db in world["databases"] if db["id"] == database_id), None)
            if database is None:
                raise KeyError(database_id)
            run: BackupRun = {
                "task_id": f"scheduled-{len(world['backup_runs']) + 1}",
                "subscription_id": database["subscription_id"],
                "database_id": database_id,
                "destination": database["backup"]["path"],
                "adhoc": False,
                "started": now - ago - 60.0,
                "ends": now - ago,
            }
            if failure_reason:
                run["failure_reason"] = failure_reason
            world["backup_runs"].append(run)

    def set_options(self, **changes: Any) -> None:
        """E.g. `set_options(pro_list_includes_backup=True, validation_errors="synchronous", rate_limit=10)`."""
        with self._world() as (world, _):
            # A world saved by an older version may lack newer options: they are known all the same.
            unknown = set(changes) - set(world["options"]) - set(default_options())
            if unknown:
                raise ValueError(f"unknown sandbox options: {', '.join(sorted(unknown))}")
            world["options"].update(changes)  # type: ignore[typeddict-item]

    @property
    def timings(self) -> Timings:
        with self._world() as (world, _):
            return self._timings(world)

    @timings.setter
    def timings(self, value: Timings) -> None:
        self.timings_override = value

    # --- inspection ----------------------------------------------------------------------------

    def snapshot(self) -> WorldData:
        """A deep copy of the whole world as of now."""
        with self._world() as (world, _):
            return copy.deepcopy(world)

    def database(self, database_id: int) -> Database:
        for db in self.snapshot()["databases"]:
            if db["id"] == database_id:
                return db
        raise KeyError(database_id)

    def tags(self, database_id: int) -> dict[str, str]:
        return {key: tag["value"] for key, tag in self.database(database_id)["tags"].items()}

    def tasks(self) -> list[Task]:
        return self.snapshot()["tasks"]

    def backup_history(self, database_id: int | None = None) -> list[BackupRecord]:
        with self._world() as (world, now):
            runs = [r for r in world["backup_runs"] if database_id is None or r["database_id"] == database_id]
            return [backup_record(run, now) for run in runs]

    def import_history(self, database_id: int | None = None) -> list[ImportRecord]:
        with self._world() as (world, now):
            runs = [r for r in world["import_runs"] if database_id is None or r["database_id"] == database_id]
            return [import_record(run, now) for run in runs]

    def peak_concurrent_backups(self, subscription_id: int) -> int:
        return self.snapshot()["peak_concurrent_backups"].get(str(subscription_id), 0)

    def request_log(self) -> list[LoggedRequest]:
        return [logged_request(entry) for entry in self.snapshot()["request_log"]]

    # --- internals -----------------------------------------------------------------------------

    @contextmanager
    def _world(self) -> Iterator[tuple[WorldData, float]]:
        with self._lock, self.store.transaction() as world:
            now = self.clock()
            advance(world, now)
            yield world, now

    def _timings(self, world: WorldData) -> Timings:
        return self.timings_override or Timings.from_dict(world["timings"])

    def _log(self, world: WorldData, incoming: Incoming, outcome: Outcome, now: float) -> None:
        entry: LogEntry = {
            "time": now,
            "method": incoming.method.upper(),
            "path": incoming.path,
            "query": incoming.query,
            "body": _scrub(outcome.parsed_body),
            "status": outcome.status,
            "key": outcome.key_name,
            "outcome": {"none": "answered", "before": "dropped", "after": "dropped-after-processing"}[outcome.drop],
        }
        log = world["request_log"]
        log.append(entry)
        overflow = len(log) - world["options"]["request_log_limit"]
        if overflow > 0:
            del log[:overflow]


# User-info ends at the first '@' before any '/'; Azure keys are base64 and may hold '/' themselves.
_USERINFO = re.compile(r"(?:(?<=abs)://[^@\s]+@|://[^/@\s]+@)")


def request_line(incoming: Incoming, outcome: Outcome, seconds: float) -> str:
    """A server log's line for one request (`sandbox serve --verbose`): who asked what and how it ended. No header
    (the keys), no body, and credentials in the path or query masked, as the request log keeps them."""
    query = "&".join(f"{name}={value}" for name, value in incoming.query.items())
    target = _scrub(incoming.path + (f"?{query}" if query else ""))
    ended = {"none": str(outcome.status), "before": "dropped", "after": "dropped after processing"}[outcome.drop]
    who = f"key {outcome.key_name}" if outcome.key_name else "unknown key"
    return f"{incoming.method.upper()} {target} -> {ended} ({who}, {seconds * 1000:.0f} ms)"


def _scrub(value: Any) -> Any:
    """Request bodies are logged (and saved in the sandbox's world file) with URI credentials masked, as a
    server's logs should be: secrets never sit at rest in the sandbox either."""
    if isinstance(value, str):
        return _USERINFO.sub("://****@", value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    return value
