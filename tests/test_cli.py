"""The CLI as a user runs it: a real process, its exit code and its streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_examples_exits_0() -> None:
    result = run("validate", "-f", "examples/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Valid: 6 databases in 3 files."


def test_validate_invalid_example_exits_1_with_one_line_per_problem() -> None:
    result = run("validate", "-f", "examples/invalid/")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "Error: 8 problems in the manifests; nothing was changed."
    assert all(line.startswith("examples/invalid/broken.yaml:") for line in lines[:-1])
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_usage_error_exits_1_not_2() -> None:
    result = run("validate", "--no-such-flag")
    assert result.returncode == 1
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("reconciler ")


def test_default_manifest_locations(tmp_path: Path) -> None:
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "pass -f PATH, or create ./reconciler.yaml or a ./manifests/ directory" in result.stderr
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "a.yml").write_text("version: 1\ndatabases: []\n")
    assert run("validate", cwd=tmp_path).returncode == 0


def test_global_flags_accepted_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--quiet", "-f", str(ROOT / "examples")]) == 0
    assert capsys.readouterr().out == ""
