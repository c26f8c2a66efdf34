"""`validate`: schema and semantic checks of the manifests, no network."""

from __future__ import annotations

from reconciler.commands.runtime import EXIT_OK, Runtime


def run_validate(rt: Runtime) -> int:
    manifest = rt.manifest()
    if not rt.args.quiet:
        files, count = len(manifest.paths), len(manifest.databases)
        print(f"Valid: {count} database{'s' * (count != 1)} in {files} file{'s' * (files != 1)}.", file=rt.out)
    return EXIT_OK
