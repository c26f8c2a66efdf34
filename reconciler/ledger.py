"""The receipt ledger on the live account: writes the tags that `receipts.py` gives meaning to (SPEC §4, issue 12 §3).

A claim must let exactly one of several racing runs proceed, whichever way the API treats a second create
of an existing tag, which no public client has exercised (API-NOTES §11):

- The first claim of a run learns it: after its create succeeds, it creates the very same tag again, which
  changes nothing either way. A refusal (409, or any 4xx with the tag in place) means the API refuses
  duplicates, and a successful create is then exclusive. A success means the API silently overwrites.
- Where it overwrites, the claim writes a value unique to this run, waits `settle` seconds, and reads it back,
  proceeding only if the value is still its own. Two runs can then both proceed only if one of them wrote
  more than `settle` seconds after it checked that no claim existed, so a claim whose check-to-write span
  reaches `settle` never proceeds (it stays claimed, uncertain, with no call made).

A retry (`--retry-failed`, `--retry-uncertain`) first takes the old receipt over with the same protocol (a PUT,
which always overwrites, then settle and read back), deletes it, and claims afresh. A claim returns only once the
server's clock has left the second of its `createdAt`, so the evidence of its operation is never ambiguous
(receipts.py "Evidence"). A final write that finds its tag gone (`receipts forget --force` meanwhile) writes the
receipt back: the record of an operation that ran is never lost.

The verdict is kept for the rest of the run. Receipts never push a database past its tag budget: near it, done
receipts are compacted five to a tag (created whole, then the tags they replace deleted).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from typing import Any

from reconciler.cloud.client import RedisCloudClient
from reconciler.errors import ApiError, ConflictError, ReconcilerError
from reconciler.model import DatabaseSpec, LiveTag, PlanWarning, Tier, operation_address
from reconciler.receipts import (
    COMPACT_ENTRIES,
    COMPACT_KEY_PREFIX,
    NEAR_BUDGET,
    TAG_BUDGET,
    CompactEntry,
    Phase,
    Receipt,
    compact_entry,
    decode,
    decode_compact,
    encode_compact,
    keys_of,
    left_in_claim_second,
)

CLAIM_SETTLE = 2.0  # seconds a claim waits before reading itself back, where the API overwrites on create


class ClaimedElsewhere(ReconcilerError):
    """Another run holds the receipt (or changed it since the plan): the operation is skipped, never run twice."""


class ClaimRefused(ReconcilerError):
    """The API refused to write the claim (a Viewer key, a full tag budget): nothing was written or run."""


class ClaimUnconfirmed(ReconcilerError):
    """The claim is written but could not be shown to be ours alone: no call is made, and it stays claimed."""


def _at(spec: DatabaseSpec) -> tuple[Tier, int, int]:
    """The client's address of a database's tags."""
    return (spec.tier, spec.subscription, spec.database)


class Ledger:
    def __init__(
        self,
        client: RedisCloudClient,
        *,
        settle: float = CLAIM_SETTLE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.settle_window = settle
        self._clock = clock
        self._sleep = sleep
        self._verdict_lock = threading.Lock()
        self.refuses_duplicates: bool | None = None  # learnt by the run's first claim, then kept
        self._seen: dict[str, int] = {}  # tags per database at the last read, to compact only near the budget

    # --- claiming ---------------------------------------------------------------------------------------------

    def claim(self, spec: DatabaseSpec, receipt: Receipt, *, replacing: Mapping[str, Any] | None) -> Receipt:
        """Create the receipt tag, returned with the server's `createdAt` once the server's clock has left that
        second (receipts.py "Evidence"); `replacing` is the failed or uncertain receipt a retry was planned over
        (`--retry-failed`, `--retry-uncertain`), taken over first so that of racing retries one alone goes on."""
        if replacing is not None:
            self._take_over(spec, str(replacing.get("key") or receipt.key), replacing, receipt)
        checked = self._clock()
        tags = self._make_room(spec, self._tags(spec))
        mine = [tag for tag in tags if tag.key in keys_of(receipt.kind, receipt.op_id)]
        if mine:
            raise ClaimedElsewhere(_owner_note(spec, mine[0]))
        if any(_holds(spec, tag, receipt) for tag in tags):
            raise ClaimedElsewhere("another run has done it since the plan (its receipt is compacted); skipped")
        if len(tags) + 1 > TAG_BUDGET:
            raise ClaimRefused(
                f"{spec.name} has {len(tags)} tags, the most a database may hold is {TAG_BUDGET}: remove some of its "
                "own tags; nothing was written and the operation did not run"
            )
        created = self._create(spec, receipt)
        answered = self._clock()
        self._seen[spec.name] = len(tags) + 1
        with self._verdict_lock:
            verdict = self.refuses_duplicates
        if verdict is None:
            verdict = self._probe(spec, receipt)
        if not verdict:
            created = self._confirm(spec, receipt, since=checked)
        # Evidence must come from a later second than the claim's (receipts.py), so the guarded POST waits for it.
        left = left_in_claim_second(created.created_at) - (self._clock() - answered)
        if left > 0:
            self._sleep(left)
        return replace(receipt, created_at=created.created_at)

    def _create(self, spec: DatabaseSpec, receipt: Receipt) -> LiveTag:
        try:
            return self.client.create_tag(*_at(spec), receipt.key, receipt.value)
        except ApiError as error:
            if error.status is None or error.status >= 500:
                raise
            refusal = error
        # A 4xx: the tag exists (a duplicate refused, perhaps our own create whose answer was lost), or the
        # API refused the write itself (a Viewer key's 403, a full tag budget).
        existing = self._tag(spec, receipt.key)
        if existing is None:
            raise ClaimRefused(f"the API refused the claim ({refusal}); nothing was written and the operation did "
                               "not run") from None
        with self._verdict_lock:
            self.refuses_duplicates = True
        if existing.value != receipt.value:
            raise ClaimedElsewhere(_owner_note(spec, existing)) from None
        return existing  # our own claim, whose first answer was lost and whose retry met it

    def _probe(self, spec: DatabaseSpec, receipt: Receipt) -> bool:
        """Create the very same tag again, which changes nothing: does the API refuse a duplicate create?"""
        try:
            self.client.create_tag(*_at(spec), receipt.key, receipt.value)
            refuses = False
        except ConflictError:
            refuses = True
        except ApiError as error:
            if error.status is None or error.status >= 500 or self._tag(spec, receipt.key) is None:
                raise
            refuses = True
        with self._verdict_lock:
            self.refuses_duplicates = refuses
        return refuses

    def _confirm(self, spec: DatabaseSpec, receipt: Receipt, *, since: float) -> LiveTag:
        """Where creates overwrite: proceed only if the claim stayed ours for `settle` seconds after it was written,
        and it was written within `settle` seconds of the check that found no claim."""
        span = self._clock() - since
        if span >= self.settle_window:
            raise ClaimUnconfirmed(
                f"the claim took {span:.1f} s from check to write, not under the {self.settle_window:g} s settle "
                "window, so another run may hold it too; no call was made and the receipt stays claimed"
            )
        self._sleep(self.settle_window)
        current = self._tag(spec, receipt.key)
        if current is None or current.value != receipt.value:
            raise ClaimedElsewhere("another run claimed it at the same moment; skipped")
        return current

    def _take_over(self, spec: DatabaseSpec, key: str, seen: Mapping[str, Any], mine: Receipt) -> None:
        """Make the receipt a retry replaces ours, then delete it so the claim proper can create it afresh.

        A read then a delete would let a racing retry delete our new claim and run the operation twice, so the
        receipt, if still the one the plan judged, is overwritten with this run's claim (a PUT always overwrites),
        and then the protocol of claims where creates overwrite applies: wait `settle`, read back, go on only if it
        is still ours, never when the check-to-write span reached `settle`. Of any number of racing retries at most
        one gets past this, and that one deletes the tag, whose `createdAt` would date the evidence of its
        operation to the old claim, and creates its claim through `claim` like a first one."""
        checked = self._clock()
        current = self._tag(spec, key)
        if current is None:
            return  # forgotten since the plan: nothing to replace
        now = decode(current, spec.name)
        fields = [name for name in ("phase", "at", "task_id", "created_at", "run") if name in seen]
        if now is None or any(getattr(now, name) != seen.get(name) for name in fields):
            state = f"now {now.phase.value}, written at:{now.at}" if now else "now unreadable"
            raise ClaimedElsewhere(f"the receipt changed since the plan ({state}); skipped")
        self._within_settle(checked, "taking over the receipt", wrote=False)  # a late write could clobber a claim
        try:
            self.client.update_tag(*_at(spec), key, mine.value)
        except ApiError as error:
            if error.status != 404:
                raise
            raise ClaimedElsewhere("the receipt was deleted while this run retried it; skipped") from None
        self._within_settle(checked, "taking over the receipt", wrote=True)
        self._sleep(self.settle_window)
        after = self._tag(spec, key)
        if after is None or after.value != mine.value:
            raise ClaimedElsewhere("another run retried it at the same moment; skipped")
        self._delete(spec, key)

    def _within_settle(self, checked: float, what: str, *, wrote: bool) -> None:
        span = self._clock() - checked
        if span >= self.settle_window:
            state = "the receipt stays claimed" if wrote else "nothing was written"
            raise ClaimUnconfirmed(
                f"{what} took {span:.1f} s from check to write, not under the {self.settle_window:g} s settle window, "
                f"so another run may hold it too; no call was made and {state}"
            )

    # --- recording ---------------------------------------------------------------------------------------------

    def write(self, spec: DatabaseSpec, receipt: Receipt, *, required: bool) -> None:
        """Update the receipt tag; the task id is a convenience (`required=False`), the outcome is not. A tag that
        is gone (forgotten with `--force` while its operation ran) is created again with what this write says."""
        try:
            self.client.update_tag(*_at(spec), receipt.key, receipt.value)
        except ApiError as error:
            if error.status == 404 and self._write_back(spec, receipt):
                return
            if required:
                raise

    def _write_back(self, spec: DatabaseSpec, receipt: Receipt) -> bool:
        """Create a receipt whose update answered 404, if its tag is really gone; False if it is there after all
        (the path was not understood: a legacy key's dot) or cannot be created."""
        try:
            if self._tag(spec, receipt.key) is not None:
                return False
            self.client.create_tag(*_at(spec), receipt.key, receipt.value)
        except ApiError:
            return False
        return True

    def record(self, spec: DatabaseSpec, receipt: Receipt) -> None:
        """Write an outcome; near the tag budget, then compact the done receipts."""
        self.write(spec, receipt, required=True)
        if receipt.phase is Phase.DONE and self._seen.get(spec.name, TAG_BUDGET) >= NEAR_BUDGET:
            # Compaction only saves room: the outcome is written already, and the next run compacts anyway.
            with suppress(ApiError):
                self._make_room(spec, self._tags(spec))

    def settle(self, spec: DatabaseSpec, warning: PlanWarning) -> tuple[str, str | None] | None:
        """Record the outcome plan found for an interrupted receipt, if it is still claimed; None if it is gone."""
        for tag in self._tags(spec):
            receipt = decode(tag, spec.name)
            if receipt is None or operation_address(spec.name, receipt.kind, receipt.op_id) != warning.address:
                continue
            if receipt.phase is not Phase.CLAIMED:
                return f"already recorded as {receipt.phase.value}", receipt.task_id
            self.record(spec, receipt.with_phase(Phase(warning.outcome or Phase.CLAIMED)))
            return f"recorded {warning.outcome}: {warning.message}", receipt.task_id
        return None

    def withdraw(self, spec: DatabaseSpec, claimed: Receipt) -> None:
        """Delete our own claim of an operation that never started (the API refused its backup), so the next run
        may claim it; a claim that is no longer ours (overwritten, or claimed afresh since) is left alone."""
        tag = self._tag(spec, claimed.key)
        current = decode(tag, spec.name) if tag is not None else None
        if current is None or current.phase is not Phase.CLAIMED or current.run != claimed.run:
            return
        self._delete(spec, claimed.key)

    def forget(self, spec: DatabaseSpec, receipt: Receipt) -> None:
        """Delete one receipt (`receipts forget`); a compacted one is taken out of its compact tag."""
        tag = self._tag(spec, receipt.key)
        if tag is None:
            return
        entries = decode_compact(tag, spec.name) if receipt.compacted else None
        rest = [entry for entry in entries or () if entry != compact_entry(receipt)]
        if rest and not self._write_compact(spec, rest):
            raise ReconcilerError(f"{spec.name}: could not rewrite the compact receipt {tag.key} without this one; "
                                  "nothing was forgotten")
        self._delete(spec, receipt.key)
        if self._tag(spec, receipt.key) is not None:
            raise ReconcilerError(f"{spec.name}: the API did not delete tag {receipt.key} (a 404 for its path); "
                                  "delete it in the console")

    # --- the tag budget -----------------------------------------------------------------------------------------

    def _make_room(self, spec: DatabaseSpec, tags: list[LiveTag]) -> list[LiveTag]:
        """Near the budget, fold done receipts (and partly filled compact tags) into full compact tags, one new tag
        at a time, each created and read back before what it replaces is deleted. Returns the tags now."""
        while len(tags) >= NEAR_BUDGET and len(tags) < TAG_BUDGET:
            sources = _foldable(spec, tags)
            if len(sources) < 2:
                break
            if not self._write_compact(spec, [entry for _, held in sources for entry in held]):
                break
            for tag, _ in sources:
                self._delete(spec, tag.key)
            tags = self._tags(spec)
        return tags

    def _write_compact(self, spec: DatabaseSpec, entries: Sequence[CompactEntry]) -> bool:
        """Create one compact tag under a fresh key, and read it back; False if it is not there as written."""
        key, value = f"{COMPACT_KEY_PREFIX}{secrets.token_hex(4)}", encode_compact(entries)
        self.client.create_tag(*_at(spec), key, value)
        written = self._tag(spec, key)
        return written is not None and written.value == value

    # --- reading ------------------------------------------------------------------------------------------------

    def _tags(self, spec: DatabaseSpec) -> list[LiveTag]:
        tags = list(self.client.list_tags(*_at(spec)))
        self._seen[spec.name] = len(tags)
        return tags

    def _tag(self, spec: DatabaseSpec, key: str) -> LiveTag | None:
        return next((tag for tag in self._tags(spec) if tag.key == key), None)

    def _delete(self, spec: DatabaseSpec, key: str) -> None:
        try:
            self.client.delete_tag(*_at(spec), key)
        except ApiError as error:
            if error.status != 404:
                raise


def _foldable(spec: DatabaseSpec, tags: list[LiveTag]) -> list[tuple[LiveTag, tuple[CompactEntry, ...]]]:
    """Tags whose done receipts fit together in one compact tag: done receipts, and compact tags not yet full."""
    sources: list[tuple[LiveTag, tuple[CompactEntry, ...]]] = []
    held = 0
    for tag in sorted(tags, key=lambda tag: tag.key):
        try:
            entries = decode_compact(tag, spec.name)
            receipt = decode(tag, spec.name) if entries is None else None
        except ReconcilerError:
            continue  # unreadable tags are the planner's to report, never ours to fold away
        if entries is None:
            if receipt is None or receipt.phase is not Phase.DONE:
                continue
            entries = (compact_entry(receipt),)
        if len(entries) < COMPACT_ENTRIES and held + len(entries) <= COMPACT_ENTRIES:
            sources.append((tag, entries))
            held += len(entries)
    return sources


def _holds(spec: DatabaseSpec, tag: LiveTag, receipt: Receipt) -> bool:
    """True when `tag` is a compact receipt holding this operation as done."""
    try:
        entries = decode_compact(tag, spec.name)
    except ReconcilerError:
        return False
    entry = compact_entry(receipt)
    return any((e.kind, e.op_hash) == (entry.kind, entry.op_hash) for e in entries or ())


def _owner_note(spec: DatabaseSpec, tag: LiveTag) -> str:
    try:
        owner = decode(tag, spec.name)
    except ReconcilerError:
        owner = None
    since = f" since {owner.created_at}" if owner and owner.created_at else ""
    return f"another run claimed it{since}; skipped"
