"""List envelopes and paging (API-NOTES §1 "List endpoints")."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import Emulator
from reconciler.sandbox.state import default_options
from tests.support.examples import ANALYTICS, GLOBAL, MARKETING, ORDERS, PROD_EU

PRO_LIST = f"/subscriptions/{PROD_EU}/databases"
FIXED_LIST = f"/fixed/subscriptions/{MARKETING}/databases"


def test_pro_subscriptions_envelope_lists_only_pro(client: httpx.Client) -> None:
    body = client.get("/subscriptions").json()
    assert body["accountId"] == 40131
    assert [s["id"] for s in body["subscriptions"]] == [PROD_EU, ANALYTICS, GLOBAL]
    assert body["subscriptions"][0]["name"] == "acme-prod-eu"
    assert body["subscriptions"][0]["numberOfDatabases"] == 4
    assert [s["deploymentType"] for s in body["subscriptions"]] == ["single-region", "single-region", "active-active"]


def test_essentials_subscriptions_envelope_lists_only_essentials(client: httpx.Client) -> None:
    body = client.get("/fixed/subscriptions").json()
    assert [(s["id"], s["name"]) for s in body["subscriptions"]] == [(MARKETING, "acme-marketing")]


def test_pro_list_subscription_is_an_array_of_one(client: httpx.Client) -> None:
    body = client.get(PRO_LIST).json()
    assert isinstance(body["subscription"], list) and len(body["subscription"]) == 1
    entry = body["subscription"][0]
    assert entry["subscriptionId"] == PROD_EU
    assert entry["numberOfDatabases"] == 4
    assert [db["name"] for db in entry["databases"]] == [
        "orders-prod",
        "sessions-prod",
        "catalog-prod",
        "legacy-reports",
    ]


def test_essentials_list_subscription_is_an_object(client: httpx.Client) -> None:
    body = client.get(FIXED_LIST).json()
    assert isinstance(body["subscription"], dict)
    assert [db["name"] for db in body["subscription"]["databases"]] == ["marketing-cache", "scratch"]


def test_pro_list_pages_with_offset_and_limit(client: httpx.Client) -> None:
    first = client.get(PRO_LIST, params={"offset": 0, "limit": 3}).json()["subscription"][0]
    last = client.get(PRO_LIST, params={"offset": 3, "limit": 3}).json()["subscription"][0]
    assert len(first["databases"]) == 3
    assert [db["databaseId"] for db in last["databases"]] == [7654324]
    assert last["numberOfDatabases"] == 4


def test_pro_list_answers_404_past_the_end(client: httpx.Client) -> None:
    response = client.get(PRO_LIST, params={"offset": 4, "limit": 100})
    assert response.status_code == 404
    assert set(response.json()) == {"timestamp", "status", "error", "path"}


def test_essentials_list_past_the_end_is_an_empty_page(client: httpx.Client) -> None:
    response = client.get(FIXED_LIST, params={"offset": 2, "limit": 100})
    assert response.status_code == 200
    assert response.json()["subscription"]["databases"] == []
    assert response.json()["subscription"]["numberOfDatabases"] == 2


def test_pro_list_items_carry_no_backup_when_the_world_says_so(emulator: Emulator, client: httpx.Client) -> None:
    emulator.set_options(pro_list_includes_backup=False)
    databases = client.get(PRO_LIST).json()["subscription"][0]["databases"]
    assert all("backup" not in db for db in databases)


def test_pro_list_items_carry_backup_by_default(client: httpx.Client) -> None:
    databases = client.get(PRO_LIST).json()["subscription"][0]["databases"]
    assert databases[0]["backup"]["destination"] == "s3://acme-backups/orders"


def test_the_default_world_lists_pro_items_with_backup() -> None:
    assert default_options()["pro_list_includes_backup"] is True  # API-NOTES §11


def test_essentials_list_items_carry_backup(client: httpx.Client) -> None:
    databases = client.get(FIXED_LIST).json()["subscription"]["databases"]
    assert databases[0]["backup"] == {"remoteBackupEnabled": False, "status": "idle"}


@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"offset": "x"}], ids=["negative", "zero", "nan"])
def test_list_rejects_bad_paging_parameters(client: httpx.Client, params: dict[str, int | str]) -> None:
    assert client.get(PRO_LIST, params=params).status_code == 400


def test_unknown_database_answers_spring_style_404(client: httpx.Client) -> None:
    response = client.get(f"/subscriptions/{PROD_EU}/databases/999")
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == 404 and body["error"] == "Not Found"
    assert body["path"] == f"/v1/subscriptions/{PROD_EU}/databases/999"


def test_pro_path_on_an_essentials_subscription_is_404(client: httpx.Client) -> None:
    assert client.get(f"/subscriptions/{MARKETING}/databases").status_code == 404
    assert client.get(f"/fixed/subscriptions/{PROD_EU}/databases").status_code == 404


def test_unknown_method_on_a_known_path_is_405(client: httpx.Client) -> None:
    assert client.delete("/subscriptions").status_code == 405


def test_a_pro_subscription_is_served_on_its_own(client: httpx.Client) -> None:
    """OpenAPI `Subscription`: `GET /subscriptions/{id}` answered 404 before."""
    response = client.get(f"/subscriptions/{PROD_EU}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["status"]) == (PROD_EU, "acme-prod-eu", "active")
    assert body["numberOfDatabases"] == 4 and body["deploymentType"] == "single-region"
    assert body["cloudDetails"][0]["regions"][0]["region"] == "us-east-1"
    assert body["links"] == [{"rel": "self", "href": f"https://sandbox.test/v1/subscriptions/{PROD_EU}", "type": "GET"}]
    # only keys of the OpenAPI example
    assert set(body) <= {
        "id", "name", "status", "deploymentType", "paymentMethodId", "memoryStorage", "numberOfDatabases",
        "paymentMethodType", "storageEncryption", "subscriptionPricing", "cloudDetails", "links",
    }  # fmt: skip


def test_an_essentials_subscription_is_served_on_its_own(client: httpx.Client) -> None:
    """OpenAPI `FixedSubscription`."""
    body = client.get(f"/fixed/subscriptions/{MARKETING}").json()
    assert (body["id"], body["status"], body["supportInstantAndDailyBackups"]) == (MARKETING, "active", True)
    assert set(body) <= {
        "id", "name", "status", "paymentMethodId", "paymentMethodType", "planId", "planName", "size",
        "sizeMeasurementUnit", "provider", "region", "price", "pricePeriod", "priceCurrency", "maximumDatabases",
        "availability", "connections", "cidrAllowRules", "supportDataPersistence", "supportInstantAndDailyBackups",
        "supportReplication", "customerSupport", "creationDate", "supportClustering", "links",
    }  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        f"/subscriptions/{MARKETING}",
        f"/fixed/subscriptions/{PROD_EU}",
        "/subscriptions/9999999",
        f"/subscriptions/{ORDERS}",
    ],
    ids=["essentials-on-pro-path", "pro-on-fixed-path", "unknown", "a-database-id"],
)
def test_a_subscription_on_the_wrong_path_is_404(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404
