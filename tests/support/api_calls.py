"""Builders for the API calls and receipts tests make directly, as the plan would make them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.cloud.client import RedisCloudClient
from reconciler.core.calls import (
    ApiCall,
    backup_call,
    database_path,
    fingerprint,
    import_call,
    operation_call,
    settings_call,
)
from reconciler.core.desired import BackupSettings, Import, OnDemandBackup, OperationKind, Tier
from reconciler.core.live import LiveDatabase
from reconciler.core.normalise import FIELDS, Settings
from reconciler.core.plan import DatabaseRef, FieldChange, OneShot, SettingsUpdate
from reconciler.core.receipt_tags import Receipt, claim, read_receipts


def put_settings(
    client: RedisCloudClient, tier: Tier, subscription: int, database: int, body: Mapping[str, Any]
) -> str:
    return client.send(ApiCall("PUT", database_path(tier, subscription, database), body))


def post_backup(client: RedisCloudClient, tier: Tier, subscription: int, database: int, path: str | None = None) -> str:
    where = database_path(tier, subscription, database)
    return client.send(backup_call(where, OnDemandBackup("test", path)))


def post_import(
    client: RedisCloudClient, tier: Tier, subscription: int, database: int, source_type: str, uris: Sequence[str]
) -> str:
    where = database_path(tier, subscription, database)
    return client.send(import_call(where, Import("test", tuple(uris), source_type)))


def op_fingerprint(operation: Import | OnDemandBackup) -> str:
    """The fingerprint a receipt of this operation carries (the call's body; the path plays no part)."""
    return fingerprint(operation_call("", operation))


def claim_of(kind: OperationKind, operation: Import | OnDemandBackup, *, at: int, run: str | None = None) -> Receipt:
    return claim(kind, operation.id, op_fingerprint(operation), at=at, run=run)


# --- typed changes, as the planner makes them ------------------------------------------------------------------


def import_change(
    address: str,
    ref: DatabaseRef,
    sources: Sequence[str] = ("s3://b/x.rdb",),
    *,
    source_type: str = "aws-s3",
    backup_first: bool = False,
    replaces: Receipt | None = None,
) -> OneShot:
    op_id = address.rsplit(".", 1)[-1]
    first = (backup_call(ref.path),) if backup_first else ()
    call = import_call(ref.path, Import(op_id, tuple(sources), source_type))
    return OneShot(address, ref, OperationKind.IMPORT, op_id, (*first, call), replaces)


def backup_change(address: str, ref: DatabaseRef, path: str | None = None) -> OneShot:
    op_id = address.rsplit(".", 1)[-1]
    return OneShot(address, ref, OperationKind.BACKUP, op_id, (backup_call(ref.path, OnDemandBackup(op_id, path)),))


def settings_change(
    address: str, ref: DatabaseRef, before: Settings, after: Settings, *, risky: bool = False
) -> SettingsUpdate:
    """A Pro settings update whose fields are those that differ between `before` and `after`."""
    names = [
        name for name in FIELDS if getattr(after, name) is not None and getattr(before, name) != getattr(after, name)
    ]
    fields = tuple(FieldChange(name, getattr(before, name), getattr(after, name)) for name in names)
    desired = BackupSettings(
        after.enabled, after.path, "aws-s3" if after.path else None, after.interval, after.time_utc
    )
    call = settings_call(ref.tier, ref.path, desired, live_interval=before.interval or "every-24-hours")
    return SettingsUpdate(address, ref, before, after, call, fields, risky=risky)


def with_receipts(
    db: LiveDatabase, name: str | None = None, operations: Sequence[tuple[OperationKind, str]] = ()
) -> LiveDatabase:
    """A live database as the refresh gives it: its tags decoded into receipts (`name`: the manifest's)."""
    if db.tags is None:
        return db
    return replace(db, receipts=read_receipts(name or db.name, db.tags, operations))
