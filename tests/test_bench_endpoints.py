"""The benchmarks' endpoint classifier: figure 2 breaks apply's requests down by these names (benchmarks/endpoints.py)."""

from __future__ import annotations

import pytest

from benchmarks.endpoints import accepted_writes, endpoint
from reconciler.sandbox import LoggedRequest

DB = "/v1/subscriptions/200001/databases/1000001"
FIXED = "/v1/fixed/subscriptions/200039/databases/1001999"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        pytest.param("PUT", DB, "PUT database", id="pro-update"),
        pytest.param("PUT", FIXED, "PUT database", id="essentials-update"),
        pytest.param("GET", DB, "GET database", id="database"),
        pytest.param("get", DB + "/", "GET database", id="lowercase-method-trailing-slash"),
        pytest.param("POST", DB + "/backup", "POST backup", id="backup"),
        pytest.param("GET", DB + "/backup", "GET …/backup", id="backup-status"),
        pytest.param("POST", FIXED + "/import", "POST import", id="essentials-import"),
        pytest.param("GET", DB + "/import", "GET …/import", id="import-status"),
        pytest.param("GET", "/v1/tasks", "GET /tasks", id="tasks-batch"),
        pytest.param("GET", "/v1/tasks/0b5e-41", "GET /tasks/{id}", id="one-task"),
        pytest.param("GET", DB + "/tags", "GET tags", id="tags"),
        pytest.param("POST", DB + "/tags", "POST tag", id="tag-create"),
        pytest.param("PUT", DB + "/tags", "PUT tags (all)", id="tags-replace"),
        pytest.param("PUT", DB + "/tags/rcr_backup_x", "PUT tag", id="tag-update"),
        pytest.param("DELETE", DB + "/tags/rcr_backup_x", "DELETE tag", id="tag-delete"),
        pytest.param("GET", "/v1/subscriptions/200001/databases", "GET list page", id="list-page"),
        pytest.param("GET", "/v1/fixed/subscriptions/200039/databases", "GET list page", id="essentials-page"),
        pytest.param("GET", "/v1/subscriptions/200001", "GET subscription", id="subscription"),
        pytest.param("GET", "/v1/subscriptions", "GET subscriptions", id="subscriptions"),
        pytest.param("DELETE", DB, "DELETE " + DB, id="unknown-named-as-is"),
        pytest.param("POST", "/v1/tasks", "POST /v1/tasks", id="wrong-method-named-as-is"),
    ],
)
def test_endpoint_names_each_request_the_api_sees(method: str, path: str, expected: str) -> None:
    assert endpoint(method, path) == expected


def _logged(method: str, path: str, status: int | None) -> LoggedRequest:
    return LoggedRequest(0.0, method, path, {}, None, status, "owner", "answered")


def test_only_accepted_writes_count_as_writes() -> None:
    log = [
        _logged("PUT", DB, 200),
        _logged("POST", DB + "/backup", 429),  # the subscription was full: overhead, not a write
        _logged("POST", FIXED + "/import", 200),
        _logged("POST", DB + "/backup", None),  # dropped before an answer
        _logged("GET", DB, 200),
        _logged("POST", DB + "/tags", 201),
    ]
    assert accepted_writes(log) == 2
