"""The request bodies apply sends, built from the manifest (never from a plan's masked display values).

`${env:NAME}` references are resolved here and only here, at the moment a request is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.model import (
    DatabaseSpec,
    Import,
    Manifest,
    OnDemandBackup,
    OperationKind,
    Plan,
    Tier,
    operation_address,
    settings_address,
)
from reconciler.uris import references, resolve


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
    needed: dict[str, list[str]] = {}
    for change in plan.changes:
        for uri in _uris(specs[change.database.name], change.address, change.action.value):
            _need(needed, uri, change.address)
    _refuse_unset(needed, environ)


def check_manifest_variables(manifest: Manifest, environ: Mapping[str, str], targets: frozenset[str]) -> None:
    """Before `plan` reads the account: every variable of the (targeted) entries must be set, since which
    of their requests the plan will need is only known once the live state has been read."""
    _refuse_unset(needed_variables(manifest, targets), environ)


def needed_variables(manifest: Manifest, targets: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """The variables the manifest's URIs reference, each with the addresses that need it, sorted by name.
    `targets` are addresses or database names, as `--target` takes them (empty: everything)."""
    needed: dict[str, list[str]] = {}
    for spec in manifest.databases:
        addresses = []
        if spec.backup is not None:
            addresses.append((settings_address(spec.name), "update"))
        addresses += [(operation_address(spec.name, OperationKind.BACKUP, b.id), "backup") for b in spec.backups]
        addresses += [(operation_address(spec.name, OperationKind.IMPORT, i.id), "import") for i in spec.imports]
        for address, action in addresses:
            if targets and spec.name not in targets and address not in targets:
                continue
            for uri in _uris(spec, address, action):
                _need(needed, uri, address)
    return dict(sorted(needed.items()))


def _need(needed: dict[str, list[str]], uri: str, address: str) -> None:
    for name in references(uri):  # once per address, however many shard URIs repeat the variable
        if address not in needed.setdefault(name, []):
            needed[name].append(address)


def _refuse_unset(needed: Mapping[str, list[str]], environ: Mapping[str, str]) -> None:
    # An empty variable counts as unset, as in `resolve`: an empty password is never what was meant.
    missing = {name: addresses for name, addresses in needed.items() if not environ.get(name)}
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
