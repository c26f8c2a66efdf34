"""Read-only, typed views of the world for tests: histories and the request log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.operations import BACKUP_RUNNING, BACKUP_SUCCESS, IMPORT_RUNNING
from reconciler.sandbox.state import BackupRun, ImportRun, LogEntry


@dataclass(frozen=True, slots=True)
class BackupRecord:
    database_id: int
    subscription_id: int
    task_id: str
    destination: str
    adhoc: bool
    started_at: float
    finished_at: float
    status: str  # "in-progress" or "success" at the time of the snapshot


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """An import that actually ran (a task refused up front never appears here)."""

    database_id: int
    task_id: str
    source_type: str
    uris: tuple[str, ...]
    started_at: float
    finished_at: float
    status: str  # "importing", "success" or "failed"
    failure_reason: str | None


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    time: float
    method: str
    path: str  # including /v1
    query: dict[str, str]
    body: Any  # the parsed JSON body, or None
    status: int | None  # None when the connection was dropped before an answer existed
    key: str | None  # the name of the API key (never the secret), None when unauthenticated
    outcome: str  # "answered", "dropped" or "dropped-after-processing"


def backup_record(run: BackupRun, now: float) -> BackupRecord:
    return BackupRecord(
        database_id=run["database_id"],
        subscription_id=run["subscription_id"],
        task_id=run["task_id"],
        destination=run["destination"],
        adhoc=run["adhoc"],
        started_at=run["started"],
        finished_at=run["ends"],
        status=BACKUP_RUNNING if now < run["ends"] else BACKUP_SUCCESS,
    )


def import_record(run: ImportRun, now: float) -> ImportRecord:
    return ImportRecord(
        database_id=run["database_id"],
        task_id=run["task_id"],
        source_type=run["source_type"],
        uris=tuple(run["uris"]),
        started_at=run["started"],
        finished_at=run["ends"],
        status=IMPORT_RUNNING if now < run["ends"] else run["outcome"],
        failure_reason=run["failure_reason"],
    )


def logged_request(entry: LogEntry) -> LoggedRequest:
    return LoggedRequest(
        time=entry["time"],
        method=entry["method"],
        path=entry["path"],
        query=dict(entry["query"]),
        body=entry["body"],
        status=entry["status"],
        key=entry["key"],
        outcome=entry["outcome"],
    )
