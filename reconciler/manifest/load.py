"""Turn manifest files into a validated `Manifest`: discovery, YAML, schema, then the checks a schema can't express.

Every problem in every file is collected and raised at once as one `ManifestError`, one
`path:line:col: what is wrong — how to fix` line each. Nothing here touches the network.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.core.desired import (
    BackupSettings,
    DatabaseSpec,
    Drill,
    DrillVerify,
    Import,
    Manifest,
    OnDemandBackup,
    Position,
    RegionBackup,
    Tier,
)
from reconciler.core.durations import parse_duration
from reconciler.core.uris import infer_type
from reconciler.errors import ManifestError
from reconciler.input_files import kind_of
from reconciler.manifest.checks import semantic_problems
from reconciler.manifest.problems import Problem
from reconciler.manifest.schema import schema_problems
from reconciler.manifest.yaml_source import YamlDocument, YamlProblem, read_yaml, shown

DEFAULT_FILE = Path("reconciler.yaml")
DEFAULT_DIR = Path("manifests")
# A YAML file in a manifest directory that declares its own `kind:` (such as the sandbox's seed world,
# examples/sandbox-world.yaml) is another kind of document and is skipped; a file named with -f is refused, in
# one line that says why.
_OTHER_KIND_KEY = "kind"


def find_manifest_files(inputs: Sequence[Path]) -> list[tuple[Path, str, bool]]:
    """(path, display name, named explicitly) for each file to read; directories give their *.yaml/*.yml, sorted."""
    if not inputs:
        if DEFAULT_FILE.is_file():
            inputs = [DEFAULT_FILE]
        elif DEFAULT_DIR.is_dir():
            inputs = [DEFAULT_DIR]
        else:
            fix = "pass -f PATH, or create ./reconciler.yaml or a ./manifests/ directory"
            raise ManifestError([Problem(None, f"no manifest given: {fix}")])
    files: list[tuple[Path, str, bool]] = []
    problems: list[Problem] = []  # of paths as wholes: no line to point at
    for given in inputs:
        if given.is_dir():
            named = sorted(p for p in given.iterdir() if p.suffix in (".yaml", ".yml"))
            found = [p for p in named if p.is_file()]
            # A FIFO or device named *.yaml is reported, not skipped in silence (nor read: it would hang).
            problems.extend(Problem(None, f"{p}: {_not_a_file(p)}") for p in named if not p.is_file() and _special(p))
            if not named:
                problems.append(Problem(None, f"{given}: no *.yaml or *.yml files in this directory"))
            files.extend((p, str(p), False) for p in found)
        elif given.is_file():
            files.append((given, str(given), True))
        else:
            problems.append(Problem(None, f"{given}: {_not_a_file(given)}"))
    if problems:
        raise ManifestError(problems)
    seen: set[Path] = set()
    unique = []
    for path, display, explicit in files:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append((path, display, explicit))
    return unique


def _special(path: Path) -> bool:
    """A FIFO, device or socket (not a directory, and not a name that resolves to nothing)."""
    try:
        return not path.is_dir() and kind_of(os.stat(path).st_mode) is not None
    except OSError:
        return False


def _not_a_file(path: Path) -> str:
    """Why a path given as a manifest is not one: missing, unreadable, or a FIFO or device (issue 20)."""
    try:
        kind = kind_of(os.stat(path).st_mode)
    except FileNotFoundError:
        return "no such file or directory"
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    return f"this is {kind}, not a manifest file — pass a YAML file or a directory of them"


@contextmanager
def _without_gc() -> Iterator[None]:
    """A large manifest is millions of objects that all live until the end: the cyclic collector would walk them
    again and again for nothing (100,000 databases: 28 s with it, 16 s without). The previous state is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_manifest(inputs: Sequence[Path]) -> Manifest:
    """Read, validate and build the manifests; raises `ManifestError` listing every problem."""
    with _without_gc():
        return _load(inputs)


def _load(inputs: Sequence[Path]) -> Manifest:
    files = find_manifest_files(inputs)
    order = {display: i for i, (_, display, _) in enumerate(files)}
    documents: list[YamlDocument] = []
    problems: list[Problem] = []
    for path, display, explicit in files:
        try:
            document = read_yaml(path, display)
        except YamlProblem as exc:
            problems.append(Problem(exc.position, str(exc)))
            continue
        except OSError as exc:
            problems.append(Problem(Position(display, 1, 1), f"cannot read this file ({exc.strerror})"))
            continue
        if isinstance(document.data, dict) and _OTHER_KIND_KEY in document.data:
            if explicit:
                problems.append(_another_kind(document))
            continue
        if not isinstance(document.data, dict):
            kind = "a list" if isinstance(document.data, list) else shown(document.data)
            problems.append(
                Problem(
                    document.position(()), f"the file must be a mapping with `version: 1` and `databases:`, not {kind}"
                )
            )
            continue
        documents.append(document)
        problems.extend(schema_problems(document))
    problems.extend(semantic_problems(documents))
    if not documents and not problems:
        raise ManifestError(
            [Problem(None, "no manifest found among the given paths (only other kinds of YAML documents)")]
        )
    if problems:
        raise ManifestError(sorted(set(problems), key=lambda p: _in_reading_order(p, order)))
    return Manifest(
        databases=tuple(_build(document, i) for document in documents for i in range(_count(document))),
        paths=tuple(document.path for document in documents),
        digest=_digest(document.raw for document in documents),
        owner=next((d.data["owner"] for d in documents if isinstance(d.data.get("owner"), str)), None),
    )


def _another_kind(document: YamlDocument) -> Problem:
    """A file named with -f that declares `kind:` is no manifest: say so once, not as a schema error per key."""
    kind = shown(document.data[_OTHER_KIND_KEY])
    return Problem(
        document.position((_OTHER_KIND_KEY,), of_key=True),
        f"this file declares kind: {kind}, so it is not a manifest (a directory of manifests skips it) — "
        "leave it out of -f",
    )


def _in_reading_order(problem: Problem, order: dict[str, int]) -> tuple[int, int, int, str]:
    """A file's problems are all positioned (read, schema and checks): files in reading order, then lines."""
    where = problem.position
    assert where is not None
    return order.get(where.path, 0), where.line, where.column, problem.message


def _count(document: YamlDocument) -> int:
    return len(document.data.get("databases") or [])


def _digest(contents: Iterable[bytes]) -> str:
    """Over the files' bytes in reading order (not their paths), so `-f examples` and `-f examples/` agree."""
    digest = hashlib.sha256()
    for raw in contents:
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)
    return "sha256:" + digest.hexdigest()


def _build(document: YamlDocument, index: int) -> DatabaseSpec:
    entry: dict[str, Any] = document.data["databases"][index]
    backup = entry.get("backup")
    regions = backup.get("regions") if backup is not None else None
    return DatabaseSpec(
        name=entry["name"],
        subscription=entry["subscription"],
        database=entry["database"],
        tier=Tier(entry.get("tier", "pro")),
        protected=bool(entry.get("protected", False)),
        backup=_build_backup(backup) if backup is not None and regions is None else None,
        backups=tuple(_build_on_demand(b) for b in entry.get("backups") or []),
        imports=tuple(_build_import(i) for i in entry.get("imports") or []),
        position=document.position(("databases", index)),
        check=bool(entry.get("check", True)),
        observe=entry.get("mode") == "observe",
        backup_regions=None if regions is None else _build_regions(regions),
        scratch=bool(entry.get("scratch", False)),
        drills=tuple(_build_drill(d, backup) for d in entry.get("drills") or []),
    )


def _build_drill(block: dict[str, Any], backup: dict[str, Any] | None) -> Drill:
    every = str(block["every"])
    verify = block.get("verify") or {}
    return Drill(
        id=block["id"],
        into=block["into"],
        every=every,
        every_seconds=int(every[:-1]) * (86400 if every.endswith("d") else 3600),
        path=block.get("path") or (backup or {})["path"],  # drill_checks.py: one of the two is there
        verify=DrillVerify(min_keys=verify.get("min_keys"), match_source=bool(verify.get("match_source", False))),
    )


def _build_regions(regions: dict[str, Any]) -> tuple[RegionBackup, ...]:
    return tuple(RegionBackup(region, _build_backup(block)) for region, block in regions.items())


def _build_backup(block: dict[str, Any]) -> BackupSettings:
    path = block.get("path")
    return BackupSettings(
        enabled=bool(block.get("enabled", True)),
        path=path,
        storage_type=block.get("storage_type") or (infer_type(path) if path else None),
        interval=block.get("interval"),
        time_utc=block.get("time_utc"),
        confirm=block.get("confirm"),
        max_age=parse_duration(block["max_age"]) if "max_age" in block else None,
    )


def _build_on_demand(block: dict[str, Any]) -> OnDemandBackup:
    return OnDemandBackup(
        id=block["id"], path=block.get("path"), region=block.get("region"), all_regions=block.get("regions") == "all"
    )


def _build_import(block: dict[str, Any]) -> Import:
    sources = block["from"]
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    return Import(
        id=block["id"],
        sources=sources,
        source_type=block.get("source_type") or infer_type(sources[0]) or "",
        backup_first=bool(block.get("backup_first", False)),
        confirm=block.get("confirm"),
    )
