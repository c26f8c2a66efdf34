"""`.pre-commit-hooks.yaml` works through the real pre-commit tool, on a repository of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.examples import ROOT

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_reconciler_validate_hook_passes_good_and_fails_bad_manifests(tmp_path: Path) -> None:
    repo = tmp_path / "platform-repo"
    (repo / "manifests").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "orders.yaml", repo / "manifests" / "orders.yaml")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PRE_COMMIT, "try-repo", str(ROOT), "reconciler-validate", "--files", *files],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    good = try_repo("manifests/orders.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "reconciler validate" in good.stdout and "Passed" in good.stdout

    shutil.copy(ROOT / "examples" / "invalid" / "broken.yaml", repo / "manifests" / "broken.yaml")
    _git(repo, "add", ".")
    bad = try_repo("manifests/orders.yaml", "manifests/broken.yaml")
    assert bad.returncode == 1
    assert "Failed" in bad.stdout
    assert "manifests/broken.yaml:10:17: databases[0].backup.interval" in bad.stdout
    assert "hunter2" not in bad.stdout
