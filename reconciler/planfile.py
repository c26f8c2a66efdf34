"""Saved plans (SPEC §6, §10): one versioned JSON document for `plan --out`, `plan --format json`,
`show` and `apply`. Written atomically so a crash never leaves half a plan for apply to trust.

Format 1.1 (issue 20) records the account the plan was made for and `plan_digest`, a sha256 over everything
apply acts on (account, URL, manifests, changes, warnings): an edited plan file is refused as such. The digest
is not a signature (anyone can recompute it), so apply also compares every field of every change with what the
manifests and the live account give now. Format 1.0 files are still shown, but apply refuses them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.atomic import write_json
from reconciler.errors import ReconcilerError
from reconciler.input_files import InputFileProblem, read_limited
from reconciler.model import Action, Change, DatabaseRef, FieldChange, Plan, PlanWarning, Tier, WarningKind
from reconciler.uris import mask

FORMAT_VERSION = "1.1"
UNSEALED_VERSION = "1.0"  # no account id and no digest: readable (show), never applied
SUPPORTED_VERSIONS = (UNSEALED_VERSION, FORMAT_VERSION)
_SEALED_KEYS = ("account_id", "api_url", "manifest_digest", "manifest_paths", "changes", "warnings")
# The manifests' limits (SPEC §10), for the same reasons: a plan file is input a person may have edited.
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
_MAX_NUMBER = 30  # characters: ids are int32; past 4,300 digits Python refuses to convert at all


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
    account_id: int | None = None  # None: no list page named one (or a format 1.0 file)
    format_version: str = FORMAT_VERSION

    @property
    def is_sealed(self) -> bool:
        """Written with an account id and a digest (format 1.1): the only plans apply runs."""
        return self.format_version != UNSEALED_VERSION


def build_document(plan: Plan, *, tool_version: str, created_at: str, manifest_digest: str,
                   manifest_paths: Sequence[str], api_url: str, account_id: int | None = None) -> dict[str, Any]:
    """The plan document; metadata are given by the caller, never read here (no clock, no environment)."""
    body = plan.to_dict()
    return seal({
        "format_version": FORMAT_VERSION,
        "tool_version": tool_version,
        "created_at": created_at,
        "account_id": account_id,
        "manifest_digest": manifest_digest,
        "manifest_paths": list(manifest_paths),
        "api_url": mask(api_url),
        "changes": body["changes"],
        "summary": body["summary"],
        "warnings": body["warnings"],
    })


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
    """Strict JSON: NaN, Infinity, 1e999 and 5,000-digit numbers are refused, and so is deep nesting."""
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_float=_finite, parse_int=_bounded_int)
    except _BadNumber as error:
        raise PlanFileError(f"{source}: not a plan file ({error})") from None
    except RecursionError:  # the decoder recurses: far past MAX_DEPTH, it stops here
        raise PlanFileError(f"{source}: not a plan file (nested deeper than {MAX_DEPTH} levels)") from None
    except ValueError as error:
        raise PlanFileError(f"{source}: not a plan file (invalid JSON: {error})") from None
    if _depth(document) > MAX_DEPTH:
        raise PlanFileError(f"{source}: not a plan file (nested deeper than {MAX_DEPTH} levels)")
    return document


class _BadNumber(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _BadNumber(f"{name} is not a number a plan holds")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or len(text) > _MAX_NUMBER:
        raise _BadNumber(f"the number {text[:_MAX_NUMBER]}{'...' if len(text) > _MAX_NUMBER else ''} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_NUMBER:
        raise _BadNumber(f"a number of {len(text):,} digits is out of range")
    return int(text)


def _depth(document: Any) -> int:
    """Iterative: the document is hostile until proven otherwise."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


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
        changes = tuple(_change(item) for item in _list(document, "changes"))
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
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        detail = str(error)
        detail = detail if len(detail) <= 200 else detail[:200] + "..."
        raise PlanFileError(f"{source}: damaged plan file ({type(error).__name__}: {detail}); re-run plan") from None


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document[key]
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    return value


def _change(item: Mapping[str, Any]) -> Change:
    db = item["database"]
    live_name = db.get("live_name")  # absent in plan files written before issue 12
    ref = DatabaseRef(str(db["name"]), _id(db["subscription"]), _id(db["database"]), Tier(db["tier"]),
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


def _id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"an id must be a whole number, not {str(value)[:40]!r}")
    return value


def _warning(item: Mapping[str, Any]) -> PlanWarning:
    outcome = item.get("outcome")
    return PlanWarning(str(item["address"]), WarningKind(item["kind"]), str(item["message"]),
                       None if outcome is None else str(outcome))
