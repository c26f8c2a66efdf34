"""A multi-shard database's backup is one file per shard, which together restore the whole dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.core.outcomes import Outcome
from reconciler.sandbox import load_seed
from reconciler.sandbox.data import hooks
from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.data.seeding import Content, DatabaseData
from reconciler.sandbox.data.shards import key_slot, shard_of
from tests.support.accounts import account
from tests.support.data_plane import client_of, data_of
from tests.support.examples import ORDERS, SCRATCH, SEED


@pytest.mark.parametrize(
    ("key", "slot"),
    [
        (b"123456789", 0x31C3 % 16384),  # the CRC16/XMODEM check value
        (b"foo", 12182),  # as `CLUSTER KEYSLOT foo` answers
        (b"{user1000}.following", key_slot(b"user1000")),  # a hash tag picks the slot
        (b"{}.x", key_slot(b"{}.x")),  # an empty tag is no tag
    ],
)
def test_keys_go_to_slots_as_in_redis_cluster(key: bytes, slot: int) -> None:
    assert key_slot(key) == slot


def test_a_three_shard_backup_writes_three_disjoint_files_that_restore_everything(
    make_plane: Callable[..., DataPlane], tmp_path: Path
) -> None:
    plane = make_plane(**{f"db{ORDERS}": DatabaseData(Content(count=300, prefix="order"), shards=3)})
    client_of(plane, ORDERS).set("order:ttl", "x", ex=900)
    manifest = tmp_path / "backup.yaml"
    manifest.write_text(
        f"""version: 1
databases:
  - name: orders-prod
    subscription: 1234567
    database: {ORDERS}
    backups:
      - id: sharded
        path: s3://acme-adhoc/orders
""",
        encoding="utf-8",
    )
    acct = account(manifest_paths=[manifest])
    try:
        (result,) = acct.apply(acct.plan())
    finally:
        acct.session.close()
    assert result.outcome is Outcome.DONE

    files = plane.backups_written
    assert [uri.rsplit("-", 1)[1] for uri in files] == ["1_of_3.rdb.gz", "2_of_3.rdb.gz", "3_of_3.rdb.gz"]
    everything = data_of(plane, ORDERS)
    world = load_seed(SEED)
    scratch = next(db for db in world["databases"] if db["id"] == SCRATCH)
    seen: list[set[str]] = []
    for index, uri in enumerate(files):
        verdict = hooks.judge_import(world, scratch, "aws-s3", [uri])
        verdict.carry_out(f"shard-{index}")
        assert verdict.outcome == "success"
        keys = set(data_of(plane, SCRATCH))
        assert keys and all(shard_of(key.encode(), 3) == index for key in keys)
        seen.append(keys)
    assert set().union(*seen) == set(everything) and sum(map(len, seen)) == len(everything)

    verdict = hooks.judge_import(world, scratch, "aws-s3", files)  # the set imports as one, TTLs kept
    verdict.carry_out("all-shards")
    assert data_of(plane, SCRATCH) == everything
    assert 0 < client_of(plane, SCRATCH).ttl("order:ttl") <= 900
