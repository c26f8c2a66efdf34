"""Periodic backups write real files on each database's interval, accelerated for the sandbox."""

from __future__ import annotations

from urllib.parse import urlsplit

from reconciler.sandbox import load_seed
from reconciler.sandbox.data import hooks
from reconciler.sandbox.data.periodic import PeriodicBackups, interval_seconds
from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.data.stores import Stores
from reconciler.sandbox.state import Database
from tests.support.data_plane import client_of, data_of
from tests.support.examples import SCRATCH, SEED

ANALYTICS, INVENTORY = 7654401, 7654402  # every-6-hours, every-1-hours in the seed


def test_each_database_is_backed_up_on_its_own_accelerated_interval(plane: DataPlane, stores: Stores) -> None:
    world = load_seed(SEED)
    client_of(plane, INVENTORY).mset({"sku:1": "10", "sku:2": "20"})
    schedule = PeriodicBackups(lambda: world, plane, speedup=3600, clock=lambda: 1000.0)  # an hour is a second

    assert schedule.run_due(1000.5) == []
    hourly = schedule.run_due(1001.01)
    assert [urlsplit(uri).path.split("/")[1] for uri in hourly] == ["inventory"]
    six_hourly = schedule.run_due(1006.02)
    # orders-prod and legacy-reports back up every 24 hours: not yet.
    assert {uri.rsplit("/", 1)[0] for uri in six_hourly} == {
        "s3://acme-backups/analytics",
        "s3://acme-backups/inventory",
    }

    (restored,) = hourly
    database: Database = next(db for db in world["databases"] if db["id"] == SCRATCH)
    verdict = hooks.judge_import(world, database, "aws-s3", [restored])
    verdict.carry_out("restore-task")
    assert verdict.outcome == "success"
    assert data_of(plane, SCRATCH) == {"sku:1": "10", "sku:2": "20"}
    assert restored in stores.for_uri(restored).list("s3://acme-backups/inventory/")


def test_intervals_are_read_from_the_api_values() -> None:
    assert [interval_seconds(v) for v in ("every-1-hours", "every-12-hours", "every-24-hours", "", "daily")] == [
        3600.0,
        43200.0,
        86400.0,
        None,
        None,
    ]
