"""Single-database reads and backup-setting writes of both tiers (API-NOTES §1, §2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Emulator, ManualClock
from tests.support.emulator_http import fixed_db, pro_db
from tests.support.examples import CATALOG, LEGACY, MARKETING_CACHE, ORDERS, SCRATCH, SESSIONS

Finish = Callable[[httpx.Response], dict[str, Any]]
CATALOG_ON = {
    "active": True,
    "interval": "every-24-hours",
    "timeUTC": "02:00",
    "storageType": "aws-s3",
    "storagePath": "s3://acme-backups/catalog",
}


def _backup(client: httpx.Client, path: str) -> dict[str, Any]:
    backup: dict[str, Any] = client.get(path).json()["backup"]
    return backup


def test_pro_backup_reads_with_the_go_client_shape(client: httpx.Client) -> None:
    assert _backup(client, pro_db(ORDERS)) == {
        "enableRemoteBackup": True,
        "interval": "every-24-hours",
        "timeUTC": "04:00",
        "destination": "s3://acme-backups/orders",
    }


def test_disabled_pro_backup_reads_back_as_empty_strings_without_destination(client: httpx.Client) -> None:
    assert _backup(client, pro_db(CATALOG)) == {"enableRemoteBackup": False, "interval": "", "timeUTC": ""}


def test_twelve_hour_time_reads_back_as_morning_twin(client: httpx.Client) -> None:
    assert _backup(client, pro_db(SESSIONS))["timeUTC"] == "04:00"


def test_twenty_four_hour_afternoon_time_reads_back_unchanged(client: httpx.Client, finish: Finish) -> None:
    finish(client.put(pro_db(CATALOG), json={"remoteBackup": {**CATALOG_ON, "timeUTC": "16:00"}}))
    assert _backup(client, pro_db(CATALOG))["timeUTC"] == "16:00"


def test_storage_type_is_never_returned(client: httpx.Client, finish: Finish) -> None:
    finish(client.put(pro_db(CATALOG), json={"remoteBackup": CATALOG_ON}))
    database = client.get(pro_db(CATALOG)).json()
    assert "storageType" not in database["backup"]
    assert "storageType" not in str(database) and "aws-s3" not in str(database)


def test_pro_update_answers_a_database_update_task(client: httpx.Client) -> None:
    task = client.put(pro_db(CATALOG), json={"remoteBackup": CATALOG_ON}).json()
    assert task["commandType"] == "databaseUpdateRequest"
    assert task["status"] == "received"


def test_settings_change_only_when_the_update_task_completes(
    client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    response = client.put(pro_db(CATALOG), json={"remoteBackup": CATALOG_ON})
    assert _backup(client, pro_db(CATALOG))["enableRemoteBackup"] is False
    task = finish(response)
    assert task["status"] == "processing-completed"
    assert task["response"]["resourceId"] == CATALOG
    assert _backup(client, pro_db(CATALOG)) == {
        "enableRemoteBackup": True,
        "interval": "every-24-hours",
        "timeUTC": "02:00",
        "destination": "s3://acme-backups/catalog",
    }


def test_database_status_passes_through_a_transient_status(client: httpx.Client, clock: ManualClock) -> None:
    assert client.get(pro_db(CATALOG)).json()["status"] == "active"
    client.put(pro_db(CATALOG), json={"remoteBackup": CATALOG_ON})
    seen = []
    for _ in range(12):
        seen.append(client.get(pro_db(CATALOG)).json()["status"])
        clock.advance(0.1)
    assert seen[0] == "active-change-pending"
    assert seen[-1] == "active"
    assert seen.index("active") >= 7  # task (0.3 s) + transient (0.5 s)


def test_active_false_switches_remote_backup_off(client: httpx.Client, finish: Finish) -> None:
    finish(client.put(pro_db(ORDERS), json={"remoteBackup": {"active": False}}))
    assert _backup(client, pro_db(ORDERS)) == {"enableRemoteBackup": False, "interval": "", "timeUTC": ""}


def test_periodic_backup_path_means_daily_backups_to_that_path(client: httpx.Client, finish: Finish) -> None:
    finish(client.put(pro_db(CATALOG), json={"periodicBackupPath": "gs://acme-backups-gcs/catalog"}))
    backup = _backup(client, pro_db(CATALOG))
    assert backup["enableRemoteBackup"] is True
    assert backup["interval"] == "every-24-hours"
    assert backup["destination"] == "gs://acme-backups-gcs/catalog"


def test_empty_periodic_backup_path_removes_the_path(client: httpx.Client, finish: Finish) -> None:
    finish(client.put(pro_db(LEGACY), json={"periodicBackupPath": ""}))
    assert _backup(client, pro_db(LEGACY))["enableRemoteBackup"] is False


def test_both_backup_specifications_are_too_many(client: httpx.Client, finish: Finish) -> None:
    body = {"remoteBackup": CATALOG_ON, "periodicBackupPath": "s3://acme-backups/catalog"}
    task = finish(client.put(pro_db(CATALOG), json=body))
    assert task["status"] == "processing-error"
    assert task["response"]["error"]["type"] == "DATABASE_INVALID_TOO_MANY_BACKUP_SPECIFICATIONS"
    assert _backup(client, pro_db(CATALOG))["enableRemoteBackup"] is False


@pytest.mark.parametrize(
    ("change", "error_type"),
    [
        pytest.param({"interval": "every-3-hours"}, "DATABASE_INVALID_BACKUP_INTERVAL", id="interval"),
        pytest.param({"interval": "every-1-hour"}, "DATABASE_INVALID_BACKUP_INTERVAL", id="interval-singular"),
        pytest.param({"storageType": "http"}, "DATABASE_INVALID_BACKUP_STORAGE_TYPE", id="storage-type"),
        pytest.param({"timeUTC": "25:00"}, "DATABASE_INVALID_BACKUP_TIME_UTC", id="time-hour"),
        pytest.param({"timeUTC": "4am"}, "DATABASE_INVALID_BACKUP_TIME_UTC", id="time-format"),
        pytest.param(
            {"interval": "every-6-hours"}, "DATABASE_INVALID_BACKUP_INTERVAL_AND_TIME_UTC_MISMATCH", id="time-6h"
        ),
        pytest.param({"storagePath": "gs://acme/catalog"}, "DATABASE_INVALID_BACKUP_PATH", id="path-scheme"),
        pytest.param(
            {"storageType": "ftp", "storagePath": "s3://a/b"}, "DATABASE_INVALID_BACKUP_PATH", id="ftp-path-scheme"
        ),
    ],
)
def test_invalid_remote_backup_ends_the_task_in_the_documented_error(
    client: httpx.Client, finish: Finish, change: dict[str, str], error_type: str
) -> None:
    task = finish(client.put(pro_db(CATALOG), json={"remoteBackup": {**CATALOG_ON, **change}}))
    assert task["status"] == "processing-error"
    assert task["response"]["error"] == {
        "type": error_type,
        "status": "400 BAD_REQUEST",
        "description": task["response"]["error"]["description"],
    }
    assert _backup(client, pro_db(CATALOG))["enableRemoteBackup"] is False


def test_invalid_periodic_backup_path_is_refused(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.put(pro_db(CATALOG), json={"periodicBackupPath": "https://example.com/x"}))
    assert task["response"]["error"]["type"] == "DATABASE_INVALID_BACKUP_PATH"


def test_validation_errors_can_be_synchronous(emulator: Emulator, client: httpx.Client) -> None:
    emulator.set_options(validation_errors="synchronous")
    response = client.put(pro_db(CATALOG), json={"remoteBackup": {**CATALOG_ON, "interval": "daily"}})
    assert response.status_code == 400
    assert response.json()["type"] == "DATABASE_INVALID_BACKUP_INTERVAL"
    assert response.json()["status"] == 400


def test_dry_run_update_changes_nothing(client: httpx.Client, finish: Finish) -> None:
    response = client.put(pro_db(CATALOG), json={"dryRun": True, "remoteBackup": CATALOG_ON})
    assert client.get(pro_db(CATALOG)).json()["status"] == "active"
    assert finish(response)["status"] == "processing-completed"
    assert _backup(client, pro_db(CATALOG))["enableRemoteBackup"] is False


def test_essentials_disabled_backup_reads_without_interval_or_destination(client: httpx.Client) -> None:
    assert _backup(client, fixed_db(MARKETING_CACHE)) == {"remoteBackupEnabled": False, "status": "idle"}


def test_essentials_periodic_backup_path_reads_back_as_destination(client: httpx.Client, finish: Finish) -> None:
    finish(client.put(fixed_db(MARKETING_CACHE), json={"periodicBackupPath": "s3://acme-backups/marketing"}))
    database = client.get(fixed_db(MARKETING_CACHE)).json()
    assert database["backup"] == {
        "remoteBackupEnabled": True,
        "status": "idle",
        "interval": "every-24-hours",
        "destination": "s3://acme-backups/marketing",
    }
    assert "periodicBackupPath" not in database


def test_essentials_empty_periodic_backup_path_removes_it(
    client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    finish(client.put(fixed_db(MARKETING_CACHE), json={"periodicBackupPath": "s3://acme-backups/marketing"}))
    clock.advance(0.5)  # the database is `active` again once the change has settled
    finish(client.put(fixed_db(MARKETING_CACHE), json={"periodicBackupPath": ""}))
    assert _backup(client, fixed_db(MARKETING_CACHE)) == {"remoteBackupEnabled": False, "status": "idle"}


def test_essentials_security_uses_its_own_field_name(client: httpx.Client) -> None:
    assert "defaultUserEnabled" in client.get(fixed_db(SCRATCH)).json()["security"]
    assert "enableDefaultUser" in client.get(pro_db(ORDERS)).json()["security"]
