"""`receipts list` rows: whether the manifest's operation under a receipt's address is the one it claimed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.core.desired import DatabaseSpec, Import, OnDemandBackup, OperationKind, Position, Tier
from reconciler.core.receipt_tags import Phase, Receipt
from reconciler.output.receipt_rows import receipt_row
from tests.support.api_calls import op_fingerprint

BACKUP = OnDemandBackup("before-migration", "s3://acme/orders")
SEED = Import("seed", ("s3://acme/seed.rdb",), "aws-s3", confirm="orders")
SPEC = DatabaseSpec("orders-prod", 1, 2, Tier.PRO, False, None, (BACKUP,), (SEED,), Position("m.yaml", 3, 5))
CLAIMED = Receipt(OperationKind.IMPORT, "seed", Phase.DONE, op_fingerprint(SEED), at=1764312600, task_id="t-1")


@pytest.mark.parametrize(
    ("address", "receipt", "matches"),
    [
        pytest.param("orders-prod.imports.seed", CLAIMED, True, id="same-call"),
        pytest.param("orders-prod.imports.seed", replace(CLAIMED, fingerprint="0" * 12), False, id="edited"),
        pytest.param("orders-prod.imports.gone", replace(CLAIMED, op_id="gone"), None, id="not-in-manifest"),
        pytest.param(  # a backup's receipt under the import's id is another address, not the import's
            "orders-prod.backups.seed", replace(CLAIMED, kind=OperationKind.BACKUP), None, id="other-kind"
        ),
    ],
)
def test_fingerprint_matches(address: str, receipt: Receipt, matches: bool | None) -> None:
    row = receipt_row(SPEC, receipt)
    assert row["address"] == address and row["fingerprint_matches"] is matches


def test_a_row_names_the_tag_and_the_times() -> None:
    row = receipt_row(SPEC, CLAIMED)
    assert row == {
        "address": "orders-prod.imports.seed",
        "database": "orders-prod",
        "key": CLAIMED.key,
        "phase": "done",
        "created_at": None,
        "written_at": 1764312600,
        "task_id": "t-1",
        "fingerprint_matches": True,
        "compacted": False,
        "adopted": False,
    }


def test_an_adopted_receipt_says_so() -> None:
    assert receipt_row(SPEC, replace(CLAIMED, task_id=None, adopted=True))["adopted"] is True
