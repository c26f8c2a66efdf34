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
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import replace

from reconciler.cloud.client import RedisCloudClient
from reconciler.core.desired import Tier, operation_address
from reconciler.core.evidence import left_in_claim_second
from reconciler.core.live import LiveTag
from reconciler.core.plan import DatabaseRef, PlanWarning
from reconciler.core.receipt_tags import (
    COMPACT_ENTRIES,
    COMPACT_KEY_PREFIX,
    NEAR_BUDGET,
    OWNER_KEY,
    TAG_BUDGET,
    CompactEntry,
    Phase,
    Receipt,
    compact_entry,
    decode,
    decode_compact,
    encode_compact,
    keys_of,
)
from reconciler.errors import (
    ApiError,
    ClaimedElsewhere,
    ClaimRefused,
    ClaimUnconfirmed,
    ConflictError,
    ReceiptError,
    ReconcilerError,
)

CLAIM_SETTLE = 2.0  # seconds a claim waits before reading itself back, where the API overwrites on create


def _at(db: DatabaseRef) -> tuple[Tier, int, int]:
    """The client's address of a database's tags."""
    return (db.tier, db.subscription, db.database)


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

    def claim(self, db: DatabaseRef, receipt: Receipt, *, replacing: Receipt | None) -> Receipt:
        """Create the receipt tag, returned with the server's `createdAt` once the server's clock has left that
        second (receipts.py "Evidence"); `replacing` is the failed or uncertain receipt a retry was planned over
        (`--retry-failed`, `--retry-uncertain`), taken over first so that of racing retries one alone goes on."""
        if replacing is not None:
            self._take_over(db, replacing, receipt)
        checked = self._clock()
        tags = self._make_room(db, self._tags(db))
        mine = [tag for tag in tags if tag.key in keys_of(receipt.kind, receipt.op_id)]
        if mine:
            raise ClaimedElsewhere(_owner_note(db, mine[0]))
        if any(_holds(db, tag, receipt) for tag in tags):
            raise ClaimedElsewhere("another run has done it since the plan (its receipt is compacted); skipped")
        if len(tags) + 1 > TAG_BUDGET:
            raise ClaimRefused(
                f"{db.name} has {len(tags)} tags, the most a database may hold is {TAG_BUDGET}: remove some of its "
                "own tags; nothing was written and the operation did not run"
            )
        created = self._create(db, receipt.key, receipt.value, taken=lambda tag: _owner_note(db, tag))
        answered = self._clock()
        self._seen[db.name] = len(tags) + 1
        created = self._exclusive(db, created, receipt.key, receipt.value, since=checked)
        # Evidence must come from a later second than the claim's (receipts.py), so the guarded POST waits for it.
        left = left_in_claim_second(created.created_at) - (self._clock() - answered)
        if left > 0:
            self._sleep(left)
        return replace(receipt, created_at=created.created_at)

    def _exclusive(self, db: DatabaseRef, created: LiveTag, key: str, value: str, *, since: float) -> LiveTag:
        """A tag just created, once it is known that no racing create got it too: at once where the API refuses
        duplicates, else after the settle window (`_confirm`). The run's first create learns which (`_probe`)."""
        with self._verdict_lock:
            verdict = self.refuses_duplicates
        if verdict is None:
            verdict = self._probe(db, key, value)
        return created if verdict else self._confirm(db, key, value, since=since)

    def _create(self, db: DatabaseRef, key: str, value: str, *, taken: Callable[[LiveTag], str]) -> LiveTag:
        """Create a tag that must not exist; `taken` says who holds it when it does (`ClaimedElsewhere`)."""
        try:
            return self.client.create_tag(*_at(db), key, value)
        except ApiError as error:
            if error.status is None or error.status >= 500:
                raise
            refusal = error
        # A 4xx: the tag exists (a duplicate refused, perhaps our own create whose answer was lost), or the
        # API refused the write itself (a Viewer key's 403, a full tag budget).
        existing = self._tag(db, key)
        if existing is None:
            raise ClaimRefused(
                f"the API refused the claim ({refusal}); nothing was written and the operation did not run"
            ) from None
        with self._verdict_lock:
            self.refuses_duplicates = True
        if existing.value != value:
            raise ClaimedElsewhere(taken(existing)) from None
        return existing  # our own claim, whose first answer was lost and whose retry met it

    def _probe(self, db: DatabaseRef, key: str, value: str) -> bool:
        """Create the very same tag again, which changes nothing: does the API refuse a duplicate create?"""
        try:
            self.client.create_tag(*_at(db), key, value)
            refuses = False
        except ConflictError:
            refuses = True
        except ApiError as error:
            if error.status is None or error.status >= 500 or self._tag(db, key) is None:
                raise
            refuses = True
        with self._verdict_lock:
            self.refuses_duplicates = refuses
        return refuses

    def _confirm(self, db: DatabaseRef, key: str, value: str, *, since: float) -> LiveTag:
        """Where creates overwrite: proceed only if the claim stayed ours for `settle` seconds after it was written,
        and it was written within `settle` seconds of the check that found no claim."""
        span = self._clock() - since
        if span >= self.settle_window:
            raise ClaimUnconfirmed(
                f"the claim took {span:.1f} s from check to write, not under the {self.settle_window:g} s settle "
                "window, so another run may hold it too; no call was made and the receipt stays claimed"
            )
        self._sleep(self.settle_window)
        current = self._tag(db, key)
        if current is None or current.value != value:
            raise ClaimedElsewhere("another run claimed it at the same moment; skipped")
        return current

    def _take_over(self, db: DatabaseRef, seen: Receipt, mine: Receipt) -> None:
        """Make the receipt a retry replaces ours, then delete it so the claim proper can create it afresh.

        A read then a delete would let a racing retry delete our new claim and run the operation twice, so the
        receipt, if still the one the plan judged, is overwritten with this run's claim (a PUT always overwrites),
        and then the protocol of claims where creates overwrite applies: wait `settle`, read back, go on only if it
        is still ours, never when the check-to-write span reached `settle`. Of any number of racing retries at most
        one gets past this, and that one deletes the tag, whose `createdAt` would date the evidence of its
        operation to the old claim, and creates its claim through `claim` like a first one."""
        checked, key = self._clock(), seen.key
        current = self._tag(db, key)
        if current is None:
            return  # forgotten since the plan: nothing to replace
        now = _decoded(db, current)
        fields = ("phase", "at", "task_id", "created_at", "run")
        if now is None or any(getattr(now, name) != getattr(seen, name) for name in fields):
            state = f"now {now.phase.value}, written at:{now.at}" if now else "now unreadable"
            raise ClaimedElsewhere(f"the receipt changed since the plan ({state}); skipped")
        self._within_settle(checked, "taking over the receipt", wrote=False)  # a late write could clobber a claim
        try:
            self.client.update_tag(*_at(db), key, mine.value)
        except ApiError as error:
            if error.status != 404:
                raise
            raise ClaimedElsewhere("the receipt was deleted while this run retried it; skipped") from None
        self._within_settle(checked, "taking over the receipt", wrote=True)
        self._sleep(self.settle_window)
        after = self._tag(db, key)
        if after is None or after.value != mine.value:
            raise ClaimedElsewhere("another run retried it at the same moment; skipped")
        self._delete(db, key)

    def _within_settle(self, checked: float, what: str, *, wrote: bool) -> None:
        span = self._clock() - checked
        if span >= self.settle_window:
            state = "the receipt stays claimed" if wrote else "nothing was written"
            raise ClaimUnconfirmed(
                f"{what} took {span:.1f} s from check to write, not under the {self.settle_window:g} s settle window, "
                f"so another run may hold it too; no call was made and {state}"
            )

    # --- ownership ----------------------------------------------------------------------------------------------

    def own(self, db: DatabaseRef, owner: str, *, previous: str | None) -> str:
        """Write the manifest set's owner tag (issue 17): created if absent, by the protocol of claims, so that of
        sets racing for an unowned database one alone goes on; or, for a takeover from `previous`, overwritten by
        the protocol of retries (`_take_over`), only if `previous` still owns it. Says what it did."""
        checked = self._clock()
        tags = self._tags(db)
        current = next((tag for tag in tags if tag.key == OWNER_KEY), None)
        if current is not None and current.value == owner:
            return "already owned by this manifest set"
        if previous is None:
            if current is not None:
                raise ClaimedElsewhere(_owned(db, current))
            if len(tags) + 1 > TAG_BUDGET:
                raise ClaimRefused(
                    f"{db.name} has {len(tags)} tags, the most a database may hold is {TAG_BUDGET}: remove some of its "
                    "own tags; the owner tag was not written, and nothing else is written on it"
                )
            created = self._create(db, OWNER_KEY, owner, taken=lambda tag: _owned(db, tag))
            self._exclusive(db, created, OWNER_KEY, owner, since=checked)
            return f"owner tag written: {owner}"
        if current is None or current.value != previous:
            now = repr(current.value) if current is not None else "no owner"
            raise ClaimedElsewhere(
                f"the owner changed since the plan (was {previous!r}, now {now}); nothing was written"
            )
        self._within_settle(checked, "taking the database over", wrote=False)
        self.client.update_tag(*_at(db), OWNER_KEY, owner)
        self._within_settle(checked, "taking the database over", wrote=True)
        self._sleep(self.settle_window)
        after = self._tag(db, OWNER_KEY)
        if after is None or after.value != owner:
            raise ClaimedElsewhere(_owned(db, after) if after else "the owner tag was deleted meanwhile; skipped")
        return f"taken over from {previous}: owner tag now {owner}"

    # --- recording ---------------------------------------------------------------------------------------------

    def write(self, db: DatabaseRef, receipt: Receipt, *, required: bool) -> None:
        """Update the receipt tag; the task id is a convenience (`required=False`), the outcome is not. A tag that
        is gone (forgotten with `--force` while its operation ran) is created again with what this write says."""
        try:
            self.client.update_tag(*_at(db), receipt.key, receipt.value)
        except ApiError as error:
            if error.status == 404 and self._write_back(db, receipt):
                return
            if required:
                raise

    def _write_back(self, db: DatabaseRef, receipt: Receipt) -> bool:
        """Create a receipt whose update answered 404, if its tag is really gone; False if it is there after all
        (the path was not understood: a legacy key's dot) or cannot be created."""
        try:
            if self._tag(db, receipt.key) is not None:
                return False
            self.client.create_tag(*_at(db), receipt.key, receipt.value)
        except ApiError:
            return False
        return True

    def record(self, db: DatabaseRef, receipt: Receipt) -> None:
        """Write an outcome; near the tag budget, then compact the done receipts."""
        self.write(db, receipt, required=True)
        if receipt.phase is Phase.DONE and self._seen.get(db.name, TAG_BUDGET) >= NEAR_BUDGET:
            # Compaction only saves room: the outcome is written already, and the next run compacts anyway.
            with suppress(ApiError):
                self._make_room(db, self._tags(db))

    def settle(self, db: DatabaseRef, warning: PlanWarning) -> tuple[str, str | None] | None:
        """Record the outcome plan found for an interrupted receipt, if it is still claimed; None if it is gone."""
        for tag in self._tags(db):
            receipt = _decoded(db, tag)
            if receipt is None or operation_address(db.name, receipt.kind, receipt.op_id) != warning.address:
                continue
            if receipt.phase is not Phase.CLAIMED:
                return f"already recorded as {receipt.phase.value}", receipt.task_id
            self.record(db, receipt.with_phase(Phase(warning.outcome or Phase.CLAIMED)))
            return f"recorded {warning.outcome}: {warning.message}", receipt.task_id
        return None

    def withdraw(self, db: DatabaseRef, claimed: Receipt) -> None:
        """Delete our own claim of an operation that never started (the API refused its backup), so the next run
        may claim it; a claim that is no longer ours (overwritten, or claimed afresh since) is left alone."""
        tag = self._tag(db, claimed.key)
        current = _decoded(db, tag) if tag is not None else None
        if current is None or current.phase is not Phase.CLAIMED or current.run != claimed.run:
            return
        self._delete(db, claimed.key)

    def forget(self, db: DatabaseRef, receipt: Receipt) -> None:
        """Delete one receipt (`receipts forget`); a compacted one is taken out of its compact tag."""
        tag = self._tag(db, receipt.key)
        if tag is None:
            return
        entries = _entries(db, tag) if receipt.compacted else None
        rest = [entry for entry in entries or () if entry != compact_entry(receipt)]
        if rest and not self._write_compact(db, rest):
            raise ReconcilerError(
                f"{db.name}: could not rewrite the compact receipt {tag.key} without this one; nothing was forgotten"
            )
        self._delete(db, receipt.key)
        if self._tag(db, receipt.key) is not None:
            raise ReconcilerError(
                f"{db.name}: the API did not delete tag {receipt.key} (a 404 for its path); delete it in the console"
            )

    # --- the tag budget -----------------------------------------------------------------------------------------

    def _make_room(self, db: DatabaseRef, tags: list[LiveTag]) -> list[LiveTag]:
        """Near the budget, fold done receipts (and partly filled compact tags) into full compact tags, one new tag
        at a time, each created and read back before what it replaces is deleted. Returns the tags now."""
        while len(tags) >= NEAR_BUDGET and len(tags) < TAG_BUDGET:
            sources = _foldable(db, tags)
            if len(sources) < 2:
                break
            if not self._write_compact(db, [entry for _, held in sources for entry in held]):
                break
            for tag, _ in sources:
                self._delete(db, tag.key)
            tags = self._tags(db)
        return tags

    def _write_compact(self, db: DatabaseRef, entries: Sequence[CompactEntry]) -> bool:
        """Create one compact tag under a fresh key, and read it back; False if it is not there as written."""
        key, value = f"{COMPACT_KEY_PREFIX}{secrets.token_hex(4)}", encode_compact(entries)
        self.client.create_tag(*_at(db), key, value)
        written = self._tag(db, key)
        return written is not None and written.value == value

    # --- reading ------------------------------------------------------------------------------------------------

    def _tags(self, db: DatabaseRef) -> list[LiveTag]:
        tags = list(self.client.list_tags(*_at(db)))
        self._seen[db.name] = len(tags)
        return tags

    def _tag(self, db: DatabaseRef, key: str) -> LiveTag | None:
        return next((tag for tag in self._tags(db) if tag.key == key), None)

    def _delete(self, db: DatabaseRef, key: str) -> None:
        try:
            self.client.delete_tag(*_at(db), key)
        except ApiError as error:
            if error.status != 404:
                raise


def _decoded(db: DatabaseRef, tag: LiveTag) -> Receipt | None:
    """The receipt a tag holds as the ledger reads it, mid-run: None for a tag that is not one, or is unreadable
    (unreadable tags are the planner's to report, and never ours to overwrite or fold away)."""
    try:
        return decode(tag, db.name)
    except ReceiptError:
        return None


def _entries(db: DatabaseRef, tag: LiveTag) -> tuple[CompactEntry, ...] | None:
    """The entries of a compact receipt tag; None for any other tag, or an unreadable one."""
    try:
        return decode_compact(tag, db.name)
    except ReceiptError:
        return None


def _foldable(db: DatabaseRef, tags: list[LiveTag]) -> list[tuple[LiveTag, tuple[CompactEntry, ...]]]:
    """Tags whose done receipts fit together in one compact tag: done receipts, and compact tags not yet full."""
    sources: list[tuple[LiveTag, tuple[CompactEntry, ...]]] = []
    held = 0
    for tag in sorted(tags, key=lambda tag: tag.key):
        entries = _entries(db, tag)
        if entries is None:
            receipt = _decoded(db, tag)
            if receipt is None or receipt.phase is not Phase.DONE or receipt.adopted:
                continue  # an adopted receipt keeps its own tag: a compact entry could not say it was adopted
            entries = (compact_entry(receipt),)
        if len(entries) < COMPACT_ENTRIES and held + len(entries) <= COMPACT_ENTRIES:
            sources.append((tag, entries))
            held += len(entries)
    return sources


def _holds(db: DatabaseRef, tag: LiveTag, receipt: Receipt) -> bool:
    """True when `tag` is a compact receipt holding this operation as done."""
    entry = compact_entry(receipt)
    return any((e.kind, e.op_hash) == (entry.kind, entry.op_hash) for e in _entries(db, tag) or ())


def _owned(db: DatabaseRef, tag: LiveTag) -> str:
    since = f" since {tag.created_at}" if tag.created_at else ""
    return (
        f"{db.name} is owned by another manifest set, {tag.value!r}{since}: it won the database, so this run writes "
        "nothing on it; plan again to see"
    )


def _owner_note(db: DatabaseRef, tag: LiveTag) -> str:
    owner = _decoded(db, tag)
    since = f" since {owner.created_at}" if owner and owner.created_at else ""
    return f"another run claimed it{since}; skipped"
