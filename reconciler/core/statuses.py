"""The status words the API speaks, each written once: a task's, and the latest backup/import `status`.

A task (`GET /tasks/{id}`, API-NOTES §5) runs through `initialized`, `received` and `processing-in-progress`
(the Go client's processingStates) to `processing-completed`; anything else, `processing-error` included, is
its failure.

The latest backup/import `status` (`GET …/backup`, `GET …/import`) is read the same everywhere.

The API seems to pass the cluster's values through (API-NOTES §11): backup `exporting | succeeded | failed`,
import `idle | initializing | importing | succeeded | failed`, while Cloud fixtures show `in-progress`,
`importing`, `success` and `failed`. Both vocabularies are accepted; any other value is unknown and is
reported as it is, never taken for success.
"""

from __future__ import annotations

from enum import StrEnum

TASK_RUNNING = frozenset({"initialized", "received", "processing-in-progress"})
TASK_COMPLETED = "processing-completed"

RUNNING = frozenset({"exporting", "initializing", "importing", "in-progress"})
SUCCESS = frozenset({"success", "succeeded"})
FAILED = frozenset({"failed"})


class StatusMeaning(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UNKNOWN = "unknown"  # a value outside both vocabularies: shown as it is, never a success


def meaning(status: str | None) -> StatusMeaning | None:
    """What a status value says; None when there is no status at all (never backed up or imported)."""
    if not status:
        return None
    word = status.strip().lower()
    if word in RUNNING:
        return StatusMeaning.RUNNING
    if word in SUCCESS:
        return StatusMeaning.SUCCESS
    if word in FAILED:
        return StatusMeaning.FAILED
    return StatusMeaning.UNKNOWN


def is_running(status: str | None) -> bool:
    return meaning(status) is StatusMeaning.RUNNING


def is_success(status: str | None) -> bool:
    return meaning(status) is StatusMeaning.SUCCESS


def is_failure(status: str | None) -> bool:
    return meaning(status) is StatusMeaning.FAILED
