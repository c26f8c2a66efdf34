"""Which endpoint a logged request went to, by method and path: the rows of figure 2's breakdown."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from reconciler.sandbox import LoggedRequest

_DATABASE = r"/v1/(?:fixed/)?subscriptions/\d+/databases/\d+"
_RULES: tuple[tuple[str, str, str], ...] = (  # (method, path pattern, endpoint), first match wins
    ("GET", r"/v1/tasks", "GET /tasks"),
    ("GET", r"/v1/tasks/[^/]+", "GET /tasks/{id}"),
    ("PUT", _DATABASE, "PUT database"),
    ("GET", _DATABASE, "GET database"),
    ("POST", _DATABASE + "/backup", "POST backup"),
    ("GET", _DATABASE + "/backup", "GET …/backup"),
    ("POST", _DATABASE + "/import", "POST import"),
    ("GET", _DATABASE + "/import", "GET …/import"),
    ("GET", _DATABASE + "/tags", "GET tags"),
    ("POST", _DATABASE + "/tags", "POST tag"),
    ("PUT", _DATABASE + "/tags", "PUT tags (all)"),
    ("PUT", _DATABASE + "/tags/[^/]+", "PUT tag"),
    ("DELETE", _DATABASE + "/tags/[^/]+", "DELETE tag"),
    ("GET", r"/v1/(?:fixed/)?subscriptions/\d+/databases", "GET list page"),
    ("GET", r"/v1/(?:fixed/)?subscriptions/\d+", "GET subscription"),
    ("GET", r"/v1/(?:fixed/)?subscriptions", "GET subscriptions"),
)
_COMPILED = tuple((method, re.compile(f"^{pattern}/?$"), name) for method, pattern, name in _RULES)
WRITES = ("PUT database", "POST backup", "POST import")  # the calls a plan asks for; all else is overhead


def endpoint(method: str, path: str) -> str:
    """E.g. `GET /tasks/{id}`; an unknown request is named by its method and path."""
    method = method.upper()
    for wanted, pattern, name in _COMPILED:
        if method == wanted and pattern.match(path):
            return name
    return f"{method} {path}"


def breakdown(requests: Iterable[LoggedRequest]) -> Counter[str]:
    return Counter(endpoint(request.method, request.path) for request in requests)


def accepted_writes(requests: Iterable[LoggedRequest]) -> int:
    """Writes the API accepted (2xx): a refused one (a 429 while the subscription is full) is overhead."""
    return sum(
        1
        for request in requests
        if request.status is not None
        and 200 <= request.status < 300
        and endpoint(request.method, request.path) in WRITES
    )
