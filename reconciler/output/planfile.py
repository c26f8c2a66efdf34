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
from reconciler.core.plan import (
    Action,
    Change,
    Plan,
)
from reconciler.core.uris import mask
from reconciler.errors import PlanFileError
from reconciler.input_files import MAX_BYTES, InputFileProblem, read_limited, strict_json
from reconciler.output.plan_json import change_document, change_from, warning_document, warning_from

FORMAT_VERSION = "1.2"
UNSEALED_VERSION = "1.0"  # no account id and no digest
SUPPORTED_VERSIONS = (UNSEALED_VERSION, "1.1", FORMAT_VERSION)  # all readable (show); only the last is applied
_SEALED_KEYS = ("account_id", "api_url", "manifest_digest", "manifest_paths", "changes", "warnings")
# Sealed when present (issue 17), so files written before them keep their digest: the changes of observed
# databases, which apply never runs, and whether the whole run was observed (`plan --observe`).
_SEALED_IF_PRESENT = ("observed", "observe_all", "owner")


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
    observe_all: bool = False  # made with `--observe`: apply re-plans it so, and so writes to no database
    owner: str | None = None  # the manifest set's owner id the plan was made for (`owner:` or `--owner`)

    @property
    def is_sealed(self) -> bool:
        """Written with an account id and a digest (format 1.1 on)."""
        return self.format_version != UNSEALED_VERSION

    @property
    def is_applicable(self) -> bool:
        """Holds its calls, sealed (format 1.2): the only plans apply runs."""
        return self.format_version == FORMAT_VERSION


def build_document(
    plan: Plan,
    *,
    tool_version: str,
    created_at: str,
    manifest_digest: str,
    manifest_paths: Sequence[str],
    api_url: str,
    account_id: int | None = None,
    observe_all: bool = False,
    owner: str | None = None,
) -> dict[str, Any]:
    """The plan document; metadata are given by the caller, never read here (no clock, no environment)."""
    return seal(
        {
            "format_version": FORMAT_VERSION,
            "tool_version": tool_version,
            "created_at": created_at,
            "account_id": account_id,
            "manifest_digest": manifest_digest,
            "manifest_paths": list(manifest_paths),
            "api_url": mask(api_url),
            "changes": [change_document(change) for change in plan.changes],
            "observed": [{**change_document(change), "observed": True} for change in plan.observed],
            "observe_all": observe_all,
            "owner": owner,
            "summary": summary(plan),
            "warnings": [warning_document(warning) for warning in plan.warnings],
        }
    )


def summary(plan: Plan) -> dict[str, Any]:
    return {
        "own": plan.count(Action.OWN),
        "update": plan.count(Action.UPDATE),
        "backup": plan.count(Action.BACKUP),
        "import": plan.count(Action.IMPORT),
        "destructive": plan.destructive_count,
        "risky": plan.risky_count,
        "attention": len(plan.attention),
        "observed": len(plan.observed),
        "line": plan.summary_line,
    }


def seal(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its `plan_digest` (re)computed over what it says now."""
    return {**document, "plan_digest": plan_digest(document)}


def plan_digest(document: Mapping[str, Any]) -> str:
    """sha256 over the sealed keys as canonical JSON (sorted keys, no spaces): what apply acts on."""
    sealed = {key: document.get(key) for key in _SEALED_KEYS}
    sealed |= {key: document[key] for key in _SEALED_IF_PRESENT if key in document}
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
        raise PlanFileError(
            f"{source}: plan format_version {version!r} is not supported (this reconciler reads "
            f"{', '.join(SUPPORTED_VERSIONS)}); re-run `reconciler plan` with this version"
        )
    sealed = version != UNSEALED_VERSION
    if sealed and document.get("plan_digest") != plan_digest(document):
        raise PlanFileError(
            f"{source}: the plan file was edited after `reconciler plan` wrote it (its plan_digest "
            "does not match its contents); re-run plan and apply the file it writes, unchanged"
        )
    try:
        account = document["account_id"] if sealed else None
        if account is not None and (not isinstance(account, int) or isinstance(account, bool)):
            raise TypeError("account_id must be a whole number")
        kept = version == FORMAT_VERSION
        changes = tuple(change_from(item, calls_kept=kept) for item in _list(document, "changes"))
        warnings = tuple(warning_from(item) for item in _list(document, "warnings"))
        listed = _list(document, "observed") if "observed" in document else []
        observed = tuple(_observed_change(item, kept) for item in listed)
        observe_all = document.get("observe_all", False)
        if not isinstance(observe_all, bool):
            raise TypeError("observe_all must be true or false")
        owner = document.get("owner")
        if owner is not None and not isinstance(owner, str):
            raise TypeError("owner must be text or null")
        return SavedPlan(
            plan=Plan(changes, warnings, observed=observed),
            tool_version=str(document["tool_version"]),
            created_at=str(document["created_at"]),
            manifest_digest=str(document["manifest_digest"]),
            manifest_paths=tuple(str(p) for p in _list(document, "manifest_paths")),
            api_url=str(document["api_url"]),
            account_id=account,
            format_version=str(version),
            observe_all=observe_all,
            owner=owner,
        )
    except PlanFileError as error:
        raise PlanFileError(f"{source}: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        detail = str(error)
        detail = detail if len(detail) <= 200 else detail[:200] + "..."
        raise PlanFileError(f"{source}: damaged plan file ({type(error).__name__}: {detail}); re-run plan") from None


def _observed_change(item: Any, calls_kept: bool) -> Change:
    """A change of an observed database: marked so, and otherwise read as any change is."""
    if not isinstance(item, dict) or item.get("observed") is not True:
        raise TypeError("every entry of observed must be a change marked observed: true")
    return change_from({key: value for key, value in item.items() if key != "observed"}, calls_kept=calls_kept)


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document[key]
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    return value
