"""The API calls a plan makes, as data: method, path and body, with `${env:…}` references left unresolved.

A change holds the calls it will make; the plan file stores them (secret-free: a manifest holds no literal
credential, and no call echoes a live value but the backup interval); apply sends `resolve(call)` and nothing
else. Every request shape comes from API-NOTES §2-§4 (the Terraform provider's and the Go client's).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Union

from reconciler.core.desired import BackupSettings, Import, OnDemandBackup, Tier
from reconciler.core.uris import references, resolve

# A JSON value; bodies are frozen (read-only mappings, tuples) so that a plan cannot be edited in memory.
Json = Union[str, int, float, bool, None, Sequence["Json"], Mapping[str, "Json"]]  # noqa: UP007 (recursive alias)

_FIXED = "/fixed"  # Essentials databases and subscriptions live under it (API-NOTES §1)


def subscriptions_path(tier: Tier) -> str:
    return f"{_FIXED if tier is Tier.ESSENTIALS else ''}/subscriptions"


def database_path(tier: Tier, subscription: int, database: int) -> str:
    """The API path of a database."""
    return f"{subscriptions_path(tier)}/{subscription}/databases/{database}"


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str  # PUT (idempotent: retried) or POST (never repeated after an unknown outcome)
    path: str
    body: Mapping[str, Json] | None = None  # None: a POST without a body (a backup to the configured destination)

    def __post_init__(self) -> None:
        if self.body is not None:
            object.__setattr__(self, "body", _freeze(self.body))

    @property
    def repeatable(self) -> bool:
        return self.method == "PUT"

    def strings(self) -> Iterator[str]:
        """Every string in the body: where `${env:…}` references may stand."""
        yield from _strings(self.body)


def settings_call(tier: Tier, where: str, settings: BackupSettings, *, live_interval: str | None) -> ApiCall:
    """Pro: the whole `remoteBackup` object, as the provider sends it, or `{"active": false}` sent explicitly, never
    "omit the block" (API-NOTES §2); Essentials: `periodicBackupPath`, `""` to switch backups off. An interval the
    manifest leaves out is not managed: `live_interval`, the one the plan saw, is sent (the API needs one)."""
    if tier is Tier.ESSENTIALS:
        return ApiCall("PUT", where, {"periodicBackupPath": (settings.path if settings.enabled else None) or ""})
    return ApiCall("PUT", where, {"remoteBackup": _remote_backup(where, settings, live_interval)})


@dataclass(frozen=True, slots=True)
class RegionWrite:
    """One region's part of an Active-Active settings update: its desired settings, and the interval it keeps."""

    region: str
    settings: BackupSettings
    live_interval: str | None


def regions_call(where: str, regions: Sequence[RegionWrite]) -> ApiCall:
    """Active-Active: one `PUT …/regions` carrying only the regions that change, each `{region, remoteBackup}` (the
    OpenAPI's `LocalRegionProperties`: `region` is required, the rest optional; API-NOTES §2, §11). Never
    `periodicBackupPath`: Active-Active databases refuse it
    (`ACTIVE_ACTIVE_DATABASE_PERIODIC_BACK_UP_PATH_NOT_ALLOWED`)."""
    listed: list[Json] = [
        {"region": r.region, "remoteBackup": _remote_backup(f"{where} region {r.region}", r.settings, r.live_interval)}
        for r in regions
    ]
    return ApiCall("PUT", f"{where}/regions", {"regions": listed})


def _remote_backup(where: str, settings: BackupSettings, live_interval: str | None) -> dict[str, Json]:
    """The `remoteBackup` object (`DatabaseBackupConfig`): `interval`, `storageType` and `storagePath` are required
    when `active` is true (the OpenAPI's descriptions)."""
    if not settings.enabled:
        return {"active": False}
    interval = settings.interval or live_interval
    if interval is None:
        raise ValueError(f"{where}: no interval to send (the planner refuses such a plan)")
    remote: dict[str, Json] = {
        "active": True,
        "interval": interval,
        "storageType": settings.storage_type,
        "storagePath": settings.path,
    }
    if settings.time_utc:
        # As written (the comparison alone is modulo 12 h, SPEC §10). An unmanaged time of day is not sent: a
        # 12-hourly time reads back as its morning twin (API-NOTES §1), so echoing it could move 16:00 to 04:00.
        remote["timeUTC"] = settings.time_utc
    return remote


def backup_call(where: str, backup: OnDemandBackup | None = None) -> ApiCall:
    """`POST …/backup`, bodiless to the configured destination (as the Go client sends it), else to `path`; of one
    region of an Active-Active database, `regionName` (required there: one region per request, API-NOTES §3)."""
    body: dict[str, Json] = {}
    if backup is not None and backup.region is not None:
        body["regionName"] = backup.region
    if backup is not None and backup.path:
        body["adhocBackupPath"] = backup.path
    return ApiCall("POST", f"{where}/backup", body or None)


def import_call(where: str, operation: Import) -> ApiCall:
    return ApiCall("POST", f"{where}/import", {"sourceType": operation.source_type, "importFromUri": operation.sources})


def operation_call(where: str, operation: Import | OnDemandBackup) -> ApiCall:
    """The call a one-shot operation's receipt guards."""
    return import_call(where, operation) if isinstance(operation, Import) else backup_call(where, operation)


def operation_calls(where: str, operation: Import | OnDemandBackup) -> tuple[ApiCall, ...]:
    """What a one-shot operation sends, in order: an import with `backup_first` sends an on-demand backup first."""
    first = (backup_call(where),) if isinstance(operation, Import) and operation.backup_first else ()
    return (*first, operation_call(where, operation))


def owner_call(where: str, key: str, owner: str, *, previous: str | None) -> ApiCall:
    """The owner tag (ownership.py): created where there is none (`POST …/tags`, whose 409 tells a second set it
    lost, API-NOTES §9), or, taking a database over from `previous`, its value replaced (`PUT …/tags/{key}`)."""
    if previous is None:
        return ApiCall("POST", f"{where}/tags", {"key": key, "value": owner})
    return ApiCall("PUT", f"{where}/tags/{key}", {"value": owner})


def is_backup(call: ApiCall) -> bool:
    """A `POST …/backup`: it takes one of its subscription's backup slots, and the API may refuse it while the
    subscription runs its maximum of backups (`backup_refusals.py`). One region's backup of an Active-Active database
    takes a slot too: the limit is documented per subscription or per cluster, never per region, and how a fifth
    backup is refused is unknown (API-NOTES §3, §11), so the stricter count is the safe one."""
    return call.method == "POST" and call.path.endswith("/backup")


# Version 1 hashed a bodiless backup as this body; receipts it wrote must keep matching.
_BODILESS_BACKUP: Mapping[str, Json] = {"adhocBackupPath": None}


def fingerprint(call: ApiCall) -> str:
    """12 hex digits of sha256 over the call's body, unresolved, as canonical JSON. The method and path are the
    receipt's own (its kind, its database), so the body alone says what the operation does; `confirm` and
    `backup_first` are not sent, so editing them is not editing the operation."""
    body = call.body if call.body is not None else _BODILESS_BACKUP
    canonical = json.dumps(plain(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def variables(call: ApiCall) -> tuple[str, ...]:
    """The environment variables the call refers to, in order of first use."""
    return tuple(dict.fromkeys(name for text in call.strings() for name in references(text)))


def resolved(call: ApiCall, environ: Mapping[str, str]) -> ApiCall:
    """The call as it is sent: every `${env:…}` substituted (`uris.resolve`: percent-encoded in a user-info). An unset
    variable raises `UnsetVariableError`; apply checks them all before its first request."""
    if call.body is None:
        return call
    return ApiCall(call.method, call.path, plain(call.body, text=lambda value: resolve(value, environ)))


def plain(body: Mapping[str, Json] | None, *, text: Callable[[str], str] = str) -> dict[str, Json] | None:
    """A frozen body as plain dicts and lists, for JSON, with `text` applied to every string in it (a resolve, a
    mask)."""
    if body is None:
        return None
    return {key: _plain(value, text) for key, value in body.items()}


def _plain(value: Json, text: Callable[[str], str]) -> Json:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return {key: _plain(item, text) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [_plain(item, text) for item in value]
    return value


def _strings(value: Json) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, Sequence):
        for item in value:
            yield from _strings(item)


_LEAVES = (str, bool, int, float, type(None))


def _freeze(value: Json) -> Json:
    if type(value) in _LEAVES:  # most of a body: told apart before the (slower) abstract-class checks below
        return value
    if isinstance(value, Mapping):
        return MappingProxyType({str(key): _freeze(item) for key, item in value.items()})
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(_freeze(item) for item in value)
    return value
