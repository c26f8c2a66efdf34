"""Active-Active databases (issue 19): per-region reads, `PUT …/regions`, and the region rules of on-demand backups
and their status (API-NOTES §1-§3, §11; the error names of the OpenAPI enum)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Emulator, ManualClock
from tests.support.emulator_http import pro_db
from tests.support.examples import GLOBAL, ORDERS, ORDERS_AA

Finish = Callable[[httpx.Response], dict[str, Any]]
AA = pro_db(ORDERS_AA, GLOBAL)
EAST_ON = {
    "active": True,
    "interval": "every-12-hours",
    "timeUTC": "14:00",
    "storageType": "aws-s3",
    "storagePath": "s3://acme-backups/aa-east-2",
}


def _regions(client: httpx.Client) -> dict[str, Any]:
    return {region["region"]: region["backup"] for region in client.get(AA).json()["crdbDatabases"]}


def test_an_active_active_database_reads_one_backup_per_region_and_none_of_its_own(client: httpx.Client) -> None:
    shape = client.get(AA).json()
    assert shape["activeActiveRedis"] is True and "backup" not in shape
    assert _regions(client) == {
        "us-east-1": {
            "enableRemoteBackup": True,
            "interval": "every-24-hours",
            "timeUTC": "02:00",
            "destination": "s3://acme-backups/orders-aa/us-east-1",
        },
        # The seed stores "16:00"; the API reports a 12-hourly afternoon time as its morning twin (API-NOTES §1).
        "eu-west-1": {
            "enableRemoteBackup": True,
            "interval": "every-12-hours",
            "timeUTC": "04:00",
            "destination": "s3://acme-backups-eu/orders-aa/eu-west-1",
        },
    }
    listed = client.get(f"/subscriptions/{GLOBAL}/databases").json()["subscription"][0]["databases"]
    assert [item["crdbDatabases"] for item in listed] == [shape["crdbDatabases"]]
    assert "activeActiveRedis" not in client.get(pro_db(ORDERS)).json()


def test_put_regions_changes_only_the_regions_it_lists(
    client: httpx.Client, finish: Finish, clock: ManualClock
) -> None:
    task = finish(client.put(AA + "/regions", json={"regions": [{"region": "us-east-1", "remoteBackup": EAST_ON}]}))
    assert task["status"] == "processing-completed" and task["commandType"] == "databaseUpdateRequest"
    regions = _regions(client)
    assert regions["us-east-1"]["destination"] == "s3://acme-backups/aa-east-2"
    assert regions["us-east-1"]["timeUTC"] == "02:00"  # the morning twin of 14:00
    assert regions["eu-west-1"]["destination"] == "s3://acme-backups-eu/orders-aa/eu-west-1"

    clock.advance(1.0)  # past the transient status after an update: the API refuses writes until `active`
    finish(client.put(AA + "/regions", json={"regions": [{"region": "eu-west-1", "remoteBackup": {"active": False}}]}))
    assert _regions(client)["eu-west-1"] == {"enableRemoteBackup": False, "interval": "", "timeUTC": ""}


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        pytest.param(AA, {"periodicBackupPath": "s3://x/y"}, "ACTIVE_ACTIVE_DATABASE_PERIODIC_BACK_UP_PATH_NOT_ALLOWED",
                     id="periodic-path-on-the-database"),
        pytest.param(AA + "/regions", {"periodicBackupPath": "s3://x/y", "regions": []},
                     "ACTIVE_ACTIVE_DATABASE_PERIODIC_BACK_UP_PATH_NOT_ALLOWED", id="periodic-path-with-regions"),
        pytest.param(AA, {"remoteBackup": EAST_ON}, "UPDATING_SINGLE_REGION_DATABASE_NOT_ALLOWED_WITH_ACTIVE_ACTIVE_SUBSCRIPTION",
                     id="database-wide-remote-backup"),
        pytest.param(AA + "/regions", {"regions": [{"region": "ap-south-1", "remoteBackup": EAST_ON}]},
                     "ACTIVE_ACTIVE_MISMATCH_BETWEEN_REQUEST_REGIONS_AND_SUBSCRIPTION_REGIONS", id="unknown-region"),
        pytest.param(AA + "/regions", {"regions": [{"region": "us-east-1"}, {"region": "us-east-1"}]},
                     "ACTIVE_ACTIVE_REGIONS_MUST_BE_DEFINED_ONCE", id="region-twice"),
        pytest.param(AA + "/regions", {"regions": [{"region": "us-east-1", "remoteBackup": {"interval": "weekly"}}]},
                     "DATABASE_INVALID_BACKUP_INTERVAL", id="a-region-s-backup-is-validated"),
        pytest.param(pro_db(ORDERS) + "/regions", {"regions": [{"region": "us-east-1", "remoteBackup": EAST_ON}]},
                     "UPDATING_LOCAL_PROPERTIES_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION", id="single-region"),
    ],
)  # fmt: skip
def test_backup_settings_writes_that_active_active_rules_refuse(
    client: httpx.Client, finish: Finish, path: str, body: dict[str, Any], error: str
) -> None:
    before = client.get(AA).json()["crdbDatabases"]
    task = finish(client.put(path, json=body))
    assert task["status"] == "processing-error" and task["response"]["error"]["type"] == error
    assert client.get(AA).json()["crdbDatabases"] == before


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        pytest.param(AA, None, "ACTIVE_ACTIVE_BACKUP_MISSING_REGION_NAME", id="aa-without-region"),
        pytest.param(AA, {"regionName": "ap-south-1"}, "ACTIVE_ACTIVE_INVALID_BACKUP_REGION_NAME", id="aa-unknown"),
        pytest.param(pro_db(ORDERS), {"regionName": "us-east-1"},
                     "BACKUP_REGION_NAME_IS_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION", id="single-region"),
    ],
)  # fmt: skip
def test_on_demand_backups_need_a_region_exactly_on_active_active_databases(
    emulator: Emulator, client: httpx.Client, finish: Finish, path: str, body: dict[str, Any] | None, error: str
) -> None:
    task = finish(client.post(path + "/backup", json=body))
    assert task["response"]["error"]["type"] == error
    assert emulator.backup_history() == []


@pytest.mark.parametrize(
    ("path", "query", "error"),
    [
        pytest.param(AA, {}, "ACTIVE_ACTIVE_BACKUP_STATUS_MISSING_REGION_NAME", id="aa-without-region"),
        pytest.param(AA, {"regionName": "ap-south-1"}, "ACTIVE_ACTIVE_INVALID_BACKUP_STATUS_REGION_NAME", id="aa-unknown"),
        pytest.param(pro_db(ORDERS), {"regionName": "us-east-1"},
                     "BACKUP_STATUS_REGION_NAME_IS_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION", id="single-region"),
    ],
)  # fmt: skip
def test_backup_status_needs_a_region_exactly_on_active_active_databases(
    client: httpx.Client, finish: Finish, path: str, query: dict[str, str], error: str
) -> None:
    task = finish(client.get(path + "/backup", params=query))
    assert task["commandType"] == "databaseBackupStatusRequest"
    assert task["response"]["error"]["type"] == error


def test_each_region_is_backed_up_on_its_own_to_its_own_destination_and_reports_its_own_status(
    emulator: Emulator, client: httpx.Client, finish: Finish
) -> None:
    east = client.post(AA + "/backup", json={"regionName": "us-east-1"})
    west = client.post(AA + "/backup", json={"regionName": "eu-west-1"})
    assert finish(east)["status"] == finish(west)["status"] == "processing-completed"
    # Both ran at once: each region's backup is a backup of its own, and each takes a slot of the subscription.
    assert emulator.peak_concurrent_backups(GLOBAL) == 2
    assert sorted(r.destination for r in emulator.backup_history(ORDERS_AA)) == [
        "s3://acme-backups-eu/orders-aa/eu-west-1",
        "s3://acme-backups/orders-aa/us-east-1",
    ]
    finish(client.put(AA + "/regions", json={"regions": [{"region": "eu-west-1", "remoteBackup": {"active": False}}]}))
    status = finish(client.get(AA + "/backup", params={"regionName": "us-east-1"}))
    assert status["response"]["resource"]["status"] == "success"
    off = finish(client.get(AA + "/backup", params={"regionName": "eu-west-1"}))
    assert off["response"]["error"]["type"] == "DATABASE_BACKUP_DISABLED"
