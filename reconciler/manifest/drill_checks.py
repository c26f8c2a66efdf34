"""The rules of restore drills that span databases (issue 15 §2): a drill imports into another managed database
marked `scratch: true`, and needs a backup destination it can list to find the backup's files."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.uris import mask, scheme_of
from reconciler.manifest.problems import Problem
from reconciler.manifest.schema import dotted
from reconciler.manifest.yaml_source import JsonPath, YamlDocument, clipped, shown

LISTABLE = "s3://, gs://, abs:// or ftp://"


@dataclass(frozen=True, slots=True)
class _Entry:
    document: YamlDocument
    path: JsonPath
    data: dict[str, Any]

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return name if isinstance(name, str) else None

    def report(self, path: JsonPath, message: str, *, of_key: bool = False) -> Problem:
        full = (*self.path, *path)
        return Problem(self.document.position(full, of_key=of_key), f"{dotted(full)}: {message}")


def is_http(uri: str) -> bool:
    return (scheme_of(uri) or "").lower() in ("http", "https")


def drill_problems(documents: Sequence[YamlDocument]) -> list[Problem]:
    entries = [
        _Entry(document, ("databases", i), item)
        for document in documents
        if isinstance(document.data.get("databases"), list)
        for i, item in enumerate(document.data["databases"])
        if isinstance(item, dict)
    ]
    by_name = {entry.name: entry for entry in entries if entry.name is not None}
    problems: list[Problem] = []
    for entry in entries:
        if entry.data.get("scratch") is True and entry.data.get("protected") is True:
            problems.append(
                entry.report(
                    ("scratch",),
                    "a protected database cannot be a scratch database (drills overwrite all its data) — "
                    "remove one of `protected: true` and `scratch: true`",
                    of_key=True,
                )
            )
        drills = entry.data.get("drills")
        seen: set[str] = set()
        for i, drill in enumerate(drills if isinstance(drills, list) else []):
            if not isinstance(drill, dict):
                continue
            where: JsonPath = ("drills", i)
            drill_id = drill.get("id")
            if isinstance(drill_id, str):
                if drill_id in seen:
                    problems.append(
                        entry.report((*where, "id"), f"id {shown(drill_id)} is used by another drill of this database")
                    )
                seen.add(drill_id)
            problems.extend(_target(entry, where, drill.get("into"), by_name))
            problems.extend(_destination(entry, where, drill))
    return problems


def _target(entry: _Entry, where: JsonPath, into: object, by_name: dict[str, _Entry]) -> Iterator[Problem]:
    if not isinstance(into, str):
        return
    path = (*where, "into")
    target = by_name.get(into)
    if into == entry.name:
        yield entry.report(path, f"{clipped(into)} is this very database — a drill imports into another database")
    elif target is None:
        yield entry.report(
            path, f"{clipped(into)} names no managed database — declare it, with `scratch: true`, in a manifest"
        )
    elif target.data.get("scratch") is not True:
        yield entry.report(
            path,
            f"{clipped(into)} is not marked `scratch: true`, and a drill overwrites all its data — mark it scratch "
            "if drills may overwrite it, or name a scratch database",
        )


def _destination(entry: _Entry, where: JsonPath, drill: dict[str, Any]) -> Iterator[Problem]:
    """The backup's files are found by listing the destination: the drill's `path`, else the database's."""
    own = drill.get("path")
    if isinstance(own, str):
        if is_http(own):
            yield entry.report(
                (*where, "path"),
                f"{shown(mask(own))}: an http(s) destination cannot be listed, so the drill could not find its "
                f"backup's files — use {LISTABLE}",
            )
        return
    backup = entry.data.get("backup")
    path = backup.get("path") if isinstance(backup, dict) and backup.get("enabled", True) is not False else None
    if not isinstance(path, str):
        yield entry.report(
            where,
            f"a drill needs a backup destination it can list ({LISTABLE}) — give the drill a `path:`, or the "
            "database an enabled `backup.path`",
        )
