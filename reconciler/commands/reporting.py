"""What a command leaves for CI besides its text (issue 18): with `--format json` a failure as JSON on stdout;
for `validate` and `plan`, GitHub annotations on stderr when GITHUB_ACTIONS=true (the runner reads workflow
commands on stderr as on stdout: actions/runner `ScriptHandler.cs` hands both streams to its command manager, and
stdout stays the plan's) and a GitLab code quality report with `--code-quality FILE`.

The CLI's boundary still prints the error as text on stderr and decides the exit code: this only adds to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.atomic import write_json
from reconciler.commands.runtime import Runtime
from reconciler.core.desired import Manifest, Position
from reconciler.errors import ManifestError, PlanError, ReceiptError, ReconcilerError
from reconciler.output.annotations import Finding, code_quality, database_position, github_command
from reconciler.output.error_json import error_text


@contextmanager
def reported(
    rt: Runtime[Any], *, json_errors: bool, annotate: bool = False, code_quality_file: Path | None = None
) -> Iterator[None]:
    """Around a command: on failure, its reports for CI, then the error goes on to the boundary (re-raised, so
    the boundary alone decides the exit code, also for a bug or Ctrl-C). On success, an empty code quality
    report: GitLab then shows every earlier problem as fixed."""
    try:
        yield
    except (Exception, KeyboardInterrupt) as error:  # re-raised below, unchanged
        if isinstance(error, BrokenPipeError):  # stdout is gone: nothing more can be said on it
            raise
        if json_errors:
            print(error_text(error, _problems(error, rt.loaded, root=None)), file=rt.out, flush=True)
        if annotate and rt.environ.get("GITHUB_ACTIONS") == "true" and isinstance(error, ReconcilerError):
            _annotate(rt, error)
        if code_quality_file is not None and isinstance(error, ManifestError | PlanError | ReceiptError):
            # Only when the manifests were judged: after any other failure there is nothing to report on them.
            found = _problems(error, rt.loaded, root=rt.environ.get("CI_PROJECT_DIR"))
            _write_report(rt, code_quality_file, found, failing=True)
        raise
    if code_quality_file is not None:
        _write_report(rt, code_quality_file, [], failing=False)


def _annotate(rt: Runtime[Any], error: ReconcilerError) -> None:
    """One annotation per problem, on the line it names where it names one; an error without problems (bad
    keys, an API failure) is one annotation on the run."""
    found = _problems(error, rt.loaded, root=rt.environ.get("GITHUB_WORKSPACE")) or [Finding("error", str(error))]
    for finding in found:
        print(github_command(finding), file=rt.err, flush=True)


def _problems(error: BaseException, manifest: Manifest | None, *, root: str | None) -> list[Finding]:
    """Every problem an error carries, placed: a manifest problem where it was written, a plan problem at the
    database it names; paths relative to `root` (the repository's checkout) when they lie inside it."""
    if isinstance(error, ManifestError):
        return [_finding("manifest", p.message, p.position, root) for p in error.problems]
    if isinstance(error, PlanError | ReceiptError):
        return [
            _finding("plan", text, database_position(text, manifest) if manifest else None, root)
            for text in error.problems
        ]
    return []


def _finding(check: str, message: str, position: Position | None, root: str | None) -> Finding:
    if position is None:
        return Finding(check, message)
    return Finding(check, message, _repo_path(position.path, root), position.line, position.column)


def _repo_path(path: str, root: str | None) -> str:
    """GitHub and GitLab place a problem by its path in the repository; a manifest read from elsewhere (or
    with no checkout named) keeps the path it was read by."""
    if not root:
        return path
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return path


def _write_report(rt: Runtime[Any], target: Path, findings: list[Finding], *, failing: bool) -> None:
    try:
        write_json(target, code_quality(findings), redact=rt.redactor)
    except OSError as exc:
        problem = f"{target}: cannot write the code quality report ({exc.strerror or exc})"
        if not failing:
            raise ReconcilerError(problem) from None
        print(f"Error: {problem}", file=rt.err)  # the command's own error follows, and decides the exit code
