"""On-demand backups, backup status, and the 4-backups-per-subscription limit (API-NOTES §3)."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from reconciler.sandbox import Emulator, ManualClock
from reconciler.sandbox.timings import iso_utc
from tests.support.emulator_http import fixed_db, pro_db
from tests.support.examples import (
    ANALYTICS,
    ANALYTICS_DB,
    CATALOG,
    INVENTORY,
    LEGACY,
    MARKETING_CACHE,
    ORDERS,
    PROD_EU,
    SCRATCH,
    SESSIONS,
)

Finish = Callable[[httpx.Response], dict[str, Any]]


def test_backup_post_answers_a_backup_task(client: httpx.Client, finish: Finish) -> None:
    response = client.post(pro_db(ORDERS) + "/backup")
    assert response.json()["commandType"] == "databaseBackupRequest"
    assert finish(response)["status"] == "processing-completed"


def test_backup_without_destination_is_disabled_on_pro(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.post(pro_db(CATALOG) + "/backup"))
    assert task["status"] == "processing-error"
    assert task["response"]["error"]["type"] == "DATABASE_BACKUP_DISABLED"


def test_backup_without_destination_is_not_configured_on_essentials(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.post(fixed_db(MARKETING_CACHE) + "/backup"))
    assert task["response"]["error"]["type"] == "DATABASE_BACKUP_NOT_CONFIGURED"


def test_adhoc_backup_path_works_when_backup_is_off(emulator: Emulator, client: httpx.Client, finish: Finish) -> None:
    task = finish(client.post(pro_db(CATALOG) + "/backup", json={"adhocBackupPath": "s3://acme-adhoc/catalog"}))
    assert task["status"] == "processing-completed"
    [record] = emulator.backup_history(CATALOG)
    assert (record.destination, record.adhoc) == ("s3://acme-adhoc/catalog", True)


def test_adhoc_backup_path_with_unknown_scheme_is_refused(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.post(pro_db(ORDERS) + "/backup", json={"adhocBackupPath": "/tmp/backup"}))
    assert task["response"]["error"]["type"] == "DATABASE_INVALID_BACKUP_PATH"


def test_backup_status_is_itself_a_task(client: httpx.Client) -> None:
    task = client.get(pro_db(ORDERS) + "/backup").json()
    assert task["commandType"] == "databaseBackupStatusRequest"
    assert task["status"] == "received"


def test_never_backed_up_database_reports_an_empty_status(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.get(pro_db(ORDERS) + "/backup"))
    assert task["response"]["resource"] == {}
    assert task["response"]["resourceId"] == ORDERS
    assert task["response"]["additionalResourceId"] == PROD_EU


def test_backup_status_shows_progress_then_success_with_last_backup_time(
    client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    finish(client.post(pro_db(ORDERS) + "/backup"))
    running = finish(client.get(pro_db(ORDERS) + "/backup"))["response"]["resource"]
    assert running == {"status": "in-progress"}
    clock.advance(1.0)
    done = finish(client.get(pro_db(ORDERS) + "/backup"))["response"]["resource"]
    assert done["status"] == "success"
    assert done["lastBackupTime"].endswith("Z") and "T" in done["lastBackupTime"]


def test_backup_status_task_errors_when_backup_is_disabled(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.get(pro_db(CATALOG) + "/backup"))
    assert task["status"] == "processing-error"
    assert task["response"]["error"] == {
        "type": "DATABASE_BACKUP_DISABLED",
        "status": "400 BAD_REQUEST",
        "description": "Database backup is disabled",
    }


def test_essentials_backup_status_task_errors_when_backup_is_off(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.get(fixed_db(MARKETING_CACHE) + "/backup"))
    assert task["response"]["error"]["type"] == "DATABASE_BACKUP_DISABLED"


def test_fifth_simultaneous_backup_in_subscription_is_refused(emulator: Emulator, client: httpx.Client) -> None:
    adhoc = {"adhocBackupPath": "s3://acme-adhoc/x"}
    for database_id in (ORDERS, SESSIONS, LEGACY, ORDERS):
        assert client.post(pro_db(database_id) + "/backup").status_code == 200
    refused = client.post(pro_db(CATALOG) + "/backup", json=adhoc)
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Remaining"] != "0"  # not a request-rate 429
    assert emulator.peak_concurrent_backups(PROD_EU) == 4
    assert len(emulator.backup_history()) == 4


def test_backup_slot_frees_when_a_backup_finishes(emulator: Emulator, client: httpx.Client, clock: ManualClock) -> None:
    for _ in range(4):
        client.post(pro_db(ORDERS) + "/backup")
        clock.advance(0.3)
    assert client.post(pro_db(SESSIONS) + "/backup").status_code == 200  # the first ended at t=1.0
    assert emulator.peak_concurrent_backups(PROD_EU) == 4


def test_backups_in_another_subscription_do_not_count(emulator: Emulator, client: httpx.Client) -> None:
    for _ in range(4):
        client.post(pro_db(ORDERS) + "/backup")
    assert client.post(pro_db(INVENTORY, ANALYTICS) + "/backup").status_code == 200
    assert client.post(pro_db(ANALYTICS_DB, ANALYTICS) + "/backup").status_code == 200
    assert emulator.peak_concurrent_backups(ANALYTICS) == 2


def test_backup_limit_is_configurable(emulator: Emulator, client: httpx.Client) -> None:
    emulator.set_options(max_concurrent_backups_per_subscription=1)
    assert client.post(pro_db(ORDERS) + "/backup").status_code == 200
    assert client.post(pro_db(SESSIONS) + "/backup").status_code == 429


def test_fixed_backup_of_a_pro_database_has_its_own_error(client: httpx.Client) -> None:
    response = client.post(f"/fixed/subscriptions/{PROD_EU}/databases/{ORDERS}/backup")
    assert response.status_code == 400
    assert response.json()["type"] == "BACKUP_A_FIXED_DATABASE_IS_NOT_ALLOWED_WITH_A_FLEXIBLE_SUBSCRIPTION"


def test_region_name_on_a_single_region_backup_is_refused(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.post(pro_db(ORDERS) + "/backup", json={"regionName": "us-east-1"}))
    assert task["response"]["error"]["type"] == "BACKUP_REGION_NAME_IS_NOT_ALLOWED_WITH_SINGLE_REGION_SUBSCRIPTION"


def test_essentials_backup_with_a_path_runs(
    emulator: Emulator, client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    finish(client.put(fixed_db(SCRATCH), json={"periodicBackupPath": "s3://acme-backups/scratch"}))
    clock.advance(0.5)  # the database is `active` again once the change has settled
    assert finish(client.post(fixed_db(SCRATCH) + "/backup"))["status"] == "processing-completed"
    assert [r.destination for r in emulator.backup_history(SCRATCH)] == ["s3://acme-backups/scratch"]


def test_a_seeded_backup_reads_back_with_its_time_and_its_failure(
    emulator: Emulator, client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    """What `check` judges: a scheduled backup that ended some time ago, and one that failed with a reason."""
    emulator.seed_backup(ORDERS, ago=30 * 3600)
    emulator.seed_backup(SESSIONS, ago=600, failure_reason="bucket-not-found")
    orders = finish(client.get(pro_db(ORDERS) + "/backup"))["response"]["resource"]
    assert orders == {"status": "success", "lastBackupTime": iso_utc(clock() - 30 * 3600)}
    sessions = finish(client.get(pro_db(SESSIONS) + "/backup"))["response"]["resource"]
    assert sessions["status"] == "failed" and sessions["failureReason"] == "bucket-not-found"


def test_every_answer_carries_the_date_on_the_worlds_clock(client: httpx.Client, clock: ManualClock) -> None:
    """RFC 9110: a server with a clock sends `Date`; the product ages backups by it (SPEC §10: server times)."""
    answer = client.get(pro_db(ORDERS) + "/backup")
    assert parsedate_to_datetime(answer.headers["date"]).timestamp() == int(clock())
    assert client.get("/no/such/path").headers["date"]  # errors too
