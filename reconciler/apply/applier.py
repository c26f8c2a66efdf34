"""Run a Plan: exactly the calls it lists, in order, each one-shot operation behind a write-ahead receipt.

Per database: settings, then on-demand backups, then (backup_first) a backup and the import, one at a
time; databases run in parallel up to `parallelism`, and never more than `max_backups_per_subscription`
backups run at once in a subscription (SPEC §7). A receipt is claimed before its POST (a 409 means another
run owns it), gets the task id once accepted, and `done`/`failed` only when the latest backup/import status
(or, where that is unavailable, the task) shows the outcome. When the outcome is unknown (no answer to the
POST, a timeout) the receipt stays `claimed` and the next plan settles it: a receipt never lies.

A write is sent without reading the database's status first (the plan has just seen it, and reading before every
write cost a request each, issue 16). The API refuses a write to a database that is not `active` with
DATABASE_NOT_ACTIVE, which changes nothing; the write is then sent again once the database is `active`, three tries
at most. A refused backup's claim is withdrawn while it waits (see `_one_shot`); an import keeps its claim.

After the first Ctrl-C or SIGTERM (`stop`) nothing not yet sent is sent: every PUT and POST, and every wait for a
database to become `active` before one, checks it first, and a claim whose call was not sent is withdrawn. Calls
already sent are waited for, so their receipts record the outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from reconciler.apply.backup_refusals import BackupRefused, NoBackupSlot, post_backup, until_a_slot_frees
from reconciler.apply.ledger import CLAIM_SETTLE, Ledger
from reconciler.apply.pacing import Pacing, length_seen
from reconciler.apply.schedule import Job, run_jobs
from reconciler.cloud.client import RedisCloudClient
from reconciler.core.calls import ApiCall, is_backup, resolved
from reconciler.core.desired import OperationKind
from reconciler.core.evidence import says_backup_off, seconds_between, status_verdict, unverified_backup
from reconciler.core.outcomes import Outcome, StepResult
from reconciler.core.plan import (
    Change,
    DatabaseRef,
    OneShot,
    OwnerTag,
    Plan,
    PlanWarning,
    RegionalUpdate,
    SettingsUpdate,
)
from reconciler.core.polling import poll
from reconciler.core.receipt_tags import Phase, Receipt, claim
from reconciler.core.uris import mask_in_text
from reconciler.errors import (
    ApiError,
    ClaimedElsewhere,
    ClaimRefused,
    ClaimUnconfirmed,
    OutcomeUnknownError,
    ReconcilerError,
    TaskFailedError,
    TaskTimeoutError,
    WaitInterrupted,
)

_T = TypeVar("_T")
_STATUS_ERRORS_TOLERATED = 5  # consecutive failed status reads before the outcome is called unknown
_IMPORT_NOT_SENT = "the backup before the import ran, the import was not sent"
# Both types exist (API-NOTES §7); a write refused with either changed nothing (§11: writes need `active`).
_NOT_ACTIVE = frozenset({"DATABASE_NOT_ACTIVE", "DATABASE_IS_NOT_ACTIVE"})
_BUSY_REFUSALS = 3  # refusals as not active, each after the database was seen `active` again, before giving up
_REFUSED_BUSY = "the API refused the write as the database was not active, so nothing changed"


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    run_id: str  # 8 hex digits, written into every claim
    environ: Mapping[str, str]
    parallelism: int | None = None  # None: `default_parallelism`
    max_backups_per_subscription: int = 4  # the documented default per cluster/subscription (API-NOTES §3)
    timeout: float = 6 * 3600.0  # per operation
    claim_settle: float = CLAIM_SETTLE  # where the API overwrites on create (ledger.py); every run must agree


# (event, address, detail): "start" (None), "finish" (its StepResult), "status" (the latest status word read)
Listener = Callable[[str, str, StepResult | str | None], None]


class Applier:
    """Runs a plan as it is: every request is one of its changes' calls, resolved; the manifest is not read."""

    def __init__(
        self,
        client: RedisCloudClient,
        plan: Plan,
        options: ApplyOptions,
        *,
        listener: Listener | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.ledger = Ledger(client, settle=options.claim_settle, clock=clock)
        self.plan = plan
        self.options = options
        self.stop = stop or threading.Event()
        self.pacing = Pacing(client.poll, clock)
        self._listener = listener or (lambda event, address, result: None)
        self._clock = clock
        self._wall = wall

    def run(self) -> list[StepResult]:
        """Every change and settlement, with its outcome, in plan order. The scheduler alone enforces the
        backup-slot cap: a database that runs backups holds one of its subscription's slots while it runs."""
        jobs = [
            Job((db.tier, db.subscription), _takes_backup_slots(changes), (db, changes, settles))
            for db, changes, settles in _by_database(self.plan)
        ]
        slots = self.options.max_backups_per_subscription
        done = run_jobs(
            jobs,
            lambda job: self._database(*job),
            workers=self.options.parallelism or default_parallelism(len({job.group for job in jobs}), slots),
            slots_per_group=self.options.max_backups_per_subscription,
        )
        results = {result.address: result for batch in done for result in batch}
        ordered = [w.address for w in self.plan.settlements] + [c.address for c in self.plan.changes]
        return [results[address] for address in ordered if address in results]

    # --- one database, one step at a time -----------------------------------------------------------------

    def _database(self, db: DatabaseRef, changes: list[Change], settles: list[PlanWarning]) -> list[StepResult]:
        results = [self._step(w.address, "settle", partial(self._settle, db, w)) for w in settles]
        blocked = ""
        for change in changes:
            if self.stop.is_set():
                results.append(self._skip(change, "not started: apply was interrupted"))
            elif blocked:
                results.append(self._skip(change, f"not started: {blocked} did not finish"))
            else:
                result = self._step(change.address, change.action.value, partial(self._change, change))
                results.append(result)
                if not result.ok:
                    blocked = change.address
        return results

    def _skip(self, change: Change, message: str) -> StepResult:
        result = StepResult(change.address, change.action.value, Outcome.SKIPPED, 0.0, message)
        self._listener("finish", change.address, result)
        return result

    def _step(self, address: str, action: str, work: Callable[[], tuple[Outcome, str, str | None]]) -> StepResult:
        self._listener("start", address, None)
        started = self._clock()
        try:
            outcome, message, task_id = work()
        except ClaimedElsewhere as claimed:
            outcome, message, task_id = Outcome.CLAIMED_BY_OTHER_RUN, str(claimed), None
        except ClaimRefused as refused:
            outcome, message, task_id = Outcome.REFUSED, mask_in_text(str(refused)), None
        except ClaimUnconfirmed as unconfirmed:
            outcome, message, task_id = Outcome.UNCERTAIN, str(unconfirmed), None
        except ReconcilerError as error:  # e.g. a receipt write that failed after retries
            outcome, message, task_id = Outcome.UNCERTAIN, mask_in_text(str(error)), None
        result = StepResult(address, action, outcome, self._clock() - started, message, task_id)
        self._listener("finish", address, result)
        return result

    def _change(self, change: Change) -> tuple[Outcome, str, str | None]:
        if isinstance(change, OwnerTag):
            return self._own(change)
        return self._one_shot(change) if isinstance(change, OneShot) else self._update(change)

    def _own(self, change: OwnerTag) -> tuple[Outcome, str, str | None]:
        """The owner tag, first on its database: a set that loses it (`ClaimedElsewhere`) writes nothing more there."""
        if self.stop.is_set():
            return Outcome.SKIPPED, "not started: apply was interrupted; nothing was sent", None
        try:
            return Outcome.DONE, self.ledger.own(change.database, change.owner, previous=change.previous), None
        except ApiError as error:
            return Outcome.FAILED, f"the owner tag was not written ({error}); nothing else is written on it", None

    # --- settings -------------------------------------------------------------------------------------------

    def _update(self, change: SettingsUpdate | RegionalUpdate) -> tuple[Outcome, str, str | None]:
        db, deadline = change.database, self._clock() + self.options.timeout

        tries = 0

        def put() -> str:
            nonlocal tries
            self._unless_stopped(_REFUSED_BUSY if tries else "nothing was sent")  # every PUT checks "stop" first
            tries += 1
            task_id = self.client.send(self._resolved(change.call))
            self.client.wait_for_task(task_id, timeout=self._left(deadline))
            return task_id

        try:
            task_id = self._when_active(db, deadline, put)
        except _NotSent as interrupted:
            return Outcome.SKIPPED, f"not started: {interrupted}", None
        except TaskTimeoutError as error:
            return Outcome.UNCERTAIN, f"{error}; plan again to see where it stands", None
        except ApiError as error:
            return Outcome.FAILED, str(error), None
        try:
            self.client.wait_until_active(
                db.tier, db.subscription, db.database, timeout=self._left(deadline), after_change=True
            )
        except TaskTimeoutError as error:
            return Outcome.UNCERTAIN, f"{error}; plan again to see where it stands", None
        except ApiError as error:
            return Outcome.FAILED, str(error), None
        return Outcome.DONE, "backup settings updated", task_id

    # --- on-demand backups and imports ---------------------------------------------------------------------

    def _one_shot(self, change: OneShot) -> tuple[Outcome, str, str | None]:
        # A backup claims its receipt only once its database holds its subscription's slot (the scheduler sees to
        # that), and afresh after each refusal by the API, so the receipt spends no time without a task id:
        # meanwhile another run's plan could take someone else's backup (a scheduled one) for it.
        deadline = self._clock() + self.options.timeout
        replacing, refused_as_busy = change.replaces, 0

        def attempt() -> tuple[Outcome, str, str | None]:
            nonlocal replacing, deadline, refused_as_busy
            self._unless_stopped()  # waiting for a slot may take long: nothing is claimed after "stop"
            fresh = claim(change.kind, change.op_id, change.fingerprint, at=int(self._wall()), run=self.options.run_id)
            claiming = self._clock()
            receipt = self.ledger.claim(change.database, fresh, replacing=replacing)
            deadline += self._clock() - claiming  # the claim's own waits are not the operation's time
            replacing = None  # taken over and replaced by the first claim
            try:
                return self._run_claimed(change, receipt, deadline)
            except (BackupRefused, _NotActive) as refused:
                # Nothing started, so the claim goes while we wait: a claim without a task id must not sit
                # there while scheduled backups finish, since their status could pass for ours.
                self.ledger.withdraw(change.database, receipt)
                if isinstance(refused, BackupRefused):
                    raise
            refused_as_busy += 1
            if refused_as_busy >= _BUSY_REFUSALS:
                message = _busy_refusals(change.database.name)
                return Outcome.SKIPPED, f"not started: {message}; nothing is recorded, so the next apply runs it", None
            self._until_active(change.database, deadline)  # then claimed afresh
            return attempt()

        try:
            return self._until_a_slot_frees(attempt, deadline)
        except _NotSent as interrupted:  # before any claim, or once it is withdrawn: nothing to withdraw
            return Outcome.SKIPPED, f"not started: {interrupted}", None
        except TaskTimeoutError as error:  # the database never returned to `active`, and the claim was withdrawn
            return Outcome.SKIPPED, f"not started: {error}; nothing is recorded, so the next apply runs it", None
        except NoBackupSlot as refused:
            return Outcome.SKIPPED, f"not started: {refused}; nothing is recorded, so the next apply runs it", None

    def _run_claimed(self, change: OneShot, receipt: Receipt, deadline: float) -> tuple[Outcome, str, str | None]:
        db, address = change.database, change.address
        claimed = self._clock()  # the claim's `createdAt` on the local clock, give or take its second
        try:
            sent = "nothing was sent"
            if change.backup_first:
                self._backup_first(db, change.calls[0], receipt, address, deadline, claimed)
                sent = _IMPORT_NOT_SENT
            self._unless_stopped(sent)
            call = self._resolved(change.call)
            if is_backup(call):  # its task is waited for, and its id on the claim as soon as it is known
                task_id, posted = self._post_backup(call, deadline, partial(self._record_task, db, receipt))
                receipt = receipt.with_task(task_id)
            else:
                posted = self._clock()

                def post_import() -> None:
                    """The import's POST, its task id on the claim (best effort) and the receipt, its task waited for;
                    the receipt keeps the id even when that wait fails, since the import may well run."""
                    nonlocal receipt
                    self._unless_stopped()
                    receipt = receipt.with_task(self.client.send(call))
                    self.ledger.write(db, receipt, required=False)
                    self._accepted(receipt, deadline)

                self._when_active(db, deadline, post_import)
            phase, message = self._await(db, receipt, address, deadline, _Times(claimed, posted))
        except (NoBackupSlot, _NotSent) as not_sent:
            return self._withdraw(db, receipt, str(not_sent))
        except _Unverified as unverified:  # the receipt stays claimed with its task id: a person must look
            return Outcome.UNCERTAIN, str(unverified), receipt.task_id
        except OutcomeUnknownError as error:
            return Outcome.UNCERTAIN, f"{error}; the receipt stays claimed and the next plan settles it", None
        except TaskTimeoutError as error:  # whichever wait ran out (task, database, status), say it one way
            return (
                Outcome.UNCERTAIN,
                f"no outcome within the {self.options.timeout:g} s timeout ({error}); "
                "the receipt stays claimed and the next plan settles it",
                receipt.task_id,
            )
        except TaskFailedError as error:  # the API's own verdict: the task (or the database) failed
            phase, message = Phase.FAILED, str(error)
        except ApiError as error:
            if receipt.task_id is not None:
                # The call was accepted, so it may well have run: a failed *read* (503s, a task id that stays
                # 404) is no evidence of failure, and recording `failed` would invite a second import.
                return (
                    Outcome.UNCERTAIN,
                    f"{error}; the call was accepted (task {receipt.task_id}) but its outcome could not be read; "
                    "the receipt stays claimed and the next plan settles it",
                    receipt.task_id,
                )
            phase, message = Phase.FAILED, str(error)
        self.ledger.record(db, receipt.with_phase(phase, at=int(self._wall())))
        outcome = Outcome.DONE if phase is Phase.DONE else Outcome.FAILED
        return outcome, message, receipt.task_id

    def _backup_first(
        self, db: DatabaseRef, call: ApiCall, claimed: Receipt, address: str, deadline: float, claimed_at: float
    ) -> None:
        """The on-demand backup an import asked for; if it fails, the import must not run. Its status is judged
        against the import's own claim, which the backup follows."""
        task_id, posted = self._until_a_slot_frees(partial(self._post_backup, self._resolved(call), deadline), deadline)
        backup = replace(claimed, kind=OperationKind.BACKUP, task_id=task_id)
        try:
            # Sent, so waited for even after "stop": the import's claim is judged once it is over.
            phase, message = self._await(db, backup, address, deadline, _Times(claimed_at, posted))
        except _Unverified:
            raise _NotSent(
                f"the backup before the import (task {task_id}) was accepted, but its outcome cannot be read "
                "while the backup status answers that backup is off, so the import was not sent; switch the "
                "database's remote backup on"
            ) from None
        if phase is not Phase.DONE:
            raise TaskFailedError(
                f"backup_first {address}",
                "BACKUP_FIRST_FAILED",
                f"the backup before the import failed ({message}); the import did not run",
            )
        # The import is a write too, and a backup may leave the database busy (DATABASE_NOT_ACTIVE, API-NOTES §11).
        self._until_active(db, deadline, sent=_IMPORT_NOT_SENT)

    def _post_backup(
        self, call: ApiCall, deadline: float, record: Callable[[str], None] | None = None
    ) -> tuple[str, float]:
        """The accepted backup's task id, and when its POST was sent (what status reads are paced from)."""
        self._unless_stopped()
        posted = self._clock()
        try:
            return post_backup(self.client, call, timeout=self._left(deadline), record=record), posted
        except ApiError as error:
            if error.error_type in _NOT_ACTIVE:
                raise _NotActive(str(error)) from None
            raise

    def _when_active(self, db: DatabaseRef, deadline: float, write: Callable[[], _T]) -> _T:
        """`write()` at once, and again once the database is `active` for as long as the API refuses it as not
        active (a refused write changes nothing, API-NOTES §7, §11), a few times at most. Reading the status
        before every write cost a request each (issue 16); the refusal is the rare case."""
        for _ in range(_BUSY_REFUSALS - 1):
            try:
                return write()
            except ApiError as error:
                if error.error_type not in _NOT_ACTIVE:
                    raise
            try:
                self._until_active(db, deadline, sent=_REFUSED_BUSY)
            except TaskTimeoutError as error:
                raise _NotSent(f"{error}; {_REFUSED_BUSY}") from None
        try:
            return write()
        except ApiError as error:
            if error.error_type not in _NOT_ACTIVE:
                raise
            raise TaskFailedError(db.name, error.error_type or "", _busy_refusals(db.name)) from None

    def _until_a_slot_frees(self, attempt: Callable[[], _T], deadline: float) -> _T:
        return until_a_slot_frees(
            attempt,
            policy=self.client.poll,
            deadline=deadline,
            clock=self._clock,
            stop=self.stop,
            timeout=self.options.timeout,
        )

    def _record_task(self, db: DatabaseRef, claimed: Receipt, task_id: str) -> None:
        """Best effort: the accepted task's id on the claim as soon as the POST is answered."""
        self.ledger.write(db, claimed.with_task(task_id), required=False)

    def _withdraw(self, db: DatabaseRef, claimed: Receipt, reason: str) -> tuple[Outcome, str, str | None]:
        """Nothing started, so our own claim is deleted: the receipt must not suggest the operation ran, and
        the next apply runs it. If the delete fails the claim stays, and the next plan settles it."""
        try:
            self.ledger.withdraw(db, claimed)
        except ApiError as error:
            return (
                Outcome.UNCERTAIN,
                f"not started: {reason}; but its claim could not be withdrawn ({error}), so the next plan reports it "
                "uncertain: it did not run, re-run it with --retry-uncertain",
                None,
            )
        return Outcome.SKIPPED, f"not started: {reason}; its claim was withdrawn, so the next apply runs it", None

    def _accepted(self, receipt: Receipt, deadline: float) -> None:
        """Wait for the task of an accepted POST: it only says "accepted", and fails when the API refuses it."""
        assert receipt.task_id is not None
        self.client.wait_for_task(receipt.task_id, timeout=self._left(deadline))

    def _await(
        self, db: DatabaseRef, receipt: Receipt, address: str, deadline: float, times: _Times
    ) -> tuple[Phase, str]:
        """After the accepted task: the latest status, paced (`pacing.py`) from when the POST was sent, until it
        shows an outcome after the claim's second (`_Unverified` when the status cannot be read because backup is
        off)."""
        since = times.posted
        assert receipt.task_id is not None
        task_id = receipt.task_id
        unreadable, seen, running_at = 0, "", 0.0

        def check() -> tuple[Phase, str] | None:
            nonlocal unreadable, seen, running_at
            where = (db.tier, db.subscription, db.database)
            latest = self.client.latest(receipt.kind, *where, timeout=self._left(deadline), region=receipt.region)
            if latest.status:
                self._listener("status", address, latest.status)
            if says_backup_off(receipt.kind, latest):
                # Backup off (SPEC §10): no status to read, and the completed task is no evidence (issue 20 item 4).
                raise _Unverified(unverified_backup(address, task_id, latest.error_type))
            if latest.error_type:
                # Any other status error says nothing of this operation (a completed import task only means
                # "accepted", API-NOTES §3-§4): ask again, and give up as uncertain, never guess `done`.
                unreadable += 1
                if unreadable >= _STATUS_ERRORS_TOLERATED:
                    raise TaskTimeoutError(
                        f"{address}: the {receipt.kind.value} status could not be read ({latest.error_type})"
                    )
            else:
                unreadable = 0
            # An unknown status word is shown as the API wrote it, never taken for success (statuses.py).
            seen = f" (latest status {latest.status!r})" if latest.status else ""
            verdict = status_verdict(receipt, address, latest)
            if verdict is None or verdict.outcome is None:
                running_at = self._clock() - since
                return None
            # The API's clock measures from the claim's `createdAt`; the claim came `posted - claimed` before the POST.
            api_seconds = seconds_between(receipt.created_at, latest.time)
            api_length = None if api_seconds is None else api_seconds - (times.posted - times.claimed)
            self.pacing.learn(
                receipt.kind,
                length_seen(api_length=api_length, running_at=running_at, seen_at=self._clock() - since),
            )
            detail = f": {latest.failure_reason}" if latest.failure_reason else ""
            return verdict.outcome, f"{latest.status} at {latest.time}{detail}"

        def timed_out() -> TaskTimeoutError:
            return TaskTimeoutError(f"{address}: no outcome within {self.options.timeout:g} s{seen}")

        with self.pacing.waiting(receipt.kind, since) as pauses:
            return poll(
                check,
                policy=pauses,
                deadline=deadline,
                clock=self._clock,
                sleep=pauses.sleep,
                timed_out=timed_out,
                pause_first=True,  # the accepted task only says the operation started: no outcome can be there yet
            )

    def _settle(self, db: DatabaseRef, warning: PlanWarning) -> tuple[Outcome, str, str | None]:
        settled = self.ledger.settle(db, warning)
        if settled is None:
            return Outcome.UNCERTAIN, "the receipt is gone; plan again", None
        return Outcome.SETTLED, *settled

    # --- helpers --------------------------------------------------------------------------------------------

    def _unless_stopped(self, sent: str = "nothing was sent") -> None:
        if self.stop.is_set():
            raise _NotSent(f"apply was interrupted; {sent}")

    def _until_active(self, db: DatabaseRef, deadline: float, *, sent: str = "nothing was sent") -> None:
        """Wait for `active` before a write, but give up at "stop": `_NotSent`."""
        try:
            self.client.wait_until_active(
                db.tier, db.subscription, db.database, timeout=self._left(deadline), stop=self.stop
            )
        except WaitInterrupted:
            raise _NotSent(f"apply was interrupted; {sent}") from None

    def _resolved(self, call: ApiCall) -> ApiCall:
        return resolved(call, self.options.environ)

    def _left(self, deadline: float) -> float:
        return max(0.0, deadline - self._clock())


@dataclass(frozen=True, slots=True)
class _Times:
    """An operation's moments on the local clock: its claim was answered, its POST was sent."""

    claimed: float
    posted: float


class _NotActive(Exception):
    """The API refused a backup POST because the database is not `active`: nothing started."""


class _NotSent(Exception):
    """The call a claim guards was not sent (apply was interrupted, or its backup_first cannot be verified)."""


class _Unverified(Exception):
    """An accepted backup whose outcome the API cannot show (backup off): the receipt stays claimed."""


def _busy_refusals(name: str) -> str:
    return (
        f"the API refused the write {_BUSY_REFUSALS} times as {name} was not active, each time after it was seen "
        "`active` again; nothing changed"
    )


def _by_database(plan: Plan) -> list[tuple[DatabaseRef, list[Change], list[PlanWarning]]]:
    """Each database's changes and settlements, in plan order; a settlement names its database (`database`)."""
    jobs: dict[str, tuple[DatabaseRef, list[Change], list[PlanWarning]]] = {}
    for change in plan.changes:
        jobs.setdefault(change.database.name, (change.database, [], []))[1].append(change)
    for warning in plan.settlements:
        if warning.database is not None:
            jobs.setdefault(warning.database.name, (warning.database, [], []))[2].append(warning)
    return list(jobs.values())


def default_parallelism(subscriptions: int, slots_per_subscription: int) -> int:
    """Enough workers for every subscription the plan touches to run its slots' backups at once: the scheduler
    caps backups per subscription, waits share one poller (cloud/watch.py), and the rate limit is the only global
    bound, so a smaller default only stretches the run (issue 16: 200 backups over 10 subscriptions took 10x the
    optimum at 4)."""
    return max(1, slots_per_subscription * subscriptions)


def _takes_backup_slots(changes: list[Change]) -> bool:
    """On-demand backups, and imports with `backup_first`, run backups (one at a time per database)."""
    return any(is_backup(call) for change in changes for call in change.calls)
