"""The planner's cost per database (issue 16: "DeepDiff is 4.4 s of 5.4 s at 20,000"), as a micro-benchmark.

`plan()` runs on typed inputs built in memory (no YAML, no HTTP), so what is timed is the pure core alone: per
database, a fleet whose settings all match (the common case: a no-op plan) and one where every database drifts (each
pays for the field-by-field diff). DeepDiff on one pair of comparable settings is timed beside them: it is what every
database paid before matching settings were told apart by plain equality, and every drifting one until its fields
were compared one by one (the planner no longer calls it).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from deepdiff import DeepDiff

from reconciler.core.desired import BackupSettings, DatabaseSpec, Manifest, Position, Tier
from reconciler.core.live import LiveAccount, LiveBackup, LiveDatabase
from reconciler.core.normalise import comparable, from_live
from reconciler.core.plan import Action
from reconciler.core.planner import plan

GOAL_US = 100.0  # "well under 100 µs a database"


def fleet(databases: int, *, drift: bool) -> tuple[Manifest, LiveAccount]:
    """Three Pro databases in four (interval and time managed, the 12-hour quirk included), one Essentials;
    a destination with a `${env:…}` credential on every fifth. With `drift`, every live destination differs."""
    specs, live = [], []
    for n in range(databases):
        tier = Tier.ESSENTIALS if n % 4 == 3 else Tier.PRO
        user = "${env:BACKUP_USER}:${env:BACKUP_SECRET}@" if n % 5 == 0 else ""
        path = f"s3://{user}bench-backups/db-{n}/"
        pro = tier is Tier.PRO
        interval, time_utc = ("every-12-hours", "16:00") if n % 2 else ("every-24-hours", "02:00")
        backup = BackupSettings(
            enabled=True,
            path=path,
            interval=interval if pro else None,
            time_utc=time_utc if pro else None,
        )
        subscription, database = 200_001 + n // 500, 1_000_001 + n
        specs.append(
            DatabaseSpec(f"db-{n}", subscription, database, tier, False, backup, (), (), Position("m.yaml", n, 1))
        )
        live_path = f"s3://bench-backups/db-{n}{'-moved' if drift else ''}"
        echoed = "04:00" if interval == "every-12-hours" else time_utc  # the API's morning twin (API-NOTES §1)
        live_backup = LiveBackup(True, live_path, interval if pro else None, echoed if pro else None)
        live.append(LiveDatabase(tier, subscription, database, f"db-{n}", "active", live_backup))
    return Manifest(tuple(specs), ("m.yaml",), "d"), LiveAccount.of(*live)


def _per_database_us(databases: int, *, drift: bool, repeats: int) -> float:
    manifest, live = fleet(databases, drift=drift)
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = plan(manifest, live)
        runs.append(time.perf_counter() - started)
        assert result.count(Action.UPDATE) == (databases if drift else 0), result.summary_line
    return min(runs) / databases * 1e6


def _deepdiff_us(calls: int) -> float:
    """One DeepDiff over a matching pair of comparable settings, as the planner built them."""
    current = from_live(LiveBackup(True, "s3://bench-backups/db-1", "every-24-hours", "02:00"), Tier.PRO)
    values = comparable(current, interval=current.interval)
    before, after = dict(values), dict(values)
    started = time.perf_counter()
    for _ in range(calls):
        DeepDiff(before, after).affected_root_keys  # noqa: B018 - the property is what the planner read
    return (time.perf_counter() - started) / calls * 1e6


def diff_cost(databases: int, repeats: int = 7) -> dict[str, Any]:
    """Figure 6b: µs per database of `plan()`, matching and drifting, against DeepDiff alone."""
    matching = _per_database_us(databases, drift=False, repeats=repeats)
    drifting = _per_database_us(databases, drift=True, repeats=repeats)
    deepdiff = statistics.median(_deepdiff_us(2_000) for _ in range(3))
    return {
        "databases": databases,
        "matching_us_per_database": round(matching, 1),
        "drifting_us_per_database": round(drifting, 1),
        "deepdiff_us_per_call": round(deepdiff, 1),
        "goal_us": GOAL_US,
        "ratio_matching_to_goal": round(matching / GOAL_US, 3),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(diff_cost(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000), indent=2))
