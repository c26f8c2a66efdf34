"""The seed format and the example account it ships (examples/sandbox-world.yaml)."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
import yaml

from reconciler.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    SANDBOX_VIEWER_SECRET_KEY,
    Emulator,
    SandboxSeedError,
    load_seed,
)
from tests.support.emulator_http import fixed_db, make_client, pro_db
from tests.support.examples import (
    ANALYTICS,
    ANALYTICS_DB,
    CATALOG,
    INVENTORY,
    LEGACY,
    MARKETING_CACHE,
    ORDERS,
    ROOT,
    SCRATCH,
    SEED,
    SESSIONS,
)

SANDBOX_PACKAGE = ROOT / "reconciler" / "sandbox"


@pytest.mark.parametrize(
    ("path", "name", "backup"),
    [
        (pro_db(ORDERS), "orders-prod", ["every-24-hours", "04:00", "s3://acme-backups/orders"]),
        (pro_db(SESSIONS), "sessions-prod", ["every-12-hours", "04:00", "gs://acme-backups-gcs/sessions"]),
        (pro_db(CATALOG), "catalog-prod", None),
        (pro_db(LEGACY), "legacy-reports", ["every-24-hours", "03:00", "s3://acme-backups/legacy-reports"]),
        (pro_db(ANALYTICS_DB, ANALYTICS), "analytics-prod", ["every-6-hours", "", "s3://acme-backups/analytics"]),
        (pro_db(INVENTORY, ANALYTICS), "inventory-prod", ["every-1-hours", "", "s3://acme-backups/inventory"]),
    ],
)
def test_example_seed_describes_the_example_pro_account(
    client: httpx.Client, path: str, name: str, backup: list[str] | None
) -> None:
    database = client.get(path).json()
    assert database["name"] == name
    read = database["backup"]
    if backup is None:
        assert read["enableRemoteBackup"] is False
    else:
        assert [read["interval"], read["timeUTC"], read["destination"]] == backup


def test_example_seed_describes_the_example_essentials_account(client: httpx.Client) -> None:
    assert client.get(fixed_db(MARKETING_CACHE)).json()["backup"]["remoteBackupEnabled"] is False
    assert client.get(fixed_db(SCRATCH)).json()["name"] == "scratch"


def test_example_seed_stores_the_afternoon_time_of_sessions(emulator: Emulator) -> None:
    assert emulator.database(SESSIONS)["backup"]["time_utc"] == "16:00"


def test_example_seed_declares_kind_and_its_keys_match_the_constants() -> None:
    document = yaml.safe_load(SEED.read_text())
    assert (document["kind"], document["format_version"]) == ("redis-cloud-sandbox-world", 1)
    keys = {k["role"]: (k["access_key"], k["secret_key"]) for k in document["api_keys"]}
    assert keys == {
        "owner": (SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY),
        "viewer": (SANDBOX_ACCESS_KEY, SANDBOX_VIEWER_SECRET_KEY),
    }


def test_seed_without_keys_gets_the_default_owner(tmp_path: Path) -> None:
    seed = tmp_path / "world.yaml"
    seed.write_text("kind: redis-cloud-sandbox-world\nformat_version: 1\n")
    with make_client(Emulator(seed=seed)) as client:
        assert client.get("/subscriptions").status_code == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("format_version: 1\n", "kind must be", id="no-kind"),
        pytest.param("kind: redis-cloud-sandbox-world\nformat_version: 2\n", "format_version 2", id="version"),
        pytest.param("kind: redis-cloud-sandbox-world\nformat_version: 1\nextra: 1\n", "unknown key", id="unknown"),
        pytest.param(
            "kind: redis-cloud-sandbox-world\nformat_version: 1\ntimings: {backup: -1}\n", "timings.backup", id="timing"
        ),
        pytest.param(
            "kind: redis-cloud-sandbox-world\nformat_version: 1\nsubscriptions:\n"
            "  - {id: 1, name: s, databases: [{id: 2, name: d, backup: {path: 'http://x'}}]}\n",
            "does not match a backup storage type",
            id="bad-path",
        ),
    ],
)
def test_bad_seed_is_a_clear_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    seed = tmp_path / "world.yaml"
    seed.write_text(text)
    with pytest.raises(SandboxSeedError, match=message) as raised:
        load_seed(seed)
    assert str(seed) in str(raised.value)


def test_sandbox_imports_no_product_module_but_errors() -> None:
    for source in SANDBOX_PACKAGE.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reconciler"):
                assert node.module.startswith("reconciler.sandbox") or node.module == "reconciler.errors", source
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("reconciler") or alias.name.startswith("reconciler.sandbox")
