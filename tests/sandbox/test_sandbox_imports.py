"""Imports: validation, overwrite, history, missing and corrupt sources (API-NOTES §4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Emulator, ManualClock
from tests.support.emulator_http import fixed_db, pro_db
from tests.support.examples import CATALOG, MARKETING_CACHE, ORDERS, PROD_EU

Finish = Callable[[httpx.Response], dict[str, Any]]
SHARDS = [f"s3://acme-seeds/orders/orders-{n}_of_3.rdb.gz" for n in (1, 2, 3)]
ORDERS_IMPORT = {"sourceType": "aws-s3", "importFromUri": SHARDS}


def test_import_answers_an_import_task(client: httpx.Client, finish: Finish) -> None:
    response = client.post(pro_db(ORDERS) + "/import", json=ORDERS_IMPORT)
    assert response.json()["commandType"] == "databaseImportRequest"
    assert finish(response)["status"] == "processing-completed"


def test_import_overwrites_the_data_and_is_recorded_in_history(
    emulator: Emulator, client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    before = emulator.database(ORDERS)["data"]["generation"]
    finish(client.post(pro_db(ORDERS) + "/import", json=ORDERS_IMPORT))
    clock.advance(1.0)
    data = emulator.database(ORDERS)["data"]
    assert data["generation"] == before + 1
    assert data["loaded_from"] == SHARDS
    [record] = emulator.import_history(ORDERS)
    assert record.uris == tuple(SHARDS) and record.source_type == "aws-s3"
    assert record.status == "success" and record.finished_at > record.started_at


def test_import_status_is_a_task_showing_importing_then_success(
    client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    finish(client.post(pro_db(ORDERS) + "/import", json=ORDERS_IMPORT))
    running = finish(client.get(pro_db(ORDERS) + "/import"))
    assert running["commandType"] == "databaseImportStatusRequest"
    assert running["response"]["resource"] == {"status": "importing"}
    clock.advance(1.0)
    done = finish(client.get(pro_db(ORDERS) + "/import"))["response"]["resource"]
    assert done["status"] == "success" and done["lastImportTime"].endswith("Z")


def test_each_import_that_ran_is_kept_in_history(emulator: Emulator, client: httpx.Client, finish: Finish) -> None:
    finish(client.post(pro_db(ORDERS) + "/import", json=ORDERS_IMPORT))
    finish(client.post(pro_db(ORDERS) + "/import", json={"sourceType": "aws-s3", "importFromUri": SHARDS[:1]}))
    assert [len(r.uris) for r in emulator.import_history(ORDERS)] == [3, 1]
    assert emulator.import_history(CATALOG) == []


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        pytest.param({"sourceType": "s3", "importFromUri": SHARDS}, "DATABASE_INVALID_IMPORT_SOURCE_TYPE", id="type"),
        pytest.param({"importFromUri": SHARDS}, "DATABASE_INVALID_IMPORT_SOURCE_TYPE", id="no-type"),
        pytest.param({"sourceType": "aws-s3"}, "DATABASE_IMPORT_URI_NOT_PROVIDED", id="no-uri"),
        pytest.param({"sourceType": "aws-s3", "importFromUri": []}, "DATABASE_IMPORT_URI_NOT_PROVIDED", id="empty"),
        pytest.param(
            {"sourceType": "aws-s3", "importFromUri": ["gs://b/f.rdb"]}, "DATABASE_IMPORT_S3_BAD_URI", id="s3"
        ),
        pytest.param(
            {"sourceType": "google-blob-storage", "importFromUri": ["s3://b/f.rdb"]},
            "DATABASE_IMPORT_GCS_BAD_URI",
            id="gcs",
        ),
        pytest.param(
            {"sourceType": "azure-blob-storage", "importFromUri": ["https://x/f.rdb"]},
            "DATABASE_IMPORT_AZURE_BAD_URI",
            id="azure",
        ),
        pytest.param({"sourceType": "ftp", "importFromUri": ["s3://b/f"]}, "DATABASE_IMPORT_FTP_BAD_URI", id="ftp"),
        pytest.param({"sourceType": "http", "importFromUri": ["ftp://h/f"]}, "DATABASE_IMPORT_HTTP_BAD_URI", id="http"),
        pytest.param(
            {"sourceType": "redis", "importFromUri": ["http://h"]}, "DATABASE_IMPORT_REDIS_BAD_URI", id="redis"
        ),
        pytest.param(
            {"sourceType": "redis", "importFromUri": ["redis://a:1", "redis://b:1"]},
            "DATABASE_IMPORT_MULTIPLE_REDIS_SOURCES",
            id="two-redis",
        ),
        pytest.param(
            {"sourceType": "aws-s3", "importFromUri": [SHARDS[0], SHARDS[0]]},
            "DUPLICATE_DATABASE_IMPORT_SOURCE_PATH",
            id="duplicate",
        ),
    ],
)
def test_invalid_import_fails_with_the_documented_error_and_never_runs(
    emulator: Emulator, client: httpx.Client, finish: Finish, body: dict[str, Any], error_type: str
) -> None:
    task = finish(client.post(pro_db(ORDERS) + "/import", json=body))
    assert task["status"] == "processing-error"
    assert task["response"]["error"]["type"] == error_type
    assert emulator.import_history(ORDERS) == []


def test_missing_source_fails_the_task_with_source_not_found(
    emulator: Emulator, client: httpx.Client, finish: Finish
) -> None:
    emulator.mark_source(SHARDS[1], "missing")
    task = finish(client.post(pro_db(ORDERS) + "/import", json=ORDERS_IMPORT))
    assert task["response"]["error"]["type"] == "DATABASE_IMPORT_SOURCE_NOT_FOUND"
    assert emulator.import_history(ORDERS) == []
    assert emulator.database(ORDERS)["data"]["generation"] == 0


def test_corrupt_source_reports_failed_file_corrupted(
    emulator: Emulator, client: httpx.Client, clock: ManualClock, finish: Finish
) -> None:
    emulator.mark_source(SHARDS[2], "corrupt")
    assert finish(client.post(pro_db(ORDERS) + "/import", json=ORDERS_IMPORT))["status"] == "processing-completed"
    clock.advance(1.0)
    resource = finish(client.get(pro_db(ORDERS) + "/import"))["response"]["resource"]
    assert resource["status"] == "failed"
    assert resource["failureReason"] == "file-corrupted"
    assert {p["key"] for p in resource["failureReasonParams"]} == {
        "bytes_configured_bdb_limit",
        "bytes_of_expected_dataset",
    }
    assert "lastImportTime" in resource
    [record] = emulator.import_history(ORDERS)
    assert (record.status, record.failure_reason) == ("failed", "file-corrupted")


def test_seeded_sources_are_missing_and_corrupt(emulator: Emulator) -> None:
    sources = emulator.snapshot()["sources"]
    assert sources["s3://acme-seeds/orders/orders-missing.rdb.gz"] == "missing"
    assert sources["s3://acme-seeds/broken/corrupt.rdb.gz"] == "corrupt"
    assert all(uri not in sources for uri in SHARDS)


def test_essentials_import_works_on_the_fixed_path(emulator: Emulator, client: httpx.Client, finish: Finish) -> None:
    body = {"sourceType": "http", "importFromUri": ["https://example.com/seed.rdb.gz"]}
    assert finish(client.post(fixed_db(MARKETING_CACHE) + "/import", json=body))["status"] == "processing-completed"
    assert len(emulator.import_history(MARKETING_CACHE)) == 1


def test_fixed_import_of_a_pro_database_has_its_own_error(client: httpx.Client) -> None:
    response = client.post(f"/fixed/subscriptions/{PROD_EU}/databases/{ORDERS}/import", json=ORDERS_IMPORT)
    assert response.json()["type"] == "IMPORT_A_FIXED_DATABASE_IS_NOT_ALLOWED_WITH_A_FLEXIBLE_SUBSCRIPTION"


def test_import_with_a_non_object_body_is_400(client: httpx.Client) -> None:
    assert client.post(pro_db(ORDERS) + "/import", json=["s3://x"]).status_code == 400
    assert client.post(pro_db(ORDERS) + "/import", content=b"{not json").status_code == 400
