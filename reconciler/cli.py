"""Command line: parse arguments, wire the pieces, and host the one error boundary.

Exit codes are a contract (SPEC §5): 0 done, 1 a problem the user can fix (usage errors included, so that 2
keeps meaning "changes present" under --detailed-exitcode), 2 changes present, 3 a bug, 130 interrupted.

Each command's module is imported inside the function that runs it (commands/dispatch.py), so `reconciler
--version` and `validate` stay fast and never load httpx (tests/test_cli.py checks it). What each command's
--help says beyond its flags (purpose, examples, environment, exit codes) is in commands/usage.py.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar, cast

from reconciler import __version__
from reconciler.commands import dispatch
from reconciler.commands.usage import COMMANDS, TOP, Usage
from reconciler.errors import ManifestError, ReconcilerError, UsageError
from reconciler.exitcodes import EXIT_BUG, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK
from reconciler.output.redact import RedactingStream, Redactor

if TYPE_CHECKING:  # at run time, imported once a command is chosen: `--version` needs neither
    from reconciler.commands.options import GlobalFlags
    from reconciler.commands.runtime import Runtime

_Flags = TypeVar("_Flags")


class _Parser(argparse.ArgumentParser):
    """Every parser is made with allow_abbrev=False: `--auto` is refused, never read as `--auto-approve`, so a
    script keeps meaning what it says when a later version adds a flag that shares the prefix."""

    manual: Usage | None = None  # what --help says after the flags: written out only when asked for

    def format_help(self) -> str:
        if self.manual is not None:
            self.epilog = self.manual.epilog()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")

    def refuse(self, words: Sequence[str]) -> NoReturn:
        """Arguments this command does not take, with the flag that was probably meant."""
        import difflib  # only on this error path: start-up stays fast

        known = [flag for action in self._actions for flag in action.option_strings if flag.startswith("--")]
        hints = []
        for word in words:
            name = word.split("=", 1)[0]
            longer = [flag for flag in known if flag.startswith(name)] if name.startswith("--") else []
            if longer:
                hints.append(f"flags are not abbreviated: write {' or '.join(longer)} in full")
            elif name.startswith("--") and (close := difflib.get_close_matches(name, known, 1, cutoff=0.8)):
                hints.append(f"did you mean {close[0]}?")
        self.error("; ".join([f"unrecognized arguments: {' '.join(words)}", *hints]))


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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _api_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rate-limit", type=_positive, default=400, metavar="N", help="API requests per minute (default 400)"
    )


def _command(commands: Any, name: str, run: dispatch.Command | None, *, manifests: bool = True) -> _Parser:
    """A command's parser; `run` is None for a command whose actions (a sub-parser each, `_action`) carry their own."""
    parser = _subparser(commands, name, run)
    _global_flags(parser, suppress=True)
    if manifests:
        _manifest_flag(parser)
    return parser


def _action(actions: Any, command: str, name: str, run: dispatch.Command) -> _Parser:
    return _subparser(actions, f"{command} {name}", run)


def _subparser(parent: Any, path: str, run: dispatch.Command | None) -> _Parser:
    """Its help from commands/usage.py; the parser itself in the namespace, to name it in a usage error."""
    usage = COMMANDS[path]
    parser = cast(
        _Parser,
        parent.add_parser(
            path.rsplit(" ", 1)[-1],
            help=usage.purpose,
            description=usage.purpose,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
        ),
    )
    parser.manual = usage
    if run is not None:
        parser.set_defaults(run=run, command_parser=parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconciler",
        description=TOP.purpose,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.manual = TOP
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    _global_flags(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    validate = _command(commands, "validate", dispatch.validate)
    validate.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default), or json for scripts and editors"
    )
    validate.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="more manifests (as pre-commit passes them)"
    )
    _code_quality_flag(validate)
    _command(commands, "schema", dispatch.schema, manifests=False)

    plan = _command(commands, "plan", dispatch.plan)
    plan.add_argument("--out", type=Path, metavar="FILE", help="write the plan as JSON for `apply FILE`")
    plan.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (a pull-request comment) or json (the document --out writes)",
    )
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when there are changes or operations needing attention"
    )
    plan.add_argument("--target", action="append", default=[], metavar="ADDR", help="only this address or database")
    plan.add_argument("--report-unmanaged", action="store_true", help="list databases no manifest declares")
    _scope_flags(plan)
    _code_quality_flag(plan)
    _retry_flags(plan)
    _api_flags(plan)

    apply = _command(commands, "apply", dispatch.apply)
    apply.add_argument("planfile", type=Path, nargs="?", metavar="PLANFILE", help="a plan written by `plan --out`")
    apply.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    apply.add_argument("--target", action="append", default=[], metavar="ADDR", help="only this address or database")
    apply.add_argument(
        "--parallelism",
        type=_positive,
        metavar="N",
        help="databases at once (default: the backup slots of the subscriptions the plan touches, 4 each)",
    )
    apply.add_argument(
        "--max-backups-per-subscription",
        type=_positive,
        default=4,
        metavar="N",
        help="backups running at once in one subscription (default 4)",
    )
    apply.add_argument(
        "--timeout",
        type=_duration,
        default=6 * 3600.0,
        metavar="DURATION",
        help="per operation, e.g. 90s, 30m, 6h (default 6h)",
    )
    apply.add_argument("--report", type=Path, metavar="FILE", help="write every outcome as JSON")
    _scope_flags(apply)
    _retry_flags(apply)
    _api_flags(apply)

    drill = _command(commands, "drill", dispatch.drill)
    drill.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    drill.add_argument(
        "--target", action="append", default=[], metavar="ADDR", help="only this drill or database's drills"
    )
    drill.add_argument(
        "--timeout", type=_duration, default=6 * 3600.0, metavar="DURATION", help="per step, e.g. 90s, 30m (default 6h)"
    )
    _text_or_json(drill)
    _api_flags(drill)

    receipts = _command(commands, "receipts", None, manifests=False)
    ledger = receipts.add_subparsers(dest="receipts_command", metavar="ACTION", parser_class=_Parser)
    ledger.required = True
    listing = _action(ledger, "receipts", "list", dispatch.receipts_list)
    _manifest_flag(listing)
    _text_or_json(listing)
    _api_flags(listing)
    forget = _action(ledger, "receipts", "forget", dispatch.receipts_forget)
    forget.add_argument(
        "address", metavar="ADDRESS", help="as `receipts list` shows it, e.g. orders-prod.imports.seed-2026-11-20"
    )
    _manifest_flag(forget)
    forget.add_argument("--auto-approve", action="store_true", help="do not ask to type the address back")
    forget.add_argument("--force", action="store_true", help="forget a claimed receipt, whose operation may be running")
    _api_flags(forget)
    adopt = _action(ledger, "receipts", "adopt", dispatch.receipts_adopt)
    adopt.add_argument(
        "address", metavar="ADDRESS", help="an operation in the manifests, e.g. orders-prod.imports.seed-2026-11-20"
    )
    _manifest_flag(adopt)
    adopt.add_argument("--auto-approve", action="store_true", help="do not ask to type the address back")
    _api_flags(adopt)

    show = _command(commands, "show", dispatch.show, manifests=False)
    show.add_argument("planfile", type=Path, metavar="PLANFILE", help="a plan written by `plan --out`")
    show.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text", help="text (default), markdown or json"
    )

    status = _command(commands, "status", dispatch.status)
    _text_or_json(status)
    _api_flags(status)

    check = _command(commands, "check", dispatch.check)
    check.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (a job summary or issue) or json (for scripts)",
    )
    check.add_argument("--target", action="append", default=[], metavar="ADDR", help="only this database")
    _api_flags(check)

    discover = _command(commands, "discover", dispatch.discover, manifests=False)
    discover.add_argument(
        "--subscription",
        action="append",
        type=_positive,
        default=[],
        metavar="ID",
        help="only this subscription (repeatable; default: all)",
    )
    discover.add_argument("--tier", choices=("pro", "essentials"), help="only this tier (default: both)")
    discover.add_argument(
        "--out", type=Path, default=Path("manifests"), metavar="DIR", help="where to write (default ./manifests)"
    )
    discover.add_argument(
        "--split",
        choices=("subscription", "none"),
        default="subscription",
        help="a file per subscription (default: <tier>-<id>.yaml), or none: one file, discovered.yaml",
    )
    discover.add_argument("--force", action="store_true", help="replace files that exist (never without it)")
    _api_flags(discover)

    sandbox = _command(commands, "sandbox", None, manifests=False)
    actions = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    serve = _action(actions, "sandbox", "serve", dispatch.sandbox_serve)
    serve.add_argument("--port", type=_positive, default=8080, metavar="N", help="port to listen on (default 8080)")
    serve.add_argument("--verbose", action="store_true", help="print a line per request (no keys, no bodies)")
    serve.add_argument(
        "--host", default="127.0.0.1", metavar="ADDRESS", help="address to listen on (default 127.0.0.1: this machine)"
    )
    _seed_flag(serve)
    reset = _action(actions, "sandbox", "reset", dispatch.sandbox_reset)
    _seed_flag(reset)
    up = _action(actions, "sandbox", "up", dispatch.sandbox_up)
    _seed_flag(up)
    _dir_flag(up)
    up.add_argument(
        "--backup-speedup",
        type=_speedup,
        default=1.0,
        metavar="N",
        help="run periodic backups N times as often (3600: an hourly backup every second)",
    )
    up.add_argument("--verbose", action="store_true", help="log a line per request to DIR/sandbox.log")
    sandbox_status = _action(actions, "sandbox", "status", dispatch.sandbox_status)
    _text_or_json(sandbox_status)
    _dir_flag(sandbox_status)
    down = _action(actions, "sandbox", "down", dispatch.sandbox_down)
    _dir_flag(down)
    return parser


def _text_or_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default), or json for scripts"
    )


def _seed_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        type=Path,
        metavar="FILE",
        help="a sandbox world (default: the example account built in, examples/sandbox-world.yaml)",
    )


def _dir_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="where `sandbox up` keeps its state (default: $REDISCLOUD_SANDBOX_DIR, else ./.reconciler-sandbox)",
    )


def _scope_flags(parser: argparse.ArgumentParser) -> None:
    """Which databases a run may write to (issue 17): none (`--observe`), or those of its owner id."""
    parser.add_argument(
        "--observe",
        action="store_true",
        help="observe every database for this run (as `mode: observe`): drift is shown, nothing is written",
    )
    parser.add_argument(
        "--owner",
        metavar="ID",
        help="this manifest set's owner id, as `owner:` in the files (the two must agree): written as a tag",
    )
    parser.add_argument(
        "--takeover", action="store_true", help="manage databases another manifest set owns, taking them over"
    )


def _code_quality_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--code-quality",
        type=Path,
        metavar="FILE",
        help="write the problems as a GitLab code quality report (an empty one when there are none)",
    )


def _retry_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--retry-failed", action="append", default=[], metavar="ADDR", help="plan this failed operation again"
    )
    parser.add_argument(
        "--retry-uncertain",
        action="append",
        default=[],
        metavar="ADDR",
        help="plan this operation again although it may have run",
    )


def _speedup(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 60 or 3600, got {text!r}") from None
    if not value >= 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration such as 90s, 30m or 6h, got {text!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return seconds


def _wants_color(stream: TextIO, flags: GlobalFlags, environ: Mapping[str, str]) -> bool:
    return bool(stream.isatty() and not environ.get("NO_COLOR") and not flags.no_color)


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run one command and return its exit code; tests call this directly."""
    with _fewer_collections():
        return _main(argv, out=out, err=err, environ=environ)


# A run builds large structures that live until it ends (manifests, the live account, the plan) and little cyclic
# garbage: at the default thresholds (700, 10, 10) the collector walked them 550 times, 1.1 s of a plan of
# 20,000 databases (issue 16); at these, 0.4 s and 2 MB more at its peak. Young cycles are still collected.
_RUN_THRESHOLDS = (20_000, 50, 50)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The collector's thresholds for one run; the previous ones are restored (tests run many in one process)."""
    previous = gc.get_threshold()
    gc.set_threshold(*_RUN_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _main(
    argv: Sequence[str] | None,
    *,
    out: TextIO | None,
    err: TextIO | None,
    environ: Mapping[str, str] | None,
) -> int:
    environ = dict(os.environ if environ is None else environ)
    redactor = Redactor(environ.get(name) for name in ("REDISCLOUD_ACCESS_KEY", "REDISCLOUD_SECRET_KEY"))
    out = cast(TextIO, RedactingStream(out or sys.stdout, redactor))
    err = cast(TextIO, RedactingStream(err or sys.stderr, redactor))
    words = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in words
    parsed = False
    try:
        args, unknown = build_parser().parse_known_args(argv)  # --help and --version exit here
        if unknown:  # named by the command given, which knows what was probably meant
            cast(_Parser, args.command_parser).refuse(unknown)
        parsed = True
        from reconciler.commands.options import GlobalFlags
        from reconciler.commands.runtime import Runtime

        flags = GlobalFlags(debug=args.debug, no_color=args.no_color, quiet=args.quiet, sandbox=args.sandbox)
        color = _wants_color(out, flags, environ)

        def start(command_flags: _Flags, /) -> Runtime[_Flags]:
            return Runtime(command_flags, flags, out, err, color, environ, redactor)

        run: dispatch.Command = args.run
        return run(args, start)
    except ManifestError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        print(f"Error: {_message(exc)}", file=err)
        return EXIT_ERROR
    except ReconcilerError as exc:
        print(f"Error: {_message(exc)}", file=err)
        if not parsed and _asks_for_json(words):  # a usage error: the command never ran to say it as JSON
            from reconciler.output.error_json import error_text

            print(error_text(exc, ()), file=out)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        print(_message(exc), file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `reconciler status | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except SystemExit as exc:  # argparse's --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except Exception as exc:  # the one broad catch: anything else is a bug in the reconciler
        if debug:
            traceback.print_exc(file=err)
        print(_message(exc), file=err)
        return EXIT_BUG


def _message(error: BaseException) -> str:
    """The one wording of each failure, which `--format json` prints too; imported only once something failed,
    so that start-up stays fast."""
    from reconciler.output.error_json import message_of

    return message_of(error)


def _asks_for_json(words: Sequence[str]) -> bool:
    """`--format json` (or `--format=json`) among the words, read as the parser would have, had it got that far."""
    pairs = itertools.pairwise(words)
    return "--format=json" in words or any(a == "--format" and b == "json" for a, b in pairs)


def main_entry() -> None:
    sys.exit(main())
