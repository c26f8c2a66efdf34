"""Saved plans (SPEC §6, §10): one versioned JSON document for `plan --out`, `plan --format json`,
`show` and `apply`. Written atomically so a crash never leaves half a plan for apply to trust."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.atomic import write_json
from reconciler.errors import ReconcilerError
from reconciler.model import Action, Change, DatabaseRef, FieldChange, Plan, PlanWarning, Tier, WarningKind
from reconciler.uris import mask

FORMAT_VERSION = "1.0"
SUPPORTED_VERSIONS = (FORMAT_VERSION,)


class PlanFileError(ReconcilerError):
    """A plan file that cannot be read as a plan; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class SavedPlan:
    """A plan read back, with the metadata apply checks (digest) and shows (version, time, URL)."""

    plan: Plan
    tool_version: str
    created_at: str
    manifest_digest: str
    manifest_paths: tuple[str, ...]
    api_url: str


def build_document(plan: Plan, *, tool_version: str, created_at: str, manifest_digest: str,
                   manifest_paths: Sequence[str], api_url: str) -> dict[str, Any]:
    """The plan document; metadata are given by the caller, never read here (no clock, no environment)."""
    body = plan.to_dict()
    return {
        "format_version": FORMAT_VERSION,
        "tool_version": tool_version,
        "created_at": created_at,
        "manifest_digest": manifest_digest,
        "manifest_paths": list(manifest_paths),
        "api_url": mask(api_url),
        "changes": body["changes"],
        "summary": body["summary"],
        "warnings": body["warnings"],
    }


def write_plan(
    path: str | os.PathLike[str], document: Mapping[str, Any], *, redact: Callable[[str], str] | None = None
) -> None:
    """All or nothing: a failed write leaves any previous plan file as it was."""
    write_json(path, document, redact=redact)


def read_plan(path: str | os.PathLike[str]) -> SavedPlan:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanFileError(f"{path}: cannot read plan file: {error.strerror}") from error
    except ValueError as error:
        raise PlanFileError(f"{path}: not a plan file (invalid JSON: {error})") from error
    return plan_from_document(document, source=str(path))


def plan_from_document(document: Any, *, source: str = "plan") -> SavedPlan:
    """Turn a plan document back into a `Plan`; an unknown format version is refused, never guessed."""
    if not isinstance(document, dict) or "format_version" not in document:
        raise PlanFileError(f"{source}: not a plan file (no format_version)")
    version = document["format_version"]
    if version not in SUPPORTED_VERSIONS:
        raise PlanFileError(f"{source}: plan format_version {version!r} is not supported (this reconciler reads "
                            f"{', '.join(SUPPORTED_VERSIONS)}); re-run `reconciler plan` with this version")
    try:
        changes = tuple(_change(item) for item in _list(document, "changes"))
        warnings = tuple(_warning(item) for item in _list(document, "warnings"))
        return SavedPlan(
            plan=Plan(changes, warnings),
            tool_version=str(document["tool_version"]),
            created_at=str(document["created_at"]),
            manifest_digest=str(document["manifest_digest"]),
            manifest_paths=tuple(str(p) for p in _list(document, "manifest_paths")),
            api_url=str(document["api_url"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PlanFileError(f"{source}: damaged plan file ({type(error).__name__}: {error})") from error


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document[key]
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    return value


def _change(item: Mapping[str, Any]) -> Change:
    db = item["database"]
    live_name = db.get("live_name")  # absent in plan files written before issue 12
    ref = DatabaseRef(str(db["name"]), int(db["subscription"]), int(db["database"]), Tier(db["tier"]),
                      None if live_name is None else str(live_name))
    fields = tuple(FieldChange(str(f["field"]), f["before"], f["after"]) for f in item.get("fields", ()))
    return Change(
        address=str(item["address"]),
        action=Action(item["action"]),
        database=ref,
        before=dict(item["before"]),
        after=dict(item["after"]),
        destructive=bool(item["destructive"]),
        fields=fields,
        risky=bool(item.get("risky", False)),  # absent in plan files written before issue 12
    )


def _warning(item: Mapping[str, Any]) -> PlanWarning:
    outcome = item.get("outcome")
    return PlanWarning(str(item["address"]), WarningKind(item["kind"]), str(item["message"]),
                       None if outcome is None else str(outcome))
