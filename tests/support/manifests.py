"""Manifests written into a test's directory, as a user would keep them."""

from __future__ import annotations

from pathlib import Path

from reconciler.core.desired import Manifest
from reconciler.manifest.load import load_manifest
from tests.support.examples import MARKETING, ORDERS, PROD_EU, SCRATCH


def write_manifest(directory: Path, text: str, name: str = "manifest.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def manifest_from(directory: Path, text: str) -> Manifest:
    return load_manifest([write_manifest(directory, text)])


def weekly_drill(*, check_scratch: bool = True) -> str:
    """orders-prod with a weekly drill into the example account's scratch database (Essentials, marked scratch);
    `check_scratch=False` opts the scratch database out of `check` (it is never backed up)."""
    opt_out = "" if check_scratch else "    check: false\n"
    return f"""version: 1
databases:
  - name: orders-prod
    subscription: {PROD_EU}
    database: {ORDERS}
    backup: {{path: 's3://acme-backups/orders', interval: every-12-hours}}
    drills:
      - {{id: weekly, into: scratch, every: 7d}}
  - name: scratch
    subscription: {MARKETING}
    database: {SCRATCH}
    tier: essentials
    scratch: true
{opt_out}"""
