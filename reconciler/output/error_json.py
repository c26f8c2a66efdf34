"""A failed command's error as JSON, for `--format json` (issue 18): a script reading stdout learns what failed
without parsing stderr. The exit code is the one the CLI returns for it (SPEC §5), and is in the document too.

    {"error": {"kind": "manifest", "message": "…", "exit_code": 1,
               "problems": [{"path": "m/a.yaml", "line": 4, "column": 11, "message": "…"}],
               "api": {"method": "GET", "path": "…", "status": 404, "type": "…", "description": "…"}}}

`kind` is the exception's class in kebab case without "Error" (`manifest`, `plan`, `receipt`, `stale-plan`,
`plan-file`, `credentials`, `auth`, `not-found`, `unset-variable`, …; `error` for a plain one), or `internal` (a
bug, exit 3) or `interrupted` (exit 130). `problems` is every positioned problem (empty when there are none);
`api` is there only when the API failed us.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from reconciler.errors import ApiError, CallError, ManifestError, ReconcilerError
from reconciler.exitcodes import EXIT_BUG, EXIT_ERROR, EXIT_INTERRUPTED
from reconciler.output.annotations import Finding


def exit_code_of(error: BaseException) -> int:
    """What `cli.main` returns for it: 1 a problem the user can fix, 130 interrupted, 3 anything else (a bug)."""
    if isinstance(error, ReconcilerError):
        return EXIT_ERROR
    return EXIT_INTERRUPTED if isinstance(error, KeyboardInterrupt) else EXIT_BUG


def kind_of(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if not isinstance(error, ReconcilerError):
        return "internal"
    if type(error) is ReconcilerError:
        return "error"
    name = type(error).__name__.removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def message_of(error: BaseException) -> str:
    """The sentence the CLI prints for it on stderr, without the `Error: ` in front."""
    if isinstance(error, ManifestError):
        count = len(error.problems)
        return f"{count} problem{'s' * (count != 1)} in the manifests; nothing was changed."
    if isinstance(error, ReconcilerError):
        return str(error)
    if isinstance(error, KeyboardInterrupt):
        return "Interrupted."
    return (
        f"Internal error ({type(error).__name__}): this is a bug in the reconciler. "
        "Re-run with --debug for the traceback, and report it."
    )


def error_document(error: BaseException, problems: Sequence[Finding]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind_of(error),
        "message": message_of(error),
        "exit_code": exit_code_of(error),
        "problems": [problem.to_dict() for problem in problems],
    }
    if isinstance(error, ApiError):
        call = error if isinstance(error, CallError) else None
        body["api"] = {
            "method": call.method if call else None,
            "path": call.path if call else None,
            "status": error.status,
            "type": error.error_type,
            "description": error.description,
        }
    return {"error": body}


def error_text(error: BaseException, problems: Sequence[Finding]) -> str:
    """The document as printed on stdout."""
    return json.dumps(error_document(error, problems), indent=2, ensure_ascii=False)
