"""The receipt ledger on the live account: writes the tags that `receipts.py` gives meaning to (SPEC §4).

A claim is a create-if-absent (`POST …/tags`, 409 when the key exists), so of two runs only one proceeds;
updates record the task id and the outcome. Nothing here decides what a receipt means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.cloud.client import RedisCloudClient
from reconciler.errors import ApiError, ConflictError, ReconcilerError
from reconciler.model import DatabaseSpec, LiveTag, PlanWarning, operation_address
from reconciler.receipts import Phase, Receipt, decode


class ClaimedElsewhere(ReconcilerError):
    """Another run holds the receipt (or changed it since the plan): the operation is skipped, never run twice."""


class Ledger:
    def __init__(self, client: RedisCloudClient) -> None:
        self.client = client

    def claim(self, spec: DatabaseSpec, receipt: Receipt, *, replacing: Mapping[str, Any] | None) -> Receipt:
        """Create the receipt tag, returned with the server's `createdAt`; `replacing` is the failed or
        uncertain receipt a retry was planned over (`--retry-failed`, `--retry-uncertain`)."""
        where = (spec.tier, spec.subscription, spec.database)
        if replacing is not None:
            self._release(spec, receipt.key, replacing)
        try:
            created = self.client.create_tag(*where, receipt.key, receipt.value)
        except ConflictError:
            existing = self._tag(spec, receipt.key)
            if existing is None or existing.value != receipt.value:
                owner = decode(existing, spec.name) if existing is not None else None
                since = f" since {owner.created_at}" if owner and owner.created_at else ""
                raise ClaimedElsewhere(f"another run claimed it{since}; skipped") from None
            created = existing  # our own claim, whose first answer was lost and whose retry met it
        return replace(receipt, created_at=created.created_at)

    def write(self, spec: DatabaseSpec, receipt: Receipt, *, required: bool) -> None:
        """Update the receipt tag; the task id is a convenience (`required=False`), the outcome is not."""
        try:
            self.client.update_tag(spec.tier, spec.subscription, spec.database, receipt.key, receipt.value)
        except ApiError:
            if required:
                raise

    def settle(self, spec: DatabaseSpec, warning: PlanWarning) -> tuple[str, str | None] | None:
        """Record the outcome plan found for an interrupted receipt, if it is still claimed; None if it is gone."""
        for tag in self.client.list_tags(spec.tier, spec.subscription, spec.database):
            receipt = decode(tag, spec.name)
            if receipt is None or operation_address(spec.name, receipt.kind, receipt.op_id) != warning.address:
                continue
            if receipt.phase is not Phase.CLAIMED:
                return f"already recorded as {receipt.phase.value}", receipt.task_id
            self.write(spec, receipt.with_phase(Phase(warning.outcome or Phase.CLAIMED)), required=True)
            return f"recorded {warning.outcome}: {warning.message}", receipt.task_id
        return None

    def _release(self, spec: DatabaseSpec, key: str, seen: Mapping[str, Any]) -> None:
        """Delete the receipt a retry replaces, if it is still the one the plan judged: a concurrent retry may
        have claimed it afresh since, and deleting that claim would run the operation twice. (A read then a
        delete, not atomic: the window is one request wide instead of the whole plan.)"""
        current = self._tag(spec, key)
        if current is None:
            return  # forgotten since the plan: nothing to replace
        now = decode(current, spec.name)
        fields = ("phase", "at", "task_id", "created_at")
        if now is None or any(getattr(now, name) != seen.get(name) for name in fields):
            state = f"now {now.phase.value}, written at:{now.at}" if now else "now unreadable"
            raise ClaimedElsewhere(f"the receipt changed since the plan ({state}); skipped")
        try:
            self.client.delete_tag(spec.tier, spec.subscription, spec.database, key)
        except ApiError as error:
            if error.status != 404:
                raise

    def _tag(self, spec: DatabaseSpec, key: str) -> LiveTag | None:
        tags = self.client.list_tags(spec.tier, spec.subscription, spec.database)
        return next((tag for tag in tags if tag.key == key), None)
