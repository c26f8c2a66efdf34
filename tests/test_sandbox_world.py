"""Where `--sandbox` keeps its world and what it starts from (issue 18): the example account shipped in the package,
in whatever directory a command runs; the directory is named by its absolute path, and an empty world says how to
fill it. Each run here is a process in a directory that holds no examples/ of its own."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_reconciler
from tests.support.examples import EXAMPLES, PLAN_SUMMARY


def test_a_new_world_is_the_example_account_in_any_directory(tmp_path: Path) -> None:
    result = run_reconciler("--sandbox", "plan", "-f", str(EXAMPLES), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == PLAN_SUMMARY
    assert result.stderr == (
        f"No sandbox is up in {tmp_path.resolve()}/.reconciler-sandbox/ (`reconciler sandbox up` starts one with "
        "real data): using the in-process control-plane sandbox, whose world is kept there.\n"
    )


def test_reset_names_its_world_and_how_another_directory_reaches_it(tmp_path: Path) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    state = project.resolve() / ".reconciler-sandbox"
    reset = run_reconciler("sandbox", "reset", cwd=project)
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.splitlines() == [
        f"Sandbox world in {state}/ reset from the example account built into the reconciler "
        "(examples/sandbox-world.yaml).",
        "`reconciler --sandbox …` (or REDISCLOUD_URL=sandbox) run from here uses it; elsewhere, first "
        f"`export REDISCLOUD_SANDBOX_DIR={state}`.",
    ]
    applied = run_reconciler(
        "--sandbox", "apply", "-f", str(EXAMPLES), "--target", "orders-prod.backup", "--auto-approve", cwd=project
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr

    # From another directory with the variable the reset printed, the same world: the update is already there.
    again = run_reconciler("--sandbox", "plan", "-f", str(EXAMPLES), cwd=elsewhere, REDISCLOUD_SANDBOX_DIR=str(state))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == PLAN_SUMMARY.replace("5 to update", "4 to update")
    assert f"No sandbox is up in {state}/" in again.stderr
    assert not (elsewhere / ".reconciler-sandbox").exists()


def test_an_empty_world_says_so_and_how_to_reset_it(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("kind: redis-cloud-sandbox-world\nformat_version: 1\n", encoding="utf-8")
    reset = run_reconciler("sandbox", "reset", "--seed", "empty.yaml", cwd=tmp_path)
    assert reset.returncode == 0 and " reset from empty.yaml." in reset.stdout, reset.stderr

    planned = run_reconciler("--sandbox", "plan", "-f", str(EXAMPLES), cwd=tmp_path)
    assert planned.returncode == 1
    assert (
        "Its world has no databases: `reconciler sandbox reset` starts it afresh from the example account "
        "(or `--seed FILE` from yours).\n" in planned.stderr
    )
    assert "Traceback" not in planned.stderr

    assert run_reconciler("sandbox", "reset", cwd=tmp_path).returncode == 0
    planned = run_reconciler("--sandbox", "plan", "-f", str(EXAMPLES), cwd=tmp_path)
    assert planned.returncode == 0 and planned.stdout.strip().splitlines()[-1] == PLAN_SUMMARY, planned.stderr


def test_a_missing_seed_file_is_one_clear_error(tmp_path: Path) -> None:
    for action in ("reset", "serve", "up"):
        result = run_reconciler("sandbox", action, "--seed", "no-such-world.yaml", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (1, "Error: no-such-world.yaml: no such seed file\n"), action
    assert not (tmp_path / ".reconciler-sandbox").exists()
