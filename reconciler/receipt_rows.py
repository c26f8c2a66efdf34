"""One row of `receipts list`: a receipt read from a database's tags, and whether the manifest's operation
under its address still has the fingerprint it was claimed with. Pure: the command reads the tags."""

from __future__ import annotations

from typing import TypedDict

from reconciler.model import DatabaseSpec, Import, OnDemandBackup, OperationKind, operation_address
from reconciler.receipts import Receipt, fingerprint


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


def receipt_row(spec: DatabaseSpec, address: str, receipt: Receipt) -> ReceiptRow:
    operations: dict[str, Import | OnDemandBackup] = {
        operation_address(spec.name, OperationKind.BACKUP, b.id): b for b in spec.backups
    }
    operations |= {operation_address(spec.name, OperationKind.IMPORT, i.id): i for i in spec.imports}
    operation = operations.get(address)
    matches = None if operation is None else fingerprint(operation) == receipt.fingerprint
    if operation is not None and isinstance(operation, Import) is not (receipt.kind is OperationKind.IMPORT):
        matches = False
    return {
        "address": address,
        "database": spec.name,
        "key": receipt.key,
        "phase": receipt.phase.value,
        "created_at": receipt.created_at,
        "written_at": receipt.at or None,
        "task_id": receipt.task_id,
        "fingerprint_matches": matches,
        "compacted": receipt.compacted,
    }
