"""`discover`: read the live account (GETs only: a Viewer's key is enough) and write manifests that reproduce each
database's backup settings, so that `plan` on them is empty; the first step of adopting an account (issue 17).

Every target file is checked before any is written, and none that exists is replaced without `--force` (not even
one that appears while this runs: `atomic.write_text` links rather than renames then).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from reconciler.atomic import write_text
from reconciler.commands.options import DiscoverFlags
from reconciler.commands.runtime import EXIT_OK, Runtime
from reconciler.core.desired import Tier
from reconciler.core.discovery import Entry, discovered
from reconciler.errors import ReconcilerError
from reconciler.manifest.writer import ManifestFile, manifest_files
from reconciler.refresh import discover_databases

_SCHEMA = Path("schemas") / "manifest.v1.json"  # where README's `reconciler schema >` vendors it


def run_discover(rt: Runtime[DiscoverFlags]) -> int:
    flags = rt.flags
    out = flags.out
    if out.exists() and not out.is_dir():
        raise ReconcilerError(f"{out}: not a directory — pass --out DIR, a directory to write the manifests in")
    tiers = (Tier(flags.tier),) if flags.tier else (Tier.PRO, Tier.ESSENTIALS)
    with rt.reading():
        found = discover_databases(rt.connect().client, tiers, frozenset(flags.subscriptions))
    entries = discovered(found)
    if not entries:
        chosen = ", ".join(map(str, sorted(set(flags.subscriptions))))
        where = f"subscription {chosen}" if chosen else " and ".join(f"{tier.value} subscriptions" for tier in tiers)
        print(f"No databases found in {where}: nothing written.", file=rt.out)
        rt.report_requests()
        return EXIT_OK
    files = manifest_files(entries, split=flags.split, schema=_schema_reference(out))
    _refuse_existing(out, files, force=flags.force)
    _write(out, files, force=flags.force)
    _report(rt, out, files, entries)
    rt.report_requests()
    return EXIT_OK


def _schema_reference(out: Path) -> str:
    """The schema as the manifests' first line names it: relative to them, vendored where this runs."""
    return Path(os.path.relpath(_SCHEMA.resolve(), out.resolve())).as_posix()


def _refuse_existing(out: Path, files: Sequence[ManifestFile], *, force: bool) -> None:
    targets = [out / file.name for file in files]
    directories = [target for target in targets if target.is_dir()]
    existing = [target for target in targets if target.exists() or target.is_symlink()]
    if directories or (existing and not force):
        lines = [f"{target}: a directory is in the way — move it, or pass another --out" for target in directories]
        lines += [f"{target} exists — pass --force to replace it" for target in existing if target not in directories]
        raise ReconcilerError("\n".join(lines) + "\nnothing was written")


def _write(out: Path, files: Sequence[ManifestFile], *, force: bool) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconcilerError(f"{out}: cannot create the directory ({exc.strerror or exc})") from exc
    for i, file in enumerate(files):
        target = out / file.name
        written = ", ".join(str(out / done.name) for done in files[:i]) or "none"
        try:
            write_text(target, file.text, overwrite=force)
        except FileExistsError:
            raise ReconcilerError(
                f"{target} appeared while discover ran — pass --force to replace it (written: {written})"
            ) from None
        except OSError as exc:
            raise ReconcilerError(f"{target}: cannot write ({exc.strerror or exc}; written: {written})") from exc


def _report(rt: Runtime[DiscoverFlags], out: Path, files: Sequence[ManifestFile], entries: Sequence[Entry]) -> None:
    for file in files:
        print(f"Wrote {out / file.name} ({_count(len(file.entries))})", file=rt.out)
    off = sum(1 for e in entries if e.backup is not None and not e.backup.enabled)
    unmanaged = sum(1 for e in entries if e.backup is None and not e.regions)
    with_notes = sum(1 for e in entries if e.notes)
    summary = f"{_count(len(entries))}: {len(entries) - off - unmanaged} with backup settings, {off} with backup off"
    summary += f", {unmanaged} with their backup left unmanaged" if unmanaged else ""
    summary += f"; {with_notes} with a comment to read" if with_notes else ""
    print(summary, file=rt.out)
    variables = [variable for entry in entries for variable in entry.variables]
    if variables:
        print(
            "Set these variables before `reconciler plan`, each to the credential its destination holds now\n"
            "(as it is, not percent-encoded):",
            file=rt.out,
        )
        width = max(len(variable.name) for variable in variables)
        for variable in variables:
            print(f"  {variable.name:<{width}}  {variable.database}: {variable.destination}", file=rt.out)
    if not rt.global_flags.quiet:
        _notes(rt, out, files, variables=bool(variables))


def _notes(rt: Runtime[DiscoverFlags], out: Path, files: Sequence[ManifestFile], *, variables: bool) -> None:
    written = {file.name for file in files}
    others = sorted(p.name for p in out.iterdir() if p.suffix in (".yaml", ".yml") and p.name not in written)
    if others:
        print(
            f"Note: {out} also holds {', '.join(others)}, which plan reads too: a database declared twice fails "
            "validate.",
            file=rt.err,
        )
    if not _SCHEMA.is_file():
        print(f"Note: the files point editors at {_SCHEMA}: `reconciler schema > {_SCHEMA}` writes it.", file=rt.err)
    then = "set the variables, then " if variables else "then "
    print(f"Next: review the files, {then}`reconciler plan -f {out}` shows no changes.", file=rt.err)


def _count(n: int) -> str:
    return f"{n:,} database" + ("" if n == 1 else "s")
