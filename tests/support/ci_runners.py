"""GitHub Actions and GitLab CI runners, as far as the CI examples need them: which jobs a trigger starts, each
step's environment and condition as the YAML says, the shell steps run with bash the way the runners run them,
and the few actions the examples use replaced by what they do (an upload keeps the file in the fake forge).

What is not run here: the install (a step named "Install" and GitLab's `before_script` are skipped: the jobs
run the product from this checkout, and test_ci_examples runs the install script on its own) and GitHub's or
GitLab's own checks of the YAML (the schemas lint that).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.forge import FakeGitHub, FakeGitLab, Pipeline, Run, zipped

SANDBOX_ACCESS_KEY = "sandbox-account-key"
SANDBOX_OWNER_KEY = "sandbox-owner-secret-key"
SANDBOX_VIEWER_KEY = "sandbox-viewer-secret-key"


@dataclass(frozen=True)
class Step:
    name: str
    code: int
    out: str
    err: str


@dataclass
class Job:
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.code == 0 for step in self.steps)

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name} (exit {s.code})\n{s.out}{s.err}" for s in self.steps)

    def ran(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)


def runner_path() -> str:
    """PATH with this checkout's `reconciler` (the venv running the tests) first."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def _machine_env(workspace: Path) -> dict[str, str]:
    """The runner's machine: this one without Redis Cloud settings of its own, the product on PATH, and the
    sandbox standing in for Redis Cloud (REDISCLOUD_URL, which the examples leave at the real API's default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDISCLOUD_", "GITHUB_", "CI", "GITLAB_"))}
    return {**env, "PATH": runner_path(), "REDISCLOUD_URL": "sandbox", "TMPDIR": str(workspace.parent)}


def bash(script: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """A step's script as both runners run it: bash without profiles, errexit and pipefail on."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- Expressions: GitHub's `if:` and GitLab's `rules: if:` share their operators --------------------------

Token = tuple[str, Any]  # ("op", "==") or ("value", a resolved value)


def _evaluate(tokens: list[Token], text: str) -> Any:
    """`== != && || !` and parentheses over resolved values, by the precedence both services give them;
    null compares equal to '' (GitHub's loose equality; GitLab's unset variables are null)."""
    index = 0

    def peek() -> Token | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> Token:
        nonlocal index
        assert index < len(tokens), f"{text!r} ends too soon"
        index += 1
        return tokens[index - 1]

    def primary() -> Any:
        kind, token = take()
        if (kind, token) == ("op", "("):
            inner = disjunction()
            assert take() == ("op", ")"), f"unbalanced parentheses in {text!r}"
            return inner
        if (kind, token) == ("op", "!"):
            return not primary()
        assert kind == "value", f"unexpected {token!r} in {text!r}"
        return token

    def comparison() -> Any:
        left = primary()
        if peek() in (("op", "=="), ("op", "!=")):
            _, op = take()
            right = primary()
            same = ("" if left is None else left) == ("" if right is None else right)
            return same == (op == "==")
        return left

    def conjunction() -> Any:
        result = comparison()
        while peek() == ("op", "&&"):
            take()
            right = comparison()
            result = result and right
        return result

    def disjunction() -> Any:
        result = conjunction()
        while peek() == ("op", "||"):
            take()
            right = conjunction()
            result = result or right
        return result

    result = disjunction()
    assert index == len(tokens), f"trailing tokens in {text!r}"
    return result


def _tokens(pattern: re.Pattern[str], text: str, resolve: Callable[[re.Match[str]], Token]) -> list[Token]:
    tokens, position, text = [], 0, text.strip()
    while position < len(text):
        match = pattern.match(text, position)
        assert match and match.end() > position, f"not understood here: {text!r} at {position}"
        tokens.append(resolve(match))
        position = match.end()
    return tokens


# --- GitHub Actions ----------------------------------------------------------------------------------------

_GH_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|(==|!=|&&|\|\||!|\(|\))|([A-Za-z_][\w-]*(?:\.[\w-]+)*)(\(\))?)")
_STATUS_FUNCTIONS = ("always", "success", "failure", "cancelled")


def github_expression(text: str, contexts: Mapping[str, Any], *, job_ok: bool = True) -> Any:
    """An `${{ }}` expression of the forms the examples use: context paths (missing ones are null), strings,
    the operators and the status functions."""

    def resolve(match: re.Match[str]) -> Token:
        literal, op, name, call = match.groups()
        if op:
            return ("op", op)
        if literal is not None:
            return ("value", literal.replace("''", "'"))
        if call:
            assert name in _STATUS_FUNCTIONS, f"function {name}() is not emulated"
            return ("value", {"always": True, "success": job_ok, "failure": not job_ok, "cancelled": False}[name])
        current: Any = contexts
        for part in name.split("."):
            current = current.get(part) if isinstance(current, Mapping) else None
        return ("value", current)

    return _evaluate(_tokens(_GH_TOKEN, text, resolve), text)


def github_condition(condition: str | None, contexts: Mapping[str, Any], *, job_ok: bool) -> bool:
    """A step's `if:`; as on GitHub, one that calls no status function also needs the steps before to have passed."""
    text = (condition or "success()").strip()
    text = text[3:-2] if text.startswith("${{") and text.endswith("}}") else text
    if not any(re.search(rf"\b{name}\(\)", text) for name in _STATUS_FUNCTIONS):
        text = f"success() && ({text})"
    return bool(github_expression(text, contexts, job_ok=job_ok))


def github_substitute(value: Any, contexts: Mapping[str, Any]) -> str:
    """A string with `${{ }}` parts replaced by their values (null as '')."""

    def one(match: re.Match[str]) -> str:
        result = github_expression(match[1], contexts)
        return "" if result is None else str(result)

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))


@dataclass
class GitHubEvent:
    """One trigger of the workflow: its name, the commit, and the event payload the `github` context shows."""

    name: str
    sha: str
    payload: dict[str, Any] = field(default_factory=dict)
    ref: str = "refs/heads/main"

    @staticmethod
    def pull_request(number: int, head_sha: str) -> GitHubEvent:
        payload = {"pull_request": {"number": number, "head": {"sha": head_sha}}}
        return GitHubEvent("pull_request", f"{head_sha[:20]}merge{number:015d}", payload, f"refs/pull/{number}/merge")

    @property
    def head_sha(self) -> str:
        return str(self.payload.get("pull_request", {}).get("head", {}).get("sha", self.sha))


def github_workflow(path: Path) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as true
    return document


def github_jobs_started(workflow: Mapping[str, Any], event: str) -> set[str]:
    """The jobs a trigger starts: the event must be one the workflow listens to, then each job's `if:`."""
    if event not in workflow["on"]:
        return set()
    contexts = {"github": {"event_name": event}}
    return {name for name, job in workflow["jobs"].items() if github_condition(job.get("if"), contexts, job_ok=True)}


def run_github_job(
    workflow: Mapping[str, Any],
    job_name: str,
    *,
    event: GitHubEvent,
    workspace: Path,
    forge: FakeGitHub,
    secrets: Mapping[str, str],
    run_id: int,
    extra_env: Mapping[str, str] | None = None,
) -> Job:
    """One job of the workflow for `event`, its steps in order, as a run `run_id` that the forge lists."""
    job = workflow["jobs"][job_name]
    run = Run(run_id, workflow["name"], event.name, event.head_sha, status="in_progress")
    forge.runs.append(run)
    github = {
        "event_name": event.name,
        "sha": event.sha,
        "ref": event.ref,
        "token": FakeGitHub.TOKEN,
        "event": event.payload,
        "repository": forge.repo,
        "workflow": workflow["name"],
        "run_id": str(run_id),
    }
    steps_context: dict[str, Any] = {}
    contexts: dict[str, Any] = {"github": github, "secrets": dict(secrets), "steps": steps_context}
    machine = {
        **_machine_env(workspace),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_API_URL": forge.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": forge.repo,
        "GITHUB_SHA": event.sha,
        "GITHUB_REF": event.ref,
        "GITHUB_EVENT_NAME": event.name,
        "GITHUB_RUN_ID": str(run_id),
        "GITHUB_WORKFLOW": workflow["name"],
        "RUNNER_TEMP": str(workspace.parent),
        **(extra_env or {}),
    }
    result = Job()
    for index, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses") or f"step {index}"
        if name == "Install":
            continue
        if not github_condition(step.get("if"), contexts, job_ok=result.ok):
            continue
        outputs = workspace.parent / f"github-output-{run_id}-{index}"
        outputs.write_text("")
        env = {**machine, "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(workspace.parent / "summary.md")}
        for scope in (workflow.get("env"), job.get("env"), step.get("env")):
            env.update({key: github_substitute(value, contexts) for key, value in (scope or {}).items()})
        if "run" in step:
            done = bash(step["run"], workspace, env)
            ran = Step(name, done.returncode, done.stdout, done.stderr)
        else:
            ran = _github_action(step, name, workspace, run, contexts)
        result.steps.append(ran)
        if "id" in step:
            steps_context[step["id"]] = {
                "outputs": _github_outputs(outputs.read_text()),
                "outcome": "success" if ran.code == 0 else "failure",
            }
    run.status = "success" if result.ok else "failure"
    return result


def _github_outputs(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line]
    assert all("=" in line and "<<" not in line for line in lines), f"only name=value outputs are emulated: {text!r}"
    return dict(line.split("=", 1) for line in lines)


_ActionStandIn = Callable[[Mapping[str, str], Path, Run], str]


def _upload_artifact(inputs: Mapping[str, str], workspace: Path, run: Run) -> str:
    """actions/upload-artifact: a file that is missing is a warning (`if-no-files-found: warn`), not a failure."""
    path = workspace / inputs["path"]
    if not path.is_file():
        return f"warning: no file at {inputs['path']}; no artifact uploaded"
    assert inputs["name"] not in run.artifacts or inputs.get("overwrite") == "true", "artifact names are unique"
    run.artifacts[inputs["name"]] = zipped({path.name: path.read_bytes()})
    return f"uploaded {inputs['name']}"


_ACTIONS: dict[str, _ActionStandIn] = {
    "actions/checkout@v4": lambda inputs, workspace, run: "the workspace is the checkout",
    "actions/setup-python@v5": lambda inputs, workspace, run: "this Python is on PATH",
    "actions/upload-artifact@v4": _upload_artifact,
}


def _github_action(step: Mapping[str, Any], name: str, workspace: Path, run: Run, contexts: Mapping[str, Any]) -> Step:
    uses = step["uses"]
    assert uses in _ACTIONS, f"{uses} has no stand-in here: add one to tests/support/ci_runners.py"
    inputs = {key: github_substitute(value, contexts) for key, value in (step.get("with") or {}).items()}
    return Step(name, 0, _ACTIONS[uses](inputs, workspace, run), "")


# --- GitLab CI ---------------------------------------------------------------------------------------------

_GL_TOKEN = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|(==|!=|&&|\|\||\(|\))|\$([A-Za-z_]\w*))""")


def gitlab_expression(text: str, variables: Mapping[str, str]) -> bool:
    """A `rules: if:` of the forms the examples use: `$VAR` (unset or empty is null), strings, the operators."""

    def resolve(match: re.Match[str]) -> Token:
        double, single, op, name = match.groups()
        if op:
            return ("op", op)
        if name:
            return ("value", variables.get(name) or None)
        return ("value", double if double is not None else single)

    return bool(_evaluate(_tokens(_GL_TOKEN, text, resolve), text))


def gitlab_job(pipeline: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A job with its `extends:` resolved as GitLab does: mappings merged deeply, anything else replaced."""
    job = dict(pipeline[name])
    parent = job.pop("extends", None)
    if parent is None:
        return job
    return _deep_merge(gitlab_job(pipeline, parent), job)


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = (
            _deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def gitlab_when(pipeline: Mapping[str, Any], name: str, variables: Mapping[str, str]) -> str | None:
    """How a pipeline with these variables adds the job: `on_success`, `manual`, or None (not at all). Every
    `changes:` counts as matched: the tests' pipelines all touch manifests/."""
    job = gitlab_job(pipeline, name)
    for rule in job.get("rules", [{}]):
        if "if" not in rule or gitlab_expression(rule["if"], variables):
            when = rule.get("when", job.get("when", "on_success"))
            return None if when == "never" else str(when)
    return None


def gitlab_jobs_added(pipeline: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    names = [
        n
        for n, job in pipeline.items()
        if isinstance(job, dict) and not n.startswith(".") and "script" in gitlab_job(pipeline, n)
    ]
    return {name: when for name in names if (when := gitlab_when(pipeline, name, variables)) is not None}


@dataclass
class GitLabPipeline:
    """One pipeline: its predefined variables and the project's CI/CD variables (which rank above the YAML's)."""

    id: int
    source: str  # merge_request_event, push, schedule
    sha: str
    branch: str | None = "main"
    merge_request: int | None = None
    project_variables: dict[str, str] = field(default_factory=dict)

    def predefined(self, forge: FakeGitLab, job_id: int) -> dict[str, str]:
        values = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": self.source,
            "CI_PIPELINE_ID": str(self.id),
            "CI_COMMIT_SHA": self.sha,
            "CI_DEFAULT_BRANCH": "main",
            "CI_API_V4_URL": f"{forge.url}/api/v4",
            "CI_PROJECT_ID": str(forge.project),
            "CI_JOB_ID": str(job_id),
            "CI_JOB_URL": f"https://gitlab.example/acme/platform/-/jobs/{job_id}",
        }
        if self.branch is not None and self.merge_request is None:
            values["CI_COMMIT_BRANCH"] = self.branch
        if self.merge_request is not None:
            values["CI_MERGE_REQUEST_IID"] = str(self.merge_request)
        return values


def _expand(value: str, variables: Mapping[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda m: variables.get(m[1], ""), str(value))


def run_gitlab_job(
    pipeline_yaml: Mapping[str, Any],
    name: str,
    *,
    pipeline: GitLabPipeline,
    workspace: Path,
    forge: FakeGitLab,
    job_id: int,
    extra_env: Mapping[str, str] | None = None,
) -> Job:
    """One job's script (not its before_script, the install) run as one bash script with the variables GitLab
    would give it; its artifacts are kept in the forge under this pipeline."""
    job = gitlab_job(pipeline_yaml, name)
    variables = {**_machine_env(workspace), **(extra_env or {}), **pipeline.predefined(forge, job_id)}
    for scope in (pipeline_yaml.get("variables"), job.get("variables")):
        variables.update({key: _expand(value, variables) for key, value in (scope or {}).items()})
    variables.update(pipeline.project_variables)
    done = bash("\n".join(job["script"]), workspace, variables)
    result = Job([Step(name, done.returncode, done.stdout, done.stderr)])
    artifacts = job.get("artifacts") or {}
    kept = {}
    if result.ok or artifacts.get("when") == "always":
        kept = {p: (workspace / p).read_bytes() for p in artifacts.get("paths", []) if (workspace / p).is_file()}
    record = _pipeline_record(forge, pipeline)
    record.jobs[name] = (job_id, "success" if result.ok else "failed", kept)
    if not result.ok:
        record.status = "failed"
    return result


def _pipeline_record(forge: FakeGitLab, pipeline: GitLabPipeline) -> Pipeline:
    for records in forge.pipelines.values():
        for record in records:
            if record.id == pipeline.id:
                return record
    record = Pipeline(pipeline.id, pipeline.sha)
    forge.pipelines.setdefault(pipeline.merge_request or 0, []).append(record)
    return record
