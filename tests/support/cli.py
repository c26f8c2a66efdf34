"""The CLI as a user runs it: `main()` in-process, or `python -m reconciler` as a process of its own."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.cli import main
from tests.support.examples import ROOT


@dataclass
class Ran:
    code: int
    out: str
    err: str


def cli(directory: Path, *argv: str, environ: Mapping[str, str] | None = None) -> Ran:
    """`reconciler --sandbox …` in-process, from `directory` (stdin is not a TTY under pytest)."""
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(directory)
    try:
        code = main(["--sandbox", *argv], out=out, err=err, environ=dict(environ or {}))
    finally:
        os.chdir(previous)
    return Ran(code, out.getvalue(), err.getvalue())


def clean_environ(**extra: str) -> dict[str, str]:
    """The runner's environment without any Redis Cloud settings or CI summary file of its own."""
    drop = ("REDISCLOUD_", "GITHUB_STEP_SUMMARY", "NO_COLOR")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    return {**env, **extra}


def process_env(**extra: str) -> dict[str, str]:
    """`clean_environ` that also finds this checkout's `reconciler` when the process runs elsewhere."""
    return clean_environ(**{"PYTHONPATH": str(ROOT), **extra})


def run_reconciler(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m reconciler ARGS` in `cwd`, with only the Redis Cloud settings given here."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=clean_environ(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def spawn(directory: Path, *argv: str) -> subprocess.Popen[str]:
    """`python -m reconciler --sandbox …` as a process of its own (stdin closed: no TTY)."""
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "--sandbox", *argv],
        cwd=directory,
        env=process_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 30.0) -> Ran:
    out, err = process.communicate(timeout=timeout)
    return Ran(process.returncode, out, err)
