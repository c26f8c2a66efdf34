"""`validate`: schema and semantic checks of the manifests, no network; `schema`: print the JSON Schema."""

from __future__ import annotations

import json

from reconciler.commands.options import SchemaFlags, ValidateFlags
from reconciler.commands.runtime import EXIT_OK, Runtime
from reconciler.core.variables import needed_variables
from reconciler.manifest.schema import schema_text


def run_validate(rt: Runtime[ValidateFlags]) -> int:
    flags = rt.flags
    manifest = rt.manifest([*flags.files, *flags.paths])  # its problems, as JSON too: commands/reporting.py
    files, count = len(manifest.paths), len(manifest.databases)
    # Offline and without the secrets (it runs in pre-commit): name the variables, never read them.
    variables = list(needed_variables(manifest))
    if flags.format == "json":
        document = {
            "valid": True,
            "files": list(manifest.paths),
            "databases": [db.name for db in manifest.databases],
            "variables": variables,
        }
        print(json.dumps(document, indent=2), file=rt.out)
    elif not rt.global_flags.quiet:
        print(f"Valid: {count} database{'s' * (count != 1)} in {files} file{'s' * (files != 1)}.", file=rt.out)
        if variables:
            print(f"Variables a plan will need: {', '.join(variables)}", file=rt.out)
    return EXIT_OK


def run_schema(rt: Runtime[SchemaFlags]) -> int:
    """Print the manifest schema so teams can vendor it for their editors."""
    rt.out.write(schema_text())
    return EXIT_OK
