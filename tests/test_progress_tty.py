"""The live apply display as a person sees it: `reconciler --sandbox apply` in a pseudo-terminal, its output
played into a terminal emulator (pyte), and the final screen read row by row."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pyte
import pytest

from tests.support.cli import process_env
from tests.support.workdirs import sandbox_dir

COLUMNS, ROWS = 160, 400  # tall enough that nothing scrolls away: the whole run stays on one screen
SPINNER = re.compile("[\u2800-\u28ff]")  # rich's "dots" spinner frames are braille cells
ELAPSED = re.compile(r"\d+:\d\d:\d\d\s*$")


def _run_in_terminal(directory: Path, *argv: str, **extra: str) -> tuple[int, list[str], bytes]:
    """Run the CLI with stdin, stdout and stderr on one pseudo-terminal; return its exit code, final screen and
    every byte it wrote."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {
        key: value
        for key, value in process_env(TERM="xterm-256color", **extra).items()
        if key not in ("COLUMNS", "LINES", "CI", "GITHUB_ACTIONS", "TERM_PROGRAM")
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "--sandbox", *argv],
        cwd=directory,
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    output = bytearray()
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every holder of the terminal side has closed it
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(controller)
        code = process.wait(timeout=60)
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(bytes(output))
    lines = [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return code, lines, bytes(output)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_the_live_display_settles_every_operation_in_one_row(tmp_path: Path, encoding: str) -> None:
    directory = sandbox_dir(tmp_path)
    code, screen, output = _run_in_terminal(
        directory, "apply", "-f", "examples/", "--auto-approve", PYTHONIOENCODING=encoding
    )
    text = "\n".join(screen)
    assert code == 0, text
    table = next(n for n, line in enumerate(screen) if line.startswith("Apply summary"))
    live = [line for line in screen[:table] if ELAPSED.search(line)]  # the live display's rows, above the table
    addresses = re.findall(r"^[│|] (\S+)\s+[│|] (?:update|backup|import) ", "\n".join(screen[table:]), re.M)
    assert len(addresses) >= 3, text  # the examples apply several operations, the first of them task 0
    assert not [line for line in live if SPINNER.search(line)], text  # nothing is left spinning
    for address in addresses:
        rows = [line for line in live if re.search(rf"\b{re.escape(address)}\s", line)]
        assert len(rows) == 1, f"{address}: {rows}\n{text}"
        assert re.match(rf"\s*done {re.escape(address)}\s", rows[0]), rows[0]
    if encoding == "ascii":  # a spinner the terminal can draw, not braille spelled out as escapes
        assert b"\\u28" not in output and "Apply summary\n+---" in text


def test_plan_counts_its_requests_on_a_terminal_and_erases_the_count_before_the_plan(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    code, screen, output = _run_in_terminal(directory, "plan", "-f", "examples/")
    text = "\n".join(screen)
    assert code == 0, text
    assert b"Reading the live account: 1 request in 0s..." in output  # drawn while it read
    assert "Reading the live account" not in text  # erased: the screen shows the plan alone
    assert any(line.startswith("Plan: ") for line in screen), text
