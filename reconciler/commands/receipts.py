"""`receipts list`, `forget` and `adopt`: see the one-shot ledger, repair it (Flyway's `repair`), and record what
was done by hand (Flyway's `baseline`, for one operation)."""

from __future__ import annotations

import json
import secrets
import sys
import time
from datetime import UTC, datetime

from reconciler.apply.ledger import Ledger
from reconciler.cloud.client import RedisCloudClient
from reconciler.commands.options import ReceiptsAdoptFlags, ReceiptsForgetFlags, ReceiptsListFlags
from reconciler.commands.runtime import EXIT_ERROR, EXIT_OK, Runtime
from reconciler.core.calls import fingerprint, operation_calls
from reconciler.core.desired import (
    DatabaseSpec,
    Import,
    Manifest,
    OnDemandBackup,
    OperationKind,
    base_address,
    canonical_address,
    operation_address,
)
from reconciler.core.ownership import live_owner
from reconciler.core.plan import DatabaseRef
from reconciler.core.receipt_tags import Phase, Receipt, adopted, read_receipts
from reconciler.errors import ClaimedElsewhere, ClaimRefused, ClaimUnconfirmed, ReconcilerError
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
                f"task {row['task_id'] or '-'}  fingerprint {match}"
                + ("  (compacted)" if row["compacted"] else "")
                + ("  (adopted: done by hand, not by this tool)" if row["adopted"] else ""),
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
    if not rt.flags.auto_approve and not _typed_back(rt, address, "Not forgotten"):
        return EXIT_ERROR
    Ledger(rt.connect().client).forget(DatabaseRef.of(spec), receipt)
    print(f"Forgot {address}.", file=rt.out)
    return EXIT_OK


def run_receipts_adopt(rt: Runtime[ReceiptsAdoptFlags]) -> int:
    """Record a `done` receipt, marked adopted, for an operation of the manifest carried out by hand, so that apply
    never runs it. Refused where any receipt exists; claimed as apply claims, so of it and a racing apply one wins."""
    address = canonical_address(rt.flags.address)
    manifest = rt.manifest(rt.flags.files)
    spec = _database(manifest, address)
    client = rt.connect().client
    regions = _regions(client, spec)
    kind, operation = _operation(spec, address, regions)
    ref = DatabaseRef.of(spec)
    tags = client.list_tags(spec.tier, spec.subscription, spec.database)
    owner = live_owner(tags)
    if manifest.owner is not None and owner is not None and owner != manifest.owner:
        raise ReconcilerError(
            f"{address}: {spec.name} is owned by another manifest set, {owner!r}, not by {manifest.owner!r}: its "
            "receipts are that set's to record; nothing was recorded"
        )
    receipts = read_receipts(spec.name, tags, spec.operation_keys(regions))
    existing = receipts.get(kind, operation.id)
    if existing is not None:
        raise ReconcilerError(f"{address}: {_existing(existing)}; nothing was recorded")
    if receipts.problems:
        raise ReconcilerError("; ".join(receipts.problems) + "; nothing was recorded")
    call = operation_calls(ref.path, operation)[-1]
    receipt = adopted(kind, operation.id, fingerprint(call), at=int(time.time()), run=secrets.token_hex(4))
    _preview(rt, address, spec, receipt)
    if not rt.flags.auto_approve and not _typed_back(rt, address, "Not adopted"):
        return EXIT_ERROR
    try:
        Ledger(client).claim(ref, receipt, replacing=None)
    except (ClaimedElsewhere, ClaimRefused) as lost:
        raise ReconcilerError(f"{address}: not adopted: {lost}") from None
    except ClaimUnconfirmed:
        raise ReconcilerError(
            f"{address}: the adopted receipt was written, but more slowly than the settle window, so a racing apply "
            "may have claimed the operation too (this API overwrites a second create); see `reconciler receipts "
            "list` for what its tag holds now"
        ) from None
    print(f"Adopted {address}: recorded done (adopted).", file=rt.out)
    return EXIT_OK


def _typed_back(rt: Runtime[ReceiptsForgetFlags] | Runtime[ReceiptsAdoptFlags], address: str, refused: str) -> bool:
    """The address typed back at the terminal, as the confirmation of a receipt written or deleted by hand."""
    if not sys.stdin.isatty():
        raise ReconcilerError("no terminal to confirm on: pass --auto-approve")
    if input(f"Type the address to confirm ({address}): ").strip() == address:
        return True
    print(f"{refused}; nothing was changed.", file=rt.err)
    return False


def _database(manifest: Manifest, address: str) -> DatabaseSpec:
    """The database an operation's address starts with (names hold no '.')."""
    spec = next((spec for spec in manifest.databases if address.startswith(f"{spec.name}.")), None)
    if spec is None:
        raise ReconcilerError(f"{address}: {_NO_SUCH_OPERATION}")
    return spec


def _operation(
    spec: DatabaseSpec, address: str, regions: list[str] | None
) -> tuple[OperationKind, Import | OnDemandBackup]:
    """The operation under `address`; a backup per region (`regions: all`, `region:`) is adopted one region at a
    time, under its regional address."""
    named = {
        operation_address(spec.name, kind, operation.id): (kind, operation)
        for kind, operation in spec.operations(regions)
    }
    if address in named:
        return named[address]
    regional = [one for one in named if one != base_address(one) and base_address(one) == base_address(address)]
    if regional:
        raise ReconcilerError(f"{address}: this backup runs per region; adopt one region: {', '.join(regional)}")
    raise ReconcilerError(f"{address}: {_NO_SUCH_OPERATION}")


_NO_SUCH_OPERATION = (
    "no on-demand backup or import in the manifests has this address "
    '(an address looks like orders-prod.imports.seed-2026-11-20, or orders-aa.backups.pre["us-east-1"] for one '
    "region's backup)"
)


def _preview(rt: Runtime[ReceiptsAdoptFlags], address: str, spec: DatabaseSpec, receipt: Receipt) -> None:
    """What adopting records, field by field, before anything is written."""
    when = datetime.fromtimestamp(receipt.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for line in (
        f"{address} ({spec.tier.value} subscription {spec.subscription} database {spec.database}) would be recorded:",
        f"  kind:        {receipt.kind.value}",
        "  phase:       done, adopted: carried out by hand, not by this tool",
        f"  fingerprint: {receipt.fingerprint} (of the call the manifest gives now)",
        f"  time:        {when}",
        f"  tag:         {receipt.key} = {receipt.value}",
        "Apply will then never run it. Only adopt an operation that really was carried out.",
    ):
        print(line, file=rt.out)


def _existing(receipt: Receipt) -> str:
    written = receipt.created_at or f"at {receipt.at}"
    what = "an adopted done" if receipt.adopted else f"a {receipt.phase.value}"
    return f"{what} receipt exists already (tag {receipt.key}, written {written}, task {receipt.task_id or '-'})"
