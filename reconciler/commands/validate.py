"""`validate`: schema and semantic checks of the manifests, no network; `schema`: print the JSON Schema."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.commands.runtime import EXIT_ERROR, EXIT_OK, Runtime
from reconciler.errors import ManifestError
from reconciler.schema import schema_text
from reconciler.variables import needed_variables

_POSITIONED = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$", re.DOTALL)


def run_validate(rt: Runtime) -> int:
    try:
        manifest = rt.manifest([*rt.args.files, *rt.args.paths])
    except ManifestError as error:
        if rt.args.format != "json":
            raise
        print(
            json.dumps(
                {"valid": False, "problems": [_problem(p) for p in error.problems]}, indent=2, ensure_ascii=False
            ),
            file=rt.out,
        )
        return EXIT_ERROR
    files, count = len(manifest.paths), len(manifest.databases)
    # Offline and without the secrets (it runs in pre-commit): name the variables, never read them.
    variables = list(needed_variables(manifest))
    if rt.args.format == "json":
        document = {
            "valid": True,
            "files": list(manifest.paths),
            "databases": [db.name for db in manifest.databases],
            "variables": variables,
        }
        print(json.dumps(document, indent=2), file=rt.out)
    elif not rt.args.quiet:
        print(f"Valid: {count} database{'s' * (count != 1)} in {files} file{'s' * (files != 1)}.", file=rt.out)
        if variables:
            print(f"Variables a plan will need: {', '.join(variables)}", file=rt.out)
    return EXIT_OK


def _problem(text: str) -> dict[str, Any]:
    match = _POSITIONED.match(text)
    if match is None:
        return {"path": None, "line": None, "column": None, "message": text}
    return {
        "path": match["path"],
        "line": int(match["line"]),
        "column": int(match["column"]),
        "message": match["message"],
    }


def run_schema(rt: Runtime) -> int:
    """Print the manifest schema so teams can vendor it for their editors."""
    rt.out.write(schema_text())
    return EXIT_OK
