"""Observe-only databases (issue 17): `mode: observe` and `--observe`. Plan shows their drift and receipts, apply
never writes to them, and a plan file cannot be edited into writing to them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.output.planfile import seal
from tests.support.cli import cli
from tests.support.examples import ORDERS
from tests.support.workdirs import sandbox_dir, world
from tests.support.world import WRITES

ORDERS_PATH = f"/databases/{ORDERS}"


@pytest.fixture
def observing(tmp_path: Path) -> Path:
    """The examples, with orders-prod observed."""
    directory = sandbox_dir(tmp_path)
    orders = directory / "examples" / "orders.yaml"
    orders.write_text(orders.read_text().replace("    tier: pro\n", "    tier: pro\n    mode: observe\n", 1))
    return directory


def writes(directory: Path, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in world(directory).request_log()[since:] if r.method in WRITES]


def plan_json(directory: Path, *flags: str) -> dict[str, object]:
    ran = cli(directory, "plan", "-f", "examples/", "--format", "json", *flags)
    assert ran.code == 0, ran.err
    document: dict[str, object] = json.loads(ran.out)
    return document


def addresses(items: object) -> list[str]:
    assert isinstance(items, list)
    return [str(item["address"]) for item in items]


def test_an_observed_database_is_planned_apart_and_apply_sends_it_nothing(observing: Path) -> None:
    document = plan_json(observing)
    observed = addresses(document["observed"])
    assert observed and all(a.startswith("orders-prod.") for a in observed)
    assert not any(a.startswith("orders-prod.") for a in addresses(document["changes"]))
    entries = document["observed"]
    assert isinstance(entries, list) and all(item["observed"] is True for item in entries)
    summary = document["summary"]
    assert isinstance(summary, dict) and summary["observed"] == len(observed)
    assert f"{len(observed)} observed only (never applied)." in summary["line"]

    text = cli(observing, "plan", "-f", "examples/")
    assert "Observed only, never applied" in text.out
    assert "orders-prod.imports.seed-2026-11-20 would be imported once" in text.out
    assert "(observed only)" in text.out
    markdown = cli(observing, "plan", "-f", "examples/", "--format", "markdown").out
    assert f"#### Observed only, never applied (mode: observe, or --observe) ({len(observed)})" in markdown

    mark = len(world(observing).request_log())
    ran = cli(observing, "apply", "-f", "examples/", "--auto-approve")
    assert ran.code == 0, ran.err
    sent = writes(observing, mark)
    assert sent, "the managed databases were written to"
    assert [w for w in sent if ORDERS_PATH in w[1]] == []  # no PUT, no one-shot, no receipt tag
    assert addresses(plan_json(observing)["observed"]) == observed  # still all there, as drift


def test_observe_flag_writes_to_no_database_and_exits_0_with_detailed_exitcode(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    managed = cli(directory, "plan", "-f", "examples/", "--detailed-exitcode")
    assert managed.code == 2  # the examples have changes to apply
    observed = cli(directory, "plan", "-f", "examples/", "--detailed-exitcode", "--observe")
    assert observed.code == 0, observed.err  # 2 says "apply has work"; observed drift is none of its work
    assert "No changes to apply." in observed.out and "observed only" in observed.out

    mark = len(world(directory).request_log())
    ran = cli(directory, "apply", "-f", "examples/", "--auto-approve", "--observe")
    assert ran.code == 0, ran.err
    assert writes(directory, mark) == []


def _move_observed_into_changes(path: Path, *, reseal: bool) -> str:
    document = json.loads(path.read_text())
    moved = document["observed"].pop(0)
    del moved["observed"]
    document["changes"].append(moved)
    path.write_text(json.dumps(seal(document) if reseal else document))
    return str(moved["address"])


@pytest.mark.parametrize("reseal", [False, True], ids=["digest-left", "digest-recomputed"])
def test_a_plan_file_edited_to_apply_an_observed_change_is_refused(observing: Path, reseal: bool) -> None:
    planfile = observing / "plan.json"
    assert cli(observing, "plan", "-f", "examples/", "--out", str(planfile)).code == 0
    address = _move_observed_into_changes(planfile, reseal=reseal)
    mark = len(world(observing).request_log())

    ran = cli(observing, "apply", str(planfile), "--auto-approve")

    assert ran.code == 1
    expected = "its database is observed" if reseal else "edited after `reconciler plan` wrote it"
    assert expected in ran.err and "Traceback" not in ran.err
    if reseal:
        assert address in ran.err
    assert writes(observing, mark) == []


def test_a_plan_made_with_observe_stays_observed_when_applied(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    planfile = directory / "plan.json"
    assert cli(directory, "plan", "-f", "examples/", "--observe", "--out", str(planfile)).code == 0
    assert json.loads(planfile.read_text())["observe_all"] is True
    _move_observed_into_changes(planfile, reseal=True)
    mark = len(world(directory).request_log())

    ran = cli(directory, "apply", str(planfile), "--auto-approve")

    assert ran.code == 1 and "its database is observed" in ran.err
    assert writes(directory, mark) == []


def test_apply_observe_refuses_a_plan_file_made_without_it(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    planfile = directory / "plan.json"
    assert cli(directory, "plan", "-f", "examples/", "--out", str(planfile)).code == 0
    mark = len(world(directory).request_log())

    ran = cli(directory, "apply", str(planfile), "--auto-approve", "--observe")

    assert ran.code == 1 and "its database is observed" in ran.err
    assert writes(directory, mark) == []


def test_mode_must_be_manage_or_observe(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    orders = directory / "examples" / "orders.yaml"
    orders.write_text(orders.read_text().replace("    tier: pro\n", "    tier: pro\n    mode: watch\n", 1))
    ran = cli(directory, "validate", "-f", "examples/")
    assert ran.code == 1 and "mode" in ran.err and "observe" in ran.err
