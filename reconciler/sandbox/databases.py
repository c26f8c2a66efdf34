"""Database reads: the single-database shapes of both tiers and the paged list envelopes (API-NOTES §1)."""

from __future__ import annotations

from reconciler.sandbox.context import Answer, Context, Params
from reconciler.sandbox.data import hooks as data_hooks
from reconciler.sandbox.lifecycle import status_at
from reconciler.sandbox.problems import ApiProblem
from reconciler.sandbox.state import Database, JsonObject, StoredBackup, Subscription, Tier
from reconciler.sandbox.timings import iso_utc

ACTIVATED_ON = 1_700_000_000.0  # a fixed, harmless creation time for every emulated database
LIST_DEFAULT_LIMIT = 100  # what the Go client asks for (API-NOTES §1 "List endpoints")


def reported_time(interval: str, time_utc: str) -> str:
    """API-NOTES §1: with `every-12-hours` an afternoon time is reported as its morning twin ("16:00" → "04:00")."""
    if interval != "every-12-hours" or len(time_utc) != 5:
        return time_utc
    hour = int(time_utc[:2])
    return f"{hour - 12:02d}{time_utc[2:]}" if hour >= 12 else time_utc


def pro_backup(stored: StoredBackup) -> JsonObject:
    """Go `databases.Backup` (API-NOTES §1), also each Active-Active region's; storage type is never returned,
    `destination` only when enabled."""
    if not stored["enabled"]:
        return {"enableRemoteBackup": False, "interval": "", "timeUTC": ""}
    return {
        "enableRemoteBackup": True,
        "interval": stored["interval"],
        # UNCONFIRMED (API-NOTES §2): intervals other than 12/24 h have no time; we read back "".
        "timeUTC": reported_time(stored["interval"], stored["time_utc"]),
        "destination": stored["path"],
    }


def essentials_backup(database: Database) -> JsonObject:
    """Go fixed `Backup` (API-NOTES §1): `periodicBackupPath` comes back only as `destination`, when enabled."""
    stored = database["backup"]
    # UNCONFIRMED (API-NOTES §1): "idle" is the only `status` value seen.
    shape: JsonObject = {"remoteBackupEnabled": stored["enabled"], "status": "idle"}
    if stored["enabled"]:
        # UNCONFIRMED (API-NOTES §1): Essentials backs up daily, so the interval is probably "every-24-hours".
        shape["interval"] = "every-24-hours"
        shape["destination"] = stored["path"]
    return shape


def database_shape(ctx: Context, tier: Tier, database: Database, *, with_backup: bool = True) -> JsonObject:
    """Fields from the OpenAPI `Database` / `FixedDatabase` examples; no password, to keep secrets out of tests."""
    port = 10000 + database["id"] % 50000
    host = f"redis-{port}.c{database['subscription_id']}.us-east-1-1.ec2.sandbox.rlrcp.com"
    shape: JsonObject = {
        "databaseId": database["id"],
        "name": database["name"],
        "protocol": "redis",
        "provider": "AWS",
        "region": "us-east-1",
        "redisVersion": "7.4",
        "respVersion": "resp2",
        "status": status_at(database, ctx.now),
    }
    if tier == "pro":
        shape |= {
            "datasetSizeInGb": 1,
            "memoryUsedInMb": 4,
            "memoryStorage": "ram",
            "supportOSSClusterApi": False,
            "dataPersistence": "snapshot-every-1-hour",
            "replication": True,
            "dataEvictionPolicy": "noeviction",
            "throughputMeasurement": {"by": "operations-per-second", "value": 2500},
            "security": {"enableDefaultUser": True, "enableTls": False, "sourceIps": ["0.0.0.0/0"]},
        }
    else:
        shape |= {
            "planMemoryLimit": 250,
            "memoryLimitMeasurementUnit": "MB",
            "memoryUsedInMb": 1,
            "memoryStorage": "ram",
            "dataPersistence": "none",
            "replication": True,
            "dataEvictionPolicy": "noeviction",
            "security": {"defaultUserEnabled": True, "sourceIps": ["0.0.0.0/0"]},
        }
    shape |= {
        "activatedOn": iso_utc(ACTIVATED_ON),
        "lastModified": iso_utc(database["last_modified"]),
        "publicEndpoint": f"{host}:{port}",
        "privateEndpoint": f"{host.replace('redis-', 'redis-internal-', 1)}:{port}",
        "alerts": [],
    }
    data_hooks.dress_database(shape, database["id"], with_password=False)  # issue 14: the local server
    if "regions" in database:
        # Active-Active (API-NOTES §1, §11; GO-T active_active_database_test.go): `activeActiveRedis` and one
        # `crdbDatabases` element per region, each with its own backup; no database-wide backup object.
        shape["activeActiveRedis"] = True
        shape["crdbDatabases"] = [
            _crdb_region(name, stored, with_backup) for name, stored in database["regions"].items()
        ]
    elif with_backup:
        shape["backup"] = pro_backup(database["backup"]) if tier == "pro" else essentials_backup(database)
    shape["links"] = [{"rel": "self", "href": _database_href(ctx, tier, database), "type": "GET"}]
    return shape


def _crdb_region(name: str, stored: StoredBackup, with_backup: bool) -> JsonObject:
    """A `crdbDatabases` element (Go `CrdbDatabase`): the fields a reconciler reads, and harmless others."""
    region: JsonObject = {"provider": "AWS", "region": name, "dataPersistence": "snapshot-every-1-hour", "alerts": []}
    if with_backup:
        region["backup"] = pro_backup(stored)
    return region


def get_database(ctx: Context, params: Params) -> Answer:
    database = ctx.database(params.tier, params.subscription_id, params.database_id)
    shape = database_shape(ctx, params.tier, database)
    data_hooks.dress_database(shape, database["id"], with_password=True)  # API-NOTES §11: GET only
    return 200, shape


def list_databases(ctx: Context, params: Params) -> Answer:
    """Pro: `subscription` is a one-element array and past the end is 404; Essentials: an object and an empty page."""
    subscription = ctx.subscription(params.tier, params.subscription_id)
    offset = _query_int(ctx, "offset", 0)
    limit = _query_int(ctx, "limit", LIST_DEFAULT_LIMIT)
    if offset < 0 or limit < 1:
        raise ApiProblem(400, "BAD_REQUEST", "offset must be >= 0 and limit >= 1")
    databases = sorted(
        (db for db in ctx.world["databases"] if db["subscription_id"] == subscription["id"]), key=lambda db: db["id"]
    )
    if params.tier == "pro" and offset >= len(databases):
        # API-NOTES §1: the Go client treats this 404 as the end of the list.
        # UNCONFIRMED: an empty subscription at offset 0 answers 404 too.
        raise ApiProblem(404)
    with_backup = params.tier == "essentials" or ctx.world["options"]["pro_list_includes_backup"]
    page = [database_shape(ctx, params.tier, db, with_backup=with_backup) for db in databases[offset : offset + limit]]
    entry: JsonObject = {
        "subscriptionId": subscription["id"],
        "numberOfDatabases": len(databases),
        "databases": page,
        "links": [],
    }
    return 200, {
        "accountId": ctx.world["account_id"],
        "subscription": [entry] if params.tier == "pro" else entry,
        "links": [{"rel": "self", "href": _self_href(ctx), "type": "GET"}],
    }


def list_subscriptions(ctx: Context, params: Params) -> Answer:
    """`AccountSubscriptions` / `FixedSubscriptions` envelopes: `{accountId, subscriptions: [...], links}`."""
    items: list[JsonObject] = []
    for sub in ctx.world["subscriptions"]:
        if sub["tier"] != params.tier:
            continue
        items.append(_subscription_shape(ctx, sub))
    links = [{"rel": "self", "href": _self_href(ctx), "type": "GET"}]
    return 200, {"accountId": ctx.world["account_id"], "subscriptions": items, "links": links}


def get_subscription(ctx: Context, params: Params) -> Answer:
    """`GET /subscriptions/{id}` (OpenAPI `Subscription`) and `GET /fixed/subscriptions/{id}` (`FixedSubscription`):
    the list item's fields plus the rest of each schema's example, with harmless values."""
    sub = ctx.subscription(params.tier, params.subscription_id)
    shape = _subscription_shape(ctx, sub)
    shape |= {"paymentMethodId": 1, "paymentMethodType": "credit-card"}
    if sub["tier"] == "pro":
        region = {
            "region": "us-east-1",
            "networking": [{"deploymentCIDR": "10.0.0.0/24", "subnetId": f"subnet-{sub['id']:017x}"}],
            "preferredAvailabilityZones": ["us-east-1a"],
            "multipleAvailabilityZones": False,
        }
        shape |= {
            "storageEncryption": False,
            "cloudDetails": [
                {"provider": "AWS", "cloudAccountId": 1, "totalSizeInGb": 0.0, "regions": [region], "links": []}
            ],
        }
    else:
        shape |= {
            "planId": 98276,
            "size": 250,
            "sizeMeasurementUnit": "MB",
            "price": 5,
            "pricePeriod": "Month",
            "priceCurrency": "USD",
            "availability": "Single-zone",
            "connections": "256",
            "cidrAllowRules": 8,
            "supportDataPersistence": True,
            "supportReplication": True,
            "supportClustering": False,
            "customerSupport": "Standard",
            "creationDate": iso_utc(ACTIVATED_ON),
        }
    shape["links"] = [{"rel": "self", "href": _self_href(ctx), "type": "GET"}]
    return 200, shape


def _subscription_shape(ctx: Context, sub: Subscription) -> JsonObject:
    databases = [db for db in ctx.world["databases"] if db["subscription_id"] == sub["id"]]
    shape: JsonObject = {"id": sub["id"], "name": sub["name"], "status": sub["status"]}
    if sub["tier"] == "pro":
        # Active-Active is a property of the subscription in Redis Cloud: one of its databases makes it so here.
        deployment = "active-active" if any("regions" in db for db in databases) else "single-region"
        shape |= {"deploymentType": deployment, "memoryStorage": "ram", "numberOfDatabases": len(databases)}
    else:
        shape |= {"planName": "Standard 250MB", "provider": "AWS", "region": "us-east-1", "maximumDatabases": 4}
        shape |= {"supportInstantAndDailyBackups": True}
    shape["links"] = []
    return shape


def _query_int(ctx: Context, name: str, default: int) -> int:
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiProblem(400, "BAD_REQUEST", f"{name} must be an integer") from None


def _database_href(ctx: Context, tier: Tier, database: Database) -> str:
    prefix = "/fixed" if tier == "essentials" else ""
    return f"{ctx.base_url}{prefix}/subscriptions/{database['subscription_id']}/databases/{database['id']}"


def _self_href(ctx: Context) -> str:
    return ctx.base_url.removesuffix("/v1") + ctx.path
