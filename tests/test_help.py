"""`--help` as a team reads it: every command says what it is for, shows examples, names the environment it reads
and its exit codes; every flag says what it does; and a flag is never guessed from a prefix (issue 18)."""

from __future__ import annotations

import argparse
import io
import re
from collections.abc import Iterator

import pytest

from reconciler.cli import build_parser, main
from reconciler.commands.usage import COMMANDS, ENVIRONMENT
from tests.support.examples import ROOT

# What a command needs after its name for the parser to reach its flags (a group needs one of its actions).
_REACH = {
    "show": ["plan.json"],
    "receipts forget": ["orders-prod.backup"],
    "receipts adopt": ["orders-prod.backups.x"],
    "receipts": ["list"],
    "sandbox": ["status"],
}


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser the command line has, by its command path ("" for `reconciler` itself)."""
    pending: list[tuple[str, argparse.ArgumentParser]] = [("", build_parser())]
    while pending:
        path, parser = pending.pop(0)
        yield path, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending += [(f"{path} {name}".strip(), child) for name, child in action.choices.items()]


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    return [flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")]


PARSERS = dict(_parsers())


def test_every_command_has_its_usage_written_down_and_nothing_else_is() -> None:
    assert set(PARSERS) - {""} == set(COMMANDS)


@pytest.mark.parametrize("path", sorted(PARSERS), ids=lambda path: path or "reconciler")
def test_every_flag_and_argument_says_what_it_is(path: str) -> None:
    parser = PARSERS[path]
    unexplained = [
        action.option_strings or action.dest
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not (action.help or "").strip()
    ]
    assert unexplained == []


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--help"], environ={}) == 0  # argparse prints help on sys.stdout
    return capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(set(COMMANDS) - {"receipts", "sandbox"}))
def test_a_commands_help_gives_its_purpose_examples_environment_and_exit_codes(
    path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help(capsys, *path.split())
    usage = COMMANDS[path]
    assert f"\n{usage.purpose}\n" in text
    examples = text.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples and all(
        line.startswith(f"  reconciler {path.split()[0]}") or "--sandbox" in line for line in examples
    )
    environment = text.split("\nenvironment:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in environment.splitlines() if not line.startswith("   ")] == (
        list(usage.environment) or ["none"]
    )
    codes = [int(line.split()[0]) for line in text.split("\nexit codes:\n", 1)[1].splitlines() if line[2:3].isdigit()]
    assert codes == ([0, 1, 2, 3, 130] if path in ("plan", "check", "drill") else [0, 1, 3, 130])


@pytest.mark.parametrize("group", ["receipts", "sandbox"])
def test_a_group_of_actions_points_at_each_actions_help(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, group)
    assert f"reconciler {group} ACTION --help" in text
    assert all(f"    {name.split()[1]}" in text for name in COMMANDS if name.startswith(f"{group} "))


def test_the_top_level_help_lists_every_variable_and_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)
    assert all(f"\n  {name} " in text for name in ENVIRONMENT)
    assert [
        int(line.split()[0]) for line in text.split("\nexit codes:\n", 1)[1].splitlines() if line[2:3].isdigit()
    ] == [
        0,
        1,
        2,
        3,
        130,
    ]


def test_every_variable_the_reconciler_reads_is_in_the_help_and_the_readme() -> None:
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "reconciler").rglob("*.py"))
    read = set(re.findall(r"\b(?:REDISCLOUD|RECONCILER|GITHUB|GITLAB)_[A-Z][A-Z0-9_]*\b|\bNO_COLOR\b", source))
    assert read and read <= set(ENVIRONMENT)
    documented = {name for usage in COMMANDS.values() for name in usage.environment}
    assert set(ENVIRONMENT) == documented
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Environment\n", 1)[1].split("\n## ", 1)[0]
    assert [name for name in ENVIRONMENT if name != "${env:NAME}" and f"| `{name}` |" not in readme] == []


def _prefix(flag: str, parser: argparse.ArgumentParser) -> str:
    """The longest prefix of `flag` that is no flag of its own (`--auto` for `--auto-approve`)."""
    flags = _flags(parser)
    return next(flag[:n] for n in range(len(flag) - 1, 3, -1) if flag[:n] not in flags)


def _prefix_cases() -> Iterator[object]:
    for path, parser in PARSERS.items():
        for flag in _flags(parser):
            prefix = _prefix(flag, parser)
            words = path.split()
            if path == "":  # before the command, as global flags go
                argv = [prefix, "validate"]
            elif path in ("receipts", "sandbox"):
                argv = [*words, prefix, *_REACH[path]]
            else:
                argv = [*words, *_REACH.get(path, []), prefix]
            yield pytest.param(argv, flag if path not in ("", "receipts", "sandbox") else None, id=" ".join(argv))


@pytest.mark.parametrize(("argv", "meant"), list(_prefix_cases()))
def test_a_prefix_of_a_flag_is_a_usage_error_never_the_flag(argv: list[str], meant: str | None) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err, environ={})
    prefix = next(word for word in argv if word.startswith("--"))
    assert code == 1  # a usage error (SPEC §10), never 2, and the flag did not run
    assert out.getvalue() == ""
    message = err.getvalue()
    assert message.startswith("Error: ") and f"unrecognized arguments: {prefix}" in message, message
    assert "Traceback" not in message
    if meant is not None:  # the command that refuses it has the flag, and names it
        assert f"write {meant}" in message or f"or {meant} in full" in message, message


def test_auto_is_not_auto_approve() -> None:
    err = io.StringIO()
    code = main(["--sandbox", "apply", "-f", str(ROOT / "examples"), "--auto"], out=io.StringIO(), err=err, environ={})
    assert code == 1
    assert err.getvalue() == (
        "Error: unrecognized arguments: --auto; flags are not abbreviated: write --auto-approve in full "
        "(see `reconciler apply --help`)\n"
    )


def test_a_misspelt_flag_is_named_with_the_one_meant() -> None:
    err = io.StringIO()
    assert main(["plan", "--detailed-exitcod3"], out=io.StringIO(), err=err, environ={}) == 1
    assert "unrecognized arguments: --detailed-exitcod3; did you mean --detailed-exitcode?" in err.getvalue()
