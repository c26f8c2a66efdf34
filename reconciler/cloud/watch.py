"""Every wait of a run shares one poller: tasks are read with one `GET /tasks` a tick, databases with one list page.

Apply waits for many things at once: each POST's and PUT's task, each status read's task, each database on its
way back to `active`. Polled one by one, that was 86-92% of apply's requests (issue 16). Here a waiter registers
what it waits for and its own backoff (`PollPolicy`); whichever waiter finds something due becomes the poller
for that tick and reads for everyone:

- tasks: one `GET /tasks` answers every task it lists (API-NOTES §5, §11: tasks of the past 10 days, or only
  running ones; a `{"tasks": [...]}` envelope or a bare array); a due task the list lacks (too fresh, or already
  gone from a list of running tasks) is read with `GET /tasks/{id}`, which tolerates a fresh id's 404s. With one
  task in flight the single read is used: it costs the same request and less payload. A list that answers with
  an error is not asked again this run; the single reads carry on.
- databases: a subscription's list page carries each database's `status` (API-NOTES §1), so where several
  waiting databases sit on fewer pages than there are databases, the pages are read, and `GET` database
  otherwise (also for a database no longer on the page it was listed on).

Each answer is given to every waiter it concerns, due or not, and a waiter that got one waits its next pause
from then, rounded to a grid of the first pause: waiters fall into step and share ticks.

A task is first read where its answer can be: once it has run as long as the shortest task of its `commandType`
this run has seen complete, measured on the API's clock (the write's answer's `timestamp` to the completed task's).
A settings update of two minutes was otherwise read at 1, 3, 7, 15, 31, 61, 91 and 121 s, wave after wave (issue
16); now the first wave learns the length and each later one is read about once: on a grid of a twentieth of that
length, so the tasks of a wave whose answers came over a few seconds share one tick (readings for others that list
a task before then do not bring its next one forward either). A task longer than the one learnt from is read on
the backoff from there; where the API gives no times nothing is learnt and nothing changes.

A waiter only blocks on its own deadline and `stop`; the poller sleeps through the injected `sleep` in short steps,
so a newer, sooner waiter is not kept waiting.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from reconciler.core.desired import Tier
from reconciler.core.evidence import instant
from reconciler.core.polling import PollPolicy
from reconciler.core.statuses import TASK_COMPLETED
from reconciler.errors import ApiError, NotFoundError, ReconcilerError, WaitInterrupted

_FRESH_404S = 5  # Go swallows up to 5 consecutive 404s on a new task id (API-NOTES §5)
_STEP = 0.1  # seconds the poller sleeps at most before looking for sooner waiters and stops
_GATHER = 0.05  # seconds a database's first reading waits for others that begin at the same moment

_PACED_GRID = 20  # a task read at its learnt length L is read on a grid of L / this (see `task`)

DatabaseKey = tuple[Tier, int, int]  # (tier, subscription, database)


class Reads(Protocol):
    """What the watch reads with: the client's raw reads (cloud/client.py)."""

    def task_body(self, task_id: str) -> Mapping[str, Any]: ...

    def task_bodies(self) -> Sequence[Mapping[str, Any]]: ...

    def status_of(self, key: DatabaseKey) -> str: ...

    def page_statuses(self, tier: Tier, subscription: int, offset: int) -> dict[int, str]: ...

    def page_of(self, key: DatabaseKey) -> int | None: ...


T = TypeVar("T")


@dataclass(eq=False)
class _Waiter:
    task_id: str | None
    database: DatabaseKey | None
    check: Callable[[Any], object]  # the waiter's verdict on a reading: its answer, or None to wait on
    deadline: float
    timed_out: Callable[[], Exception]
    delays: Iterator[float]
    due: float
    answer: object = None
    error: BaseException | None = None
    missing: int = 0  # consecutive 404s of a fresh task id
    done: bool = False
    command: str | None = None  # the task's `commandType` and its acceptance on the API's clock: to learn its length
    accepted_at: float | None = None
    not_before: float = 0.0  # no reading of its own before this (a task's learnt length)


class Watch:
    def __init__(
        self,
        reads: Reads,
        *,
        policy: PollPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._reads = reads
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Condition()
        self._waiters: list[_Waiter] = []
        self._polling = False
        self._list_works = True
        self._lengths: dict[str, float] = {}  # commandType -> the shortest task of it seen complete, in seconds

    # --- what callers wait for -----------------------------------------------------------------------------

    def task(
        self,
        task_id: str,
        check: Callable[[Mapping[str, Any]], T | None],
        *,
        timeout: float,
        timed_out: Callable[[], Exception],
        stop: threading.Event | None = None,
        accepted: Mapping[str, Any] | None = None,
    ) -> T:
        """`check(body)` of each reading of the task until it returns something other than None. The first
        reading is one pause after the call (a task just created is never already finished), or, `accepted` being
        the write's answer, once the task has run as long as the shortest of its `commandType` seen so far."""
        now = self._clock()
        delays = self.policy.delays()
        command = nonempty_text((accepted or {}).get("commandType"))
        first = next(delays)
        with self._lock:
            expected = self._lengths.get(command) if command is not None else None
        due = self._on_grid(now + first)
        if expected is not None and expected > first:
            # At or just after that length, on a grid of a twentieth of it: the tasks of one wave of writes, whose
            # answers came over a few seconds, are then read by one tick, not one a second (at most 5% late).
            step = max(self.policy.initial, expected / _PACED_GRID)
            due = min(math.ceil((now + expected) / step) * step, now + timeout)  # never read only past the timeout
        waiter = _Waiter(task_id, None, check, now + timeout, timed_out, delays, due)
        waiter.command, waiter.accepted_at = command, instant(nonempty_text((accepted or {}).get("timestamp")))
        waiter.not_before = waiter.due
        return cast(T, self._wait(waiter, stop))

    def database(
        self,
        key: DatabaseKey,
        check: Callable[[str], T | None],
        *,
        timeout: float,
        timed_out: Callable[[], Exception],
        stop: threading.Event | None = None,
        settle: bool = False,
    ) -> T:
        """`check(status)` of each reading of the database's status, the first one almost at once: waits that
        begin together are gathered for `_GATHER` seconds and read together. With `settle`, the first reading is
        one pause later, on the grid (a database that has just taken a change is still applying it)."""
        now = self._clock()
        delays = self.policy.delays()
        first = self._on_grid(now + next(delays)) if settle else now + min(_GATHER, self.policy.initial)
        waiter = _Waiter(None, key, check, now + timeout, timed_out, delays, first)
        return cast(T, self._wait(waiter, stop))

    # --- the shared loop -------------------------------------------------------------------------------------

    def _wait(self, waiter: _Waiter, stop: threading.Event | None) -> object:
        with self._lock:
            self._waiters.append(waiter)
            try:
                while not waiter.done:
                    if stop is not None and stop.is_set():
                        raise WaitInterrupted("the wait was interrupted")
                    if self._polling:
                        self._lock.wait(_STEP)
                        continue
                    pause = min(w.due for w in self._waiters if not w.done) - self._clock()
                    if pause > 0:
                        self._polling = True  # the sleeper holds the poller's seat, so only one thread sleeps
                        self._lock.release()
                        try:
                            self._sleep(min(pause, _STEP)) if stop is None else stop.wait(min(pause, _STEP))
                        finally:
                            self._lock.acquire()
                            self._polling = False
                        continue
                    self._tick()
            finally:
                self._waiters.remove(waiter)
                self._lock.notify_all()
        if waiter.error is not None:
            raise waiter.error
        return waiter.answer

    def _tick(self) -> None:
        """Read what is due, for everyone; called holding the lock, which is released while reading."""
        now = self._clock()
        due = [w for w in self._waiters if w.due <= now and not w.done]
        tasks = [w for w in self._waiters if w.task_id is not None and not w.done]
        databases = [w for w in self._waiters if w.database is not None and not w.done]
        self._polling = True
        self._lock.release()
        try:
            if any(w.task_id is not None for w in due):
                self._read_tasks([w for w in due if w.task_id is not None], tasks)
            if any(w.database is not None for w in due):
                self._read_databases([w for w in due if w.database is not None], databases)
        finally:
            self._lock.acquire()
            self._polling = False
            self._lock.notify_all()

    def _read_tasks(self, due: list[_Waiter], waiting: list[_Waiter]) -> None:
        ids = {w.task_id for w in waiting}
        listed: dict[str, Mapping[str, Any]] = {}
        if len(ids) > 1 and self._list_works:
            try:
                listed = {str(body.get("taskId")): body for body in self._reads.task_bodies()}
            except ApiError:
                self._list_works = False  # e.g. 412 "feature flag off": the single reads carry on
        for waiter in waiting:
            if waiter.task_id in listed:
                self._answer(waiter, listed[waiter.task_id])
        for waiter in due:
            if waiter.done or waiter.task_id in listed:
                continue
            assert waiter.task_id is not None
            try:
                body = self._reads.task_body(waiter.task_id)
            except NotFoundError as error:
                waiter.missing += 1
                if waiter.missing > _FRESH_404S:
                    self._end(waiter, error=error)
                else:
                    self._later(waiter)
                continue
            except ReconcilerError as error:
                self._end(waiter, error=error)
                continue
            waiter.missing = 0
            self._answer(waiter, body)

    def _read_databases(self, due: list[_Waiter], waiting: list[_Waiter]) -> None:
        by_subscription: dict[tuple[Tier, int], list[_Waiter]] = {}
        for waiter in waiting:
            assert waiter.database is not None
            by_subscription.setdefault(waiter.database[:2], []).append(waiter)
        for (tier, subscription), group in by_subscription.items():
            if not any(w in due for w in group):
                continue
            statuses: dict[int, str] = {}
            pages = {self._reads.page_of(w.database) for w in group if w.database is not None}
            if None not in pages and len(pages) < len(group):
                try:
                    for offset in sorted(p for p in pages if p is not None):
                        statuses.update(self._reads.page_statuses(tier, subscription, offset))
                except ReconcilerError:
                    statuses = {}  # the single reads below carry on, each with its own error
            for waiter in group:
                assert waiter.database is not None
                if waiter.database[2] in statuses:
                    self._answer(waiter, statuses[waiter.database[2]])
                elif waiter in due:
                    try:
                        self._answer(waiter, self._reads.status_of(waiter.database))
                    except ReconcilerError as error:
                        self._end(waiter, error=error)

    def _answer(self, waiter: _Waiter, reading: object) -> None:
        if waiter.accepted_at is not None and isinstance(reading, Mapping):
            self._learn(waiter, reading)
        try:
            answer = waiter.check(reading)
        except BaseException as error:  # the waiter's own verdict (a failed task, a database in `error`)
            self._end(waiter, error=error)
            return
        if answer is not None:
            self._end(waiter, answer=answer)
        else:
            self._later(waiter)

    def _learn(self, waiter: _Waiter, body: Mapping[str, Any]) -> None:
        """A completed task's length on the API's clock, from its acceptance to the `timestamp` of its completion."""
        ended = instant(nonempty_text(body.get("timestamp")))
        if body.get("status") != TASK_COMPLETED or ended is None or waiter.command is None:
            return
        assert waiter.accepted_at is not None
        length = ended - waiter.accepted_at
        with self._lock:
            known = self._lengths.get(waiter.command)
            if length >= 0 and (known is None or length < known):
                self._lengths[waiter.command] = length

    def _later(self, waiter: _Waiter) -> None:
        """No answer yet: the next reading one pause from now, unless that pause ends past the deadline."""
        now = self._clock()
        delay = next(waiter.delays)
        if now + delay > waiter.deadline:
            self._end(waiter, error=waiter.timed_out())
        else:
            waiter.due = max(waiter.not_before, self._on_grid(now + delay))

    def _on_grid(self, moment: float) -> float:
        """The tick nearest `moment` on a grid of the policy's first pause: waiters due within half a pause of each
        other (each POST and status read starts a task of its own) are read by the same tick. Nearest, not the next:
        a reading taken just after a tick would otherwise lose almost a whole pause at every step of its backoff."""
        step = self.policy.initial
        return round(moment / step) * step

    @staticmethod
    def _end(waiter: _Waiter, *, answer: object = None, error: BaseException | None = None) -> None:
        waiter.answer, waiter.error, waiter.done = answer, error, True


def nonempty_text(value: object) -> str | None:
    """A field of an API body that should be text: itself, or None when missing, empty or of another type."""
    return value if isinstance(value, str) and value else None
