"""This checkout as another repository sees it: one commit of the working tree, uncommitted edits included, in a
git repository of its own, for what fetches the reconciler by commit (the CI examples' install, pre-commit)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.examples import ROOT

_IDENTITY = ["-c", "user.name=tests", "-c", "user.email=tests@example.invalid", "-c", "commit.gpgsign=false"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *_IDENTITY, *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


def commit_working_tree(target: Path) -> str:
    """The files git sees in this checkout (tracked or new, not ignored) committed in `target`; the commit id."""
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    target.mkdir(parents=True)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet staged is listed too
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "the working tree under test")
    return git(target, "rev-parse", "HEAD")
