"""Problems as CI shows them on a diff: GitHub workflow commands, GitLab code quality issues, errors as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import (
    AuthError,
    ClaimedElsewhere,
    ManifestError,
    PlanError,
    PlanFileError,
    ReconcilerError,
    StalePlanError,
    TaskFailedError,
    UnsetVariableError,
)
from reconciler.output.annotations import Finding, code_quality, database_position, github_command
from reconciler.output.error_json import error_document, exit_code_of, kind_of
from tests.support.manifests import manifest_from


@pytest.mark.parametrize(
    ("finding", "command"),
    [
        pytest.param(
            Finding("manifest", "interval: 'x' is not one of …", "m/prod.yaml", 14, 5),
            "::error file=m/prod.yaml,line=14,col=5::interval: 'x' is not one of …",
            id="positioned",
        ),
        pytest.param(
            Finding("manifest", "100% wrong\r\nsecond line", "m.yaml", 1, 1),
            "::error file=m.yaml,line=1,col=1::100%25 wrong%0D%0Asecond line",
            id="message-percent-cr-lf",
        ),
        pytest.param(
            Finding("manifest", "a: b, c", "dir,x/a:b%.yaml", 2, 3),
            "::error file=dir%2Cx/a%3Ab%25.yaml,line=2,col=3::a: b, c",  # `:` and `,` are plain in the message
            id="property-comma-colon-percent",
        ),
        pytest.param(
            Finding("error", "REDISCLOUD_ACCESS_KEY not set"),
            "::error::REDISCLOUD_ACCESS_KEY not set",
            id="no-place",
        ),
        pytest.param(Finding("manifest", "missing", "m.yaml"), "::error file=m.yaml::missing", id="file-only"),
    ],
)
def test_a_github_annotation_is_escaped_as_the_runner_reads_it(finding: Finding, command: str) -> None:
    assert github_command(finding) == command


def test_code_quality_issues_follow_gitlab_s_format_and_skip_problems_of_no_file() -> None:
    issues = code_quality(
        [Finding("manifest", "bad interval", "m/a.yaml", 10, 17), Finding("manifest", "m/: no *.yaml files")]
    )
    assert issues == [
        {
            "description": "bad interval",
            "check_name": "reconciler-manifest",
            "fingerprint": issues[0]["fingerprint"],
            "severity": "blocker",
            "location": {"path": "m/a.yaml", "lines": {"begin": 10}},
        }
    ]
    assert len(issues[0]["fingerprint"]) == 64


def test_a_fingerprint_survives_a_moved_line_and_tells_repeats_apart() -> None:
    before = code_quality([Finding("manifest", "dup", "a.yaml", 3, 1), Finding("manifest", "dup", "a.yaml", 9, 1)])
    after = code_quality([Finding("manifest", "dup", "a.yaml", 4, 1), Finding("manifest", "dup", "a.yaml", 10, 1)])
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]  # the same problems, moved
    assert before[0]["fingerprint"] != before[1]["fingerprint"]  # GitLab keeps one issue per fingerprint
    other = code_quality([Finding("plan", "dup", "a.yaml", 3, 1)])
    assert other[0]["fingerprint"] != before[0]["fingerprint"]


MANIFEST = """\
version: 1
databases:
  - name: orders-prod
    subscription: 1
    database: 2
  - name: orders
    subscription: 1
    database: 3
"""


@pytest.mark.parametrize(
    ("problem", "line"),
    [
        pytest.param("orders-prod: database 2 in subscription 1 does not exist (Pro)", 3, id="by-name"),
        pytest.param("orders-prod.imports.seed: needs a backup destination", 3, id="by-address"),
        pytest.param("orders.backup: the receipt was edited", 6, id="a-name-that-prefixes-another"),
        pytest.param("--target ghost: no database or operation has this name", None, id="no-database"),
        pytest.param("ghost-db: does not exist", None, id="unknown-name"),
    ],
)
def test_a_plan_problem_is_placed_at_the_database_it_names(tmp_path: Path, problem: str, line: int | None) -> None:
    manifest = manifest_from(tmp_path, MANIFEST)
    position = database_position(problem, manifest)
    assert (position.line if position else None) == line


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        pytest.param(ManifestError([]), "manifest", 1, id="manifest"),
        pytest.param(PlanError(["x"]), "plan", 1, id="plan"),
        pytest.param(StalePlanError("stale"), "stale-plan", 1, id="stale-plan"),
        pytest.param(PlanFileError("bad"), "plan-file", 1, id="plan-file"),
        pytest.param(UnsetVariableError("X"), "unset-variable", 1, id="unset-variable"),
        pytest.param(AuthError("GET", "/x", 401), "auth", 1, id="auth"),
        pytest.param(ClaimedElsewhere("x"), "claimed-elsewhere", 1, id="no-error-suffix"),
        pytest.param(ReconcilerError("x"), "error", 1, id="plain"),
        pytest.param(KeyError("x"), "internal", 3, id="bug"),
        pytest.param(KeyboardInterrupt(), "interrupted", 130, id="interrupted"),
    ],
)
def test_an_error_s_kind_and_exit_code(error: BaseException, kind: str, code: int) -> None:
    assert (kind_of(error), exit_code_of(error)) == (kind, code)


def test_an_api_error_document_names_the_call_and_the_api_s_answer() -> None:
    failed = AuthError("GET", "/subscriptions", 401, "UNAUTHORIZED", "bad keys")
    assert error_document(failed, [])["error"]["api"] == {
        "method": "GET",
        "path": "/subscriptions",
        "status": 401,
        "type": "UNAUTHORIZED",
        "description": "bad keys",
    }
    task = error_document(TaskFailedError("task 5d1e", "IMPORT_FAILED", "file-corrupted"), [])["error"]
    assert task["api"] == {
        "method": None,
        "path": None,
        "status": None,
        "type": "IMPORT_FAILED",
        "description": "file-corrupted",
    }
    bug = error_document(KeyError("secret-looking"), [])["error"]
    assert (
        bug["message"].startswith("Internal error (KeyError): this is a bug") and "secret-looking" not in bug["message"]
    )
    assert "api" not in error_document(PlanError(["x"]), [Finding("plan", "x", "a.yaml", 3, 5)])["error"]


def test_a_manifest_error_document_counts_its_problems_and_places_each() -> None:
    error = ManifestError([])
    document = error_document(error, [Finding("manifest", "bad", "a.yaml", 4, 11)])
    assert document == {
        "error": {
            "kind": "manifest",
            "message": "0 problems in the manifests; nothing was changed.",
            "exit_code": 1,
            "problems": [{"path": "a.yaml", "line": 4, "column": 11, "message": "bad"}],
        }
    }
