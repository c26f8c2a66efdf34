"""Tasks: states, JSON shape, the fresh-id 404 window, GET /tasks and injected task errors (API-NOTES §5)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.sandbox import Emulator, Fault, ManualClock, Timings
from tests.support.emulator_http import make_client, pro_db
from tests.support.examples import CATALOG, ORDERS, SEED

Finish = Callable[[httpx.Response], dict[str, Any]]
CATALOG_ON = {"active": True, "interval": "every-24-hours", "storageType": "aws-s3", "storagePath": "s3://a/c"}


def test_task_passes_through_every_state_in_order(clock: ManualClock) -> None:
    timings = Timings(task_initialized=1, task_received=1, task_processing=1)
    with make_client(Emulator(seed=SEED, clock=clock, timings=timings)) as client:
        task_id = client.post(pro_db(ORDERS) + "/backup").json()["taskId"]
        seen = []
        for _ in range(4):
            seen.append(client.get(f"/tasks/{task_id}").json()["status"])
            clock.advance(1)
    assert seen == ["initialized", "received", "processing-in-progress", "processing-completed"]


def test_task_json_has_the_real_shape(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.put(pro_db(ORDERS), json={"remoteBackup": {"active": False}}))
    assert set(task) == {"taskId", "commandType", "status", "description", "timestamp", "response", "links"}
    uuid.UUID(task["taskId"])
    assert task["timestamp"].endswith("Z")
    assert task["response"] == {"resourceId": ORDERS, "additionalResourceId": 1234567}
    assert task["links"] == [{"href": f"https://sandbox.test/v1/tasks/{task['taskId']}", "type": "GET", "rel": "task"}]


def test_task_error_is_an_object_with_type_status_and_description(client: httpx.Client, finish: Finish) -> None:
    task = finish(client.post(pro_db(CATALOG) + "/backup"))
    assert task["status"] == "processing-error"
    assert task["description"].startswith("Task request failed during processing")
    assert set(task["response"]["error"]) == {"type", "status", "description"}


def test_fresh_task_answers_404_within_the_window(clock: ManualClock) -> None:
    timings = Timings(fresh_task_404=0.5, task_received=0.1, task_processing=0.1)
    with make_client(Emulator(seed=SEED, clock=clock, timings=timings)) as client:
        task_id = client.post(pro_db(ORDERS) + "/backup").json()["taskId"]
        assert client.get(f"/tasks/{task_id}").status_code == 404
        clock.advance(0.4)
        assert client.get(f"/tasks/{task_id}").status_code == 404
        clock.advance(0.1)
        assert client.get(f"/tasks/{task_id}").status_code == 200


def test_unknown_task_id_is_404(client: httpx.Client) -> None:
    assert client.get(f"/tasks/{uuid.uuid4()}").status_code == 404


def test_list_tasks_uses_the_openapi_envelope_most_recent_first(client: httpx.Client, clock: ManualClock) -> None:
    first = client.get(pro_db(ORDERS) + "/backup").json()["taskId"]
    clock.advance(1)
    second = client.get(pro_db(ORDERS) + "/import").json()["taskId"]
    body = client.get("/tasks").json()
    assert list(body) == ["tasks"]
    assert [t["taskId"] for t in body["tasks"]] == [second, first]


def test_injected_task_error_fails_the_next_matching_task_without_effect(
    emulator: Emulator, client: httpx.Client, finish: Finish
) -> None:
    emulator.inject(Fault.task_error("GENERAL_ERROR", command_type="databaseUpdateRequest", error_status="500 X"))
    client.get(pro_db(ORDERS) + "/backup")  # another command type: untouched
    task = finish(client.put(pro_db(CATALOG), json={"remoteBackup": CATALOG_ON}))
    assert task["response"]["error"]["type"] == "GENERAL_ERROR"
    assert task["response"]["error"]["status"] == "500 X"
    assert emulator.database(CATALOG)["backup"]["enabled"] is False
    second = finish(client.put(pro_db(CATALOG), json={"remoteBackup": CATALOG_ON}))
    assert second["status"] == "processing-completed"


def test_injected_backup_task_error_starts_no_backup(emulator: Emulator, client: httpx.Client, finish: Finish) -> None:
    emulator.inject(Fault.task_error("DATABASE_BACKUP_FAILED", command_type="databaseBackupRequest"))
    assert finish(client.post(pro_db(ORDERS) + "/backup"))["status"] == "processing-error"
    assert emulator.backup_history(ORDERS) == []
