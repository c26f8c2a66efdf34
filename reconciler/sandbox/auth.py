"""API keys, roles and the per-key rate limit (API-NOTES §6, §10)."""

from __future__ import annotations

import hmac

from reconciler.sandbox.problems import ApiProblem, RateLimited
from reconciler.sandbox.state import ApiKey, WorldData

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authenticate(world: WorldData, access_key: str | None, secret_key: str | None) -> ApiKey:
    """Both headers must match one key pair of the world, else 401 (OpenAPI: "Authentication failed")."""
    for key in world["api_keys"]:
        if (
            access_key is not None
            and secret_key is not None
            and hmac.compare_digest(key["access_key"], access_key)
            and hmac.compare_digest(key["secret_key"], secret_key)
        ):
            return key
    raise ApiProblem(401)


def authorize(key: ApiKey, method: str) -> None:
    """A Viewer reads everything and writes nothing (SPEC §8).

    UNCONFIRMED (API-NOTES §10): 401 or 403 on a write; we answer 403.
    """
    if key["role"] == "viewer" and method.upper() not in READ_METHODS:
        raise ApiProblem(403, "USER_INSUFFICIENT_ROLE", "The API key's user role may not change resources")


def charge(world: WorldData, key: ApiKey, now: float, window: float) -> int:
    """Count one request in the key's fixed window (like the Go client's limiter) and return what remains.

    Raises 429 past the limit; a refused request does not count. (API-NOTES §6: 400/min per API key.)
    """
    limit = world["options"]["rate_limit"]
    state = world["rate_windows"].get(key["name"])
    if state is None or now >= state["start"] + window or now < state["start"]:
        state = {"start": now, "count": 0}
        world["rate_windows"][key["name"]] = state
    if state["count"] >= limit:
        raise RateLimited(retry_after=state["start"] + window - now)
    state["count"] += 1
    return limit - state["count"]


def remaining(world: WorldData, key: ApiKey, now: float, window: float) -> int:
    state = world["rate_windows"].get(key["name"])
    if state is None or now >= state["start"] + window:
        return world["options"]["rate_limit"]
    return max(0, world["options"]["rate_limit"] - state["count"])
