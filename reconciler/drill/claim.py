"""Claiming a drill's receipt so that of racing `drill` runs exactly one runs it (issue 15 §2).

A drill's tag is rewritten by every run, so the claim is an overwrite (a PUT, or a create when the drill never
ran), which is exclusive only by the protocol `apply/ledger.py` uses where creates overwrite: the claim writes a
value unique to this run, waits `settle` seconds, and reads it back, going on only if it is still its own; a
claim whose check-to-write span reached `settle` never goes on. Two runs can then both go on only if one wrote
more than `settle` after it checked, which that check forbids (it would have seen the other's `running` claim,
and a running drill is never claimed over within its lease).

A claim found `running` past its lease is a run that died (kill -9, a lost machine): the run that finds it
first records it `interrupted`, with what the API says of the step it was in, and then claims as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from reconciler.cloud.client import RedisCloudClient
from reconciler.core.desired import Drill, Tier, drill_address
from reconciler.core.drill_tags import DrillPhase, DrillReceipt, decode, drill_key, start
from reconciler.core.drills import DrillState, DrillVerdict, drill_verdict
from reconciler.core.live import LiveTag
from reconciler.core.plan import DatabaseRef
from reconciler.core.receipt_tags import TAG_BUDGET
from reconciler.errors import ApiError, ClaimedElsewhere, ClaimRefused, ClaimUnconfirmed

CLAIM_SETTLE = 2.0  # as apply's (ledger.py): every run must agree


@dataclass(frozen=True, slots=True)
class Found:
    """A drill's receipt as read, and the verdict on it now."""

    receipt: DrillReceipt | None
    verdict: DrillVerdict
    tag: LiveTag | None


class DrillClaims:
    def __init__(
        self,
        client: RedisCloudClient,
        *,
        lease: int,
        settle: float = CLAIM_SETTLE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.lease = lease
        self.settle = settle
        self._clock, self._sleep, self._now = clock, sleep, now

    def read(self, db: DatabaseRef, drill: Drill) -> Found:
        """The receipt and verdict; an unreadable tag raises `ReceiptError` (never overwritten)."""
        tag = self._tag(db, drill_key(drill.id))
        receipt = decode(tag, drill_address(db.name, drill.id)) if tag else None
        return Found(receipt, drill_verdict(drill, receipt, now=int(self._now()), lease=self.lease), tag)

    def settle_dead(self, db: DatabaseRef, found: Found, evidence: str | None) -> DrillReceipt | None:
        """Record a run that died as `interrupted`, if its claim is still the one read; None when nothing was
        written (no dead run, or another run got there first)."""
        if found.receipt is None or found.verdict.state is not DrillState.INTERRUPTED:
            return None
        if found.receipt.phase is not DrillPhase.RUNNING:
            return None  # settled already
        settled = found.receipt.ended(DrillPhase.INTERRUPTED, now=int(self._now()), why=evidence or "killed")
        current = self._tag(db, found.receipt.key)
        if current is None or current.value != found.receipt.value:
            return None
        self.client.update_tag(*_at(db), settled.key, settled.value)
        return settled

    def claim(self, db: DatabaseRef, drill: Drill, run: str) -> DrillReceipt:
        """The write-ahead claim of a due drill; raises `ClaimedElsewhere` when another run holds it."""
        checked = self._clock()
        tags = self._tags(db)
        key = drill_key(drill.id)
        current = next((tag for tag in tags if tag.key == key), None)
        previous = decode(current, drill_address(db.name, drill.id)) if current else None
        verdict = drill_verdict(drill, previous, now=int(self._now()), lease=self.lease)
        if verdict.state is DrillState.RUNNING:
            raise ClaimedElsewhere(f"another run holds it: {verdict.message}")
        if not verdict.due:
            raise ClaimedElsewhere(f"another run has run it since: {verdict.message}")
        mine = start(drill.id, run, now=int(self._now()), previous=previous)
        try:
            if current is None:
                if len(tags) + 1 > TAG_BUDGET:
                    raise ClaimRefused(
                        f"{db.name} has {len(tags)} tags, the most a database may hold is {TAG_BUDGET}: remove some "
                        "of its own tags; nothing was written and the drill did not run"
                    )
                self.client.create_tag(*_at(db), key, mine.value)
            else:
                self.client.update_tag(*_at(db), key, mine.value)
        except ApiError as error:
            if error.status is not None and 400 <= error.status < 500 and self._tag(db, key) is not None:
                raise ClaimedElsewhere("another run claimed it at the same moment; skipped") from None
            raise
        span = self._clock() - checked
        if span >= self.settle:
            raise ClaimUnconfirmed(
                f"the claim took {span:.1f} s from check to write, not under the {self.settle:g} s settle window, so "
                "another run may hold it too; nothing was started (the next run after its lease records it interrupted)"
            )
        self._sleep(self.settle)
        after = self._tag(db, key)
        if after is None or after.value != mine.value:
            raise ClaimedElsewhere("another run claimed it at the same moment; skipped")
        return replace(mine, updated_at=after.updated_at)

    def write(self, db: DatabaseRef, receipt: DrillReceipt) -> str:
        """Move the receipt on (ahead of a step, or to its outcome); the answer's `updatedAt` (server clock)."""
        return self.client.update_tag(*_at(db), receipt.key, receipt.value).updated_at

    def _tags(self, db: DatabaseRef) -> list[LiveTag]:
        return list(self.client.list_tags(*_at(db)))

    def _tag(self, db: DatabaseRef, key: str) -> LiveTag | None:
        return next((tag for tag in self._tags(db) if tag.key == key), None)


def _at(db: DatabaseRef) -> tuple[Tier, int, int]:
    return (db.tier, db.subscription, db.database)
