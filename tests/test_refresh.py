"""Refresh against the emulator: what it reads, and how few requests it needs to read it (issue 5)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from reconciler.core.desired import OperationKind, Tier
from reconciler.core.live import LiveBackup
from reconciler.core.plan import Action, WarningKind
from reconciler.core.planner import plan
from reconciler.core.receipt_tags import Phase
from reconciler.errors import PlanError
from reconciler.manifest.load import load_manifest
from reconciler.refresh import fetch_live, list_unmanaged
from reconciler.sandbox import Emulator, LoggedRequest, ManualClock
from tests.support.api_calls import claim_of, post_import
from tests.support.clients import Api, MakeApi
from tests.support.examples import (
    EXAMPLES,
    GLOBAL,
    INVENTORY,
    LEGACY,
    MARKETING,
    MARKETING_CACHE,
    ORDERS,
    ORDERS_AA,
    PROD_EU,
    SCRATCH,
)
from tests.support.manifests import manifest_from
from tests.support.world import FAST, calls, generated_world


def shape(entry: LoggedRequest) -> str:
    """`GET /subscriptions/{sid}/databases/{dbid}/tags`-like: the kind of call, without the ids."""
    path = re.sub(r"/tasks/[^/]+$", "/tasks/{id}", entry.path.removeprefix("/v1"))
    path = re.sub(r"/databases/\d+", "/databases/{db}", path)
    path = re.sub(r"/subscriptions/\d+", "/subscriptions/{sub}", path)
    return f"{entry.method} {path}"


def test_refresh_without_backup_in_pro_list_items_costs_a_get_per_pro_database(emulator: Emulator, api: Api) -> None:
    """The costly mode (API-NOTES §11 says list items very likely carry `backup`; if not, the GET fallback)."""
    emulator.set_options(pro_list_includes_backup=False)
    manifest = load_manifest([EXAMPLES])
    live = fetch_live(api.client, manifest)

    log = emulator.request_log()
    assert Counter(shape(entry) for entry in log) == {
        "GET /subscriptions/{sub}/databases": 3,  # acme-prod-eu, acme-analytics and acme-global, one page each
        "GET /fixed/subscriptions/{sub}/databases": 1,
        # The six Pro databases: their list items have no backup (orders-aa's regions have none either).
        "GET /subscriptions/{sub}/databases/{db}": 6,
        "GET /subscriptions/{sub}/databases/{db}/tags": 2,  # orders-prod and inventory-prod declare operations
    }
    assert {entry.path for entry in calls(log, "GET", "/tags")} == {
        f"/v1/subscriptions/{PROD_EU}/databases/{ORDERS}/tags",
        f"/v1/subscriptions/1234568/databases/{INVENTORY}/tags",
    }
    assert {entry.method for entry in log} == {"GET"}
    assert len(live.databases) == 7
    assert [r.region for r in live.databases[(GLOBAL, ORDERS_AA)].regions or ()] == ["us-east-1", "eu-west-1"]
    assert live.databases[(MARKETING, MARKETING_CACHE)].backup == LiveBackup(False)
    assert live.databases[(PROD_EU, ORDERS)].tags is not None
    assert live.databases[(MARKETING, MARKETING_CACHE)].tags is None  # no operations: tags never read
    assert not live.latest and not live.tasks


def test_refresh_makes_no_per_database_get_when_pro_list_items_carry_backup(emulator: Emulator, api: Api) -> None:
    """The emulator's default, as API-NOTES §11 expects of the real API: one list page per subscription."""
    manifest = load_manifest([EXAMPLES])
    live = fetch_live(api.client, manifest)

    assert Counter(shape(entry) for entry in emulator.request_log()) == {
        "GET /subscriptions/{sub}/databases": 3,
        "GET /fixed/subscriptions/{sub}/databases": 1,
        "GET /subscriptions/{sub}/databases/{db}/tags": 2,
    }
    assert live.databases[(PROD_EU, 7654322)].backup == LiveBackup(
        True, "gs://acme-backups-gcs/sessions", "every-12-hours", "04:00"
    )


def test_refresh_pages_a_big_subscription_once_for_all_its_managed_databases(
    clock: ManualClock, make_api: MakeApi, tmp_path: Path
) -> None:
    emulator = Emulator(generated_world(pro=250), clock=clock, timings=FAST)
    entries = "".join(
        f"  - {{name: db-{n}, subscription: 1000001, database: {n}, backup: {{path: 's3://bulk-backups/db-{n}', "
        "interval: every-6-hours}}\n"
        for n in (100003, 100150, 100249)
    )
    manifest = manifest_from(tmp_path, "version: 1\ndatabases:\n" + entries)
    live = fetch_live(make_api(emulator).client, manifest)

    log = emulator.request_log()
    assert [entry.query["offset"] for entry in calls(log, "GET", "/databases")] == ["0", "100", "200"]
    assert len(calls(log, "GET")) == 3  # three pages, whose items carry the backup settings
    assert plan(manifest, live).is_empty


def test_refresh_pages_a_big_subscription_then_gets_only_the_managed_databases_when_items_lack_backup(
    clock: ManualClock, make_api: MakeApi, tmp_path: Path
) -> None:
    emulator = Emulator(generated_world(pro=250), clock=clock, timings=FAST)
    emulator.set_options(pro_list_includes_backup=False)
    entries = "".join(
        f"  - {{name: db-{n}, subscription: 1000001, database: {n}, backup: {{path: 's3://bulk-backups/db-{n}', "
        "interval: every-6-hours}}\n"
        for n in (100003, 100150, 100249)
    )
    manifest = manifest_from(tmp_path, "version: 1\ndatabases:\n" + entries)
    live = fetch_live(make_api(emulator).client, manifest)

    log = emulator.request_log()
    assert len(calls(log, "GET")) == 3 + 3  # three pages, then one GET per managed Pro database
    assert sorted(entry.path for entry in calls(log, "GET") if "offset" not in entry.query) == [
        f"/v1/subscriptions/1000001/databases/{n}" for n in (100003, 100150, 100249)
    ]
    assert plan(manifest, live).is_empty


def test_statuses_are_read_only_for_a_claimed_receipt(emulator: Emulator, api: Api) -> None:
    manifest = load_manifest([EXAMPLES])
    orders = next(spec for spec in manifest.databases if spec.name == "orders-prod")
    seed, restore_point = orders.imports[0], orders.backups[0]
    claimed = claim_of(OperationKind.IMPORT, seed, at=1_764_000_000)
    done = claim_of(OperationKind.BACKUP, restore_point, at=1_764_000_000).with_phase(Phase.DONE)
    for receipt in (claimed, done):
        api.client.create_tag(Tier.PRO, PROD_EU, ORDERS, receipt.key, receipt.value)
    before = len(emulator.request_log())

    live = fetch_live(api.client, manifest)

    log = emulator.request_log()[before:]
    assert [entry.path for entry in calls(log, "GET", "/import")] == [
        f"/v1/subscriptions/{PROD_EU}/databases/{ORDERS}/import"
    ]
    assert calls(log, "GET", "/backup") == []  # the done receipt needs no evidence
    assert calls(log, "GET", "/tasks") == []  # the claim recorded no task id to look up
    assert len(calls(log, "GET")) == 6 + 1 + len([e for e in log if "/tasks/" in e.path])
    assert set(live.latest) == {((PROD_EU, ORDERS), OperationKind.IMPORT)}

    result = plan(manifest, live)
    warnings = {warning.address: warning.kind for warning in result.warnings}
    assert warnings == {"orders-prod.imports.seed-2026-11-20": WarningKind.UNCERTAIN}
    assert {change.address for change in result.changes if change.action is not Action.UPDATE} == {
        "inventory-prod.backups.pre-reindex-2026-11"
    }


@pytest.mark.parametrize(
    ("declared", "actual", "subscription", "database", "backup"),
    [
        pytest.param(
            "essentials", Tier.PRO, PROD_EU, ORDERS, "{path: 's3://acme-backups/orders'}", id="pro-declared-essentials"
        ),
        pytest.param(
            "pro",
            Tier.ESSENTIALS,
            MARKETING,
            MARKETING_CACHE,
            "{path: 's3://acme-backups/marketing', interval: every-24-hours}",
            id="essentials-declared-pro",
        ),
    ],
)
def test_a_database_on_the_other_tier_is_found_there_so_the_plan_can_say_so(
    api: Api, tmp_path: Path, declared: str, actual: Tier, subscription: int, database: int, backup: str
) -> None:
    manifest = manifest_from(
        tmp_path,
        "version: 1\ndatabases:\n"
        f"  - {{name: some-db, subscription: {subscription}, database: {database}, tier: {declared}, backup: {backup}}}\n",
    )
    live = fetch_live(api.client, manifest)
    assert live.databases[(subscription, database)].tier is actual
    with pytest.raises(PlanError) as caught:
        plan(manifest, live)
    assert f"set `tier: {actual.value}`" in str(caught.value)


def test_a_missing_subscription_or_database_is_a_plan_error_not_a_crash(api: Api, tmp_path: Path) -> None:
    manifest = manifest_from(
        tmp_path,
        "version: 1\ndatabases:\n"
        "  - {name: ghost, subscription: 9999999, database: 1, backup: {path: 's3://b/ghost', interval: every-24-hours}}\n"
        f"  - {{name: gone, subscription: {PROD_EU}, database: 1, backup: {{path: 's3://b/gone', interval: every-24-hours}}}}\n",
    )
    live = fetch_live(api.client, manifest)
    assert live.databases == {}
    with pytest.raises(PlanError) as caught:
        plan(manifest, live)
    message = str(caught.value)
    assert "ghost: database 1 in subscription 9999999 does not exist" in message
    assert f"gone: database 1 in subscription {PROD_EU} does not exist" in message


def test_list_unmanaged_names_the_databases_no_manifest_declares(api: Api) -> None:
    unmanaged = list_unmanaged(api.client, load_manifest([EXAMPLES]))
    assert [(db.name, db.tier, db.database) for db in unmanaged] == [
        ("legacy-reports", Tier.PRO, LEGACY),
        ("scratch", Tier.ESSENTIALS, SCRATCH),
    ]


def test_refresh_keeps_within_a_smaller_api_budget_without_a_single_429(
    emulator: Emulator, clock: ManualClock, api: Api
) -> None:
    emulator.set_options(rate_limit=4)  # the server allows 4 a minute; our limiter was told 400
    start = clock()
    live = fetch_live(api.client, load_manifest([EXAMPLES]))

    assert len(live.databases) == 7
    statuses = [entry.status for entry in emulator.request_log()]
    assert statuses == [200] * 6  # X-Rate-Limit-Remaining taught the limiter the real budget
    assert api.session.retries == 0
    assert clock() - start >= 60.0  # six requests at four a minute span two windows


def test_a_claimed_import_that_ran_is_settled_from_its_task_and_status(
    emulator: Emulator, clock: ManualClock, api: Api
) -> None:
    """A run that crashed after the import POST: the plan reads the task and the latest import, and says so."""
    manifest = load_manifest([EXAMPLES])
    seed = next(spec for spec in manifest.databases if spec.name == "orders-prod").imports[0]
    receipt = claim_of(OperationKind.IMPORT, seed, at=int(clock()))
    api.client.create_tag(Tier.PRO, PROD_EU, ORDERS, receipt.key, receipt.value)
    clock.advance(1.0)
    task = post_import(api.client, Tier.PRO, PROD_EU, ORDERS, seed.source_type, seed.sources)
    api.client.update_tag(Tier.PRO, PROD_EU, ORDERS, receipt.key, receipt.with_task(task).value)
    api.client.wait_for_task(task, timeout=5)
    clock.advance(1.0)  # the import itself has finished too
    before = len(emulator.request_log())

    live = fetch_live(api.client, manifest)

    log = emulator.request_log()[before:]
    assert [entry.path for entry in calls(log, "GET", f"/tasks/{task}")] == [f"/v1/tasks/{task}"]
    assert live.tasks[task].status == "processing-completed"
    assert live.latest[((PROD_EU, ORDERS), OperationKind.IMPORT)].status == "success"
    warning = next(w for w in plan(manifest, live).warnings if w.address == "orders-prod.imports.seed-2026-11-20")
    assert warning.kind is WarningKind.SETTLED and warning.outcome == "done"
