"""Fixtures for the data plane: real servers, the storage stand-ins, and helpers that make known RDB files.

The stores start once per session (moto takes ~0.6 s to import); each test gets fresh servers for the
example account, registered with the emulator's call-outs for the test's duration.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import load_seed
from reconciler.sandbox.data import hooks
from reconciler.sandbox.data.dump import dump
from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.data.process import RedisServer
from reconciler.sandbox.data.seeding import Content, DatabaseData, DataSeed
from reconciler.sandbox.data.stores import Stores, start_stores
from tests.support.data_plane import OLD_DATA, Keys, MakeRdb
from tests.support.examples import ORDERS, SEED


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    running = start_stores(tmp_path_factory.mktemp("stores"))
    yield running
    running.stop()


@pytest.fixture
def make_plane(tmp_path: Path, stores: Stores) -> Iterator[Callable[..., DataPlane]]:
    started: list[DataPlane] = []

    def build(**data: DatabaseData) -> DataPlane:
        wanted = {ORDERS: DatabaseData(Content(literal=dict(OLD_DATA)))}
        wanted |= {int(key.removeprefix("db")): value for key, value in data.items()}
        plane = DataPlane(tmp_path / f"plane{len(started)}", stores)
        plane.start(load_seed(SEED), DataSeed(wanted, {}, ()))
        hooks.install(plane)
        started.append(plane)
        return plane

    yield build
    for plane in started:
        plane.stop()


@pytest.fixture
def plane(make_plane: Callable[..., DataPlane]) -> DataPlane:
    """Servers for every database of the example account; orders-prod holds OLD_DATA."""
    return make_plane()


@pytest.fixture
def make_rdb(tmp_path: Path) -> Iterator[MakeRdb]:
    """An RDB file's bytes holding exactly `keys` (and `ttl` seconds on `expiring` keys), made by a real server."""
    scratch = RedisServer(tmp_path / "rdb-maker", "")
    scratch.start()

    def build(keys: Keys, *, expiring: tuple[str, ...] = (), gzipped: bool = False) -> bytes:
        client = scratch.client()
        client.flushall()
        if keys:
            client.mset(keys)
        for key in expiring:
            client.expire(key, 1000)
        target = tmp_path / "made.rdb"
        dump(scratch, target, foreground=True)
        data = target.read_bytes()
        return gzip.compress(data) if gzipped else data

    yield build
    scratch.stop()
