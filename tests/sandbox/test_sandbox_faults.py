"""Fault injection and the request log, for testing the product against a misbehaving API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Emulator, Fault, ManualClock
from tests.support.emulator_http import make_client, pro_db
from tests.support.examples import ORDERS, SEED
from tests.support.world import TEST_TIMINGS

Finish = Callable[[httpx.Response], dict[str, Any]]
IMPORT = {"sourceType": "aws-s3", "importFromUri": ["s3://acme-seeds/orders/orders-1_of_3.rdb.gz"]}


def test_rate_limit_storm_answers_429_to_the_next_requests(emulator: Emulator, client: httpx.Client) -> None:
    emulator.inject(Fault.rate_limit_storm(2))
    statuses = [client.get("/subscriptions").status_code for _ in range(3)]
    assert statuses == [429, 429, 200]


def test_server_error_hits_only_the_matching_method_and_path(emulator: Emulator, client: httpx.Client) -> None:
    emulator.inject(Fault.server_error(502, count=1, method="GET", path="/subscriptions/*/databases/*"))
    assert client.get("/subscriptions").status_code == 200
    assert client.get(pro_db(ORDERS) + "/tags").status_code == 200  # glob must match the whole path
    response = client.get(pro_db(ORDERS))
    assert response.status_code == 502 and response.json()["error"] == "Bad Gateway"
    assert client.get(pro_db(ORDERS)).status_code == 200


def test_drop_before_processing_raises_and_has_no_effect(emulator: Emulator, client: httpx.Client) -> None:
    emulator.inject(Fault.drop(method="POST", path="**/import"))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(pro_db(ORDERS) + "/import", json=IMPORT)
    assert emulator.import_history() == []
    assert emulator.request_log()[-1].outcome == "dropped"


def test_drop_after_processing_applies_the_post_then_raises(emulator: Emulator, client: httpx.Client) -> None:
    emulator.inject(Fault.drop(method="POST", path="**/import", after_processing=True))
    with pytest.raises(httpx.ReadError):
        client.post(pro_db(ORDERS) + "/import", json=IMPORT)
    [record] = emulator.import_history(ORDERS)
    assert record.uris == tuple(IMPORT["importFromUri"])
    entry = emulator.request_log()[-1]
    assert (entry.status, entry.outcome) == (200, "dropped-after-processing")


def test_slow_fault_delays_the_answer(clock: ManualClock) -> None:
    slept: list[float] = []
    emulator = Emulator(seed=SEED, clock=clock, timings=TEST_TIMINGS, sleep=slept.append)
    emulator.inject(Fault.slow(2.5, path="/tasks"))
    with make_client(emulator) as client:
        client.get("/subscriptions")
        client.get("/tasks")
        client.get("/tasks")
    assert slept == [2.5]


def test_faults_are_consumed_in_order_and_cleared(emulator: Emulator, client: httpx.Client) -> None:
    emulator.inject(Fault.server_error(500, count=5))
    assert client.get("/subscriptions").status_code == 500
    emulator.clear_faults()
    assert client.get("/subscriptions").status_code == 200


def test_request_log_records_method_path_query_body_status_and_key_name(
    emulator: Emulator, client: httpx.Client, viewer: httpx.Client
) -> None:
    client.get("/subscriptions/1234567/databases", params={"offset": 0, "limit": 100})
    client.post(pro_db(ORDERS) + "/tags", json={"key": "k", "value": "v"})
    viewer.post(pro_db(ORDERS) + "/backup")
    log = emulator.request_log()
    assert [(e.method, e.path, e.status, e.key) for e in log] == [
        ("GET", "/v1/subscriptions/1234567/databases", 200, "owner"),
        ("POST", f"/v1{pro_db(ORDERS)}/tags", 200, "owner"),
        ("POST", f"/v1{pro_db(ORDERS)}/backup", 403, "viewer"),
    ]
    assert log[0].query == {"offset": "0", "limit": "100"}
    assert log[1].body == {"key": "k", "value": "v"}
    assert "secret" not in repr(log)


def test_a_fault_needs_a_positive_count() -> None:
    with pytest.raises(ValueError):
        Fault.server_error(count=0).to_record()
