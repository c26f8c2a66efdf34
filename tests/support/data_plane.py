"""Reading the sandbox's data plane: what a database's real server holds, and the RDB files tests make."""

from __future__ import annotations

from collections.abc import Callable

import redis

from reconciler.sandbox.data.plane import DataPlane

OLD_DATA = {"order:old:1": "before", "order:old:2": "before"}  # what orders-prod holds before any import

Keys = dict[str, str]
MakeRdb = Callable[..., bytes]


def data_of(plane: DataPlane, database: int) -> Keys:
    client = plane.databases[database].server.client()
    return {key.decode(): (client.get(key) or b"").decode() for key in client.keys("*")}


def client_of(plane: DataPlane, database: int) -> redis.Redis:
    return plane.databases[database].server.client()
