"""Keys, the Viewer role and the per-key rate limit (API-NOTES §6, §10; SPEC §8)."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import SANDBOX_ACCESS_KEY, Emulator, ManualClock, Timings
from tests.support.clients import BASE_URL
from tests.support.emulator_http import pro_db
from tests.support.examples import CATALOG, ORDERS


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"x-api-key": SANDBOX_ACCESS_KEY}, id="no-secret"),
        pytest.param({"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": "wrong"}, id="wrong-secret"),
        pytest.param({"x-api-key": "wrong", "x-api-secret-key": "sandbox-owner-secret-key"}, id="wrong-account"),
    ],
)
def test_requests_without_a_matching_key_pair_answer_401(emulator: Emulator, headers: dict[str, str]) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=BASE_URL, headers=headers) as anonymous:
        response = anonymous.get("/subscriptions")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_viewer_key_reads_everything(viewer: httpx.Client) -> None:
    assert viewer.get("/subscriptions").status_code == 200
    assert viewer.get(pro_db(ORDERS)).json()["backup"]["destination"] == "s3://acme-backups/orders"
    assert viewer.get(pro_db(ORDERS) + "/tags").status_code == 200
    assert viewer.get(pro_db(ORDERS) + "/backup").status_code == 200  # a status read creates a task, still a read


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        pytest.param("PUT", "", {"remoteBackup": {"active": False}}, id="update"),
        pytest.param("POST", "/backup", None, id="backup"),
        pytest.param("POST", "/import", {"sourceType": "aws-s3", "importFromUri": ["s3://a/b.rdb"]}, id="import"),
        pytest.param("POST", "/tags", {"key": "k", "value": "v"}, id="tag-create"),
        pytest.param("PUT", "/tags/team", {"value": "v"}, id="tag-update"),
        pytest.param("DELETE", "/tags/team", None, id="tag-delete"),
    ],
)
def test_viewer_key_gets_403_on_write(
    emulator: Emulator, viewer: httpx.Client, method: str, suffix: str, body: object
) -> None:
    response = viewer.request(method, pro_db(ORDERS) + suffix, json=body)
    assert response.status_code == 403
    assert emulator.tags(ORDERS) == {"team": "orders", "env": "prod"}
    assert emulator.backup_history() == [] and emulator.import_history() == []
    assert emulator.database(ORDERS)["backup"]["enabled"] is True


def test_rate_limit_answers_429_with_remaining_header(emulator: Emulator, client: httpx.Client) -> None:
    emulator.set_options(rate_limit=3)
    remaining = [client.get("/subscriptions").headers["X-Rate-Limit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = client.get("/subscriptions")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(refused.headers["x-rate-limit-retry-after-seconds"]) >= 1


def test_default_rate_limit_is_400_per_minute(client: httpx.Client, clock: ManualClock) -> None:
    for _ in range(400):
        assert client.get(pro_db(ORDERS)).status_code == 200
    assert client.get(pro_db(ORDERS)).status_code == 429
    clock.advance(60)
    assert client.get(pro_db(ORDERS)).headers["X-Rate-Limit-Remaining"] == "399"


def test_rate_limit_window_is_configurable(emulator: Emulator, client: httpx.Client, clock: ManualClock) -> None:
    emulator.set_options(rate_limit=2)
    emulator.timings = Timings(rate_limit_window=0.5)
    client.get("/subscriptions")
    client.get("/subscriptions")
    assert client.get("/subscriptions").status_code == 429
    clock.advance(0.5)
    assert client.get("/subscriptions").status_code == 200


def test_rate_limit_is_counted_per_key(emulator: Emulator, client: httpx.Client, viewer: httpx.Client) -> None:
    emulator.set_options(rate_limit=1)
    assert client.get("/subscriptions").status_code == 200
    assert client.get("/subscriptions").status_code == 429
    assert viewer.get("/subscriptions").status_code == 200


def test_remaining_header_is_on_every_authenticated_response(client: httpx.Client) -> None:
    responses = [
        client.get("/subscriptions"),
        client.get("/nowhere"),
        client.post(pro_db(CATALOG) + "/tags", json={"key": "BAD", "value": "x"}),
        client.get(pro_db(999)),
    ]
    assert [r.status_code for r in responses] == [200, 404, 400, 404]
    assert [r.headers["X-Rate-Limit-Remaining"] for r in responses] == ["399", "398", "397", "396"]
