"""Secrets never reach output, plan files or the CI summary, with `--debug` and on error paths too (SPEC §9)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_examples, run_reconciler, write_manifest

ACCESS_KEY = "acme-ci-access-Kq7Zp2"
SECRET_KEY = "acme-ci-secret-Wv93Lm"
WRONG_SECRET = "wrong-secret-Hd82Rt"
SEED_FTP_PASSWORD = "seed-ftp-Pw5tR8"
BACKUP_FTP_PASSWORD = "backup-ftp-Pw3Gx1"
LIVE_SECRET = "LiveSecret123"  # stored in the account, read back in a backup destination
LITERAL_PASSWORD = "Literal-Pw-Q9zz"
SECRETS = (ACCESS_KEY, SECRET_KEY, WRONG_SECRET, SEED_FTP_PASSWORD, BACKUP_FTP_PASSWORD, LIVE_SECRET, LITERAL_PASSWORD)

MANIFEST = """\
version: 1
databases:
  - name: catalog-prod
    subscription: 1234567
    database: 7654323
    backup:
      path: ftp://backup:${env:BACKUP_FTP_PASSWORD}@ftp.acme.example/catalog
      interval: every-24-hours
      time_utc: "02:00"
    imports:
      - id: seed-from-ftp
        from: ftp://loader:${env:SEED_FTP_PASSWORD}@ftp.acme.example/x.rdb
        confirm: catalog-prod
"""
UNKNOWN_DATABASE = """\
  - name: ghost-db
    subscription: 1234567
    database: 1
    backup: {path: "ftp://u:${env:BACKUP_FTP_PASSWORD}@ftp.acme.example/ghost", interval: every-6-hours}
"""
LITERAL = f"""\
version: 1
databases:
  - name: catalog-prod
    subscription: 1234567
    database: 7654323
    imports:
      - id: seed-literal
        from: ftp://loader:{LITERAL_PASSWORD}@ftp.acme.example/x.rdb
        confirm: catalog-prod
"""


def plant_secrets(world: dict[str, Any]) -> None:
    """A CI key of the account, and a live FTP destination with its password in the URI."""
    world["api_keys"].append({"name": "ci", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "role": "owner"})
    for subscription in world["subscriptions"]:
        for database in subscription.get("databases") or []:
            if database["name"] == "catalog-prod":
                database["backup"] = {
                    "path": f"ftp://backup:{LIVE_SECRET}@ftp.example/path",
                    "interval": "every-24-hours",
                    "time_utc": "01:00",
                }


@pytest.fixture
def work(tmp_path: Path) -> Path:
    copy_examples(tmp_path, plant_secrets)
    write_manifest(tmp_path / "manifests", MANIFEST)
    return tmp_path


def run(work: Path, *args: str, secret_key: str = SECRET_KEY) -> subprocess.CompletedProcess[str]:
    return run_reconciler(
        "--sandbox",
        "--debug",
        *args,
        cwd=work,
        REDISCLOUD_ACCESS_KEY=ACCESS_KEY,
        REDISCLOUD_SECRET_KEY=secret_key,
        SEED_FTP_PASSWORD=SEED_FTP_PASSWORD,
        BACKUP_FTP_PASSWORD=BACKUP_FTP_PASSWORD,
        GITHUB_STEP_SUMMARY=str(work / "summary.md"),
    )


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {where}"


def assert_clean(work: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert_no_secret("stdout", result.stdout)
    assert_no_secret("stderr", result.stderr)
    for written in ("plan.json", "summary.md"):
        if (work / written).exists():
            assert_no_secret(written, (work / written).read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_shows_credentials_masked_or_unresolved_in_every_format(work: Path, fmt: str) -> None:
    result = run(work, "plan", "-f", "manifests/", "--format", fmt, "--out", "plan.json")
    assert result.returncode == 0, result.stderr
    assert_clean(work, result)
    # Not vacuous: the live destination is shown, masked, and the manifest's references stay unresolved.
    for text in (result.stdout, (work / "plan.json").read_text(encoding="utf-8")):
        assert "ftp://backup:****@ftp.example/path" in text
        assert "${env:SEED_FTP_PASSWORD}" in text and "${env:BACKUP_FTP_PASSWORD}" in text
    assert "ftp://backup:****@ftp.example/path" in (work / "summary.md").read_text(encoding="utf-8")
    assert "API requests:" in result.stderr  # --debug was on


def test_show_of_a_saved_plan_shows_no_secret(work: Path) -> None:
    assert run(work, "plan", "-f", "manifests/", "--out", "plan.json").returncode == 0
    for fmt in ("text", "json"):
        result = run(work, "show", "plan.json", "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert_clean(work, result)
    assert json.loads(result.stdout)["changes"]


def test_status_shows_the_live_destination_masked(work: Path) -> None:
    for fmt in ("text", "json"):
        result = run(work, "status", "-f", "manifests/", "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert_clean(work, result)
        assert "ftp://backup:****@ftp.example/path" in result.stdout


def test_a_wrong_key_error_shows_neither_key(work: Path) -> None:
    result = run(work, "plan", "-f", "manifests/", "--out", "plan.json", secret_key=WRONG_SECRET)
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr
    assert_clean(work, result)
    assert not (work / "plan.json").exists()


def test_an_unknown_database_error_shows_no_secret(work: Path) -> None:
    write_manifest(work / "manifests", MANIFEST + UNKNOWN_DATABASE)
    result = run(work, "plan", "-f", "manifests/", "--out", "plan.json")
    assert result.returncode == 1
    assert "ghost-db: database 1 in subscription 1234567 does not exist" in result.stderr
    assert_clean(work, result)
    assert not (work / "plan.json").exists()


def test_a_literal_credential_in_a_manifest_is_refused_without_echoing_it(work: Path) -> None:
    write_manifest(work / "manifests", LITERAL)
    result = run(work, "plan", "-f", "manifests/")
    assert result.returncode == 1
    assert "${env:" in result.stderr  # it says how to fix it
    assert_clean(work, result)
