"""What the real API refuses (issue 12 part 6): writes on a database that is not `active`, and a backup beyond
the subscription's concurrent-backup limit, each configurable where API-NOTES says the manner is unconfirmed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Emulator, ManualClock
from tests.support.emulator_http import fixed_db, pro_db
from tests.support.examples import LEGACY, MARKETING_CACHE, ORDERS, PROD_EU, SESSIONS

Finish = Callable[[httpx.Response], dict[str, Any]]

IMPORT_BODY = {"sourceType": "aws-s3", "importFromUri": ["s3://acme-seeds/orders/orders-1_of_1.rdb.gz"]}
PRO_BACKUP = {"remoteBackup": {"active": True, "interval": "every-6-hours", "storageType": "aws-s3",
                               "storagePath": "s3://acme-backups/orders"}}  # fmt: skip

WRITES = [
    pytest.param("PUT", pro_db(ORDERS), PRO_BACKUP, id="pro-put"),
    pytest.param("POST", pro_db(ORDERS) + "/backup", None, id="pro-backup"),
    pytest.param("POST", pro_db(ORDERS) + "/import", IMPORT_BODY, id="pro-import"),
    pytest.param("PUT", fixed_db(MARKETING_CACHE), {"periodicBackupPath": "s3://mkt/b"}, id="essentials-put"),
    pytest.param("POST", fixed_db(MARKETING_CACHE) + "/import", IMPORT_BODY, id="essentials-import"),
]


def _database_id(path: str) -> int:
    return int(path.split("/databases/")[1].split("/")[0])


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_write_on_a_busy_database_ends_in_database_not_active(
    emulator: Emulator, client: httpx.Client, finish: Finish, method: str, path: str, body: Any
) -> None:
    emulator.hold_status(_database_id(path), "active-change-pending", 5.0)
    assert client.get(path.removesuffix("/backup").removesuffix("/import")).json()["status"] == "active-change-pending"
    task = finish(client.request(method, path, json=body))
    assert task["status"] == "processing-error"
    assert task["response"]["error"]["type"] == "DATABASE_NOT_ACTIVE"
    assert emulator.backup_history() == [] and emulator.import_history() == []


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_write_on_a_busy_database_is_a_synchronous_400_when_validation_errors_are(
    emulator: Emulator, client: httpx.Client, method: str, path: str, body: Any
) -> None:
    emulator.set_options(validation_errors="synchronous")
    emulator.hold_status(_database_id(path), "active-change-pending", 5.0)
    response = client.request(method, path, json=body)
    assert response.status_code == 400
    assert response.json()["type"] == "DATABASE_NOT_ACTIVE"


def test_the_write_is_accepted_once_the_database_is_active_again(
    emulator: Emulator, client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    emulator.hold_status(ORDERS, "active-change-pending", 1.0)
    clock.advance(1.0)
    assert finish(client.post(pro_db(ORDERS) + "/backup"))["status"] == "processing-completed"
    assert len(emulator.backup_history(ORDERS)) == 1


def test_a_second_put_during_the_first_ones_transient_status_is_refused(
    client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    finish(client.put(pro_db(ORDERS), json=PRO_BACKUP))
    refused = finish(client.put(pro_db(ORDERS), json=PRO_BACKUP))
    assert refused["response"]["error"]["type"] == "DATABASE_NOT_ACTIVE"
    clock.advance(0.5)  # timings.database_transient
    assert finish(client.put(pro_db(ORDERS), json=PRO_BACKUP))["status"] == "processing-completed"


def _fill_the_subscription(emulator: Emulator) -> None:
    for database in (ORDERS, SESSIONS, LEGACY, SESSIONS):  # scheduled backups, not started by any client
        emulator.start_foreign_backup(database, 10.0)


def test_foreign_backups_occupy_the_subscriptions_slots(emulator: Emulator, client: httpx.Client) -> None:
    _fill_the_subscription(emulator)
    assert client.post(pro_db(ORDERS) + "/backup").status_code == 429  # the default refusal, as before
    assert len(emulator.backup_history()) == 4


def test_a_backup_beyond_the_limit_can_be_refused_with_a_409(emulator: Emulator, client: httpx.Client) -> None:
    emulator.set_options(backup_limit_refusal="conflict")
    _fill_the_subscription(emulator)
    assert client.post(pro_db(ORDERS) + "/backup").status_code == 409
    assert len(emulator.backup_history()) == 4


def test_a_backup_beyond_the_limit_can_end_in_a_failed_task(
    emulator: Emulator, client: httpx.Client, finish: Finish
) -> None:
    emulator.set_options(backup_limit_refusal="task-error")
    _fill_the_subscription(emulator)
    task = finish(client.post(pro_db(ORDERS) + "/backup"))
    assert task["status"] == "processing-error"
    assert task["response"]["error"]["type"] == "DATABASE_BACKUP_FAILED"
    assert len(emulator.backup_history()) == 4
    assert emulator.peak_concurrent_backups(PROD_EU) == 0  # none of ours ever ran


@pytest.mark.parametrize(
    ("vocabulary", "running", "succeeded"),
    [("cloud", "in-progress", "success"), ("cluster", "exporting", "succeeded")],
)
def test_backup_status_words_follow_the_vocabulary_option(
    emulator: Emulator, client: httpx.Client, clock: ManualClock, finish: Finish,
    vocabulary: str, running: str, succeeded: str,
) -> None:  # fmt: skip
    emulator.set_options(status_vocabulary=vocabulary)
    finish(client.post(pro_db(ORDERS) + "/backup"))
    assert finish(client.get(pro_db(ORDERS) + "/backup"))["response"]["resource"]["status"] == running
    clock.advance(1.0)
    assert finish(client.get(pro_db(ORDERS) + "/backup"))["response"]["resource"]["status"] == succeeded


@pytest.mark.parametrize(("vocabulary", "succeeded"), [("cloud", "success"), ("cluster", "succeeded")])
def test_import_status_words_follow_the_vocabulary_option(
    emulator: Emulator, client: httpx.Client, clock: ManualClock, finish: Finish, vocabulary: str, succeeded: str
) -> None:
    emulator.set_options(status_vocabulary=vocabulary)
    finish(client.post(pro_db(ORDERS) + "/import", json=IMPORT_BODY))
    assert finish(client.get(pro_db(ORDERS) + "/import"))["response"]["resource"]["status"] == "importing"
    clock.advance(1.0)
    assert finish(client.get(pro_db(ORDERS) + "/import"))["response"]["resource"]["status"] == succeeded
