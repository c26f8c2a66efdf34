"""Manifests written into a test's directory, as a user would keep them."""

from __future__ import annotations

from pathlib import Path

from reconciler.core.desired import Manifest
from reconciler.manifest.load import load_manifest


def write_manifest(directory: Path, text: str, name: str = "manifest.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def manifest_from(directory: Path, text: str) -> Manifest:
    return load_manifest([write_manifest(directory, text)])
