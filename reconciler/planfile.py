"""Saved plans (SPEC §6, §10): one versioned JSON document for `plan --out`, `plan --format json`,
`show` and `apply`. Written atomically so a crash never leaves half a plan for apply to trust.

Format 1.2 (issue 13) stores each change's API calls (`calls`: method, path, body with `${env:…}` unresolved):
apply sends them, resolved, and builds no request of its own. Format 1.1 (issue 20) brought the account the plan
was made for and `plan_digest`, a sha256 over everything apply acts on (account, URL, manifests, changes,
warnings): an edited plan file is refused as such. The digest is not a signature (anyone can recompute it), so a
change must also read back as it was written (its `after` and `destructive` are what its calls say), and apply
compares every field of every change with what the manifests and the live account give now (`staleness.py`).
Files of formats 1.0 and 1.1 are still shown, but apply refuses them: they hold no calls to send.

This module alone turns plans into JSON and back.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.atomic import write_json
from reconciler.calls import ApiCall, backup_call, plain
from reconciler.desired import OperationKind, Tier
from reconciler.errors import PlanFileError
from reconciler.input_files import MAX_BYTES, InputFileProblem, read_limited, strict_json
from reconciler.normalise import FIELDS, Settings
from reconciler.plan import (
    Action,
    Change,
    DatabaseRef,
    FieldChange,
    OneShot,
    Plan,
    PlanWarning,
    SettingsUpdate,
    WarningKind,
)
from reconciler.receipt_tags import Phase, Receipt, tag_key
from reconciler.uris import mask

FORMAT_VERSION = "1.2"
UNSEALED_VERSION = "1.0"  # no account id and no digest
SUPPORTED_VERSIONS = (UNSEALED_VERSION, "1.1", FORMAT_VERSION)  # all readable (show); only the last is applied
_SEALED_KEYS = ("account_id", "api_url", "manifest_digest", "manifest_paths", "changes", "warnings")


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """A plan read back, with the metadata apply checks (digest) and shows (version, time, URL)."""

    plan: Plan
    tool_version: str
    created_at: str
    manifest_digest: str
    manifest_paths: tuple[str, ...]
    api_url: str
    account_id: int | None = None  # None: no list page named one (or a format 1.0 file)
    format_version: str = FORMAT_VERSION

    @property
    def is_sealed(self) -> bool:
        """Written with an account id and a digest (format 1.1 on)."""
        return self.format_version != UNSEALED_VERSION

    @property
    def is_applicable(self) -> bool:
        """Holds its calls, sealed (format 1.2): the only plans apply runs."""
        return self.format_version == FORMAT_VERSION


def build_document(plan: Plan, *, tool_version: str, created_at: str, manifest_digest: str,
                   manifest_paths: Sequence[str], api_url: str, account_id: int | None = None) -> dict[str, Any]:
    """The plan document; metadata are given by the caller, never read here (no clock, no environment)."""
    return seal({
        "format_version": FORMAT_VERSION,
        "tool_version": tool_version,
        "created_at": created_at,
        "account_id": account_id,
        "manifest_digest": manifest_digest,
        "manifest_paths": list(manifest_paths),
        "api_url": mask(api_url),
        "changes": [change_document(change) for change in plan.changes],
        "summary": summary(plan),
        "warnings": [_warning_document(warning) for warning in plan.warnings],
    })


def summary(plan: Plan) -> dict[str, Any]:
    return {
        "update": plan.count(Action.UPDATE),
        "backup": plan.count(Action.BACKUP),
        "import": plan.count(Action.IMPORT),
        "destructive": plan.destructive_count,
        "risky": plan.risky_count,
        "attention": len(plan.attention),
        "line": plan.summary_line,
    }


def seal(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its `plan_digest` (re)computed over what it says now."""
    return {**document, "plan_digest": plan_digest(document)}


def plan_digest(document: Mapping[str, Any]) -> str:
    """sha256 over the sealed keys as canonical JSON (sorted keys, no spaces): what apply acts on."""
    sealed = {key: document.get(key) for key in _SEALED_KEYS}
    text = json.dumps(sealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_plan(
    path: str | os.PathLike[str], document: Mapping[str, Any], *, redact: Callable[[str], str] | None = None
) -> None:
    """All or nothing: a failed write leaves any previous plan file as it was. Redacted first and sealed after,
    so the digest is over what the file holds (and the redactor never edits the digest itself)."""
    if redact is not None:
        document = json.loads(redact(json.dumps(document, ensure_ascii=False)))
    write_json(path, seal(dict(document)) if "plan_digest" in document else document)


def read_plan(path: str | os.PathLike[str]) -> SavedPlan:
    """One line naming the file and the problem for anything that is not a plan: a FIFO or device (refused before
    reading), a file over 10 MB, JSON nested deeper than 64 levels, a number that is not finite (issue 20)."""
    try:
        raw = read_limited(Path(path), MAX_BYTES)
        text = raw.decode("utf-8")
    except InputFileProblem as error:
        raise PlanFileError(f"{path}: not a plan file: {error}") from None
    except OSError as error:
        raise PlanFileError(f"{path}: cannot read plan file: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise PlanFileError(f"{path}: not a plan file (not UTF-8 text: {error.reason})") from None
    return plan_from_document(parse_json(text, source=str(path)), source=str(path))


def parse_json(text: str, *, source: str) -> Any:
    """Strict JSON (`input_files.strict_json`), each refusal one line naming the file."""
    try:
        return strict_json(text)
    except InputFileProblem as error:
        raise PlanFileError(f"{source}: not a plan file ({error})") from None


def plan_from_document(document: Any, *, source: str = "plan") -> SavedPlan:
    """Turn a plan document back into a `Plan`; an unknown format version is refused, never guessed."""
    if not isinstance(document, dict) or "format_version" not in document:
        raise PlanFileError(f"{source}: not a plan file (no format_version)")
    version = document["format_version"]
    if version not in SUPPORTED_VERSIONS:
        raise PlanFileError(f"{source}: plan format_version {version!r} is not supported (this reconciler reads "
                            f"{', '.join(SUPPORTED_VERSIONS)}); re-run `reconciler plan` with this version")
    sealed = version != UNSEALED_VERSION
    if sealed and document.get("plan_digest") != plan_digest(document):
        raise PlanFileError(f"{source}: the plan file was edited after `reconciler plan` wrote it (its plan_digest "
                            "does not match its contents); re-run plan and apply the file it writes, unchanged")
    try:
        account = document["account_id"] if sealed else None
        if account is not None and (not isinstance(account, int) or isinstance(account, bool)):
            raise TypeError("account_id must be a whole number")
        changes = tuple(_change(item, str(version)) for item in _list(document, "changes"))
        warnings = tuple(_warning(item) for item in _list(document, "warnings"))
        return SavedPlan(
            plan=Plan(changes, warnings),
            tool_version=str(document["tool_version"]),
            created_at=str(document["created_at"]),
            manifest_digest=str(document["manifest_digest"]),
            manifest_paths=tuple(str(p) for p in _list(document, "manifest_paths")),
            api_url=str(document["api_url"]),
            account_id=account,
            format_version=str(version),
        )
    except PlanFileError as error:
        raise PlanFileError(f"{source}: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        detail = str(error)
        detail = detail if len(detail) <= 200 else detail[:200] + "..."
        raise PlanFileError(f"{source}: damaged plan file ({type(error).__name__}: {detail}); re-run plan") from None


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document[key]
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    return value


# --- changes and warnings, both ways ---------------------------------------------------------------------------


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
        data["after"] = _settings_document(change.after, managed_only=True)
        if change.storage_type is not None:
            data["after"]["storage_type"] = change.storage_type
    else:
        data["before"] = {"receipt": None if change.replaces is None else _receipt_document(change.replaces)}
        data["after"] = _operation_document(change)
    data |= {"destructive": change.destructive, "risky": change.risky}
    if isinstance(change, SettingsUpdate) and change.fields:
        data["fields"] = [{"field": f.field, "before": f.before, "after": f.after} for f in change.fields]
    data["calls"] = [{"method": c.method, "path": c.path, "body": _masked(plain(c.body))} for c in change.calls]
    return data


def _masked(value: Any) -> Any:
    """Every URI with a literal credential masked. A manifest holds none (validation refuses them), so this changes
    nothing but a plan made around validation; such a file is then refused by apply as stale, never sent masked."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _database_document(ref: DatabaseRef) -> dict[str, Any]:
    data: dict[str, Any] = {"name": ref.name, "subscription": ref.subscription, "database": ref.database,
                            "tier": ref.tier.value}
    if ref.live_name is not None:
        data["live_name"] = ref.live_name
    return data


def _settings_document(settings: Settings, *, managed_only: bool = False) -> dict[str, Any]:
    values = {name: getattr(settings, name) for name in FIELDS}
    return {k: v for k, v in values.items() if v is not None} if managed_only else values


def _receipt_document(receipt: Receipt) -> dict[str, Any]:
    """The receipt apply must still find before it retries (the failed or uncertain one it replaces)."""
    return {"key": receipt.key, "phase": receipt.phase.value, "fingerprint": receipt.fingerprint, "at": receipt.at,
            "task_id": receipt.task_id, "created_at": receipt.created_at,
            "run": receipt.run}  # tells the judged receipt from a racing retry's claim of the same second


def _operation_document(change: OneShot) -> dict[str, Any]:
    if change.kind is OperationKind.IMPORT:
        return {"id": change.op_id, "from": [mask(uri) for uri in change.sources], "source_type": change.source_type,
                "backup_first": change.backup_first, "fingerprint": change.fingerprint}
    return {"id": change.op_id, "path": change.target and mask(change.target), "fingerprint": change.fingerprint}


def _warning_document(warning: PlanWarning) -> dict[str, Any]:
    data: dict[str, Any] = {"address": warning.address, "kind": warning.kind.value, "message": warning.message}
    if warning.outcome is not None:
        data["outcome"] = warning.outcome
        if warning.database is not None:
            data["database"] = _database_document(warning.database)
    return data


def _change(item: Mapping[str, Any], version: str) -> Change:
    ref = _ref(item["database"])
    calls = _calls(item, ref, version)
    action = Action(item["action"])
    change: Change
    if action is Action.UPDATE:
        before, after = item["before"], item["after"]
        fields = tuple(FieldChange(str(f["field"]), _setting(f["before"]), _setting(f["after"]))
                       for f in item.get("fields", ()))
        change = SettingsUpdate(str(item["address"]), ref, _settings(before), _settings(after), calls[0], fields,
                                _text(after.get("storage_type")), bool(item.get("risky", False)))
    else:
        kind = OperationKind(action.value)
        receipt = item["before"]["receipt"]
        replaces = None if receipt is None else _receipt(kind, str(item["after"]["id"]), receipt)
        change = OneShot(str(item["address"]), ref, kind, str(item["after"]["id"]), calls, replaces)
    if version == FORMAT_VERSION and change_document(change) != item:
        raise PlanFileError(f"the plan file's {_differing(item, change_document(change))} of {change.address} "
                            "differ from what its own calls say: it was edited after `reconciler plan` wrote it; "
                            "re-run plan")
    return change


def _calls(item: Mapping[str, Any], ref: DatabaseRef, version: str) -> tuple[ApiCall, ...]:
    if version != FORMAT_VERSION and "calls" not in item:  # 1.0 and 1.1 kept a masked request: shown, never sent
        request = item["after"]["request"]
        legacy = (ApiCall(str(request["method"]), str(request["path"]), request.get("body") or None),)
        return (backup_call(ref.path), *legacy) if item["after"].get("backup_first") else legacy
    listed = _list(item, "calls")
    if not listed or any(not isinstance(c, dict) or not isinstance(c.get("body"), dict | None) for c in listed):
        raise TypeError("calls must be a list of {method, path, body}")
    return tuple(ApiCall(str(c["method"]), str(c["path"]), c["body"]) for c in listed)


def _ref(db: Mapping[str, Any]) -> DatabaseRef:
    live_name = db.get("live_name")  # absent in plan files written before issue 12
    return DatabaseRef(str(db["name"]), _id(db["subscription"]), _id(db["database"]), Tier(db["tier"]),
                       None if live_name is None else str(live_name))


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
    return Receipt(kind, op_id, Phase(view["phase"]), str(view["fingerprint"]), at, _text(view.get("task_id")),
                   _text(view.get("created_at")), _text(view.get("run")), None if key == tag_key(kind, op_id) else key)


def _differing(saved: Any, fresh: Any, prefix: str = "") -> str:
    """The dotted keys where two documents differ (`after.from`, `destructive`), at most ten."""
    return ", ".join(_paths(saved, fresh, prefix)[:10]) or "contents"


def _paths(saved: Any, fresh: Any, prefix: str) -> list[str]:
    if not (isinstance(saved, dict) and isinstance(fresh, dict)):
        return [prefix or "change"] if saved != fresh else []
    out: list[str] = []
    for key in sorted(set(saved) | set(fresh), key=str):
        name = f"{prefix}.{key}" if prefix else str(key)
        out += _paths(saved.get(key), fresh.get(key), name) if key in saved and key in fresh else [name]
    return out


def _id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"an id must be a whole number, not {str(value)[:40]!r}")
    return value


def _warning(item: Mapping[str, Any]) -> PlanWarning:
    outcome = item.get("outcome")
    database = item.get("database")
    return PlanWarning(str(item["address"]), WarningKind(item["kind"]), str(item["message"]),
                       None if outcome is None else str(outcome), None if database is None else _ref(database))
