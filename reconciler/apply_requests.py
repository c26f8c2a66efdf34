"""The request bodies apply sends, built from the manifest (never from a plan's masked display values).

`${env:NAME}` references are resolved here and only here, at the moment a request is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.model import DatabaseSpec, Import, Manifest, OnDemandBackup, OperationKind, Plan, Tier
from reconciler.uris import UnsetVariableError, references, resolve


def settings_body(
    spec: DatabaseSpec, environ: Mapping[str, str], *, live_interval: str | None = None
) -> dict[str, Any]:
    """Pro: the whole `remoteBackup` object, as the provider sends it, or `{"active": false}` (API-NOTES §2);
    Essentials: `periodicBackupPath`, `""` to switch backups off. An interval the manifest leaves out is not
    managed: `live_interval`, the one the plan saw (apply has checked it still holds), is sent instead."""
    settings = spec.backup
    if settings is None:
        raise ReconcilerError(f"{spec.name}: backup settings are not managed; nothing to send")
    path = resolve(settings.path, environ) if settings.enabled and settings.path else None
    if spec.tier is Tier.ESSENTIALS:
        return {"periodicBackupPath": path or ""}
    if not settings.enabled:
        return {"remoteBackup": {"active": False}}
    interval = settings.interval or live_interval
    if interval is None:  # the planner refuses this; never send a PUT the API must reject
        raise ReconcilerError(f"{spec.name}.backup: no interval in the manifest and none live to keep; add interval")
    remote: dict[str, Any] = {
        "active": True,
        "interval": interval,
        "storageType": settings.storage_type,
        "storagePath": path,
    }
    if settings.time_utc:
        remote["timeUTC"] = settings.time_utc  # as written; only the comparison is modulo 12 h (SPEC §10)
    return {"remoteBackup": remote}


def operation_of(spec: DatabaseSpec, address: str) -> tuple[OperationKind, Import | OnDemandBackup]:
    for backup in spec.backups:
        if address == f"{spec.name}.backups.{backup.id}":
            return OperationKind.BACKUP, backup
    for item in spec.imports:
        if address == f"{spec.name}.imports.{item.id}":
            return OperationKind.IMPORT, item
    raise ReconcilerError(f"{address}: not in the manifest any more; re-run plan")


def check_variables(plan: Plan, manifest: Manifest, environ: Mapping[str, str]) -> None:
    """Every variable the plan's requests need must be set before the first call is made."""
    specs = {spec.name: spec for spec in manifest.databases}
    missing: dict[str, list[str]] = {}
    for change in plan.changes:
        spec = specs[change.database.name]
        for uri in _uris(spec, change.address, change.action.value):
            for name in references(uri):
                try:
                    resolve(f"${{env:{name}}}", environ)
                except UnsetVariableError:
                    missing.setdefault(name, []).append(change.address)
    if missing:
        lines = [
            f"environment variable {name} is not set (needed by {', '.join(addresses)})"
            for name, addresses in sorted(missing.items())
        ]
        raise ReconcilerError("\n".join(lines) + "\nnothing was changed")


def _uris(spec: DatabaseSpec, address: str, action: str) -> list[str]:
    if action == "update":
        return [spec.backup.path] if spec.backup and spec.backup.enabled and spec.backup.path else []
    _, operation = operation_of(spec, address)
    if isinstance(operation, Import):
        return list(operation.sources)
    return [operation.path] if operation.path else []
