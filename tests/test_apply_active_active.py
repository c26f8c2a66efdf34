"""Active-Active databases applied over HTTP against the emulator (issue 19): each region's settings by one
`PUT …/regions`, an on-demand backup of every region with one receipt each, and an interrupted region settled by
the next run from that region's own backup status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.core.outcomes import Outcome
from reconciler.core.plan import OneShot, RegionalUpdate, WarningKind
from reconciler.output.plan_json import change_document, change_from
from reconciler.sandbox import Fault
from tests.support.accounts import Account, account
from tests.support.examples import GLOBAL, ORDERS_AA
from tests.support.manifests import write_manifest
from tests.support.waiting import wait_for

AA_PATH = f"/v1/subscriptions/{GLOBAL}/databases/{ORDERS_AA}"
EAST, WEST = 'orders-aa.backups.pre-upgrade["us-east-1"]', 'orders-aa.backups.pre-upgrade["eu-west-1"]'
MANIFEST = f"""\
version: 1
databases:
  - name: orders-aa
    subscription: {GLOBAL}
    database: {ORDERS_AA}
    backup:
      regions:
        us-east-1: {{path: "s3://acme-backups/orders-aa/us-east-1", interval: every-12-hours, time_utc: "02:00"}}
        eu-west-1: {{path: "s3://acme-backups-eu/orders-aa/eu-west-1", interval: every-12-hours, time_utc: "16:00"}}
    backups:
      - id: pre-upgrade
        regions: all
"""


@pytest.fixture
def aa(tmp_path: Path) -> Account:
    made = account(manifest_paths=[write_manifest(tmp_path, MANIFEST)])
    yield made  # type: ignore[misc]
    made.session.close()


def test_regions_settings_and_a_backup_of_every_region_apply_once_each(aa: Account) -> None:
    the_plan = aa.plan()
    (update,) = [c for c in the_plan.changes if isinstance(c, RegionalUpdate)]
    assert update.addresses == ('orders-aa.backup["us-east-1"]',)  # eu-west-1's 16:00 reads 04:00: no drift
    assert [c.address for c in the_plan.changes if isinstance(c, OneShot)] == [EAST, WEST]

    results = aa.apply(the_plan)

    assert {r.address: r.outcome for r in results} == {
        "orders-aa.backup": Outcome.DONE,
        EAST: Outcome.DONE,
        WEST: Outcome.DONE,
    }
    writes = aa.writes()
    (put,) = [w for w in writes if w.method == "PUT" and w.path.endswith("/regions")]
    assert put.path == AA_PATH + "/regions"
    assert put.body == {
        "regions": [
            {
                "region": "us-east-1",
                "remoteBackup": {
                    "active": True,
                    "interval": "every-12-hours",
                    "storageType": "aws-s3",
                    "storagePath": "s3://acme-backups/orders-aa/us-east-1",
                    "timeUTC": "02:00",
                },
            }
        ]
    }
    assert not [w for w in writes if w.method == "PUT" and w.path == AA_PATH]  # never a database-wide write
    backups = [w.body for w in writes if w.method == "POST" and w.path.endswith("/backup")]
    assert backups == [{"regionName": "us-east-1"}, {"regionName": "eu-west-1"}]
    assert sorted(r.destination for r in aa.emulator.backup_history(ORDERS_AA)) == [
        "s3://acme-backups-eu/orders-aa/eu-west-1",
        "s3://acme-backups/orders-aa/us-east-1",
    ]
    receipts = {k: v for k, v in aa.emulator.tags(ORDERS_AA).items() if k.startswith("rcr_")}
    assert sorted(receipts) == ["rcr_backup_pre-upgrade@eu-west-1", "rcr_backup_pre-upgrade@us-east-1"]
    assert all(value.startswith("v1 done ") and " task:" in value for value in receipts.values())
    status_reads = [r.query for r in aa.emulator.request_log() if r.method == "GET" and r.path == AA_PATH + "/backup"]
    assert status_reads and all(query.get("regionName") in ("us-east-1", "eu-west-1") for query in status_reads)

    again = aa.plan()
    assert again.is_empty and again.warnings == ()


def test_a_region_whose_backup_answer_was_lost_is_settled_by_the_next_run_and_never_sent_again(aa: Account) -> None:
    the_plan = aa.plan(targets={"orders-aa.backups.pre-upgrade"})
    aa.emulator.inject(Fault.drop(method="POST", path="**/backup", after_processing=True, count=1))
    results = {r.address: r for r in aa.apply(the_plan)}

    # The first region's answer was lost after the API took it: no second POST, the claim stays; the next region
    # waits for a run that knows where the first one stands.
    assert results[EAST].outcome is Outcome.UNCERTAIN and results[WEST].outcome is Outcome.SKIPPED
    assert aa.emulator.tags(ORDERS_AA)["rcr_backup_pre-upgrade@us-east-1"].startswith("v1 claimed ")
    assert "rcr_backup_pre-upgrade@eu-west-1" not in aa.emulator.tags(ORDERS_AA)
    wait_for(lambda: [r.status for r in aa.emulator.backup_history(ORDERS_AA)] == ["success"])

    settle = aa.plan()
    assert [(w.address, w.kind, w.outcome) for w in settle.warnings] == [(EAST, WarningKind.SETTLED, "done")]
    assert [c.address for c in settle.changes] == ["orders-aa.backup", WEST]  # the settings, and the other region
    assert {r.outcome for r in aa.apply(settle)} == {Outcome.DONE, Outcome.SETTLED}
    assert aa.emulator.tags(ORDERS_AA)["rcr_backup_pre-upgrade@us-east-1"].startswith("v1 done ")
    assert len(aa.emulator.backup_history(ORDERS_AA)) == 2  # one each, ever
    final = aa.plan()
    assert final.is_empty and final.warnings == ()


def test_a_plan_file_of_regions_reads_back_as_it_was_written(aa: Account) -> None:
    for change in aa.plan().changes:
        document = json.loads(json.dumps(change_document(change)))
        assert change_from(document, calls_kept=True) == change
    (update,) = [c for c in aa.plan().changes if isinstance(c, RegionalUpdate)]
    document = change_document(update)
    assert [r["address"] for r in document["regions"]] == ['orders-aa.backup["us-east-1"]']
    assert document["database"]["active_active"] is True
    assert document["calls"][0]["path"].endswith("/regions")
