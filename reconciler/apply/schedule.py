"""Which database runs next: the apply scheduler (SPEC §7, issue 7's makespan figure).

A worker that picked a database only to wait for its subscription's backup slot would sit idle while
another subscription had a slot free. So a job that takes a backup slot is dispatched only when its
subscription has room, and otherwise the earliest job that can start goes first (plan order when nothing
contends).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Job(Generic[T]):
    group: Hashable  # the subscription whose backup slots it uses
    uses_slot: bool  # it runs at least one backup (one at a time), so it holds at most one slot
    payload: T


def run_jobs(jobs: Sequence[Job[T]], work: Callable[[T], R], *, workers: int, slots_per_group: int) -> list[R]:
    """Run every job once; results in the order of `jobs`."""
    waiting: dict[Hashable, deque[int]] = {}
    free: deque[int] = deque()
    for position, job in enumerate(jobs):
        (waiting.setdefault(job.group, deque()) if job.uses_slot else free).append(position)
    busy: dict[Hashable, int] = dict.fromkeys(waiting, 0)
    changed = threading.Condition()
    running = 0
    futures: dict[int, Future[R]] = {}

    def pick() -> int | None:
        """The earliest job that can start now: plan order whenever nothing contends."""
        heads = [queue[0] for group, queue in waiting.items() if queue and busy[group] < slots_per_group]
        if free:
            heads.append(free[0])
        if not heads:
            return None
        index = min(heads)
        if jobs[index].uses_slot:
            busy[jobs[index].group] += 1
            waiting[jobs[index].group].popleft()
        else:
            free.popleft()
        return index

    def finished(index: int) -> None:
        nonlocal running
        with changed:
            running -= 1
            if jobs[index].uses_slot:
                busy[jobs[index].group] -= 1
            changed.notify()

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="apply") as pool, changed:
        while len(futures) < len(jobs):
            index = pick() if running < max(1, workers) else None
            if index is None:
                changed.wait()
                continue
            running += 1
            futures[index] = pool.submit(work, jobs[index].payload)
            futures[index].add_done_callback(partial(_ignore_future, finished, index))
    return [futures[i].result() for i in range(len(jobs))]


def _ignore_future(callback: Callable[[int], None], index: int, _: object) -> None:
    callback(index)
