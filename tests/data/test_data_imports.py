"""Imports and backups move real data (issue 14): asserted on the keys in the real servers, not on statuses.

The apply engine runs in-process over the emulator's HTTP transport, as in tests/test_apply.py; the
emulator's call-outs reach real servers and the storage stand-ins.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.core.outcomes import Outcome, StepResult
from reconciler.manifest.load import load_manifest
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from reconciler.sandbox.data.plane import DataPlane
from reconciler.sandbox.data.seeding import Content, DatabaseData
from reconciler.sandbox.data.stores import Stores
from tests.support.accounts import Account, account
from tests.support.data_plane import OLD_DATA, MakeRdb, client_of, data_of
from tests.support.examples import ORDERS, SCRATCH, SESSIONS

SHARDS = tuple(f"s3://acme-seeds/orders/orders-{n}_of_3.rdb.gz" for n in (1, 2, 3))
SHARD_KEYS = ({"order:1": "a", "order:2": "b"}, {"order:3": "c"}, {"order:4": "d", "order:ttl": "e"})
UNION = {key: value for keys in SHARD_KEYS for key, value in keys.items()}
IMPORT = "orders-prod.imports.seed-1"
RECEIPT = "rcr_import_seed-1"


def import_manifest(directory: Path, uris: tuple[str, ...] = SHARDS, *, backup_first: bool = False) -> Path:
    listed = "".join(f"\n          - {uri}" for uri in uris)
    path = directory / "orders.yaml"
    path.write_text(
        f"""version: 1
databases:
  - name: orders-prod
    subscription: 1234567
    database: {ORDERS}
    protected: true
    imports:
      - id: seed-1
        from:{listed}
        backup_first: {str(backup_first).lower()}
        confirm: orders-prod
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def accounts() -> Iterator[Callable[..., Account]]:
    made: list[Account] = []

    def build(manifest: Path, **environ: str) -> Account:
        made.append(account(manifest_paths=[manifest], environ=environ))
        return made[-1]

    yield build
    for acct in made:
        acct.session.close()


@pytest.fixture
def shards(stores: Stores, make_rdb: MakeRdb) -> None:
    """The three shard files of one dataset, gzipped, with a TTL on `order:ttl`."""
    for uri, keys in zip(SHARDS, SHARD_KEYS, strict=True):
        expiring = tuple(key for key in keys if key == "order:ttl")
        stores.for_uri(uri).put(uri, make_rdb(keys, expiring=expiring, gzipped=True))


def result_of(results: list[StepResult], address: str = IMPORT) -> StepResult:
    return next(result for result in results if result.address == address)


def owner_http(acct: Account) -> httpx.Client:
    return httpx.Client(
        transport=acct.emulator.transport(),
        base_url="https://sandbox.test/v1",
        headers={"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": SANDBOX_SECRET_KEY},
    )


@pytest.mark.usefixtures("shards")
def test_an_import_of_known_files_yields_exactly_their_keys_and_keeps_ttls(
    plane: DataPlane, accounts: Callable[..., Account], tmp_path: Path
) -> None:
    acct = accounts(import_manifest(tmp_path))
    assert data_of(plane, ORDERS) == OLD_DATA

    assert result_of(acct.apply(acct.plan())).outcome is Outcome.DONE

    assert data_of(plane, ORDERS) == UNION  # the union of the three files; the old keys are gone
    assert 0 < client_of(plane, ORDERS).ttl("order:ttl") <= 1000
    assert client_of(plane, ORDERS).ttl("order:1") == -1


@pytest.mark.usefixtures("shards")
def test_a_second_apply_leaves_a_key_written_after_the_first_import_untouched(
    plane: DataPlane, accounts: Callable[..., Account], tmp_path: Path
) -> None:
    acct = accounts(import_manifest(tmp_path))
    acct.apply(acct.plan())
    client_of(plane, ORDERS).set("order:written-later", "keep me")

    acct.apply(acct.plan())

    assert data_of(plane, ORDERS) == UNION | {"order:written-later": "keep me"}
    assert len(acct.emulator.import_history(ORDERS)) == 1


@pytest.mark.usefixtures("shards")
def test_backup_first_holds_the_data_from_before_the_import_and_restores_it_elsewhere(
    plane: DataPlane, accounts: Callable[..., Account], stores: Stores, tmp_path: Path
) -> None:
    acct = accounts(import_manifest(tmp_path, backup_first=True))
    assert result_of(acct.apply(acct.plan())).outcome is Outcome.DONE
    assert data_of(plane, ORDERS) == UNION
    (backup,) = plane.backups_written
    assert backup.startswith("s3://acme-backups/orders/") and backup.endswith(".rdb.gz")
    assert backup in stores.for_uri(backup).list("s3://acme-backups/orders/")

    scratch = tmp_path / "scratch.yaml"
    scratch.write_text(
        f"""version: 1
databases:
  - name: scratch
    subscription: 2345678
    database: {SCRATCH}
    tier: essentials
    imports:
      - id: restore
        from: [{backup}]
        confirm: scratch
""",
        encoding="utf-8",
    )
    restore = Account(acct.emulator, acct.client, load_manifest([scratch]), acct.session)
    assert result_of(restore.apply(restore.plan()), "scratch.imports.restore").outcome is Outcome.DONE
    assert data_of(plane, SCRATCH) == OLD_DATA


def test_a_corrupt_file_fails_with_file_corrupted_and_leaves_the_old_data(
    plane: DataPlane, accounts: Callable[..., Account], stores: Stores, make_rdb: MakeRdb, tmp_path: Path
) -> None:
    good = make_rdb({"order:1": "a"}, gzipped=True)
    stores.for_uri(SHARDS[0]).put(SHARDS[0], good)
    stores.for_uri(SHARDS[1]).put(SHARDS[1], good[:-40])  # a truncated gzip
    acct = accounts(import_manifest(tmp_path, SHARDS[:2]))

    failed = result_of(acct.apply(acct.plan()))

    assert failed.outcome is Outcome.FAILED and "file-corrupted" in failed.message
    assert acct.emulator.tags(ORDERS)[RECEIPT].startswith("v1 failed ")
    assert data_of(plane, ORDERS) == OLD_DATA


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("truncated.rdb", lambda rdb: rdb[: len(rdb) // 2]),
        ("flipped.rdb", lambda rdb: rdb[:20] + bytes([rdb[20] ^ 1]) + rdb[21:]),
        ("empty.rdb", lambda rdb: b""),
        ("not-an-rdb.rdb", lambda rdb: b"hello, world\n" * 10),
        ("too-new.rdb", lambda rdb: b"REDIS0099" + rdb[9:]),
    ],
)
def test_every_kind_of_bad_file_is_file_corrupted(
    plane: DataPlane,
    accounts: Callable[..., Account],
    stores: Stores,
    make_rdb: MakeRdb,
    tmp_path: Path,
    name: str,
    damage: Callable[[bytes], bytes],
) -> None:
    uri = f"s3://acme-seeds/bad/{name}"
    stores.for_uri(uri).put(uri, damage(make_rdb({f"k{n}": "v" * 50 for n in range(50)})))
    acct = accounts(import_manifest(tmp_path, (uri,)))

    failed = result_of(acct.apply(acct.plan()))

    assert failed.outcome is Outcome.FAILED and "file-corrupted" in failed.message
    assert data_of(plane, ORDERS) == OLD_DATA


def test_gzip_is_sniffed_by_magic_bytes_not_by_name(
    plane: DataPlane, accounts: Callable[..., Account], stores: Stores, make_rdb: MakeRdb, tmp_path: Path
) -> None:
    gzipped_plain_name = "s3://acme-seeds/odd/really-gzipped.rdb"
    plain_gz_name = "s3://acme-seeds/odd/not-gzipped.rdb.gz"
    stores.for_uri(gzipped_plain_name).put(gzipped_plain_name, make_rdb({"a": "1"}, gzipped=True))
    stores.for_uri(plain_gz_name).put(plain_gz_name, make_rdb({"b": "2"}))
    acct = accounts(import_manifest(tmp_path, (gzipped_plain_name, plain_gz_name)))

    assert result_of(acct.apply(acct.plan())).outcome is Outcome.DONE
    assert data_of(plane, ORDERS) == {"a": "1", "b": "2"}


@pytest.mark.usefixtures("shards")
def test_data_larger_than_the_memory_limit_fails_with_both_byte_figures(
    make_plane: Callable[..., DataPlane], accounts: Callable[..., Account], tmp_path: Path
) -> None:
    plane = make_plane(**{f"db{ORDERS}": DatabaseData(Content(literal=dict(OLD_DATA)), memory_limit=200)})
    acct = accounts(import_manifest(tmp_path))

    failed = result_of(acct.apply(acct.plan()))

    assert failed.outcome is Outcome.FAILED and "file-larger-than-mem-limit" in failed.message
    with owner_http(acct) as http:
        task = http.get(f"/subscriptions/1234567/databases/{ORDERS}/import").json()
        for _ in range(200):
            done = http.get(f"/tasks/{task['taskId']}").json()
            if done["status"] == "processing-completed":
                break
    resource = done["response"]["resource"]
    params = {item["key"]: item["value"] for item in resource["failureReasonParams"]}
    assert resource["failureReason"] == "file-larger-than-mem-limit"
    assert params["bytes_configured_bdb_limit"] == "200"
    assert int(params["bytes_of_expected_dataset"]) > 200
    assert data_of(plane, ORDERS) == OLD_DATA


def test_a_missing_file_fails_the_import_task_and_leaves_the_data(
    plane: DataPlane, accounts: Callable[..., Account], tmp_path: Path
) -> None:
    acct = accounts(import_manifest(tmp_path, ("s3://acme-seeds/nowhere/none.rdb.gz",)))

    failed = result_of(acct.apply(acct.plan()))

    assert failed.outcome is Outcome.FAILED and "DATABASE_IMPORT_SOURCE_NOT_FOUND" in failed.message
    assert data_of(plane, ORDERS) == OLD_DATA


def test_ftp_credentials_are_checked_by_the_store_and_never_echoed(
    plane: DataPlane,
    accounts: Callable[..., Account],
    stores: Stores,
    make_rdb: MakeRdb,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    place = "ftp://sandbox:sandbox-ftp-password@ftp.acme.example/seeds/orders.rdb.gz"
    stores.for_uri(place).put(place, make_rdb({"from": "ftp"}, gzipped=True))
    uri = "ftp://sandbox:${env:FTP_PASSWORD}@ftp.acme.example/seeds/orders.rdb.gz"

    refused = accounts(import_manifest(tmp_path, (uri,)), FTP_PASSWORD="hunter2")
    failed = result_of(refused.apply(refused.plan()))
    assert failed.outcome is Outcome.FAILED and "hunter2" not in failed.message
    assert "refused the login" in caplog.text and "hunter2" not in caplog.text  # the data plane's log
    assert "hunter2" not in json.dumps(refused.emulator.snapshot()["request_log"])  # nor the emulator's log
    assert data_of(plane, ORDERS) == OLD_DATA

    (tmp_path / "again").mkdir()
    accepted = accounts(import_manifest(tmp_path / "again", (uri,)), FTP_PASSWORD="sandbox-ftp-password")
    assert result_of(accepted.apply(accepted.plan())).outcome is Outcome.DONE
    assert data_of(plane, ORDERS) == {"from": "ftp"}


def test_redis_source_copies_a_whole_database_and_a_wrong_password_changes_nothing(
    plane: DataPlane, accounts: Callable[..., Account], tmp_path: Path
) -> None:
    source = plane.databases[SESSIONS].server
    client_of(plane, SESSIONS).mset({"session:1": "x", "session:2": "y"})
    client_of(plane, SESSIONS).expire("session:2", 500)

    # `redis://${env:X}@…` is taken for a literal `user:password` by the manifest's credential check (the colon
    # of `${env:`); the empty-user form says the same to a Redis server.
    uri = f"redis://:${{env:SOURCE_PASSWORD}}@127.0.0.1:{source.port}"
    wrong = accounts(import_manifest(tmp_path, (uri,)), SOURCE_PASSWORD="not-it")
    assert result_of(wrong.apply(wrong.plan())).outcome is Outcome.FAILED
    assert data_of(plane, ORDERS) == OLD_DATA

    (tmp_path / "again").mkdir()
    right = accounts(import_manifest(tmp_path / "again", (uri,)), SOURCE_PASSWORD=source.password)
    assert result_of(right.apply(right.plan())).outcome is Outcome.DONE
    assert data_of(plane, ORDERS) == {"session:1": "x", "session:2": "y"}
    assert 0 < client_of(plane, ORDERS).ttl("session:2") <= 500
    assert client_of(plane, ORDERS).execute_command("ROLE")[0] == b"master"  # no longer a replica


def test_a_database_read_carries_an_endpoint_and_password_that_reach_its_data(
    plane: DataPlane, accounts: Callable[..., Account], tmp_path: Path
) -> None:
    import redis

    acct = accounts(import_manifest(tmp_path))
    with owner_http(acct) as http:
        shape = http.get(f"/subscriptions/1234567/databases/{ORDERS}").json()
        listed = http.get("/subscriptions/1234567/databases").json()["subscription"][0]["databases"]
    host, port = shape["publicEndpoint"].rsplit(":", 1)
    assert shape["privateEndpoint"] == shape["publicEndpoint"]
    reached = redis.Redis(host=host, port=int(port), password=shape["security"]["password"])
    assert reached.get("order:old:1") == b"before"
    reached.close()
    in_list = next(db for db in listed if db["databaseId"] == ORDERS)
    assert in_list["publicEndpoint"] == shape["publicEndpoint"] and "password" not in in_list["security"]


@pytest.fixture(scope="session")
def azurite() -> None:
    """azurite needs node; with node present, it is installed once into the user's cache when missing."""
    import shutil
    import subprocess

    from reconciler.sandbox.data.azure import CACHED, INSTALL_HINT, find_azurite

    if shutil.which("node") is None:
        pytest.skip("Azure Blob needs azurite, which needs node: node is not on PATH")
    if find_azurite()[0] is None:
        prefix = CACHED.parents[2]
        done = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "azurite@3.35.0"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{INSTALL_HINT} failed: {done.stderr[-500:]}"


@pytest.mark.usefixtures("azurite")
def test_azure_blob_imports_check_the_storage_key(
    plane: DataPlane, accounts: Callable[..., Account], stores: Stores, make_rdb: MakeRdb, tmp_path: Path
) -> None:
    from reconciler.sandbox.data.azure import WELL_KNOWN_KEY

    place = f"abs://:{WELL_KNOWN_KEY}@acmestorage/seeds/orders.rdb.gz"
    stores.for_uri(place).put(place, make_rdb({"from": "azure"}, gzipped=True))
    uri = "abs://:${env:AZURE_KEY}@acmestorage/seeds/orders.rdb.gz"
    wrong_key = "A" * 86 + "=="

    refused = accounts(import_manifest(tmp_path, (uri,)), AZURE_KEY=wrong_key)
    failed = result_of(refused.apply(refused.plan()))
    assert failed.outcome is Outcome.FAILED and wrong_key not in failed.message
    assert data_of(plane, ORDERS) == OLD_DATA

    (tmp_path / "again").mkdir()
    accepted = accounts(import_manifest(tmp_path / "again", (uri,)), AZURE_KEY=WELL_KNOWN_KEY)
    assert result_of(accepted.apply(accepted.plan())).outcome is Outcome.DONE
    assert data_of(plane, ORDERS) == {"from": "azure"}


def test_a_backup_the_store_refuses_is_failed_not_success(
    plane: DataPlane, accounts: Callable[..., Account], tmp_path: Path
) -> None:
    manifest = tmp_path / "backup.yaml"
    manifest.write_text(
        f"""version: 1
databases:
  - name: orders-prod
    subscription: 1234567
    database: {ORDERS}
    backups:
      - id: to-ftp
        path: ftp://sandbox:${{env:FTP_PASSWORD}}@ftp.acme.example/backups
""",
        encoding="utf-8",
    )
    refused = accounts(manifest, FTP_PASSWORD="hunter2")
    (result,) = refused.apply(refused.plan())
    assert result.outcome is Outcome.FAILED
    assert plane.backups_written == []
    assert refused.emulator.tags(ORDERS)["rcr_backup_to-ftp"].startswith("v1 failed ")

    (tmp_path / "again").mkdir()
    accepted = accounts(manifest, FTP_PASSWORD="sandbox-ftp-password")
    (result,) = accepted.apply(accepted.plan(retry_failed={"orders-prod.backups.to-ftp"}))
    assert result.outcome is Outcome.DONE
    (written,) = plane.backups_written
    assert written.startswith("ftp://sandbox:sandbox-ftp-password@ftp.acme.example/backups/orders-prod-")
