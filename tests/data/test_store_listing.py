"""Listing gs:// and abs:// destinations (issue 15 §2) through their official clients, against the sandbox's
gcp-storage-emulator and azurite: what is found, each store's own credential conventions, and the errors, which
never show a key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.core.uris import resolve
from reconciler.sandbox.data.azure import WELL_KNOWN_KEY, find_azurite
from reconciler.sandbox.data.stores import Stores
from reconciler.stores import StoreError, StoreReach, list_files

AWKWARD_KEYS = ["d3Jvbmc6cEBzcy93K3JkPQ==", "@/:+=" * 40, "not base64 \n at all"]


def _put_backup(stores: Stores, folder: str) -> None:
    for name in ("drill-weekly-1/db-1.rdb.gz", "drill-weekly-1/db-2.rdb.gz"):
        stores.for_uri(f"{folder}/{name}").put(f"{folder}/{name}", b"REDIS0010")
    stores.for_uri(f"{folder}-other/x.rdb").put(f"{folder}-other/x.rdb", b"REDIS0010")  # beside it: not listed


def test_gcs_lists_the_objects_under_the_folder_from_the_sandbox_s_emulator(stores: Stores) -> None:
    _put_backup(stores, "gs://listing-a/drills")
    found = list_files("gs://listing-a/drills/drill-weekly-1/", StoreReach(gcs_endpoint=stores.by_scheme["gs"].url))
    assert found == [
        "gs://listing-a/drills/drill-weekly-1/db-1.rdb.gz",
        "gs://listing-a/drills/drill-weekly-1/db-2.rdb.gz",
    ]


def test_gcs_follows_storage_emulator_host_as_the_library_does(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    _put_backup(stores, "gs://listing-b/drills")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", stores.by_scheme["gs"].url)
    assert len(list_files("gs://listing-b/drills/drill-weekly-1/", StoreReach())) == 2


def test_a_missing_gcs_bucket_is_one_clear_error(stores: Stores) -> None:
    with pytest.raises(StoreError) as caught:
        list_files("gs://no-such-bucket/drills/", StoreReach(gcs_endpoint=stores.by_scheme["gs"].url))
    assert str(caught.value).startswith("gs://no-such-bucket/drills/: cannot list it (404")


def test_gcs_without_credentials_names_the_variables_to_set() -> None:
    # A process of its own, so that neither this machine's credentials nor an emulator's variable are found.
    code = (
        "from reconciler.stores import StoreReach, StoreError, list_files\n"
        "try:\n    list_files('gs://acme-backups/drills/', StoreReach())\n"
        "except StoreError as error:\n    print(error)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GCE_METADATA_HOST": "127.0.0.1:9", "NO_GCE_CHECK": "True"}
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert "gs://acme-backups/drills/: no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS" in ran.stdout, (
        ran.stdout + ran.stderr
    )


@pytest.fixture
def azurite(stores: Stores) -> str:
    if find_azurite()[0] is None:
        pytest.skip(find_azurite()[1])
    stores.for_uri("abs://x/y")  # starts azurite
    return stores.by_scheme["abs"].url


def test_azure_lists_with_the_uri_s_key_and_keeps_it_in_what_it_returns(stores: Stores, azurite: str) -> None:
    folder = resolve("abs://:${env:K}@acmestore/backups/drills", {"K": WELL_KNOWN_KEY})
    _put_backup(stores, folder)
    found = list_files(f"{folder}/drill-weekly-1/", StoreReach(azure_endpoint=lambda: azurite))
    assert found == [f"{folder}/drill-weekly-1/db-1.rdb.gz", f"{folder}/drill-weekly-1/db-2.rdb.gz"]


def test_azure_without_a_key_in_the_uri_uses_the_connection_string(stores: Stores, azurite: str) -> None:
    _put_backup(stores, resolve("abs://:${env:K}@acmestore/backups/conn", {"K": WELL_KNOWN_KEY}))
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={WELL_KNOWN_KEY};BlobEndpoint={azurite}"
    )
    reach = StoreReach(environ={"AZURE_STORAGE_CONNECTION_STRING": connection})
    found = list_files("abs://devstoreaccount1/backups/conn/drill-weekly-1/", reach)
    assert found == [f"abs://devstoreaccount1/backups/conn/drill-weekly-1/db-{n}.rdb.gz" for n in (1, 2)]


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=["wrong", "awkward", "not-base64"])
def test_a_refused_azure_key_is_one_masked_error(stores: Stores, azurite: str, key: str) -> None:
    uri = resolve("abs://:${env:K}@acmestore/backups/drills/", {"K": key})
    with pytest.raises(StoreError) as caught:
        list_files(uri, StoreReach(azure_endpoint=lambda: azurite))
    message = str(caught.value)
    assert message.startswith("abs://:****@acmestore/backups/drills/: cannot list it (")
    assert key not in message and uri not in message and "\n" not in message


def test_azure_with_no_credentials_at_all_says_where_to_put_them() -> None:
    with pytest.raises(StoreError) as caught:
        list_files("abs://acmestore/backups/drills/", StoreReach())
    assert str(caught.value) == (
        "abs://acmestore/backups/drills/: no Azure credentials: put the account key in the URI "
        "(abs://:${env:AZ_KEY}@acmestore/…) or set AZURE_STORAGE_CONNECTION_STRING"
    )


@pytest.mark.parametrize(
    ("uri", "hidden", "extra"),
    [
        ("gs://acme-backups/drills/", "google.cloud.storage", "gcs"),
        ("abs://:a2V5@acmestore/backups/drills/", "azure.storage.blob", "azure"),
    ],
)
def test_a_missing_client_library_names_the_extra_to_install(uri: str, hidden: str, extra: str) -> None:
    code = (
        f"import sys; sys.modules[{hidden!r}] = None\n"
        "from reconciler.stores import StoreReach, StoreError, list_files\n"
        f"try:\n    list_files({uri!r}, StoreReach())\n"
        "except StoreError as error:\n    print(error)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (
        ran.stdout
        == f"listing {extra} destinations needs {'google-cloud-storage' if extra == 'gcs' else 'azure-storage-blob'}: pip install 'rediscloud-reconciler[{extra}]'\n"
    ), ran.stderr
