"""Read the live account for a manifest with as few requests as the API allows (issue 5, "refresh that scales").

Databases come from the list endpoints, 100 a page; a database is fetched on its own only when its list item
carries no `backup` object (`fetch_databases` stops there). Tags are read (and their receipts decoded, once)
only for databases that declare one-shot operations, or for every database when the manifest set has an owner
(its owner tag, issue 17: one request a database), and the asynchronous backup/import status only for
databases holding a `claimed` receipt, since each status read costs a task and its polling (API-NOTES §5,
provider issue #561). `check` reads one status per database it judges (`fetch_freshness`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from reconciler.cloud.client import DatabaseListing, RedisCloudClient
from reconciler.core.desired import DatabaseSpec, Manifest, OperationKind, Tier
from reconciler.core.discovery import FoundDatabase
from reconciler.core.freshness import backup_reads, reads_drill_receipts, reads_import_status, skip_reason
from reconciler.core.live import DatabaseKey, LatestStatus, LiveAccount, LiveBackup, LiveDatabase, TaskSnapshot
from reconciler.core.receipt_tags import read_receipts
from reconciler.errors import NotFoundError, ReconcilerError, TaskTimeoutError

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RefreshOptions:
    status_timeout: float = 600.0  # how long a backup/import status task may take to answer
    workers: int = 8  # requests in flight at once; the rate limiter still caps the pace
    # `check`'s status reads in flight at once: enough for one `GET /tasks` to answer dozens of them, so that the
    # rate limit bounds a large check, not the polling pauses; each is a thread waiting, not a CPU.
    status_workers: int = 32


# By (database name, kind, region): the region of an Active-Active database's backup status, else None.
Statuses = dict[tuple[str, OperationKind, str | None], LatestStatus]


def fetch_live(client: RedisCloudClient, manifest: Manifest, options: RefreshOptions | None = None) -> LiveAccount:
    options = options or RefreshOptions()
    with ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="refresh") as pool:

        def each(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
            return list(pool.map(function, items))

        account = _databases(client, manifest, each, receipts=True)
        return _with_receipt_evidence(client, manifest, account, options, each)


def fetch_databases(client: RedisCloudClient, manifest: Manifest, options: RefreshOptions | None = None) -> LiveAccount:
    """The databases and their backup settings, and nothing else: no tags, no statuses (`check` reads its own)."""
    options = options or RefreshOptions()
    with ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="refresh") as pool:

        def each(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
            return list(pool.map(function, items))

        return _databases(client, manifest, each, receipts=False)


def fetch_freshness(
    client: RedisCloudClient, manifest: Manifest, options: RefreshOptions | None = None
) -> tuple[LiveAccount, Statuses]:
    """What `check` judges: the databases, with their tags only where the manifest declares drills (their
    receipts), then the latest backup status where backup is on live (of each region, for an Active-Active
    database: `?regionName=`) and the latest import status where the
    manifest declares imports (`core.freshness` says why), read many at once so that the client's shared watch
    answers their tasks' polls with one `GET /tasks` a tick."""
    options = options or RefreshOptions()
    wanted = replace(manifest, databases=tuple(spec for spec in manifest.databases if skip_reason(spec) is None))
    live = fetch_databases(client, wanted, options) if wanted.databases else LiveAccount({})
    live = _with_drill_tags(client, wanted, live, options)
    reads: list[tuple[DatabaseSpec, OperationKind, str | None]] = []
    for spec in wanted.databases:
        db = live.databases.get((spec.subscription, spec.database))
        reads += [(spec, OperationKind.BACKUP, region) for region in backup_reads(spec, db)]
        if reads_import_status(spec, db):
            reads.append((spec, OperationKind.IMPORT, None))  # database-wide, Active-Active too (API-NOTES §4)
    if not reads:
        return live, {}

    def read(item: tuple[DatabaseSpec, OperationKind, str | None]) -> LatestStatus:
        spec, kind, region = item
        try:
            return client.latest(kind, *_where(spec), timeout=options.status_timeout, region=region)
        except NotFoundError as error:  # gone since it was listed
            return LatestStatus(error_type=error.error_type or "NOT_FOUND")
        except TaskTimeoutError:
            return LatestStatus(error_type=f"no answer within {options.status_timeout:g} s")

    with ThreadPoolExecutor(max_workers=min(options.status_workers, len(reads)), thread_name_prefix="check") as pool:
        answers = pool.map(read, reads)
        statuses = zip(reads, answers, strict=True)
        return live, {(spec.name, kind, region): status for (spec, kind, region), status in statuses}


def _with_drill_tags(
    client: RedisCloudClient, manifest: Manifest, live: LiveAccount, options: RefreshOptions
) -> LiveAccount:
    """One `GET …/tags` per database that declares drills, and none elsewhere: check's budget is otherwise kept."""
    found = [
        (spec, db)
        for spec in manifest.databases
        if reads_drill_receipts(spec, db := live.databases.get((spec.subscription, spec.database))) and db is not None
    ]
    if not found:
        return live
    with ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="drill-tags") as pool:
        tagged = pool.map(lambda pair: replace(pair[1], tags=client.list_tags(*_where(pair[0]))), found)
        return replace(live, databases={**live.databases, **{(db.subscription, db.database): db for db in tagged}})


def _where(spec: DatabaseSpec) -> tuple[Tier, int, int]:
    return (spec.tier, spec.subscription, spec.database)


Each = Callable[[Callable[[T], R], Iterable[T]], list[R]]


class _Mapper(Protocol):
    """A pool's map, for any function: `_databases` maps three."""

    def __call__(self, function: Callable[[T], R], items: Iterable[T], /) -> list[R]: ...


def _databases(client: RedisCloudClient, manifest: Manifest, each: _Mapper, *, receipts: bool) -> LiveAccount:
    listings = _list_subscriptions(client, manifest.databases, each)
    found = [(spec, listings.get((spec.tier, spec.subscription), {}).get(spec.database)) for spec in manifest.databases]
    owned = manifest.owner is not None
    listed = [(spec, item) for spec, item in found if item]
    # Only a database that needs a request goes to the pool: at 20,000 databases, handing every one to a thread
    # cost a second of CPU (issue 16) for the nine in ten that its list item already describes.
    asks = [_asks(spec, item, receipts=receipts, owned=owned) for spec, item in listed]
    sent = iter(
        each(
            lambda pair: _complete(client, *pair, receipts=receipts, owned=owned),
            [pair for pair, ask in zip(listed, asks, strict=True) if ask],
        )
    )
    databases = {
        (db.subscription, db.database): db
        for db in (
            next(sent) if ask else _complete(client, spec, item, receipts=receipts, owned=owned)
            for (spec, item), ask in zip(listed, asks, strict=True)
        )
    }
    databases.update(_elsewhere(client, [spec for spec, item in found if item is None], listings, each))
    return LiveAccount(databases, account_id=_account_id(listings))


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


def _asks(spec: DatabaseSpec, item: DatabaseListing, *, receipts: bool, owned: bool) -> bool:
    """Whether `_complete` sends a request: a GET when the list item lacks `backup`, or the tags."""
    return item.backup is None or _reads_tags(spec, receipts=receipts, owned=owned)


def _reads_tags(spec: DatabaseSpec, *, receipts: bool, owned: bool) -> bool:
    return receipts and (spec.has_one_shot_operations or owned)


def _complete(
    client: RedisCloudClient, spec: DatabaseSpec, item: DatabaseListing, *, receipts: bool, owned: bool
) -> LiveDatabase:
    if item.backup is None:
        live = client.get_database(spec.tier, spec.subscription, spec.database)
    else:
        live = LiveDatabase(
            spec.tier, spec.subscription, spec.database, item.name, item.status, item.backup, regions=item.regions
        )
    if _reads_tags(spec, receipts=receipts, owned=owned):
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


def discover_databases(
    client: RedisCloudClient, tiers: Sequence[Tier], subscriptions: frozenset[int], *, workers: int = 8
) -> list[FoundDatabase]:
    """Every database of the chosen tiers (and subscriptions: empty, all), for `discover`: GETs only, a list of
    subscriptions per tier and the list pages; a database is fetched on its own only when its item carries no
    backup object (API-NOTES §11), and an Active-Active one never (its backup is per region, not written)."""
    wanted = [
        (tier, number)
        for tier in tiers
        for number in client.list_subscriptions(tier)
        if not subscriptions or number in subscriptions
    ]
    unknown = sorted(subscriptions - {number for _, number in wanted})
    if unknown:
        where = " or ".join(f"{tier.value} subscriptions" for tier in tiers)
        listed = ", ".join(map(str, unknown))
        raise ReconcilerError(f"subscription {listed} is not among the account's {where} — check the id and --tier")
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="discover") as pool:
        pages = list(pool.map(lambda key: (key, _listing(client, *key)), wanted))

        def found(tier: Tier, subscription: int, item: DatabaseListing) -> FoundDatabase:
            if item.active_active:  # per region; a list item missing a region's backup is read on its own
                regions = item.regions or client.get_database(tier, subscription, item.database).regions
                return FoundDatabase(tier, subscription, item.database, item.name, None, regions)
            backup = item.backup or client.get_database(tier, subscription, item.database).backup
            return FoundDatabase(tier, subscription, item.database, item.name, backup)

        items = [(tier, number, item) for (tier, number), listing in pages for item in listing.values()]
        return list(pool.map(lambda each: found(*each), items))
