"""The CI examples can't rot: their shell steps run here against the sandbox, as the CI service would run them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.examples import ROOT
from tests.support.workdirs import copy_examples

WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"


def _steps(job: str) -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return steps


def _workspace(tmp_path: Path) -> Path:
    """A repository as a team would have it: manifests/ plus, for the sandbox, a fast seed world."""
    copy_examples(tmp_path)
    (tmp_path / "manifests").mkdir()
    for manifest in ("orders.yaml", "platform.yaml", "essentials.yaml"):
        shutil.copy(tmp_path / "examples" / manifest, tmp_path / "manifests" / manifest)
    return tmp_path


def _run_steps(job: str, workspace: Path) -> dict[str, str]:
    """Run each `run:` step of the job with bash -e (as Actions does), skipping the package install."""
    outputs = workspace / "github-output.txt"
    summary = workspace / "step-summary.md"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MANIFESTS": "manifests/",
        "REDISCLOUD_URL": "sandbox",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    for step in _steps(job):
        if "run" not in step or step.get("name") == "Install":
            continue
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"step {step.get('name')!r} failed:\n{result.stdout}\n{result.stderr}"
    return {
        "outputs": outputs.read_text() if outputs.exists() else "",
        "summary": summary.read_text() if summary.exists() else "",
    }


def test_workflow_plans_on_pull_requests_and_applies_on_main(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "reset", "--seed", "examples/sandbox-world.yaml"],
        cwd=workspace,
        check=True,
        timeout=60,
    )

    plan = _run_steps("plan", workspace)
    assert "exitcode=2" in plan["outputs"]
    comment = (workspace / "plan.md").read_text()
    assert comment.splitlines()[0].lstrip("#* ").startswith("Plan: 4 to update, 2 to back up, 1 to import")
    assert (workspace / "plan.json").is_file()

    applied = _run_steps("apply", workspace)
    assert "Apply" in applied["summary"]
    report = yaml.safe_load((workspace / "apply-report.json").read_text())
    assert {op["outcome"] for op in report["operations"]} == {"done"}

    (workspace / "github-output.txt").unlink()
    again = _run_steps("plan", workspace)
    assert "exitcode=0" in again["outputs"]


def test_workflow_uses_the_documented_secrets_and_serialises_applies() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    apply_job = workflow["jobs"]["apply"]
    assert apply_job["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    assert workflow["jobs"]["plan"]["env"]["REDISCLOUD_SECRET_KEY"] == "${{ secrets.REDISCLOUD_VIEWER_SECRET_KEY }}"
    assert any(step.get("uses", "").startswith("marocchino/sticky-pull-request-comment") for step in _steps("plan"))


def test_gitlab_example_applies_in_a_resource_group() -> None:
    pipeline = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text())
    assert pipeline["reconciler-apply"]["resource_group"] == "reconciler-apply"
    assert "plan.json" in pipeline["reconciler-plan"]["artifacts"]["paths"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="the workflow's steps are bash")
def test_plan_step_fails_the_job_on_a_broken_manifest(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    shutil.copy(ROOT / "examples" / "invalid" / "broken.yaml", workspace / "manifests" / "broken.yaml")
    step = next(s for s in _steps("plan") if s.get("name") == "Plan")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MANIFESTS": "manifests/",
        "REDISCLOUD_URL": "sandbox",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
    }
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "exitcode=1" in (tmp_path / "out").read_text()


def test_readme_example_plan_is_what_the_sandbox_renders() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_plan.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
