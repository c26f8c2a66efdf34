"""`reconciler drill` refuses a drill whose source, or whose scratch database, is Active-Active (issue 19 × issue
15 §2), naming the drill and the database, before anything is written: no claim, no backup, no import."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_reconciler
from tests.support.examples import GLOBAL, MARKETING, ORDERS, ORDERS_AA, PROD_EU, SCRATCH
from tests.support.manifests import write_manifest
from tests.support.workdirs import copy_examples
from tests.support.workdirs import world as sandbox_world

FROM_AA = f"""version: 1
databases:
  - name: orders-aa
    subscription: {GLOBAL}
    database: {ORDERS_AA}
    drills:
      - {{id: weekly, into: scratch, every: 7d, path: 's3://acme-drills/orders-aa'}}
  - name: scratch
    subscription: {MARKETING}
    database: {SCRATCH}
    tier: essentials
    scratch: true
"""
INTO_AA = f"""version: 1
databases:
  - name: orders-prod
    subscription: {PROD_EU}
    database: {ORDERS}
    backup: {{path: 's3://acme-backups/orders'}}
    drills:
      - {{id: weekly, into: orders-aa, every: 7d}}
  - name: orders-aa
    subscription: {GLOBAL}
    database: {ORDERS_AA}
    scratch: true
"""


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        (
            FROM_AA,
            "orders-aa.drills.weekly: orders-aa is an Active-Active database, and per-region drills are not "
            "supported yet",
        ),
        (
            INTO_AA,
            "orders-prod.drills.weekly: its scratch database orders-aa is an Active-Active database, and a drill "
            "cannot import into one yet",
        ),
    ],
    ids=["source", "scratch"],
)
def test_an_active_active_database_in_a_drill_is_refused_before_any_write(
    tmp_path: Path, manifest: str, words: str
) -> None:
    work = copy_examples(tmp_path)
    write_manifest(work, manifest, "drills.yaml")
    ran = run_reconciler("--sandbox", "drill", "-f", "drills.yaml", "--auto-approve", cwd=work)
    assert ran.returncode == 1, ran.stderr
    assert words in ran.stderr
    assert "Nothing was written and no drill ran." in ran.stderr and "Traceback" not in ran.stderr
    assert ran.stdout == ""
    log = sandbox_world(work).request_log()
    assert log and {entry.method for entry in log} == {"GET"}
    assert not [entry for entry in log if entry.path.endswith("/tags")]  # not even the receipt was read
