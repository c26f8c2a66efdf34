"""Database tags: synchronous CloudTag/CloudTags, 409 on a duplicate, the character rules (API-NOTES §9)."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import Emulator, ManualClock
from tests.support.emulator_http import fixed_db, pro_db
from tests.support.examples import MARKETING_CACHE, ORDERS

TAGS = pro_db(ORDERS) + "/tags"


def test_tags_list_is_a_cloud_tags_envelope(client: httpx.Client) -> None:
    body = client.get(TAGS).json()
    assert set(body) == {"accountId", "tags", "links"}
    assert {(t["key"], t["value"]) for t in body["tags"]} == {("team", "orders"), ("env", "prod")}
    assert set(body["tags"][0]) == {"key", "value", "createdAt", "updatedAt", "links"}


def test_create_tag_answers_a_cloud_tag(client: httpx.Client, emulator: Emulator) -> None:
    response = client.post(TAGS, json={"key": "rcr_import_seed-1", "value": "claimed 1764000000"})
    assert response.status_code == 200
    tag = response.json()
    assert (tag["key"], tag["value"]) == ("rcr_import_seed-1", "claimed 1764000000")
    assert (
        tag["createdAt"] == tag["updatedAt"] == "2025-11-24T16:00:00.000Z"
    )  # milliseconds, as real tags (API-NOTES §11)
    assert emulator.tags(ORDERS)["rcr_import_seed-1"] == "claimed 1764000000"


def test_duplicate_tag_post_answers_409(client: httpx.Client, emulator: Emulator) -> None:
    assert client.post(TAGS, json={"key": "rcr_backup_b1", "value": "claimed"}).status_code == 200
    response = client.post(TAGS, json={"key": "rcr_backup_b1", "value": "claimed by another run"})
    assert response.status_code == 409
    assert emulator.tags(ORDERS)["rcr_backup_b1"] == "claimed"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("Team", "x", id="uppercase-key"),
        pytest.param("a/b", "x", id="slash-key"),
        pytest.param("a=b", "x", id="equals-key"),
        pytest.param("", "x", id="empty-key"),
        pytest.param("k" * 65, "x", id="key-65"),
        pytest.param("k", "2026-11-24T06:30:00Z", id="uppercase-value"),
        pytest.param("k", "a;b", id="semicolon-value"),
        pytest.param("k", "", id="empty-value"),
        pytest.param("k", "v" * 129, id="value-129"),
    ],
)
def test_tag_character_and_length_rules_answer_400(client: httpx.Client, key: str, value: str) -> None:
    assert client.post(TAGS, json={"key": key, "value": value}).status_code == 400


def test_tag_at_the_length_limits_with_every_allowed_character_is_accepted(client: httpx.Client) -> None:
    key = ("az09 -_.+@:" * 6)[:64]
    value = ("claimed 1764000000 fp:abc+def@x_y.z-" * 4)[:128]
    assert client.post(TAGS, json={"key": key, "value": value}).status_code == 200


def test_update_tag_keeps_created_at(client: httpx.Client, clock: ManualClock) -> None:
    client.post(TAGS, json={"key": "rcr_import_seed-1", "value": "claimed"})
    clock.advance(5)
    tag = client.put(TAGS + "/rcr_import_seed-1", json={"value": "done"}).json()
    assert tag["value"] == "done"
    assert tag["createdAt"] == "2025-11-24T16:00:00.000Z" and tag["updatedAt"] == "2025-11-24T16:00:05.000Z"


def test_update_of_a_missing_tag_is_404(client: httpx.Client) -> None:
    assert client.put(TAGS + "/nope", json={"value": "x"}).status_code == 404


def test_delete_tag_removes_only_that_tag(client: httpx.Client, emulator: Emulator) -> None:
    response = client.delete(TAGS + "/team")
    assert (response.status_code, response.json()) == (200, {})
    assert emulator.tags(ORDERS) == {"env": "prod"}
    assert client.delete(TAGS + "/team").status_code == 404


def test_tag_key_with_space_colon_and_at_travels_in_the_path(client: httpx.Client, emulator: Emulator) -> None:
    client.post(TAGS, json={"key": "a b:c@d", "value": "x"})
    assert client.put(TAGS + "/a b:c@d", json={"value": "y"}).status_code == 200
    assert emulator.tags(ORDERS)["a b:c@d"] == "y"


def test_put_all_tags_overwrites_every_tag(client: httpx.Client, emulator: Emulator) -> None:
    body = client.put(TAGS, json={"tags": [{"key": "only", "value": "one"}]}).json()
    assert [t["key"] for t in body["tags"]] == ["only"]
    assert emulator.tags(ORDERS) == {"only": "one"}


def test_essentials_tags_work_the_same(client: httpx.Client, emulator: Emulator) -> None:
    path = fixed_db(MARKETING_CACHE) + "/tags"
    assert client.post(path, json={"key": "rcr_import_x", "value": "claimed"}).status_code == 200
    assert client.post(path, json={"key": "rcr_import_x", "value": "claimed"}).status_code == 409
    assert emulator.tags(MARKETING_CACHE) == {"rcr_import_x": "claimed"}


# --- issue 12 §3: the tag behaviours API-NOTES §11 leaves UNCONFIRMED, one option each ------------------------


def test_overwrite_option_makes_a_duplicate_create_a_silent_update(
    client: httpx.Client, emulator: Emulator, clock: ManualClock
) -> None:
    emulator.set_options(tag_create_existing="overwrite")
    client.post(TAGS, json={"key": "rcr_backup_b1", "value": "claimed run a"})
    clock.advance(3)
    response = client.post(TAGS, json={"key": "rcr_backup_b1", "value": "claimed run b"})
    assert response.status_code == 200
    assert emulator.tags(ORDERS)["rcr_backup_b1"] == "claimed run b"
    assert response.json()["createdAt"] == "2025-11-24T16:00:00.000Z"  # the first create's time stays


def test_lowercase_option_stores_keys_lowercased_instead_of_refusing(client: httpx.Client, emulator: Emulator) -> None:
    emulator.set_options(tag_keys="lowercase")
    response = client.post(TAGS, json={"key": "costCenter", "value": "x"})
    assert (response.status_code, response.json()["key"]) == (200, "costcenter")
    assert client.put(TAGS + "/costCenter", json={"value": "y"}).status_code == 200
    assert emulator.tags(ORDERS)["costcenter"] == "y"


def test_tag_cap_option_refuses_the_tag_past_the_cap(client: httpx.Client, emulator: Emulator) -> None:
    emulator.set_options(max_tags_per_database=3)  # the seed gives orders-prod two tags
    assert client.post(TAGS, json={"key": "third", "value": "x"}).status_code == 200
    response = client.post(TAGS, json={"key": "fourth", "value": "x"})
    assert response.status_code == 400 and "at most 3 tags" in response.text
    assert client.put(TAGS + "/third", json={"value": "y"}).status_code == 200  # updates still fit
    assert set(emulator.tags(ORDERS)) == {"team", "env", "third"}


def test_suffix_stripping_option_reads_a_dotted_key_in_the_path_as_a_file_extension(
    client: httpx.Client, emulator: Emulator
) -> None:
    emulator.set_options(tag_path_suffix_stripping=True)
    client.post(TAGS, json={"key": "rcr.import.seed", "value": "claimed"})
    assert client.put(TAGS + "/rcr.import.seed", json={"value": "done"}).status_code == 404  # addressed rcr.import
    assert client.put(TAGS + "/rcr_import_seed", json={"value": "done"}).status_code == 404  # simply absent
    assert emulator.tags(ORDERS)["rcr.import.seed"] == "claimed"
