"""Manifest rules a JSON Schema can't express (SPEC §2): tiers, intervals, schemes, uniqueness, confirmation.

Written defensively: the schema may already have rejected part of a document, and every problem in
every file is still reported in the same run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.core.desired import Position
from reconciler.core.durations import format_duration, parse_duration
from reconciler.core.freshness import ESSENTIALS_INTERVAL, interval_length
from reconciler.core.normalise import TIMED_INTERVALS
from reconciler.core.uris import (
    BACKUP_STORAGE_TYPES,
    ENV_REFERENCE,
    SCHEMES_BY_TYPE,
    has_literal_credential,
    infer_type,
    mask,
    place_references,
    scheme_of,
    suggest_reference,
)
from reconciler.manifest.drill_checks import drill_problems, is_http
from reconciler.manifest.problems import Problem
from reconciler.manifest.schema import dotted
from reconciler.manifest.yaml_source import JsonPath, YamlDocument, clipped, shown

# YAML reads `0x1f` as 31 and `0o17` as 15; `017` is 17 in YAML 1.2 (yaml12.py) but octal 15 to a YAML 1.1 tool:
# an id written so may address another database. Ids are written in plain decimal, as Redis Cloud shows them.
_DECIMAL_ID = re.compile(r"[1-9][0-9]*")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")
_Where = tuple[YamlDocument, JsonPath]  # where a name or id was first seen, its position looked up on demand


def semantic_problems(documents: Sequence[YamlDocument]) -> list[Problem]:
    problems: list[Problem] = []
    names: dict[str, _Where] = {}
    ids: dict[tuple[int, int], _Where] = {}
    for document in documents:
        databases = document.data.get("databases")
        if not isinstance(databases, list):
            continue
        written = document.item_texts(("databases",))
        for index, entry in enumerate(databases):
            if not isinstance(entry, dict):
                continue
            path: JsonPath = ("databases", index)
            checker = _DatabaseChecker(document, path, entry)
            problems.extend(checker.problems())
            texts = written[index] if index < len(written) else {}
            problems.extend(_decimal_ids(document, path, entry, texts))
            problems.extend(_unique(document, path, entry, names, ids))
    problems.extend(_owners(documents))
    problems.extend(drill_problems(documents))
    return problems


def _owners(documents: Sequence[YamlDocument]) -> Iterator[Problem]:
    """Every file that names an owner names the same one (issue 17): a set has one owner id."""
    first: tuple[str, Position] | None = None
    for document in documents:
        owner = document.data.get("owner")
        if not isinstance(owner, str):
            continue
        here = document.position(("owner",))
        if first is None:
            first = (owner, here)
        elif owner != first[0]:
            yield Problem(
                here,
                f"owner: {shown(owner)} differs from owner: {shown(first[0])} at {first[1]} — every manifest file "
                "that names an owner must name the same one",
            )


def _decimal_ids(
    document: YamlDocument, path: JsonPath, entry: dict[str, Any], texts: dict[str, str]
) -> Iterator[Problem]:
    for key in ("subscription", "database"):
        written = texts.get(key)
        if isinstance(entry.get(key), int) and written is not None and not _DECIMAL_ID.fullmatch(written):
            reading = (
                f"has a leading zero: {entry[key]} in YAML 1.2, octal to YAML 1.1 tools"
                if _LEADING_ZERO.fullmatch(written)
                else f"is read by YAML as {entry[key]}"
            )
            yield Problem(
                document.position((*path, key)),
                f"{dotted((*path, key))}: {written} {reading} — write the id in plain decimal digits, as Redis "
                "Cloud shows it",
            )


def _unique(
    document: YamlDocument,
    path: JsonPath,
    entry: dict[str, Any],
    names: dict[str, _Where],
    ids: dict[tuple[int, int], _Where],
) -> Iterator[Problem]:
    """Positions are looked up only for the duplicates: a walk per database was most of a large file's checks."""
    name = entry.get("name")
    if isinstance(name, str):
        if name in names:
            first = _at(names[name])
            yield Problem(
                document.position((*path, "name")),
                f"name {shown(name)} is already used at {first} — names are unique across all manifests",
            )
        else:
            names[name] = (document, (*path, "name"))
    pair = (entry.get("subscription"), entry.get("database"))
    if all(isinstance(v, int) for v in pair):
        key = (int(pair[0]), int(pair[1]))  # type: ignore[arg-type]
        if key in ids:
            yield Problem(
                document.position((*path, "database")),
                f"subscription {key[0]} database {key[1]} is already declared at {_at(ids[key])} — "
                "declare each database once",
            )
        else:
            ids[key] = (document, (*path, "database"))


def _at(where: _Where) -> Position:
    document, path = where
    return document.position(path)


class _DatabaseChecker:
    def __init__(self, document: YamlDocument, path: JsonPath, entry: dict[str, Any]) -> None:
        self.document = document
        self.path = path
        self.entry = entry
        name = entry.get("name")
        self.name = name if isinstance(name, str) and len(name) <= 40 else "database"  # 40: the schema's limit
        self.found: list[Problem] = []

    def problems(self) -> list[Problem]:
        backup = self.entry.get("backup")
        if isinstance(backup, dict) and isinstance(backup.get("regions"), dict):
            self._regions(backup, (*self.path, "backup"))
        elif isinstance(backup, dict):
            self._backup(backup, (*self.path, "backup"))
        self._operations()
        self._drill_paths()
        return self.found

    def _report(self, path: JsonPath, message: str, *, of_key: bool = False) -> None:
        self.found.append(Problem(self.document.position(path, of_key=of_key), f"{dotted(path)}: {message}"))

    def _regions(self, block: dict[str, Any], path: JsonPath) -> None:
        """An Active-Active database's settings live per region (API-NOTES §11): nothing beside `regions`."""
        for key in sorted(set(block) - {"regions"}):
            self._report(
                (*path, key),
                "`regions` stands alone in a backup block — move this setting under each region it applies to",
                of_key=True,
            )
        if self.entry.get("tier") == "essentials":
            self._report(
                (*path, "regions"),
                "Essentials databases are never Active-Active — write the backup settings without `regions`",
                of_key=True,
            )
        for region, settings in block["regions"].items():
            if isinstance(settings, dict):
                self._backup(settings, (*path, "regions", region))

    def _backup(self, block: dict[str, Any], path: JsonPath) -> None:
        if block.get("enabled", True) is False:
            # `confirm` may stand beside it: a protected database needs it to switch backups off (issue 12).
            for key in sorted(set(block) - {"enabled", "confirm"}):
                self._report(
                    (*path, key),
                    "`enabled: false` stands alone (with at most `confirm`) — remove it, or set enabled: true",
                    of_key=True,
                )
            return
        if "confirm" in block:
            self._report(
                (*path, "confirm"),
                "`confirm` only goes with `enabled: false` (switching backups off) — remove it",
                of_key=True,
            )
        essentials = self.entry.get("tier") == "essentials"
        if essentials:
            for key in ("interval", "time_utc"):
                if key in block:
                    self._report(
                        (*path, key),
                        "Essentials databases back up every 24 hours at a time Redis Cloud chooses — remove it",
                        of_key=True,
                    )
        # A Pro block without `interval` is fine: the interval is then not managed and the live one is kept.
        interval = block.get("interval")
        if not essentials and "time_utc" in block and isinstance(interval, str) and interval not in TIMED_INTERVALS:
            self._report(
                (*path, "time_utc"),
                f"a time of day is only allowed with every-12-hours or "
                f"every-24-hours, not {clipped(interval)} — remove time_utc or change the interval",
            )
        if isinstance(block.get("max_age"), str):
            self._max_age(block, (*path, "max_age"), essentials)
        if "path" not in block:
            self._report(path, "missing 'path' — an enabled backup needs a destination such as s3://bucket/path")
        elif isinstance(block["path"], str):
            self._uri((*path, "path"), block["path"], BACKUP_STORAGE_TYPES, block.get("storage_type"))
            # Plan compares this destination with the live one, resolved, and the core never reads the
            # environment: a reference in the place would be drift forever (issue 20 item 12).
            for name in place_references(block["path"]):
                self._report(
                    (*path, "path"),
                    f"${{env:{name}}} stands for part of the place, but a backup destination may use references "
                    "only for credentials (in the user-info): plan compares the place with the live one — "
                    "write it literally",
                )

    def _max_age(self, block: dict[str, Any], path: JsonPath, essentials: bool) -> None:
        """A `max_age` no schedule can meet would fail `check` between any two backups: say so now."""
        max_age = parse_duration(block["max_age"])
        if max_age is None:
            self._report(
                path, f"{shown(block['max_age'])} is no time at all — write how old a backup may get, e.g. 26h"
            )
            return
        interval = ESSENTIALS_INTERVAL if essentials else interval_length(block.get("interval"))
        if interval is not None and max_age < interval:
            every = "Essentials backs up every 24 hours" if essentials else f"the interval is {block['interval']}"
            self._report(
                path,
                f"{format_duration(max_age)} is shorter than the time between two backups ({every}), so check would "
                f"fail before every backup — make it at least {format_duration(interval)}",
            )

    def _operations(self) -> None:
        seen: dict[str, str] = {}
        for kind in ("backups", "imports"):
            items = self.entry.get(kind)
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                path: JsonPath = (*self.path, kind, i)
                op_id = item.get("id")
                if isinstance(op_id, str):
                    if op_id in seen:
                        self._report(
                            (*path, "id"),
                            f"id {shown(op_id)} is already used by {self.name}.{seen[op_id]}."
                            f"{clipped(op_id)} — ids are unique within a database",
                        )
                    else:
                        seen[op_id] = kind
                if kind == "backups":
                    if isinstance(item.get("path"), str):
                        self._uri((*path, "path"), item["path"], BACKUP_STORAGE_TYPES, None)
                    if "region" in item and "regions" in item:
                        self._report(
                            (*path, "regions"),
                            "`region` names one region and `regions: all` every one — keep one of them",
                            of_key=True,
                        )
                else:
                    self._import(item, path)

    def _drill_paths(self) -> None:
        """A drill's own `path:` is a backup destination like any other; the rest of its rules span databases
        (drill_checks.py)."""
        drills = self.entry.get("drills")
        for i, item in enumerate(drills if isinstance(drills, list) else []):
            if isinstance(item, dict) and isinstance(item.get("path"), str) and not is_http(item["path"]):
                self._uri((*self.path, "drills", i, "path"), item["path"], BACKUP_STORAGE_TYPES, None)

    def _import(self, item: dict[str, Any], path: JsonPath) -> None:
        sources = item.get("from")
        listed = [sources] if isinstance(sources, str) else sources if isinstance(sources, list) else []
        given = item.get("source_type")
        types = set()
        for i, uri in enumerate(listed):
            if isinstance(uri, str):
                where = (*path, "from") if isinstance(sources, str) else (*path, "from", i)
                self._uri(where, uri, tuple(SCHEMES_BY_TYPE), given)
                types.add(infer_type(uri))
        if len(types) > 1:
            self._report((*path, "from"), "all sources of one import must use the same scheme")
        if "redis" in types and len(listed) > 1:
            self._report((*path, "from"), "a redis source takes a single URI")
        # `confirm` is required by the schema (one "missing required key" line with the fix); what it must
        # equal is the database's live name, which only plan can know (issue 12).
        confirm = item.get("confirm")
        if isinstance(confirm, str) and not confirm.strip():
            self._report(
                (*path, "confirm"),
                "confirm is empty — write the database's name as Redis Cloud shows it (plan checks it)",
            )

    def _uri(self, path: JsonPath, uri: str, allowed: Sequence[str], given: object) -> None:
        if "${" in ENV_REFERENCE.sub("", uri):
            self._report(path, f"{shown(mask(uri))} has a malformed reference — write ${{env:NAME}}")
        if has_literal_credential(uri):
            variable = f"{str(self.name).upper().replace('-', '_')}_{'KEY' if scheme_of(uri) == 'abs' else 'PASSWORD'}"
            self._report(
                path,
                f"{shown(mask(uri))} holds a literal credential — keep secrets out of manifests: "
                f"write {shown(suggest_reference(uri, variable))} and set {variable} in the environment",
            )
        inferred = infer_type(uri)
        schemes = ", ".join(f"{s}://" for t in allowed for s in SCHEMES_BY_TYPE[t])
        if inferred is None or inferred not in allowed:
            scheme = shown(scheme_of(uri))
            self._report(path, f"{shown(mask(uri))}: unsupported scheme {scheme} here — use one of {schemes}")
        elif isinstance(given, str) and given != inferred:
            self._report(
                path,
                f"{shown(mask(uri))} is a {inferred} URI but the type says {clipped(given)} — fix the URI, or "
                f"the type (or drop the type: it is inferred from the scheme)",
            )
