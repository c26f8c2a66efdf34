"""An on-demand backup the API refuses because its subscription already runs its maximum of backups.

Scheduled backups count too, so our own cap (`--max-backups-per-subscription`, enforced by the scheduler) can be
exceeded. The API may then refuse with a 429, a 409 or a task ending DATABASE_BACKUP_FAILED (API-NOTES §11: which
one is UNCONFIRMED). Each starts nothing, so it is no evidence of an outcome: the backup is tried again, backing
off, until a slot frees, the deadline comes, or the run is stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from reconciler.cloud.client import RedisCloudClient
from reconciler.core.calls import ApiCall
from reconciler.core.polling import PollPolicy, poll
from reconciler.errors import ConflictError, RateLimitedError, TaskFailedError, WaitInterrupted

T = TypeVar("T")
REFUSED_ERROR = "DATABASE_BACKUP_FAILED"


class BackupRefused(Exception):
    """The API refused to start a backup (a 429, a 409, or a task ending DATABASE_BACKUP_FAILED)."""


class NoBackupSlot(Exception):
    """Every `POST …/backup` was refused until the deadline (or a stop): nothing started."""


def post_backup(
    client: RedisCloudClient, call: ApiCall, *, timeout: float, record: Callable[[str], None] | None = None
) -> str:
    """One `POST …/backup`: the id of its task once the API has accepted it, or `BackupRefused`. `record` is told
    the task id as soon as the POST is answered (a crash while the task runs leaves its id on the claim)."""
    try:
        task_id = client.send(call)
    except (RateLimitedError, ConflictError) as error:
        raise BackupRefused(f"HTTP {error.status}") from None
    if record is not None:
        record(task_id)
    try:
        client.wait_for_task(task_id, timeout=timeout)
    except TaskFailedError as error:
        if error.error_type != REFUSED_ERROR:
            raise
        raise BackupRefused(f"task {task_id} ended {error.error_type}") from None
    return task_id


def until_a_slot_frees(
    attempt: Callable[[], T],
    *,
    policy: PollPolicy,
    deadline: float,
    clock: Callable[[], float],
    stop: threading.Event,
    timeout: float,
) -> T:
    """`attempt()` again, backing off, for as long as it raises `BackupRefused`; when the deadline (or a stop)
    comes first, `NoBackupSlot`."""
    refusals, last = 0, ""

    def check() -> T | None:
        nonlocal refusals, last
        try:
            return attempt()
        except BackupRefused as refused:
            refusals, last = refusals + 1, str(refused)
            return None

    def no_slot(cause: str) -> NoBackupSlot:
        return NoBackupSlot(
            f"the API refused the backup {refusals} time(s) until {cause} (last: {last}); the subscription "
            "probably had its maximum of backups running (scheduled backups count too)"
        )

    try:
        return poll(
            check,
            policy=policy,
            deadline=deadline,
            clock=clock,
            sleep=stop.wait,
            timed_out=lambda: no_slot(f"the {timeout:g} s timeout"),
            stop=stop,
        )
    except WaitInterrupted:
        raise no_slot("apply was interrupted") from None
