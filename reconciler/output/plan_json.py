"""Changes and warnings as a plan file holds them, both ways: the codec `planfile.py` reads and writes plans with.

A change is written with the calls apply sends (`calls`) and, for people, what they do (`after`); read back, it
must say the same again, or the file was edited. URIs with a literal credential are masked on the way out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.calls import ApiCall, backup_call, plain
from reconciler.core.desired import OperationKind, Tier
from reconciler.core.differences import described
from reconciler.core.normalise import FIELDS, Settings
from reconciler.core.plan import (
    Action,
    Change,
    DatabaseRef,
    FieldChange,
    OneShot,
    OwnerTag,
    PlanWarning,
    RegionalUpdate,
    RegionUpdate,
    SettingsUpdate,
    WarningKind,
)
from reconciler.core.receipt_tags import Phase, Receipt, tag_key
from reconciler.core.uris import mask
from reconciler.errors import PlanFileError


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document[key]
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    return value


def change_document(change: Change) -> dict[str, Any]:
    """One change as the plan file holds it (SPEC §6: address, action, database, before, after, destructive),
    with the calls apply sends; `after` says what they do, for people."""
    data: dict[str, Any] = {
        "address": change.address,
        "action": change.action.value,
        "database": _database_document(change.database),
    }
    if isinstance(change, SettingsUpdate):
        data["before"] = _settings_document(change.before)
        data["after"] = _after_document(change)
    elif isinstance(change, RegionalUpdate):
        # Per region, under its own address: `before` and `after` are keyed by region name, in the call's order.
        data["before"] = {region.region: _settings_document(region.before) for region in change.regions}
        data["after"] = {region.region: _after_document(region) for region in change.regions}
        data["regions"] = [_region_document(region) for region in change.regions]
    elif isinstance(change, OwnerTag):
        data["before"] = {"owner": change.previous}  # not None: a takeover (`--takeover`), as reviewed
        data["after"] = {"owner": change.owner}
    else:
        data["before"] = {"receipt": None if change.replaces is None else _receipt_document(change.replaces)}
        data["after"] = _operation_document(change)
    data |= {"destructive": change.destructive, "risky": change.risky}
    if isinstance(change, SettingsUpdate) and change.fields:
        data["fields"] = [{"field": f.field, "before": f.before, "after": f.after} for f in change.fields]
    # Every URI with a literal credential masked. A manifest holds none (validation refuses them), so this changes
    # nothing but a plan made around validation; such a file is then refused by apply as stale, never sent masked.
    data["calls"] = [{"method": c.method, "path": c.path, "body": plain(c.body, text=mask)} for c in change.calls]
    return data


def _after_document(change: SettingsUpdate | RegionUpdate) -> dict[str, Any]:
    after = _settings_document(change.after, managed_only=True)
    if change.storage_type is not None:
        after["storage_type"] = change.storage_type
    return after


def _region_document(region: RegionUpdate) -> dict[str, Any]:
    return {
        "address": region.address,
        "region": region.region,
        "risky": region.risky,
        "fields": [{"field": f.field, "before": f.before, "after": f.after} for f in region.fields],
    }


def _database_document(ref: DatabaseRef) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": ref.name,
        "subscription": ref.subscription,
        "database": ref.database,
        "tier": ref.tier.value,
    }
    if ref.live_name is not None:
        data["live_name"] = ref.live_name
    if ref.active_active:
        data["active_active"] = True  # written only when true: older plan files read as single-region
    return data


def _settings_document(settings: Settings, *, managed_only: bool = False) -> dict[str, Any]:
    values = {name: getattr(settings, name) for name in FIELDS}
    return {k: v for k, v in values.items() if v is not None} if managed_only else values


def _receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The receipt apply must still find before it retries (the failed or uncertain one it replaces)."""
    return {
        "key": receipt.key,
        "phase": receipt.phase.value,
        "fingerprint": receipt.fingerprint,
        "at": receipt.at,
        "task_id": receipt.task_id,
        "created_at": receipt.created_at,
        "run": receipt.run,
    }  # tells the judged receipt from a racing retry's claim of the same second


def _operation_document(change: OneShot) -> dict[str, Any]:
    if change.kind is OperationKind.IMPORT:
        return {
            "id": change.op_id,
            "from": [mask(uri) for uri in change.sources],
            "source_type": change.source_type,
            "backup_first": change.backup_first,
            "fingerprint": change.fingerprint,
        }
    document = {"id": change.op_id, "path": change.target and mask(change.target), "fingerprint": change.fingerprint}
    return document | ({"region": change.region} if change.region is not None else {})


def warning_document(warning: PlanWarning) -> dict[str, Any]:
    data: dict[str, Any] = {"address": warning.address, "kind": warning.kind.value, "message": warning.message}
    if warning.outcome is not None:
        data["outcome"] = warning.outcome
        if warning.database is not None:
            data["database"] = _database_document(warning.database)
    if warning.observed:
        data["observed"] = True  # on an observed database: apply records nothing there
    return data


def change_from(item: Mapping[str, Any], *, calls_kept: bool) -> Change:
    """A change read back. With `calls_kept` (format 1.2) it must read back as it was written; older files kept a
    masked request for review instead of calls: they are shown, never sent."""
    ref = _ref(item["database"])
    calls = _calls(item, ref, calls_kept)
    action = Action(item["action"])
    change: Change
    if action is Action.OWN:
        change = OwnerTag(
            str(item["address"]), ref, str(item["after"]["owner"]), _text(item["before"]["owner"]), calls[0]
        )
    elif action is Action.UPDATE and "regions" in item:
        change = RegionalUpdate(str(item["address"]), ref, _regions(item), calls[0])
    elif action is Action.UPDATE:
        before, after = item["before"], item["after"]
        fields = _field_changes(item)
        change = SettingsUpdate(
            str(item["address"]),
            ref,
            _settings(before),
            _settings(after),
            calls[0],
            fields,
            _text(after.get("storage_type")),
            bool(item.get("risky", False)),
        )
    else:
        kind = OperationKind(action.value)
        receipt = item["before"]["receipt"]
        replaces = None if receipt is None else _receipt(kind, str(item["after"]["id"]), receipt)
        change = OneShot(str(item["address"]), ref, kind, str(item["after"]["id"]), calls, replaces)
    if calls_kept and change_document(change) != item:
        raise PlanFileError(
            f"the plan file's {described(item, change_document(change))} of {change.address} "
            "differ from what its own calls say: it was edited after `reconciler plan` wrote it; "
            "re-run plan"
        )
    return change


def _regions(item: Mapping[str, Any]) -> tuple[RegionUpdate, ...]:
    before, after = item["before"], item["after"]
    return tuple(
        RegionUpdate(
            str(region["address"]),
            str(region["region"]),
            _settings(before[region["region"]]),
            _settings(after[region["region"]]),
            _field_changes(region),
            _text(after[region["region"]].get("storage_type")),
            bool(region["risky"]),
        )
        for region in _list(item, "regions")
    )


def _field_changes(item: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(str(f["field"]), _setting(f["before"]), _setting(f["after"])) for f in item.get("fields", ())
    )


def _calls(item: Mapping[str, Any], ref: DatabaseRef, calls_kept: bool) -> tuple[ApiCall, ...]:
    if not calls_kept and "calls" not in item:
        request = item["after"]["request"]
        legacy = (ApiCall(str(request["method"]), str(request["path"]), request.get("body") or None),)
        return (backup_call(ref.path), *legacy) if item["after"].get("backup_first") else legacy
    listed = _list(item, "calls")
    if not listed or any(not isinstance(c, dict) or not isinstance(c.get("body"), dict | None) for c in listed):
        raise TypeError("calls must be a list of {method, path, body}")
    return tuple(ApiCall(str(c["method"]), str(c["path"]), c["body"]) for c in listed)


def _ref(db: Mapping[str, Any]) -> DatabaseRef:
    live_name = db.get("live_name")  # absent in plan files written before issue 12
    return DatabaseRef(
        str(db["name"]),
        _id(db["subscription"]),
        _id(db["database"]),
        Tier(db["tier"]),
        None if live_name is None else str(live_name),
        db.get("active_active") is True,
    )


def _settings(values: Mapping[str, Any]) -> Settings:
    return Settings(bool(values["enabled"]), *(_text(values.get(name)) for name in FIELDS[1:]))


def _setting(value: Any) -> str | bool | None:
    if value is None or isinstance(value, str | bool):
        return value
    raise TypeError(f"a setting must be text, true/false or null, not {str(value)[:40]!r}")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected text, not {str(value)[:40]!r}")


def _receipt(kind: OperationKind, op_id: str, view: Mapping[str, Any]) -> Receipt:
    at = view["at"]
    if not isinstance(at, int) or isinstance(at, bool):
        raise TypeError("a receipt's `at` must be a whole number")
    key = str(view["key"])
    return Receipt(
        kind,
        op_id,
        Phase(view["phase"]),
        str(view["fingerprint"]),
        at,
        _text(view.get("task_id")),
        _text(view.get("created_at")),
        _text(view.get("run")),
        None if key == tag_key(kind, op_id) else key,
    )


def _id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"an id must be a whole number, not {str(value)[:40]!r}")
    return value


def warning_from(item: Mapping[str, Any]) -> PlanWarning:
    outcome = item.get("outcome")
    database = item.get("database")
    return PlanWarning(
        str(item["address"]),
        WarningKind(item["kind"]),
        str(item["message"]),
        None if outcome is None else str(outcome),
        None if database is None else _ref(database),
        item.get("observed") is True,
    )
