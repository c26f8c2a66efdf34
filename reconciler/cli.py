"""Command line: parse arguments, wire the pieces, and host the one error boundary.

Exit codes are a contract (SPEC §5): 0 done, 1 a problem the user can fix (usage errors included, so that 2
keeps meaning "changes present" under --detailed-exitcode), 2 changes present, 3 a bug, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

from reconciler import __version__
from reconciler.errors import ManifestError, ReconcilerError

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(ReconcilerError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


@dataclass(frozen=True, slots=True)
class Streams:
    out: TextIO
    err: TextIO
    color: bool


def _global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global flags go before the command, and are accepted after it too (SPEC §10)."""
    default: Any = argparse.SUPPRESS if suppress else False
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks and request counts")
    parser.add_argument("--no-color", action="store_true", default=default, help="never colour the output")
    parser.add_argument("--quiet", action="store_true", default=default, help="print only errors and results")
    parser.add_argument(
        "--sandbox", action="store_true", default=default, help="run against the built-in Redis Cloud emulator"
    )


def _manifest_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="manifest file or directory (repeatable; default ./reconciler.yaml or ./manifests/)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconciler",
        description="Plan and apply Redis Cloud backup settings, on-demand backups and imports from YAML manifests.",
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    _global_flags(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    validate = commands.add_parser("validate", help="check manifests against the schema and rules (no network)")
    _global_flags(validate, suppress=True)
    _manifest_flag(validate)
    validate.set_defaults(run=_run_validate)
    return parser


def _run_validate(args: argparse.Namespace, streams: Streams) -> int:
    from reconciler.manifest import load_manifest

    manifest = load_manifest(args.files)
    if not args.quiet:
        files = len(manifest.paths)
        count = len(manifest.databases)
        print(
            f"Valid: {count} database{'s' * (count != 1)} in {files} file{'s' * (files != 1)}.",
            file=streams.out,
        )
    return EXIT_OK


def _wants_color(stream: TextIO, args: argparse.Namespace) -> bool:
    return bool(stream.isatty() and not os.environ.get("NO_COLOR") and not getattr(args, "no_color", False))


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command and return its exit code; tests call this directly."""
    out = out or sys.stdout
    err = err or sys.stderr
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = build_parser().parse_args(argv)
        streams = Streams(out, err, _wants_color(out, args))
        run: Callable[[argparse.Namespace, Streams], int] = args.run
        return run(args, streams)
    except ManifestError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        count = len(exc.problems)
        print(f"Error: {count} problem{'s' * (count != 1)} in the manifests; nothing was changed.", file=err)
        return EXIT_ERROR
    except ReconcilerError as exc:
        print(f"Error: {exc}", file=err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Interrupted.", file=err)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # argparse's --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except Exception as exc:  # the one broad catch: anything else is a bug in the reconciler
        if debug:
            traceback.print_exc(file=err)
        print(
            f"Internal error ({type(exc).__name__}): this is a bug in the reconciler. "
            "Re-run with --debug for the traceback, and report it.",
            file=err,
        )
        return EXIT_BUG


def main_entry() -> None:
    sys.exit(main())
