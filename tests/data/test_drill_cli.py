"""`reconciler drill` as a user runs it: a process against `sandbox up` (real servers and stores), killed or not."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cli import cli, process_env, run_reconciler
from tests.support.examples import MARKETING, ORDERS, PROD_EU, SCRATCH
from tests.support.workdirs import STATE

DRILLS = f"""version: 1
databases:
  - name: orders-prod
    subscription: {PROD_EU}
    database: {ORDERS}
    backup: {{path: 's3://acme-backups/orders'}}
    drills:
      - {{id: weekly, into: scratch, every: 7d, verify: {{match_source: true}}}}
  - name: scratch
    subscription: {MARKETING}
    database: {SCRATCH}
    tier: essentials
    scratch: true
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`sandbox up` from the example account at its demo timings (a drill lasts several seconds: long enough to
    kill mid-way); `sandbox down` at the end, whatever happened."""
    (tmp_path / "drills.yaml").write_text(DRILLS, encoding="utf-8")
    started = run_reconciler("sandbox", "up", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    try:
        yield json.loads((tmp_path / STATE / "sandbox.json").read_text(encoding="utf-8"))
    finally:
        run_reconciler("sandbox", "down", cwd=tmp_path)


def drill_tag(running: dict[str, Any]) -> str | None:
    owner = next(key for key in running["api_keys"] if key["role"] == "owner")
    answer = httpx.get(
        f"{running['api_url']}/subscriptions/{PROD_EU}/databases/{ORDERS}/tags",
        headers={"x-api-key": owner["access_key"], "x-api-secret-key": owner["secret_key"]},
        timeout=10,
    )
    tags = {tag["key"]: tag["value"] for tag in answer.json().get("tags", [])}
    return tags.get("rcr_drill_weekly")


def drill(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_reconciler("--sandbox", "drill", "-f", "drills.yaml", "--auto-approve", *extra, cwd=directory)


def test_a_drill_through_the_cli_reports_each_step_then_is_not_due(tmp_path: Path, sandbox: dict[str, Any]) -> None:
    ran = drill(tmp_path, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    [result] = report["drills"]
    assert (result["address"], result["into"], result["outcome"]) == ("orders-prod.drills.weekly", "scratch", "passed")
    assert [step["step"] for step in result["steps"]] == ["backup", "list", "import", "verify"]
    assert all(step["seconds"] > 0 for step in result["steps"])
    assert result["keys"] == result["source_keys"] == 3  # orders-prod's three orders, counted on both servers
    assert "~ orders-prod.drills.weekly -> scratch" in ran.stderr  # what was due, on stderr beside the JSON
    again = drill(tmp_path)
    assert again.returncode == 0 and again.stdout == "No drill is due.\n"
    assert "orders-prod.drills.weekly: not due: passed" in again.stderr
    plan = run_reconciler("--sandbox", "plan", "-f", "drills.yaml", cwd=tmp_path)
    assert plan.returncode == 0 and "rcr_drill" not in plan.stdout + plan.stderr  # not a one-shot receipt problem


def test_sigkill_mid_import_leaves_a_receipt_that_never_says_passed_and_blocks_a_second_run(
    tmp_path: Path, sandbox: dict[str, Any]
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "--sandbox", "drill", "-f", "drills.yaml", "--auto-approve"],
        cwd=tmp_path,
        env=process_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "step:import" not in (drill_tag(sandbox) or ""):
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    left = drill_tag(sandbox) or ""
    assert left.startswith("v1 running ") and "step:import" in left and "ok:" not in left
    # Within its lease the killed run may still be alive, for all a second run knows: it is left alone.
    second = drill(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "orders-prod.drills.weekly: not due: running (run " in second.stderr
    assert drill_tag(sandbox) == left


def test_a_drill_into_a_database_not_marked_scratch_is_refused_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "drills.yaml").write_text(DRILLS.replace("    scratch: true\n", ""), encoding="utf-8")
    ran = cli(tmp_path, "drill", "-f", "drills.yaml", "--auto-approve")
    assert ran.code == 1
    assert "drills[0].into: scratch is not marked `scratch: true`" in ran.err
    assert not (tmp_path / STATE).exists()  # no sandbox was even opened: nothing was asked of any API


def test_the_in_process_sandbox_has_no_data_to_drill(tmp_path: Path) -> None:
    (tmp_path / "drills.yaml").write_text(DRILLS, encoding="utf-8")
    ran = cli(tmp_path, "drill", "-f", "drills.yaml", "--auto-approve")
    assert ran.code == 1
    assert "start one with `reconciler sandbox up`" in ran.err


def test_an_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "drills.yaml").write_text(DRILLS, encoding="utf-8")
    ran = cli(tmp_path, "drill", "-f", "drills.yaml", "--target", "orders-prod.drills.daily")
    assert ran.code == 1
    assert "--target orders-prod.drills.daily: no drill has this address or database" in ran.err


AZ_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # azurite's


@pytest.mark.parametrize(
    ("path", "listed"),
    [
        ("gs://acme-backups/drills", "gs://acme-backups/drills/drill-weekly-"),
        ("abs://:${env:AZ_KEY}@acmestore/backups/drills", "abs://:****@acmestore/backups/drills/drill-weekly-"),
    ],
    ids=["gcs", "azure"],
)
def test_a_drill_to_gcs_or_azure_lists_the_sandbox_s_emulator_by_itself(
    tmp_path: Path, sandbox: dict[str, Any], path: str, listed: str
) -> None:
    if path.startswith("abs://"):
        from reconciler.sandbox.data.azure import find_azurite

        if find_azurite()[0] is None:
            pytest.skip(find_azurite()[1])
    own = DRILLS.replace("every: 7d,", f"every: 7d, path: '{path}',")
    (tmp_path / "stores.yaml").write_text(own, encoding="utf-8")
    ran = run_reconciler(
        "--sandbox", "drill", "-f", "stores.yaml", "--auto-approve", "--format", "json", cwd=tmp_path, AZ_KEY=AZ_KEY
    )
    assert ran.returncode == 0, ran.stderr
    [result] = json.loads(ran.stdout)["drills"]
    assert result["outcome"] == "passed", result
    assert result["keys"] == result["source_keys"] == 3
    [file] = result["files"]
    assert file.startswith(listed) and file.endswith((".rdb", ".rdb.gz")), file
    assert AZ_KEY not in ran.stdout + ran.stderr
