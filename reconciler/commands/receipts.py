"""`receipts list` and `receipts forget`: see the one-shot ledger, and repair it (Flyway's `repair`)."""

from __future__ import annotations

import json
import sys
from typing import Any

from reconciler.commands.runtime import EXIT_ERROR, EXIT_OK, Runtime
from reconciler.errors import ReconcilerError
from reconciler.model import DatabaseSpec, Import, OnDemandBackup, OperationKind, operation_address
from reconciler.receipts import Receipt, fingerprint, read_receipts


def run_receipts(rt: Runtime) -> int:
    manifest = rt.manifest()
    client = rt.connect().client
    rows: list[dict[str, Any]] = []
    specs = list(manifest.databases)
    for spec in specs:
        tags = client.list_tags(spec.tier, spec.subscription, spec.database)
        receipts, problems = read_receipts(spec.name, tags)
        for problem in problems:
            print(f"warning: {problem}", file=rt.err)
        rows.extend(_row(spec, address, receipt) for address, receipt in sorted(receipts.items()))
    if rt.args.receipts_command == "forget":
        return _forget(rt, specs, rows)
    if rt.args.format == "json":
        print(json.dumps({"receipts": rows}, indent=2), file=rt.out)
    elif not rows:
        print("No receipts on the managed databases.", file=rt.out)
    else:
        for row in rows:
            match = {True: "matches", False: "CHANGED", None: "not in manifest"}[row["fingerprint_matches"]]
            print(
                f"{row['address']:<60} {row['phase']:<8} {row['created_at'] or '-':<26} "
                f"task {row['task_id'] or '-'}  fingerprint {match}",
                file=rt.out,
            )
    rt.report_requests()
    return EXIT_OK


def _row(spec: DatabaseSpec, address: str, receipt: Receipt) -> dict[str, Any]:
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
        "written_at": receipt.at,
        "task_id": receipt.task_id,
        "fingerprint_matches": matches,
    }


def _forget(rt: Runtime, specs: list[DatabaseSpec], rows: list[dict[str, Any]]) -> int:
    address = rt.args.address
    row = next((r for r in rows if r["address"] == address), None)
    if row is None:
        raise ReconcilerError(
            f"{address}: no receipt with this address on the managed databases (see `reconciler receipts list`)"
        )
    spec = next(s for s in specs if s.name == row["database"])
    print(f"{address}: {row['phase']} receipt, claimed {row['created_at']}, task {row['task_id'] or '-'}.", file=rt.out)
    print("Forgetting it lets the operation run again on the next apply.", file=rt.out)
    if not rt.args.auto_approve:
        if not sys.stdin.isatty():
            raise ReconcilerError("no terminal to confirm on: pass --auto-approve")
        if input(f"Type the address to confirm ({address}): ").strip() != address:
            print("Not forgotten; nothing was changed.", file=rt.err)
            return EXIT_ERROR
    rt.connect().client.delete_tag(spec.tier, spec.subscription, spec.database, row["key"])
    print(f"Forgot {address}.", file=rt.out)
    return EXIT_OK
