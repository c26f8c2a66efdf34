"""One request through the emulated API: faults, auth, rate limit, routing, handler, error body.

Pure with respect to I/O: it reads and changes the world it is given and returns what to answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.sandbox.auth import authenticate, authorize, charge, remaining
from reconciler.sandbox.context import Context
from reconciler.sandbox.faults import take_request_fault
from reconciler.sandbox.problems import ApiProblem, RateLimited, error_body
from reconciler.sandbox.routes import resolve
from reconciler.sandbox.state import ApiKey, JsonObject, WorldData
from reconciler.sandbox.timings import Timings

RATE_LIMIT_HEADER = "X-Rate-Limit-Remaining"  # API-NOTES §6
RETRY_AFTER_HEADER = "x-rate-limit-retry-after-seconds"  # API-NOTES §6 (KB-429): "may" be sent on a 429
API_PREFIX = "/v1"


@dataclass(slots=True)
class Incoming:
    method: str
    path: str  # as sent, including /v1
    query: dict[str, str]
    raw_body: bytes
    origin: str  # scheme://host[:port]
    access_key: str | None
    secret_key: str | None


@dataclass(slots=True)
class Outcome:
    status: int | None
    body: JsonObject | list[JsonObject] | None
    headers: dict[str, str] = field(default_factory=dict)
    drop: Literal["none", "before", "after"] = "none"
    delay: float = 0.0
    key_name: str | None = None
    parsed_body: Any = None


def process(world: WorldData, incoming: Incoming, now: float, timings: Timings) -> Outcome:
    method, path = incoming.method.upper(), incoming.path
    api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
    key = _known_key(world, incoming)
    outcome = Outcome(status=None, body=None, key_name=key["name"] if key else None)
    outcome.parsed_body, bad_json = _parse_body(incoming.raw_body)
    fault_path = api_path or path
    if take_request_fault(world, "drop", method, fault_path):
        outcome.drop = "before"
        return outcome
    slow = take_request_fault(world, "slow", method, fault_path)
    outcome.delay = slow["seconds"] if slow else 0.0
    try:
        if take_request_fault(world, "rate_limit", method, fault_path):
            raise RateLimited(retry_after=1.0)
        server_error = take_request_fault(world, "server_error", method, fault_path)
        if server_error:
            raise ApiProblem(server_error["status"])
        if key is None:
            raise ApiProblem(401)
        charge(world, key, now, timings.rate_limit_window)
        if api_path is None:
            raise ApiProblem(404)
        authorize(key, method)
        handler, params = resolve(method, api_path)
        if bad_json:
            raise ApiProblem(400, "BAD_REQUEST", "Malformed JSON request body")
        ctx = Context(world, now, timings, incoming.origin + API_PREFIX, path, incoming.query, outcome.parsed_body)
        outcome.status, outcome.body = handler(ctx, params)
    except ApiProblem as problem:
        outcome.status = problem.status
        outcome.body = error_body(problem.status, path, now, problem)
        if isinstance(problem, RateLimited):
            outcome.headers[RETRY_AFTER_HEADER] = str(max(1, round(problem.retry_after)))
    if key is not None:
        outcome.headers[RATE_LIMIT_HEADER] = str(remaining(world, key, now, timings.rate_limit_window))
    if RETRY_AFTER_HEADER in outcome.headers:
        outcome.headers[RATE_LIMIT_HEADER] = "0"
    if take_request_fault(world, "drop_after", method, fault_path):
        outcome.drop = "after"
    return outcome


def _known_key(world: WorldData, incoming: Incoming) -> ApiKey | None:
    try:
        return authenticate(world, incoming.access_key, incoming.secret_key)
    except ApiProblem:
        return None


_MAX_DEPTH = 100  # far beyond any real body; Jackson refuses past 1,000 (StreamReadConstraints), with a 400


def _parse_body(raw: bytes) -> tuple[Any, bool]:
    """The JSON body, or the raw text and True when it is malformed: invalid, nested too deep (which would
    exhaust the stack here or when the request log is saved), or holding a number of over 4,300 digits."""
    if not raw.strip():
        return None, False
    try:
        body = json.loads(raw)  # JSONDecodeError and UnicodeDecodeError are ValueErrors, as is a huge number
    except (ValueError, RecursionError):
        return raw.decode("utf-8", "replace")[:1000], True
    if _depth(body) > _MAX_DEPTH:
        return raw.decode("utf-8", "replace")[:1000], True
    return body, False


def _depth(value: Any) -> int:
    """Nesting depth, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= _MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
