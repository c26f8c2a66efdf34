"""Copy a whole database from `redis://[password]@host:port`: REPLICAOF, wait for the sync, REPLICAOF NO ONE.

The target's old keys are replaced and TTLs kept. Credentials and reachability are checked first, so a bad
password or an absent source leave the target untouched.
"""

from __future__ import annotations

import time
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from reconciler.sandbox.data.errors import ImportFailure, SourceDenied, SourceMissing
from reconciler.sandbox.data.process import RedisServer

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# UNCONFIRMED (API-NOTES §4 names no failure reason for an unreachable or refused redis source).
SYNC_FAILED = "general-error"


def parse_redis_uri(uri: str) -> tuple[str, int, str | None, str | None]:
    """(host, port, user, password) of `redis://[user:]password@host:port` (a lone user-info is the password)."""
    parts = urlsplit(uri)
    if parts.hostname is None or parts.port is None:
        raise ImportFailure(SYNC_FAILED, "a redis source needs host:port")
    user, password = parts.username, parts.password
    if password is None and user is not None:
        user, password = None, user
    return (
        parts.hostname,
        parts.port,
        unquote(user) if user else None,
        unquote(password) if password is not None else None,
    )


def probe(host: str, port: int, user: str | None, password: str | None) -> None:
    import redis

    client = redis.Redis(host=host, port=port, username=user, password=password, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.AuthenticationError:
        raise SourceDenied(f"{host}:{port} refused the password") from None
    except redis.ResponseError as exc:  # NOAUTH: a password is needed and none was given
        raise SourceDenied(f"{host}:{port}: {exc}") from None
    except redis.ConnectionError:
        raise SourceMissing(f"nothing answers on {host}:{port}") from None
    finally:
        client.close()


def replicate(target: RedisServer, uri: str, *, timeout: float = 120.0) -> None:
    host, port, user, password = parse_redis_uri(uri)
    if host not in LOOPBACK:
        raise ImportFailure(SYNC_FAILED, f"the sandbox copies only from servers on 127.0.0.1, not {host}")
    if port == target.port:
        raise ImportFailure(SYNC_FAILED, "a database cannot import from itself")
    probe(host, port, user, password)
    client = target.client(timeout=timeout)
    client.config_set("masterauth", password or "")
    if user:
        client.config_set("masteruser", user)
    try:
        cast(Any, client).execute_command("REPLICAOF", host, str(port))
        deadline = time.monotonic() + timeout
        while True:
            info = client.info("replication")
            loading = int(client.info("persistence").get("loading", 0))
            synced = not int(info.get("master_sync_in_progress", 0)) and not loading
            if info.get("master_link_status") == "up" and synced:
                break
            if time.monotonic() > deadline:
                raise ImportFailure(SYNC_FAILED, f"the copy from {host}:{port} did not finish within {timeout:.0f} s")
            time.sleep(0.005)
    finally:
        cast(Any, client).execute_command("REPLICAOF", "NO", "ONE")
        client.config_set("masterauth", "")
        if user:
            client.config_set("masteruser", "")
        target.dump_path.unlink(missing_ok=True)  # the sync's file would be loaded at a restart
