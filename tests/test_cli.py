"""The CLI as a user runs it: a real process, its exit code and its streams."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from tests.support.examples import ROOT
from tests.support.workdirs import copy_examples


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_examples_exits_0() -> None:
    result = run("validate", "-f", "examples/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Valid: 7 databases in 4 files."


def test_validate_invalid_example_exits_1_with_one_line_per_problem() -> None:
    result = run("validate", "-f", "examples/invalid/")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "Error: 8 problems in the manifests; nothing was changed."
    assert all(line.startswith("examples/invalid/broken.yaml:") for line in lines[:-1])
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_usage_error_exits_1_not_2() -> None:
    result = run("validate", "--no-such-flag")
    assert result.returncode == 1
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("reconciler ")


_LOADED = """
import sys
from reconciler.cli import main
code = main(sys.argv[1:])
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] in ("reconciler", "httpx"))))
"""


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        pytest.param(("--version",), ("reconciler.commands.runtime", "reconciler.manifest.load"), id="version"),
        pytest.param(("validate", "-f", "examples/"), ("reconciler.cloud", "reconciler.core.planner"), id="validate"),
    ],
)
def test_start_up_loads_no_http_and_no_command_it_does_not_run(argv: tuple[str, ...], absent: tuple[str, ...]) -> None:
    """`--version` and `validate` (run by pre-commit on every commit) stay fast: each command's module is imported
    only when it is chosen, and nothing offline loads httpx."""
    result = subprocess.run([sys.executable, "-c", _LOADED, *argv], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split("\n")[-2].split())
    assert "httpx" not in loaded and not loaded & set(absent), sorted(loaded)
    assert {"reconciler.commands.plan", "reconciler.commands.apply", "reconciler.commands.status"}.isdisjoint(loaded)


def test_default_manifest_locations(tmp_path: Path) -> None:
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "pass -f PATH, or create ./reconciler.yaml or a ./manifests/ directory" in result.stderr
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "a.yml").write_text("version: 1\ndatabases: []\n")
    assert run("validate", cwd=tmp_path).returncode == 0


def test_global_flags_accepted_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--quiet", "-f", str(ROOT / "examples")]) == 0
    assert capsys.readouterr().out == ""


def test_schema_command_prints_the_shipped_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((ROOT / "schemas" / "manifest.v1.json").read_text())


def test_validate_json_format_lists_the_databases() -> None:
    # Its failure, `{"error": …}` with every problem placed, is in tests/test_ci_output.py.
    ok = json.loads(run("validate", "--format", "json", "-f", "examples/").stdout)
    assert ok["valid"] is True and "orders-prod" in ok["databases"]


def test_validate_takes_files_as_pre_commit_passes_them() -> None:
    result = run("validate", "examples/orders.yaml", "examples/essentials.yaml")
    assert result.returncode == 0 and result.stdout.strip() == "Valid: 2 databases in 2 files."


def test_bad_flag_value_is_a_usage_error_with_exit_1() -> None:
    result = run("plan", "--rate-limit", "0", "--sandbox")
    assert result.returncode == 1 and "must be at least 1" in result.stderr


def test_unwritable_step_summary_is_a_clear_error(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    result = run(
        "--sandbox",
        "plan",
        "-f",
        "examples/",
        cwd=tmp_path,
        env={"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "summary.md")},
    )
    assert result.returncode == 1
    assert "GITHUB_STEP_SUMMARY=" in result.stderr and "cannot append" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_unmanaged_lists_databases_no_manifest_declares(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    result = run("--sandbox", "plan", "-f", "examples/", "--report-unmanaged", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [db["name"] for db in json.loads(result.stdout)["unmanaged"]] == ["legacy-reports", "scratch"]


def test_quiet_apply_prints_the_result_but_no_progress(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    result = run("--sandbox", "--quiet", "apply", "-f", "examples/", "--auto-approve", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Apply summary" in result.stdout
    assert "start " not in result.stderr and result.stderr.strip() == ""


def test_sandbox_ignores_keys_exported_for_the_real_api(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    result = run(
        "--sandbox",
        "plan",
        "-f",
        "examples/",
        cwd=tmp_path,
        env={"REDISCLOUD_ACCESS_KEY": "prod-account-key", "REDISCLOUD_SECRET_KEY": "prod-user-key"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("Plan: 5 to update")


# --- issue 20: any output encoding --------------------------------------------------------------------------------

LIVE_NAME = "catálogo-prod ☃"  # the live name of catalog-prod: Latin-1 and beyond


def _rename_catalog(world: dict[str, Any]) -> None:
    databases = world["subscriptions"][0]["databases"]
    next(db for db in databases if db["name"] == "catalog-prod")["name"] = LIVE_NAME


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("plan", "--format", "markdown"), id="plan-markdown"),
        pytest.param(("plan",), id="plan-text"),
        pytest.param(("plan", "--format", "json"), id="plan-json"),
        pytest.param(("status",), id="status"),
        pytest.param(("apply", "--auto-approve"), id="apply"),
    ],
)
def test_every_output_works_on_a_stream_that_is_not_utf8(tmp_path: Path, argv: tuple[str, ...], encoding: str) -> None:
    copy_examples(tmp_path, _rename_catalog)
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "--sandbox", argv[0], "-f", "examples/", *argv[1:]],
        cwd=tmp_path,
        env={**os.environ, "PYTHONIOENCODING": encoding},
        capture_output=True,
    )
    out, err = result.stdout.decode(encoding), result.stderr.decode(encoding)
    assert result.returncode == 0, err
    assert "Internal error" not in err and "Traceback" not in err
    if argv[-1] == "json":  # escaped, never replaced: a machine still reads the exact name
        document = json.loads(out)
        assert LIVE_NAME in {change["database"]["live_name"] for change in document["changes"]}
    if argv[-1] == "markdown":  # what the encoding has is written as itself, the rest spelled out
        assert out.startswith("### Plan: 5 to update") and '`"every-24-hours"` \\u2192 `' in out
        shown = "cat\\u00e1logo-prod \\u2603" if encoding == "ascii" else "catálogo-prod \\u2603"
        assert f"(<b>{shown}</b> in Redis Cloud)" in out


def test_in_process_main_writes_escapes_to_a_stream_that_cannot_encode(tmp_path: Path) -> None:
    """A stream of the caller's own (as `main(out=...)` takes one): the same escapes, no crash."""
    copy_examples(tmp_path, _rename_catalog)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", newline="\n")
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        code = main(
            ["--sandbox", "plan", "-f", "examples/", "--format", "markdown"], out=out, err=io.StringIO(), environ={}
        )
    finally:
        os.chdir(previous)
    out.flush()
    assert code == 0
    assert "catalogo" not in raw.getvalue().decode("ascii") and "cat\\u00e1logo-prod \\u2603" in raw.getvalue().decode()


# --- issue 20: markdown within GitHub's limit, pointing at the full plan ------------------------------------------


def test_show_markdown_of_a_2000_change_plan_stays_under_the_limit_and_names_the_plan_file(tmp_path: Path) -> None:
    from reconciler.output.planfile import write_plan
    from tests.support.plans import big_plan, document_of

    big = big_plan(1200, updates=800, risky_every=2, attention=30)
    write_plan(
        tmp_path / "big plan.json",
        document_of(big),
    )
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "show", "--format", "markdown", "big plan.json"],
        cwd=tmp_path,
        env=os.environ,
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr
    markdown = result.stdout.decode("utf-8")
    assert len(result.stdout) <= 60_000 + 1  # print's newline after the comment body
    assert markdown.startswith(
        "### Plan: 800 to update, 0 to back up, 1200 to import (1200 destructive). 30 operations"
    )
    assert "#### Needs attention (30)" in markdown and "**1200 destructive imports**" in markdown
    assert "**400 databases will stop backing up**" in markdown
    assert "the full plan is in `big plan.json` (`reconciler show big plan.json`)." in markdown


def test_plan_markdown_past_the_limit_names_its_out_file_in_stdout_and_the_step_summary(tmp_path: Path) -> None:
    count = 250  # 4-shard imports: the list of destructive imports alone is past the limit

    def bulk(world: dict[str, Any]) -> None:
        world.setdefault("options", {})["rate_limit"] = 1_000_000
        world["subscriptions"].append(
            {
                "id": 3456789,
                "name": "bulk",
                "tier": "pro",
                "databases": [
                    {
                        "id": 9_000_000 + n,
                        "name": f"bulk-{n:04d}",
                        "backup": {"path": "s3://b/x", "interval": "every-24-hours"},
                    }
                    for n in range(count)
                ],
            }
        )

    copy_examples(tmp_path, bulk)
    databases = [
        {
            "name": f"bulk-{n:04d}",
            "subscription": 3456789,
            "database": 9_000_000 + n,
            "tier": "pro",
            "imports": [
                {
                    "id": "seed",
                    "confirm": f"bulk-{n:04d}",
                    "from": [f"s3://seeds/bulk-{n:04d}/part-{k}_of_4.rdb.gz" for k in range(1, 5)],
                }
            ],
        }
        for n in range(count)
    ]
    (tmp_path / "bulk.yaml").write_text(json.dumps({"version": 1, "databases": databases}), encoding="utf-8")
    summary = tmp_path / "summary.md"
    result = run(
        "--sandbox",
        "plan",
        "-f",
        "bulk.yaml",
        "--format",
        "markdown",
        "--out",
        "plan.json",
        "--rate-limit",
        "1000000",
        cwd=tmp_path,
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.returncode == 0, result.stderr
    for markdown in (result.stdout, summary.read_text(encoding="utf-8")):
        assert len(markdown.rstrip("\n").encode("utf-8")) <= 60_000
        assert markdown.startswith(f"### Plan: 0 to update, 0 to back up, {count} to import ({count} destructive).")
        assert f"**{count} destructive imports**" in markdown and "more destructive imports not shown" in markdown
        assert "the full plan is in `plan.json` (`reconciler show plan.json`)." in markdown
    assert len(json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))["changes"]) == count
