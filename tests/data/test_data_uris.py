"""Pure: how the data plane reads URIs, and that what it logs or echoes never holds their credentials."""

from __future__ import annotations

import pytest

from reconciler.sandbox.data.azure import split_abs
from reconciler.sandbox.data.copy import parse_redis_uri
from reconciler.sandbox.data.stores import _safe

KEY = "Eby8vdM02x/NOcq+FlqUw=="


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("ftp://loader:hunter2@ftp.acme.example/a.rdb", "ftp://ftp.acme.example/a.rdb"),
        ("https://u:p@files.example:8443/x/y.rdb.gz", "https://files.example:8443/x/y.rdb.gz"),
        ("redis://s3cret@127.0.0.1:6379", "redis://127.0.0.1:6379"),
        (f"abs://:{KEY}@acct/container/blob.rdb", "abs://acct/container/blob.rdb"),
        (f"abs://{KEY}@acct/container/blob.rdb", "abs://acct/container/blob.rdb"),
        ("s3://bucket/key.rdb", "s3://bucket/key.rdb"),
    ],
)
def test_logged_uris_carry_no_credentials(uri: str, shown: str) -> None:
    assert _safe(uri) == shown


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        (f"abs://:{KEY}@acct/seeds/dir/orders.rdb.gz", (KEY, "seeds", "dir/orders.rdb.gz")),
        (f"abs://{KEY}@acct/seeds/orders.rdb", (KEY, "seeds", "orders.rdb")),
        ("abs://acct/seeds/orders.rdb", ("", "seeds", "orders.rdb")),
        ("abs://:a%2Bb%3D@acct/c/b", ("a+b=", "c", "b")),
    ],
)
def test_azure_uris_allow_keys_with_slashes_in_both_forms(uri: str, parts: tuple[str, str, str]) -> None:
    assert split_abs(uri) == parts


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("redis://pw@127.0.0.1:7000", ("127.0.0.1", 7000, None, "pw")),
        ("redis://:pw@localhost:7000", ("localhost", 7000, None, "pw")),
        ("redis://app:p%40ss@127.0.0.1:7000", ("127.0.0.1", 7000, "app", "p@ss")),
        ("redis://127.0.0.1:7000", ("127.0.0.1", 7000, None, None)),
    ],
)
def test_redis_sources_name_a_password_and_optionally_a_user(
    uri: str, parsed: tuple[str, int, str | None, str | None]
) -> None:
    assert parse_redis_uri(uri) == parsed
