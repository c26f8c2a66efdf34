"""`receipts list` and `receipts forget`: see the one-shot ledger, and repair it (Flyway's `repair`)."""

from __future__ import annotations

import json
import sys

from reconciler.apply.ledger import Ledger
from reconciler.cloud.client import RedisCloudClient
from reconciler.commands.options import ReceiptsForgetFlags, ReceiptsListFlags
from reconciler.commands.runtime import EXIT_ERROR, EXIT_OK, Runtime
from reconciler.core.desired import DatabaseSpec, canonical_address, operation_address
from reconciler.core.plan import DatabaseRef
from reconciler.core.receipt_tags import Phase, Receipt, read_receipts
from reconciler.errors import ReconcilerError
from reconciler.output.receipt_rows import receipt_row


def run_receipts_list(rt: Runtime[ReceiptsListFlags]) -> int:
    rows = [receipt_row(spec, receipt, regions) for spec, receipt, regions in _read(rt).values()]
    if rt.flags.format == "json":
        print(json.dumps({"receipts": rows}, indent=2), file=rt.out)
    elif not rows:
        print("No receipts on the managed databases.", file=rt.out)
    else:
        for row in rows:
            match = {True: "matches", False: "CHANGED", None: "not in manifest"}[row["fingerprint_matches"]]
            print(
                f"{row['address']:<60} {row['phase']:<8} {row['created_at'] or '-':<26} "
                f"task {row['task_id'] or '-'}  fingerprint {match}" + ("  (compacted)" if row["compacted"] else ""),
                file=rt.out,
            )
    rt.report_requests()
    return EXIT_OK


_Found = tuple[DatabaseSpec, Receipt, list[str] | None]  # the receipt, its database, and that database's regions


def _read(rt: Runtime[ReceiptsListFlags | ReceiptsForgetFlags]) -> dict[str, _Found]:
    """Every receipt on the managed databases by address, in the manifests' order and each database's address
    order; a tag that does not read as a receipt is a warning."""
    manifest = rt.manifest(rt.flags.files)
    client = rt.connect().client
    found: dict[str, _Found] = {}
    for spec in manifest.databases:
        tags = client.list_tags(spec.tier, spec.subscription, spec.database)
        regions = _regions(client, spec)
        receipts = read_receipts(spec.name, tags, spec.operation_keys(regions))
        for problem in receipts.problems:
            print(f"warning: {problem}", file=rt.err)
        named = {operation_address(spec.name, kind, op_id): r for (kind, op_id), r in receipts.found.items()}
        for address, receipt in sorted(named.items()):
            found[address] = (spec, receipt, regions)
    return found


def _regions(client: RedisCloudClient, spec: DatabaseSpec) -> list[str] | None:
    """The live regions, where a `regions: all` backup needs them to name its compacted receipts (one GET)."""
    if not spec.has_all_regions_backups:
        return None
    regions = client.get_database(spec.tier, spec.subscription, spec.database).regions
    return None if regions is None else [region.region for region in regions]


def run_receipts_forget(rt: Runtime[ReceiptsForgetFlags]) -> int:
    found = _read(rt)
    address = canonical_address(rt.flags.address)
    if address not in found:
        raise ReconcilerError(
            f"{address}: no receipt with this address on the managed databases (see `reconciler receipts list`)"
        )
    spec, receipt, _ = found[address]
    task = receipt.task_id or "-"
    if receipt.phase is Phase.CLAIMED and not rt.flags.force:
        raise ReconcilerError(
            f"{address}: the receipt is claimed (since {receipt.created_at or 'an unknown time'}, task {task}), so the "
            "operation may be running now, and forgetting it lets the next apply run it again; see what "
            "`reconciler plan` says of it (in progress, settled or uncertain), or pass --force to forget it anyway; "
            "nothing was changed"
        )
    print(f"{address}: {receipt.phase.value} receipt, claimed {receipt.created_at}, task {task}.", file=rt.out)
    print("Forgetting it lets the operation run again on the next apply.", file=rt.out)
    if not rt.flags.auto_approve:
        if not sys.stdin.isatty():
            raise ReconcilerError("no terminal to confirm on: pass --auto-approve")
        if input(f"Type the address to confirm ({address}): ").strip() != address:
            print("Not forgotten; nothing was changed.", file=rt.err)
            return EXIT_ERROR
    Ledger(rt.connect().client).forget(DatabaseRef.of(spec), receipt)
    print(f"Forgot {address}.", file=rt.out)
    return EXIT_OK
