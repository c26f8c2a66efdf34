"""Read the live account for a manifest with as few requests as the API allows (issue 5, "refresh that scales").

Databases come from the list endpoints, 100 a page; a database is fetched on its own only when its list item
carries no `backup` object. Tags are read (and their receipts decoded, once) only for databases that declare
one-shot operations, and the asynchronous backup/import status only for databases holding a `claimed` receipt,
since each status read costs a task and its polling (API-NOTES §5, provider issue #561).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

from reconciler.cloud.client import DatabaseListing, RedisCloudClient
from reconciler.core.desired import DatabaseSpec, Manifest, OperationKind, Tier
from reconciler.core.live import DatabaseKey, LatestStatus, LiveAccount, LiveBackup, LiveDatabase, TaskSnapshot
from reconciler.core.receipt_tags import read_receipts
from reconciler.errors import NotFoundError

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RefreshOptions:
    status_timeout: float = 600.0  # how long a backup/import status task may take to answer
    workers: int = 8  # requests in flight at once; the rate limiter still caps the pace


def fetch_live(client: RedisCloudClient, manifest: Manifest, options: RefreshOptions | None = None) -> LiveAccount:
    options = options or RefreshOptions()
    with ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="refresh") as pool:

        def each(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
            return list(pool.map(function, items))

        listings = _list_subscriptions(client, manifest.databases, each)
        found = [
            (spec, listings.get((spec.tier, spec.subscription), {}).get(spec.database)) for spec in manifest.databases
        ]
        databases = {
            (db.subscription, db.database): db
            for db in each(lambda pair: _complete(client, *pair), [(s, item) for s, item in found if item])
        }
        databases.update(_elsewhere(client, [spec for spec, item in found if item is None], listings, each))
        account = LiveAccount(databases, account_id=_account_id(listings))
        return _with_receipt_evidence(client, manifest, account, options, each)


Each = Callable[[Callable[[T], R], Iterable[T]], list[R]]


def _list_subscriptions(
    client: RedisCloudClient, specs: Iterable[DatabaseSpec], each: Each[tuple[Tier, int], dict[int, DatabaseListing]]
) -> dict[tuple[Tier, int], dict[int, DatabaseListing]]:
    wanted = sorted({(spec.tier, spec.subscription) for spec in specs})
    return dict(zip(wanted, each(lambda key: _listing(client, *key), wanted), strict=True))


def _listing(client: RedisCloudClient, tier: Tier, subscription: int) -> dict[int, DatabaseListing]:
    """A subscription that does not exist lists nothing; the planner then names each database it expected."""
    try:
        return {item.database: item for item in client.list_databases(tier, subscription)}
    except NotFoundError:
        return {}


def _complete(client: RedisCloudClient, spec: DatabaseSpec, item: DatabaseListing) -> LiveDatabase:
    if item.backup is None:
        live = client.get_database(spec.tier, spec.subscription, spec.database)
    else:
        live = LiveDatabase(
            spec.tier, spec.subscription, spec.database, item.name, item.status, item.backup, regions=item.regions
        )
    if spec.has_one_shot_operations:
        tags = client.list_tags(spec.tier, spec.subscription, spec.database)
        # Decoded here, once: the planner, and the evidence reads below, use these receipts.
        regions = None if live.regions is None else [region.region for region in live.regions]
        live = replace(live, tags=tags, receipts=read_receipts(spec.name, tags, spec.operation_keys(regions)))
    return live


def _elsewhere(
    client: RedisCloudClient,
    missing: list[DatabaseSpec],
    listings: dict[tuple[Tier, int], dict[int, DatabaseListing]],
    each: Each[tuple[Tier, int], dict[int, DatabaseListing]],
) -> dict[DatabaseKey, LiveDatabase]:
    """Databases not where the manifest says: look on the other tier, so the error can say `set tier: …`."""
    other = sorted({(_other(spec.tier), spec.subscription) for spec in missing} - set(listings))
    listings = {**listings, **dict(zip(other, each(lambda key: _listing(client, *key), other), strict=True))}
    found: dict[DatabaseKey, LiveDatabase] = {}
    for spec in missing:
        tier = _other(spec.tier)
        item = listings.get((tier, spec.subscription), {}).get(spec.database)
        if item is not None:
            # Its backup object may not have been listed; it is not needed: the planner stops at the tier.
            backup = item.backup or LiveBackup(enabled=False)
            found[(spec.subscription, spec.database)] = LiveDatabase(
                tier, spec.subscription, spec.database, item.name, item.status, backup
            )
    return found


def _account_id(listings: dict[tuple[Tier, int], dict[int, DatabaseListing]]) -> int | None:
    """The account the list pages came from; a saved plan records it, and apply refuses another (issue 20)."""
    ids = sorted({item.account_id for found in listings.values() for item in found.values() if item.account_id})
    return ids[0] if len(ids) == 1 else None  # none, or (never seen) pages that disagree: unknown


def _other(tier: Tier) -> Tier:
    return Tier.ESSENTIALS if tier is Tier.PRO else Tier.PRO


def _with_receipt_evidence(
    client: RedisCloudClient,
    manifest: Manifest,
    account: LiveAccount,
    options: RefreshOptions,
    each: Each[
        tuple[DatabaseSpec, OperationKind, str | None], tuple[DatabaseKey, OperationKind, str | None, LatestStatus]
    ],
) -> LiveAccount:
    """Statuses and task snapshots, only where a `claimed` receipt needs settling (SPEC §4, §10)."""
    needed: set[tuple[DatabaseSpec, OperationKind, str | None]] = set()
    task_ids: set[str] = set()
    for spec in manifest.databases:
        db = account.databases.get((spec.subscription, spec.database))
        if db is None or db.tier is not spec.tier or db.receipts is None:
            continue
        for receipt in db.receipts.claimed():
            # One region's backup has its own status (`?regionName=`, API-NOTES §3); an import is database-wide.
            needed.add((spec, receipt.kind, receipt.region))
            if receipt.task_id:
                task_ids.add(receipt.task_id)
    if not needed:
        return account

    def status(
        need: tuple[DatabaseSpec, OperationKind, str | None],
    ) -> tuple[DatabaseKey, OperationKind, str | None, LatestStatus]:
        spec, kind, region = need
        key = (spec.subscription, spec.database)
        where = (spec.tier, spec.subscription, spec.database)
        return key, kind, region, client.latest(kind, *where, timeout=options.status_timeout, region=region)

    statuses = each(status, sorted(needed, key=lambda n: (n[0].name, n[1].value, n[2] or "")))
    tasks: dict[str, TaskSnapshot] = {}
    for task_id in sorted(task_ids):
        snapshot = client.get_task(task_id)
        if snapshot is not None:
            tasks[task_id] = snapshot
    return LiveAccount(
        account.databases,
        account_id=account.account_id,
        latest={(key, kind): status for key, kind, region, status in statuses if region is None},
        tasks=tasks,
        region_latest={(key, region): status for key, _, region, status in statuses if region is not None},
    )


def list_unmanaged(client: RedisCloudClient, manifest: Manifest) -> list[LiveDatabase]:
    """Every database of the account that no manifest declares (`plan --report-unmanaged`)."""
    managed = {(spec.subscription, spec.database) for spec in manifest.databases}
    found: list[LiveDatabase] = []
    for tier in (Tier.PRO, Tier.ESSENTIALS):
        for subscription in client.list_subscriptions(tier):
            for item in _listing(client, tier, subscription).values():
                if (subscription, item.database) not in managed:
                    # Only identity is reported; the backup object is not read for unmanaged databases.
                    backup = item.backup or LiveBackup(enabled=False)
                    found.append(LiveDatabase(tier, subscription, item.database, item.name, item.status, backup))
    return sorted(found, key=lambda db: (db.name, db.subscription, db.database))
