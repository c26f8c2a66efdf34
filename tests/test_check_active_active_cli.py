"""`reconciler check` on an Active-Active database over the sandbox (issue 19): each region's backup status is
read with its `regionName` and judged on its own, under its address, so one stale region fails check while the
other is fresh; an import status stays database-wide."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.seed import SandboxSeedError
from tests.support.examples import ORDERS_AA
from tests.support.workdirs import copy_examples
from tests.support.workdirs import world as sandbox_world
from tests.test_check_cli import check

EAST, WEST = 'orders-aa.backup["us-east-1"]', 'orders-aa.backup["eu-west-1"]'


def regions_backed_up(**ago: str) -> Callable[[dict[str, Any]], None]:
    """orders-aa's history: `us_east_1="3h"` gives that region a backup that ended 3 hours ago."""

    def edit(world: dict[str, Any]) -> None:
        for subscription in world["subscriptions"]:
            for db in subscription["databases"]:
                if db["id"] == ORDERS_AA:
                    db["last_backup"] = {name.replace("_", "-"): {"ago": age} for name, age in ago.items()}

    return edit


def test_one_stale_region_fails_check_under_its_address_while_the_other_holds(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, regions_backed_up(us_east_1="3h", eu_west_1="30h"))
    code, out, err = check(work, "-f", "examples/active-active.yaml")
    assert code == 2, err
    lines = out.splitlines()
    # The manifest says every-12-hours for both regions (us-east-1 is every-24-hours live): max_age 1d each.
    assert any(line.startswith(f"ok   {EAST}: fresh: ") and "3h ago, within max_age 1d" in line for line in lines)
    assert any(line.startswith(f"FAIL {WEST}: stale: ") and "1d6h ago, over max_age 1d" in line for line in lines)
    assert "MISSING_REGION_NAME" not in out + err
    assert lines[-1] == "Check failed: 1 of 1 checked database violated."
    reads = [r for r in sandbox_world(work).request_log() if r.path.endswith("/backup")]
    assert sorted((r.method, r.query.get("regionName")) for r in reads) == [("GET", "eu-west-1"), ("GET", "us-east-1")]
    code, out, _ = check(work, "-f", "examples/active-active.yaml", "--format", "json")
    (database,) = json.loads(out)["databases"]
    assert [(f["address"], f["kind"], f["max_age_seconds"]) for f in database["findings"]] == [
        (EAST, "fresh", 86400),
        (WEST, "stale", 86400),
    ]
    code, out, _ = check(work, "-f", "examples/active-active.yaml", "--format", "markdown")
    assert f"| `{WEST}` | ❌ stale | stale: last successful backup" in out


def test_both_regions_fresh_hold(tmp_path: Path) -> None:
    work = copy_examples(tmp_path, regions_backed_up(us_east_1="20h", eu_west_1="2h"))
    code, out, err = check(work, "-f", "examples/active-active.yaml")
    assert code == 0, err
    assert out.splitlines()[-1] == "Check passed: 1 database checked, all hold."


def test_a_seed_names_only_the_databases_regions(tmp_path: Path) -> None:
    with pytest.raises(SandboxSeedError, match=r"last_backup: 'us-west-2' is not one of its regions"):
        copy_examples(tmp_path, regions_backed_up(us_west_2="3h"))
