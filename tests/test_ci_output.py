"""Output CI can read (issue 18): GitHub annotations, a GitLab code quality report, and errors as JSON on stdout
with the exit code the process returns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from tests.support.cli import cli, run_reconciler
from tests.support.examples import EXAMPLES
from tests.support.manifests import write_manifest
from tests.support.workdirs import copy_examples, sandbox_dir

GITHUB = {"GITHUB_ACTIONS": "true"}
GHOST = """\
version: 1
databases:
  # a database the account does not have: plan, not validate, finds out
  - name: ghost-db
    subscription: 1234567
    database: 1
    backup: {path: "s3://acme-backups/ghost", interval: every-6-hours}
"""
FIRST_INVALID = (
    "databases[0].name: 'Orders_Prod' is not valid — use lowercase letters, digits and '-', starting with a letter "
    "or digit, at most 40 characters"
)


def _annotations(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("::")]


def test_validate_annotates_every_problem_where_it_was_written_under_github_actions(tmp_path: Path) -> None:
    directory = copy_examples(tmp_path)
    ran = cli(directory, "validate", "-f", "examples/invalid/", environ=GITHUB)
    assert ran.code == 1
    problems = [line for line in ran.err.splitlines() if line.startswith("examples/invalid/")]
    annotations = _annotations(ran.err)
    assert len(annotations) == len(problems) == 8  # and the text for people is still there
    assert annotations[0] == f"::error file=examples/invalid/broken.yaml,line=4,col=11::{FIRST_INVALID}"
    assert annotations[-1].startswith("::error file=examples/invalid/broken.yaml,line=23,col=7::")
    elsewhere = cli(directory, "validate", "-f", "examples/invalid/", environ={})
    assert elsewhere.code == 1 and not _annotations(elsewhere.err)  # only on GitHub's runner


def test_an_annotation_names_the_file_by_its_path_in_the_repository_and_escapes_it(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    path = write_manifest(checkout / "manifests", "version: 1\ndatabases: [\n  a: b: c\n", name="a,b:c%.yaml")
    ran = run_reconciler("validate", "-f", str(path), cwd=tmp_path, GITHUB_WORKSPACE=str(checkout), **GITHUB)
    assert ran.returncode == 1
    assert _annotations(ran.stderr) == [
        "::error file=manifests/a%2Cb%3Ac%25.yaml,line=3,col=7::not valid YAML: did not find expected ',' or ']'"
    ]
    assert f"{path}:3:7: not valid YAML" in ran.stderr  # people still read the path they gave


def test_plan_annotates_a_database_the_account_lacks_at_its_entry(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    write_manifest(directory / "examples", GHOST, name="ghost.yaml")
    ran = cli(directory, "plan", "-f", "examples/", environ=GITHUB)
    assert ran.code == 1
    assert _annotations(ran.err) == [
        "::error file=examples/ghost.yaml,line=4,col=5::ghost-db: database 1 in subscription 1234567 does not exist "
        "(Pro); check the ids and the tier in the manifest"
    ]


def test_an_error_of_no_place_is_one_annotation_on_the_run(tmp_path: Path) -> None:
    directory = copy_examples(tmp_path)
    ran = run_reconciler("plan", "-f", "examples/", cwd=directory, **GITHUB)  # no keys, no sandbox
    assert ran.returncode == 1
    assert _annotations(ran.stderr) == [
        "::error::REDISCLOUD_ACCESS_KEY and REDISCLOUD_SECRET_KEY not set: export the account key and a user key "
        "(a Viewer's key is enough for validate, plan, show, status, check and receipts list), or use --sandbox"
    ]


def _report(path: Path) -> list[dict[str, Any]]:
    report: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return report


def test_validate_writes_a_gitlab_code_quality_report_and_empties_it_once_fixed(tmp_path: Path) -> None:
    directory = copy_examples(tmp_path)
    report = directory / "gl-code-quality-report.json"
    ran = cli(directory, "validate", "-f", "examples/invalid/", "--code-quality", report.name)
    assert ran.code == 1 and "8 problems in the manifests" in ran.err
    issues = _report(report)
    assert len(issues) == 8 and len({issue["fingerprint"] for issue in issues}) == 8
    assert issues[0] == {
        "description": FIRST_INVALID,
        "check_name": "reconciler-manifest",
        "fingerprint": issues[0]["fingerprint"],
        "severity": "blocker",
        "location": {"path": "examples/invalid/broken.yaml", "lines": {"begin": 4}},
    }
    # The same problems a line lower keep their fingerprints: GitLab sees nothing new in the merge request.
    broken = directory / "examples" / "invalid" / "broken.yaml"
    broken.write_text("# a comment on top\n" + broken.read_text(encoding="utf-8"), encoding="utf-8")
    cli(directory, "validate", "-f", "examples/invalid/", "--code-quality", report.name)
    moved = _report(report)
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in issues]
    assert moved[0]["location"]["lines"]["begin"] == 5
    fixed = cli(directory, "validate", "-f", "examples/", "--code-quality", report.name)
    assert fixed.code == 0 and _report(report) == []


def test_plan_reports_its_problems_for_gitlab_under_the_project_s_directory(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    write_manifest(directory / "examples", GHOST, name="ghost.yaml")
    ran = cli(
        directory,
        "plan",
        "-f",
        str(directory / "examples"),
        "--code-quality",
        "cq.json",
        environ={"CI_PROJECT_DIR": str(directory)},
    )
    assert ran.code == 1
    [issue] = _report(directory / "cq.json")
    assert issue["check_name"] == "reconciler-plan" and issue["description"].startswith("ghost-db: database 1")
    assert issue["location"] == {"path": "examples/ghost.yaml", "lines": {"begin": 4}}


def test_a_plan_that_fails_for_want_of_keys_writes_no_report(tmp_path: Path) -> None:
    """Nothing was judged, so an empty report would wrongly mark every earlier problem fixed."""
    examples = copy_examples(tmp_path) / "examples"
    code = main(["plan", "-f", str(examples), "--code-quality", str(tmp_path / "cq.json")], environ={})
    assert code == 1 and not (tmp_path / "cq.json").exists()


def test_a_code_quality_report_that_cannot_be_written_is_an_error_naming_the_file(tmp_path: Path) -> None:
    directory = copy_examples(tmp_path)
    ran = cli(directory, "validate", "-f", "examples/", "--code-quality", "no-such-dir/cq.json")
    assert ran.code == 1 and "no-such-dir/cq.json: cannot write the code quality report" in ran.err
    assert "Traceback" not in ran.err


def _json_error(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)
    assert set(document) == {"error"}
    error: dict[str, Any] = document["error"]
    return error


def test_validate_s_problems_are_json_on_stdout_and_text_on_stderr() -> None:
    ran = run_reconciler("validate", "--format", "json", "-f", "examples/invalid/", cwd=EXAMPLES.parent)
    error = _json_error(ran.stdout)
    assert (ran.returncode, error["exit_code"], error["kind"]) == (1, 1, "manifest")
    assert error["message"] == "8 problems in the manifests; nothing was changed."
    assert error["problems"][0] == {
        "path": "examples/invalid/broken.yaml",
        "line": 4,
        "column": 11,
        "message": FIRST_INVALID,
    }
    assert ran.stderr.splitlines()[-1] == "Error: 8 problems in the manifests; nothing was changed."


@pytest.mark.parametrize(
    ("argv", "kind", "fragment"),
    [
        pytest.param(("plan", "-f", "examples/"), "plan", "ghost-db: database 1", id="plan-error"),
        pytest.param(("plan", "-f", "nowhere/"), "manifest", "1 problem in the manifests", id="plan-manifest"),
        pytest.param(("show", "missing.json"), "plan-file", "missing.json: cannot read plan file", id="show"),
        pytest.param(("status", "-f", "nowhere/"), "manifest", "1 problem", id="status"),
        pytest.param(("receipts", "list", "-f", "nowhere/"), "manifest", "1 problem", id="receipts-list"),
        pytest.param(("sandbox", "status", "--dir", "nowhere"), "error", "no sandbox is up", id="sandbox-status"),
        # Refused by the parser before any command ran: still JSON, as the flag asked.
        pytest.param(("plan", "--auto"), "usage", "--auto", id="usage-error"),
    ],
)
def test_every_json_command_fails_as_json_with_the_exit_code_it_returns(
    tmp_path: Path, argv: tuple[str, ...], kind: str, fragment: str
) -> None:
    directory = sandbox_dir(tmp_path)
    write_manifest(directory / "examples", GHOST, name="ghost.yaml")
    ran = cli(directory, *argv, "--format", "json")
    error = _json_error(ran.out)
    assert (error["kind"], error["exit_code"], ran.code) == (kind, 1, 1)
    assert fragment in error["message"]
    assert fragment in ran.err  # people read the same on stderr


def test_a_plan_error_in_json_places_each_problem_at_its_database(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    write_manifest(directory / "examples", GHOST, name="ghost.yaml")
    error = _json_error(cli(directory, "plan", "-f", "examples/", "--format", "json").out)
    assert error["problems"] == [
        {
            "path": "examples/ghost.yaml",
            "line": 4,
            "column": 5,
            "message": "ghost-db: database 1 in subscription 1234567 does not exist (Pro); check the ids and the "
            "tier in the manifest",
        }
    ]


AWKWARD_SECRET = "s3cr@t/:+=Wv93" + "x" * 200  # every character a URI or a header parser might trip on, long


def test_an_api_error_in_json_names_the_call_and_never_the_key(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    environ = {"REDISCLOUD_ACCESS_KEY": "sandbox-account-key", "REDISCLOUD_SECRET_KEY": AWKWARD_SECRET}
    # The sandbox knows this access key, so it checks the secret given: a 401 from the API, after no retry.
    ran = cli(directory, "--debug", "plan", "-f", "examples/", "--format", "json", environ=environ)
    error = _json_error(ran.out)
    assert (ran.code, error["exit_code"], error["kind"]) == (1, 1, "auth")
    assert error["api"]["status"] == 401 and error["api"]["method"] == "GET"
    for stream in (ran.out, ran.err):
        assert "s3cr@t" not in stream and "Wv93" not in stream and "s3cr%40t" not in stream


def test_a_successful_json_command_prints_no_error_document(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    document = json.loads(cli(directory, "plan", "-f", "examples/", "--format", "json").out)
    assert "error" not in document and document["changes"]
