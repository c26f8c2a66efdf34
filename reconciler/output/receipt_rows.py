"""One row of `receipts list`: a receipt read from a database's tags, and whether the manifest's operation
under its address still has the fingerprint it was claimed with. Pure: the command reads the tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from reconciler.core.calls import database_path, fingerprint, operation_call
from reconciler.core.desired import DatabaseSpec, operation_address
from reconciler.core.receipt_tags import Receipt


class ReceiptRow(TypedDict):
    address: str
    database: str
    key: str  # the tag it was read from
    phase: str
    created_at: str | None
    written_at: int | None  # a compacted receipt keeps only its tag's createdAt
    task_id: str | None
    fingerprint_matches: bool | None  # None: no operation in the manifest has this address
    compacted: bool
    adopted: bool  # recorded by hand (`receipts adopt`), not run by this tool


def receipt_row(spec: DatabaseSpec, receipt: Receipt, regions: Sequence[str] | None = None) -> ReceiptRow:
    """`regions`: the live ones of an Active-Active database, which a `regions: all` backup is one operation per."""
    where = database_path(spec.tier, spec.subscription, spec.database)
    operations = spec.operations(regions)
    operation = next((op for kind, op in operations if (kind, op.id) == (receipt.kind, receipt.op_id)), None)
    matches = None if operation is None else fingerprint(operation_call(where, operation)) == receipt.fingerprint
    return {
        "address": operation_address(spec.name, receipt.kind, receipt.op_id),
        "database": spec.name,
        "key": receipt.key,
        "phase": receipt.phase.value,
        "created_at": receipt.created_at,
        "written_at": receipt.at or None,
        "task_id": receipt.task_id,
        "fingerprint_matches": matches,
        "compacted": receipt.compacted,
        "adopted": receipt.adopted,
    }
