"""One restore drill, step by step (issue 15 §2), each step written ahead in the source database's receipt:

1. backup: `POST …/backup {"adhocBackupPath"}` to a folder unique to this run (API-NOTES §3), then the backup
   status until it shows an outcome later than the receipt's write (server clock, `updatedAt`);
2. list: the files the backup wrote, found by listing that folder (`stores/`);
3. import: `POST …/import` of those files into the scratch database (API-NOTES §4; `scratch: true` is its
   confirmation), then its import status the same way;
4. verify: the import's success, and the key counts `verify` asks for. The API reports no key count or dataset
   size in any status (API-NOTES §3, §4), so keys are counted only where a data plane is reachable (the
   sandbox's); elsewhere a drill that asks for counts fails, saying so, rather than pass unproven.

Only a run whose verification passed writes `passed`. An error or Ctrl-C writes `failed`/`interrupted`; a kill
leaves `running`, which the next run records as interrupted once the lease is over (claim.py).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from reconciler.cloud.client import RedisCloudClient
from reconciler.core.calls import backup_call, database_path, import_call, resolved
from reconciler.core.desired import DatabaseSpec, Drill, Import, OnDemandBackup, OperationKind, drill_address
from reconciler.core.drill_tags import DrillPhase, DrillReceipt, Step
from reconciler.core.drills import DrillOutcome, DrillResult, DrillState, StepRun
from reconciler.core.evidence import describe_status, left_in_claim_second, ran_after, says_backup_off
from reconciler.core.live import LatestStatus
from reconciler.core.plan import DatabaseRef
from reconciler.core.polling import PollPolicy, poll
from reconciler.core.statuses import StatusMeaning, meaning
from reconciler.core.uris import infer_type, mask, resolve
from reconciler.drill.claim import DrillClaims
from reconciler.errors import (
    ApiError,
    ClaimedElsewhere,
    ClaimRefused,
    ClaimUnconfirmed,
    ReconcilerError,
    TaskFailedError,
)
from reconciler.stores import StoreReach, list_files

KeyCounter = Callable[[DatabaseRef], "int | None"]  # DBSIZE of a database, None when its data plane is unreachable
_RDB = (".rdb", ".rdb.gz")


@dataclass(frozen=True, slots=True)
class DrillJob:
    source: DatabaseSpec
    scratch: DatabaseSpec
    drill: Drill

    @property
    def address(self) -> str:
        return drill_address(self.source.name, self.drill.id)


class _StatusOff(Exception):
    """The backup status cannot be read while the database's backups are off (`DATABASE_BACKUP_DISABLED`)."""


class _Failed(Exception):
    """A step's outcome proves the restore did not work: the drill failed (exit 2), with the API's reason."""

    def __init__(self, step: Step, why: str, message: str) -> None:
        super().__init__(message)
        self.step, self.why = step, why


class DrillRunner:
    def __init__(
        self,
        client: RedisCloudClient,
        claims: DrillClaims,
        *,
        environ: Mapping[str, str],
        reach: StoreReach,
        count_keys: KeyCounter | None,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client, self.claims = client, claims
        self.environ, self.reach, self.count_keys = environ, reach, count_keys
        self.timeout = timeout
        self._clock, self._now = clock, now

    def run(self, job: DrillJob) -> DrillResult:
        source = DatabaseRef.of(job.source)
        settled = self._settle(job, source)
        run = secrets.token_hex(4)
        try:
            receipt = self.claims.claim(source, job.drill, run)
        except (ClaimedElsewhere, ClaimUnconfirmed, ClaimRefused) as error:
            return DrillResult(job.address, job.scratch.name, DrillOutcome.SKIPPED, str(error), settled=settled)
        steps: list[StepRun] = []
        state = _State(receipt)
        try:
            self._backup(job, source, state, steps)
            files = self._list(job, source, state, steps)
            self._import(job, source, state, steps, files)
            self._verify(job, source, state, steps)
        except _Failed as failed:
            return self._end(job, source, state, steps, DrillOutcome.FAILED, failed.why, str(failed), settled)
        except (ReconcilerError, ApiError) as error:
            why = f"{state.receipt.step or 'run'}-error"
            return self._end(job, source, state, steps, DrillOutcome.ERROR, why, str(error), settled)
        except KeyboardInterrupt:
            self._end(job, source, state, steps, DrillOutcome.INTERRUPTED, "stopped", "interrupted", settled)
            raise
        keys = f"; {state.receipt.keys} keys in {job.scratch.name}" if state.receipt.keys is not None else ""
        return self._end(job, source, state, steps, DrillOutcome.PASSED, None, f"restored{keys}", settled)

    # --- the steps -------------------------------------------------------------------------------------------

    def _backup(self, job: DrillJob, source: DatabaseRef, state: _State, steps: list[StepRun]) -> None:
        began = self._clock()
        if job.drill.verify.match_source and self.count_keys is not None:
            state.receipt = replace(state.receipt, src=self.count_keys(source))
        folder = state.folder(job)
        reference = self.claims.write(source, state.receipt)
        self._leave_second(reference)
        self._until_active(source)
        call = backup_call(_where(job.source), OnDemandBackup(job.drill.id, folder))
        state.asked = self._clock()
        self._accepted(self.client.send(resolved(call, self.environ)))
        try:
            latest = self._outcome(OperationKind.BACKUP, source, reference, job.address)
        except _StatusOff as off:
            # Backups off (a drill-level path): no status to read (API-NOTES §3), so the files that appear in this
            # run's own folder are the evidence; a partial file fails the import's check, never passes it.
            count = self._files_appear(job, state)
            seconds = self._clock() - began
            detail = f"to {mask(folder)}: the status answers {off} while backups are off; {count} file(s) appeared"
            steps.append(StepRun(Step.BACKUP, seconds, detail))
            state.receipt = state.receipt.timed(Step.BACKUP, seconds)
            return
        seconds = self._clock() - began
        if meaning(latest.status) is not StatusMeaning.SUCCESS:
            steps.append(StepRun(Step.BACKUP, seconds, describe_status(OperationKind.BACKUP, latest)))
            raise _Failed(Step.BACKUP, latest.failure_reason or "backup-failed", _said(OperationKind.BACKUP, latest))
        steps.append(StepRun(Step.BACKUP, seconds, f"to {mask(folder)}: {latest.status} at {latest.time}"))
        state.receipt = state.receipt.timed(Step.BACKUP, seconds)

    def _files_appear(self, job: DrillJob, state: _State) -> int:
        """Until the run's folder holds backup files and two listings a pause apart agree."""
        folder = resolve(state.folder(job), self.environ) + "/"
        seen: list[str] = []

        def check() -> int | None:
            nonlocal seen
            now = [uri for uri in list_files(folder, self.reach) if uri.lower().endswith(_RDB)]
            settled = bool(now) and now == seen
            seen = now
            return len(now) if settled else None

        def timed_out() -> _Failed:
            return _Failed(Step.BACKUP, "no-backup-files", f"no backup file appeared within {self.timeout:g} s")

        return poll(
            check,
            policy=PollPolicy(initial=min(1.0, self.client.poll.initial)),
            deadline=self._clock() + self.timeout,
            clock=self._clock,
            sleep=time.sleep,
            timed_out=timed_out,
        )

    def _list(self, job: DrillJob, source: DatabaseRef, state: _State, steps: list[StepRun]) -> list[str]:
        began = self._clock()
        state.move(self.claims, source, Step.LIST, self._now())
        folder = resolve(state.folder(job), self.environ)
        try:
            files = [uri for uri in list_files(folder + "/", self.reach) if uri.lower().endswith(_RDB)]
        finally:
            seconds = self._clock() - began
            state.receipt = state.receipt.timed(Step.LIST, seconds)
        if not files:
            steps.append(StepRun(Step.LIST, seconds, "no .rdb or .rdb.gz file found"))
            raise _Failed(Step.LIST, "no-backup-files", f"the backup wrote no file under {mask(state.folder(job))}")
        steps.append(StepRun(Step.LIST, seconds, f"{len(files)} file{'s' * (len(files) != 1)}"))
        state.files = tuple(mask(uri) for uri in files)
        return files

    def _import(
        self, job: DrillJob, source: DatabaseRef, state: _State, steps: list[StepRun], files: list[str]
    ) -> None:
        began = self._clock()
        scratch = DatabaseRef.of(job.scratch)
        state.receipt = replace(state.receipt, age=max(0, round(began - state.asked)))
        reference = state.move(self.claims, source, Step.IMPORT, self._now())
        self._leave_second(reference)
        self._until_active(scratch)
        operation = Import(job.drill.id, tuple(files), infer_type(files[0]) or "")
        try:
            self._accepted(self.client.send(import_call(_where(job.scratch), operation)))
        except TaskFailedError as refused:
            steps.append(StepRun(Step.IMPORT, self._clock() - began, f"refused: {refused.error_type}"))
            raise _Failed(Step.IMPORT, refused.error_type or "import-refused", str(refused)) from None
        latest = self._outcome(OperationKind.IMPORT, scratch, reference, job.address)
        seconds = self._clock() - began
        state.receipt = state.receipt.timed(Step.IMPORT, seconds)
        steps.append(StepRun(Step.IMPORT, seconds, describe_status(OperationKind.IMPORT, latest)))
        if meaning(latest.status) is not StatusMeaning.SUCCESS:
            raise _Failed(Step.IMPORT, latest.failure_reason or "import-failed", _said(OperationKind.IMPORT, latest))

    def _verify(self, job: DrillJob, source: DatabaseRef, state: _State, steps: list[StepRun]) -> None:
        began = self._clock()
        state.move(self.claims, source, Step.VERIFY, self._now())
        verify = job.drill.verify
        keys = self.count_keys(DatabaseRef.of(job.scratch)) if self.count_keys is not None else None
        state.receipt = replace(state.receipt, keys=keys)
        seconds = self._clock() - began
        state.receipt = state.receipt.timed(Step.VERIFY, seconds)
        problem, why = None, ""
        if verify.counts_keys and (keys is None or (verify.match_source and state.receipt.src is None)):
            problem, why = (
                "keys cannot be counted: the Redis Cloud API reports no key count or dataset size (API-NOTES §3, §4) "
                "and no data plane of the scratch database is reachable",
                "keys-not-countable",
            )
        elif keys is not None and verify.min_keys is not None and keys < verify.min_keys:
            problem, why = f"{keys} keys after the import, fewer than min_keys {verify.min_keys}", "too-few-keys"
        elif keys is not None and verify.match_source and keys != state.receipt.src:
            problem, why = f"{keys} keys after the import, the source held {state.receipt.src}", "keys-differ"
        counted = f"{keys} keys" if keys is not None else "import succeeded; keys not counted"
        steps.append(StepRun(Step.VERIFY, seconds, problem or counted))
        if problem:
            raise _Failed(Step.VERIFY, why, problem)

    def _settle(self, job: DrillJob, source: DatabaseRef) -> str | None:
        """An earlier run that died mid-way is recorded `interrupted`, with what the API says of the step it was
        in (never `passed`: its verification never finished); None when there is none."""
        found = self.claims.read(source, job.drill)
        if found.verdict.state is not DrillState.INTERRUPTED or found.receipt is None:
            return None
        dead = found.receipt
        if dead.step in (Step.BACKUP, Step.IMPORT):
            kind = OperationKind.BACKUP if dead.step is Step.BACKUP else OperationKind.IMPORT
            db = source if kind is OperationKind.BACKUP else DatabaseRef.of(job.scratch)
            latest = self.client.latest(kind, db.tier, db.subscription, db.database, timeout=self.timeout)
            seen = describe_status(kind, latest)
            word = f"killed-at-{dead.step}-{kind.value}-{latest.status or latest.error_type or 'none'}"
        else:
            seen, word = f"it had reached step {dead.step}", f"killed-at-{dead.step}"
        if self.claims.settle_dead(source, found, word) is None:
            return None
        return f"recorded its earlier run {dead.run} as interrupted at step {dead.step} ({seen})"

    # --- helpers ---------------------------------------------------------------------------------------------

    def _end(
        self,
        job: DrillJob,
        source: DatabaseRef,
        state: _State,
        steps: list[StepRun],
        outcome: DrillOutcome,
        why: str | None,
        message: str,
        settled: str | None,
    ) -> DrillResult:
        phase = {DrillOutcome.PASSED: DrillPhase.PASSED, DrillOutcome.INTERRUPTED: DrillPhase.INTERRUPTED}.get(
            outcome, DrillPhase.FAILED
        )
        final = state.receipt.ended(phase, now=int(self._now()), why=why)
        try:
            self.claims.write(source, final)
        except ApiError as error:
            message += f"; its receipt could not be written ({error}): it says `running` until the next run settles it"
        return DrillResult(
            job.address,
            job.scratch.name,
            outcome,
            message,
            tuple(steps),
            final.age,
            final.keys,
            final.src,
            state.files,
            settled,
        )

    def _accepted(self, task_id: str) -> None:
        self.client.wait_for_task(task_id, timeout=self.timeout)

    def _until_active(self, db: DatabaseRef) -> None:
        self.client.wait_until_active(db.tier, db.subscription, db.database, timeout=self.timeout)

    def _leave_second(self, updated_at: str) -> None:
        """A status in the very second of the receipt's write could be an earlier run's (evidence.py)."""
        time.sleep(left_in_claim_second(updated_at))

    def _outcome(self, kind: OperationKind, db: DatabaseRef, reference: str, address: str) -> LatestStatus:
        """The latest status, once it shows an outcome later than `reference` (the write ahead of the step)."""
        started = self._clock()

        def check() -> LatestStatus | None:
            latest = self.client.latest(kind, db.tier, db.subscription, db.database, timeout=self.timeout)
            if says_backup_off(kind, latest):
                raise _StatusOff(latest.error_type)
            if latest.error_type:
                raise _Failed(
                    _STEP[kind], latest.error_type.lower(), f"the {kind.value} status answered {latest.error_type}"
                )
            said = meaning(latest.status)
            if said in (None, StatusMeaning.RUNNING) or not ran_after(latest.time, reference):
                return None
            return latest

        def timed_out() -> ReconcilerError:
            return ReconcilerError(f"{address}: no {kind.value} outcome within {self.timeout:g} s")

        return poll(
            check,
            policy=PollPolicy(initial=min(1.0, self.client.poll.initial)),
            deadline=started + self.timeout,
            clock=self._clock,
            sleep=time.sleep,
            timed_out=timed_out,
            pause_first=True,
        )


_STEP = {OperationKind.BACKUP: Step.BACKUP, OperationKind.IMPORT: Step.IMPORT}


class _State:
    """What a run has learnt so far; the receipt is rewritten ahead of each step."""

    def __init__(self, receipt: DrillReceipt) -> None:
        self.receipt = receipt
        self.files: tuple[str, ...] = ()
        self.asked = 0.0  # when the backup was asked for (runner's clock)

    def folder(self, job: DrillJob) -> str:
        """Unique to this run, so the files found there are this backup's and no other's."""
        return f"{job.drill.path.rstrip('/')}/drill-{job.drill.id}-{self.receipt.run}"

    def move(self, claims: DrillClaims, db: DatabaseRef, step: Step, now: float) -> str:
        self.receipt = self.receipt.at_step(step, now=int(now))
        return claims.write(db, self.receipt)


def _where(spec: DatabaseSpec) -> str:
    return database_path(spec.tier, spec.subscription, spec.database)


def _said(kind: OperationKind, latest: LatestStatus) -> str:
    reason = f" ({latest.failure_reason})" if latest.failure_reason else ""
    return f"the {kind.value} {latest.status or 'gave no status'}{reason}"
