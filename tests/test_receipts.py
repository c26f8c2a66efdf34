"""Receipt tags: encoding within the tag rules, decoding strictly, and classifying by server clock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.core import evidence, receipt_tags
from reconciler.core.desired import Import, Manifest, OnDemandBackup, OperationKind
from reconciler.core.live import LatestStatus, LiveTag, TaskSnapshot
from reconciler.core.plan import WarningKind
from reconciler.core.receipt_tags import Phase, Receipt
from reconciler.errors import ManifestError, ReceiptError
from tests.support.api_calls import claim_of, op_fingerprint
from tests.support.manifests import manifest_from

LONGEST_ID = "a" + "b-" * 19 + "z"  # 40 characters, the manifest maximum
TASK = "5D1E7A8E-6B2C-4F7E-9A1D-2C3B4D5E6F70"  # as an API might write it, upper case
CLAIMED_AT = "2026-11-24T06:30:00Z"
TAG_RULES = re.compile(r"^[a-z0-9 _.+@:-]+$")
IMPORT = Import("seed", ("s3://${env:BUCKET}/dump.rdb.gz",), "aws-s3", backup_first=True, confirm="orders")


def _manifest_with_import(directory: Path, op_id: str) -> Manifest:
    return manifest_from(
        directory,
        f"""\
version: 1
databases:
  - name: orders
    subscription: 1234567
    database: 7654321
    imports:
      - id: {op_id}
        from: [s3://bucket/dump.rdb.gz]
        confirm: orders
""",
    )


def test_round_trip_with_the_longest_id_fits_the_tag_rules(tmp_path: Path) -> None:
    # The longest id a manifest accepts is the one a receipt must fit: one character more is refused.
    (loaded,) = _manifest_with_import(tmp_path / "longest", LONGEST_ID).databases[0].imports
    with pytest.raises(ManifestError, match="at most 40 characters"):
        _manifest_with_import(tmp_path / "longer", LONGEST_ID + "x")
    receipt = Receipt(OperationKind.IMPORT, loaded.id, Phase.CLAIMED, op_fingerprint(IMPORT), 99_999_999_999).with_task(
        TASK
    )
    assert len(receipt.key) <= receipt_tags.MAX_KEY_LENGTH and TAG_RULES.match(receipt.key)
    assert len(receipt.value) <= receipt_tags.MAX_VALUE_LENGTH and TAG_RULES.match(receipt.value)
    decoded = receipt_tags.decode(LiveTag(receipt.key, receipt.value, CLAIMED_AT), "orders")
    assert decoded == Receipt(
        OperationKind.IMPORT, LONGEST_ID, Phase.CLAIMED, receipt.fingerprint, 99_999_999_999, TASK.lower(), CLAIMED_AT
    )


def test_value_format_and_phase_change() -> None:
    receipt = claim_of(OperationKind.BACKUP, OnDemandBackup("pre", "s3://b/x"), at=1764312600)
    assert receipt.key == "rcr_backup_pre"
    assert re.fullmatch(r"v1 claimed fp:[0-9a-f]{12} at:1764312600", receipt.value)
    assert receipt.with_task("t-1").with_phase(Phase.DONE).value.startswith("v1 done ")
    assert "s3" not in receipt.value  # never a URI


def test_fingerprint_covers_what_the_api_call_sends_only() -> None:
    same = Import("seed", IMPORT.sources, "aws-s3", backup_first=False, confirm=None)
    assert op_fingerprint(same) == op_fingerprint(IMPORT)
    assert op_fingerprint(Import("seed", ("s3://other/x",), "aws-s3")) != op_fingerprint(IMPORT)
    assert op_fingerprint(OnDemandBackup("a", None)) != op_fingerprint(OnDemandBackup("a", "s3://b"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        pytest.param("rcr_import_seed", "claimed at noon", "orders.imports.seed", id="bad-value"),
        pytest.param("rcr_import_seed", "v9 done fp:0123456789ab at:1", "orders.imports.seed", id="unknown-version"),
        pytest.param("rcr.restore.seed", "v1 done fp:0123456789ab at:1", "rcr.restore.seed", id="unknown-kind"),
    ],
)
def test_unparseable_receipts_are_errors_naming_the_address(key: str, value: str, message: str) -> None:
    with pytest.raises(receipt_tags.ReceiptError, match=re.escape(message)):
        receipt_tags.decode(LiveTag(key, value, CLAIMED_AT), "orders")


def test_other_tags_are_not_receipts() -> None:
    assert receipt_tags.decode(LiveTag("team", "payments", CLAIMED_AT), "orders") is None


def _claimed(task_id: str | None = None) -> Receipt:
    return Receipt(OperationKind.IMPORT, "seed", Phase.CLAIMED, "0123456789ab", 1, task_id, CLAIMED_AT)


@pytest.mark.parametrize(
    ("latest", "task", "kind", "outcome"),
    [
        pytest.param(None, None, WarningKind.UNCERTAIN, None, id="no-evidence"),
        # Issue 20 item 3: a status of the claim's own second may be a backup that finished just before it.
        pytest.param(
            LatestStatus("success", "2026-11-24T06:30:00Z"),
            None,
            WarningKind.UNCERTAIN,
            None,
            id="same-second-is-no-evidence",
        ),
        pytest.param(
            LatestStatus("success", "2026-11-24T06:30:00.999Z"),
            None,
            WarningKind.UNCERTAIN,
            None,
            id="same-second-whatever-the-fraction",
        ),
        pytest.param(
            LatestStatus("success", "2026-11-24T06:30:01Z"),
            None,
            WarningKind.SETTLED,
            Phase.DONE,
            id="the-next-second-is-evidence",
        ),
        pytest.param(
            LatestStatus("success", "2026-11-24T06:29:59Z"), None, WarningKind.UNCERTAIN, None, id="before-the-claim"
        ),
        pytest.param(
            LatestStatus("failed", "2026-11-24T07:00:00+00:00", "file-corrupted"),
            None,
            WarningKind.SETTLED,
            Phase.FAILED,
            id="failed-after",
        ),
        pytest.param(LatestStatus("importing"), None, WarningKind.IN_PROGRESS, None, id="running"),
        pytest.param(
            LatestStatus("mystery", "2026-11-24T07:00:00Z"),
            None,
            WarningKind.UNCERTAIN,
            None,
            id="unknown-status-stays-uncertain",
        ),
        pytest.param(
            None,
            TaskSnapshot("t-1", "processing-error", "DATABASE_IMPORT_FAILED"),
            WarningKind.SETTLED,
            Phase.FAILED,
            id="task-error",
        ),
        pytest.param(
            None, TaskSnapshot("t-1", "processing-in-progress"), WarningKind.IN_PROGRESS, None, id="task-running"
        ),
        pytest.param(
            LatestStatus(error_type="DATABASE_BACKUP_DISABLED"),
            TaskSnapshot("t-1", "processing-completed"),
            WarningKind.UNCERTAIN,
            None,
            id="completed-import-task-without-status-is-not-done",
        ),
        pytest.param(
            LatestStatus(error_type="GENERAL_ERROR"),
            TaskSnapshot("t-1", "processing-completed"),
            WarningKind.UNCERTAIN,
            None,
            id="unreadable-status-is-not-done",
        ),
        pytest.param(
            LatestStatus("failed", "2026-11-24T07:00:00Z"),
            TaskSnapshot("t-1", "processing-completed"),
            WarningKind.SETTLED,
            Phase.FAILED,
            id="status-after-completed-task-wins",
        ),
    ],
)
def test_classify_claimed(
    latest: LatestStatus | None, task: TaskSnapshot | None, kind: WarningKind, outcome: Phase | None
) -> None:
    assessment = evidence.classify(_claimed("t-1" if task else None), "orders.imports.seed", latest=latest, task=task)
    assert (assessment.kind, assessment.outcome) == (kind, outcome)
    assert "orders.imports.seed" in assessment.message


@pytest.mark.parametrize(
    ("error_type", "says"),
    [
        pytest.param("DATABASE_BACKUP_DISABLED", "cannot be verified", id="backup-off"),
        pytest.param("DATABASE_BACKUP_NOT_CONFIGURED", "cannot be verified", id="essentials-not-configured"),
        pytest.param("GENERAL_ERROR", "shows no outcome", id="other-status-error"),
    ],
)
def test_a_completed_backup_task_is_never_the_evidence_even_with_backup_off(error_type: str, says: str) -> None:
    """Issue 20 item 4: a completed task means only "accepted"; with backup off the status cannot tell, so the
    receipt stays uncertain and the message says how to check and what to do."""
    receipt = Receipt(OperationKind.BACKUP, "pre", Phase.CLAIMED, "0123456789ab", 1, "t-1", CLAIMED_AT)
    assessment = evidence.classify(
        receipt,
        "orders.backups.pre",
        latest=LatestStatus(error_type=error_type),
        task=TaskSnapshot("t-1", "processing-completed"),
    )
    assert (assessment.kind, assessment.outcome) == (WarningKind.UNCERTAIN, None)
    assert says in assessment.message and "--retry-uncertain orders.backups.pre" in assessment.message
    if error_type != "GENERAL_ERROR":
        assert "Check the backup destination" in assessment.message and error_type in assessment.message


@pytest.mark.parametrize(
    ("created_at", "left"),
    [
        pytest.param("2026-11-24T06:30:00.966Z", 0.034, id="milliseconds"),
        pytest.param("2026-11-24T06:30:00.000Z", 1.0, id="start-of-the-second"),
        pytest.param("2026-11-24T06:30:00Z", 1.0, id="no-fraction-may-be-late-in-its-second"),
        pytest.param("", 1.0, id="none"),
        pytest.param("garbage.5", 1.0, id="unparseable"),
    ],
)
def test_left_in_claim_second(created_at: str, left: float) -> None:
    assert evidence.left_in_claim_second(created_at) == pytest.approx(left)


def test_settled_message_says_what_apply_will_record() -> None:
    assessment = evidence.classify(
        _claimed(), "a.imports.seed", latest=LatestStatus("success", "2026-11-24T06:30:01Z"), task=None
    )
    assert "will record done" in assessment.message


def test_run_id_round_trips_and_tells_our_claim_from_another_runs() -> None:
    ours = claim_of(OperationKind.IMPORT, IMPORT, at=1764312600, run="0c1d2e3f")
    theirs = claim_of(OperationKind.IMPORT, IMPORT, at=1764312600, run="a1b2c3d4")
    assert ours.value != theirs.value
    decoded = receipt_tags.decode(LiveTag(ours.key, ours.value, CLAIMED_AT), "orders")
    assert decoded is not None and decoded.run == "0c1d2e3f"


def test_an_adopted_receipt_says_so_and_reads_back() -> None:
    receipt = receipt_tags.adopted(OperationKind.IMPORT, "seed", op_fingerprint(IMPORT), at=1764312600, run="0c1d2e3f")
    assert receipt.phase is Phase.DONE and receipt.value.endswith(" run:0c1d2e3f adopted")
    assert TAG_RULES.match(receipt.value) and len(receipt.value) <= receipt_tags.MAX_VALUE_LENGTH
    decoded = receipt_tags.decode(LiveTag(receipt.key, receipt.value, CLAIMED_AT), "orders")
    assert decoded is not None and decoded.adopted and decoded.phase is Phase.DONE
    plain = receipt_tags.decode(LiveTag(receipt.key, receipt.value.removesuffix(" adopted"), CLAIMED_AT), "orders")
    assert plain is not None and not plain.adopted
    assert "never ran it" in receipt_tags.adopted_note(decoded) and CLAIMED_AT in receipt_tags.adopted_note(decoded)


@pytest.mark.parametrize("phase", ["claimed", "failed"])
def test_only_a_done_receipt_can_be_adopted(phase: str) -> None:
    with pytest.raises(receipt_tags.ReceiptError, match="only a done receipt"):
        receipt_tags.decode(LiveTag("rcr_import_seed", f"v1 {phase} fp:0123456789ab at:1 adopted", CLAIMED_AT), "o")


# --- issue 12 §3: keys without dots, legacy keys, compact done receipts, the tag budget ---------------------


def test_new_keys_have_no_dot_and_legacy_keys_still_read() -> None:
    receipt = claim_of(OperationKind.IMPORT, IMPORT, at=1764312600, run="0c1d2e3f")
    assert receipt.key == "rcr_import_seed" and "." not in receipt.key
    legacy = receipt_tags.decode(LiveTag("rcr.import.seed", receipt.value, CLAIMED_AT), "orders")
    assert legacy is not None and (legacy.kind, legacy.op_id, legacy.phase) == (
        OperationKind.IMPORT,
        "seed",
        Phase.CLAIMED,
    )
    # Updated under the key it was read from, never a second receipt under the new key.
    assert legacy.key == "rcr.import.seed" and legacy.with_phase(Phase.DONE).key == "rcr.import.seed"


def _done(kind: OperationKind, op_id: str, fp: str = "0123456789ab") -> Receipt:
    return Receipt(kind, op_id, Phase.DONE, fp, 1)


def test_compact_tag_round_trips_within_the_tag_rules() -> None:
    ids = [LONGEST_ID[: 40 - n] + str(n) for n in range(receipt_tags.COMPACT_ENTRIES)]
    entries = [receipt_tags.compact_entry(_done(OperationKind.IMPORT, op_id)) for op_id in ids]
    value = receipt_tags.encode_compact(entries)
    assert len(value) <= receipt_tags.MAX_VALUE_LENGTH and TAG_RULES.match(value)
    tag = LiveTag("rcr_done_0a1b2c3d", value, CLAIMED_AT)
    receipts = receipt_tags.read_receipts("orders", [tag], [(OperationKind.IMPORT, i) for i in ids])
    assert receipts.problems == ()
    assert {r.op_id for r in receipts.found.values()} == set(ids)
    assert all(r.phase is Phase.DONE and r.compacted and r.key == tag.key for r in receipts.found.values())
    with pytest.raises(ValueError):
        receipt_tags.encode_compact(entries + [receipt_tags.compact_entry(_done(OperationKind.BACKUP, "one-more"))])


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param([("rcr_import_seed", "v1 failed fp:0123456789ab at:1")], "failed", id="individual"),
        pytest.param(
            [("rcr_import_seed", "v1 claimed fp:0123456789ab at:1"), ("rcr_done_00000000", "COMPACT")],
            "done",
            id="done-in-a-compact-tag-wins-over-a-claim",
        ),
        pytest.param(
            [
                ("rcr.import.seed", "v1 done fp:0123456789ab at:1"),
                ("rcr_import_seed", "v1 claimed fp:0123456789ab at:2"),
            ],
            "done",
            id="legacy-done-wins",
        ),
        pytest.param([("rcr_done_00000000", "COMPACT")], "done", id="compact-only"),
        pytest.param([("team", "payments")], None, id="not-ours"),
    ],
)
def test_read_receipts_done_anywhere_is_done(tags: list[tuple[str, str]], expected: str | None) -> None:
    compact = receipt_tags.encode_compact([receipt_tags.compact_entry(_done(OperationKind.IMPORT, "seed"))])
    live = [LiveTag(k, compact if v == "COMPACT" else v, CLAIMED_AT) for k, v in tags]
    receipts = receipt_tags.read_receipts("orders", live, [(OperationKind.IMPORT, "seed")])
    assert receipts.problems == ()
    receipt = receipts.get(OperationKind.IMPORT, "seed")
    assert (receipt.phase.value if receipt else None) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("v1 done", id="no-entries"),
        pytest.param("v1 done x0123abcd:0123456789ab", id="unknown-kind"),
        pytest.param("v1 claimed i0123abcd:0123456789ab", id="not-done"),
    ],
)
def test_unreadable_compact_tags_are_problems_not_silence(value: str) -> None:
    problems = receipt_tags.read_receipts("orders", [LiveTag("rcr_done_0a1b2c3d", value, CLAIMED_AT)]).problems
    assert len(problems) == 1 and "rcr_done_0a1b2c3d" in problems[0]


def _tags(own: int, ours: int) -> list[LiveTag]:
    return [LiveTag(f"team-{n}", "x", CLAIMED_AT) for n in range(own)] + [
        LiveTag(f"rcr_backup_b{n}", "v1 done fp:0123456789ab at:1", CLAIMED_AT) for n in range(ours)
    ]


@pytest.mark.parametrize(
    ("own", "ours", "planned", "says"),
    [
        pytest.param(3, 2, 1, None, id="plenty-of-room"),
        pytest.param(20, 4, 0, None, id="below-the-mark-nothing-planned"),
        pytest.param(20, 6, 0, "apply compacts", id="near-the-budget"),
        pytest.param(28, 1, 1, "remove some of the database's own tags", id="no-room-to-claim-and-compact"),
        pytest.param(30, 0, 0, "remove some", id="full-of-the-users-own"),
    ],
)
def test_budget_note(own: int, ours: int, planned: int, says: str | None) -> None:
    note = receipt_tags.budget_note("orders", _tags(own, ours), planned)
    if says is None:
        assert note is None
    else:
        assert note is not None and says in note and f"{own + ours} of its 30 tags" in note


@pytest.mark.parametrize(
    "latest",
    [
        None,
        LatestStatus(),
        LatestStatus("importing"),
        LatestStatus(time="2026-11-24T06:00:00Z"),
        LatestStatus(error_type="DATABASE_BACKUP_DISABLED"),
        LatestStatus("failed", None, "file-corrupted"),
    ],
)
def test_no_message_prints_a_python_none(latest: LatestStatus | None) -> None:
    assessment = evidence.classify(_claimed(), "orders.imports.seed", latest=latest, task=None)
    assert "None" not in assessment.message


# --- one region's backup of an Active-Active database (issue 19) ----------------------------------------------


@pytest.mark.parametrize(
    ("op_id", "region"),
    [
        pytest.param("pre-upgrade", "eu-west-1", id="aws"),
        pytest.param("a" + "b" * 30, "northamerica-northeast1"[:21], id="52-characters-exactly"),
    ],
)
def test_a_region_s_receipt_round_trips_within_the_tag_rules(op_id: str, region: str) -> None:
    backup = OnDemandBackup(op_id, None, region).in_region(region)
    receipt = claim_of(OperationKind.BACKUP, backup, at=1764312600).with_task(TASK)
    assert receipt.key == f"rcr_backup_{op_id}@{region}" and len(receipt.key) <= receipt_tags.MAX_KEY_LENGTH
    assert TAG_RULES.match(receipt.key) and TAG_RULES.match(receipt.value)
    decoded = receipt_tags.decode(LiveTag(receipt.key, receipt.value, CLAIMED_AT), "orders-aa")
    assert decoded is not None and (decoded.op_id, decoded.region) == (f"{op_id}@{region}", region)
    folded = receipt_tags.read_receipts(
        "orders-aa",
        [LiveTag("rcr_done_0a0b0c0d", receipt_tags.encode_compact([receipt_tags.compact_entry(receipt)]), CLAIMED_AT)],
        [(OperationKind.BACKUP, backup.id)],
    )
    assert folded.get(OperationKind.BACKUP, backup.id) is not None  # named again once compacted


def test_a_region_s_key_that_would_not_fit_is_refused_not_cut() -> None:
    assert not receipt_tags.fits(OperationKind.BACKUP, "a" * 40 + "@us-east-1-long-region")
    assert not receipt_tags.fits(OperationKind.BACKUP, "pre@US-EAST-1")  # the API's region, outside the tag rules
    assert receipt_tags.fits(OperationKind.BACKUP, "pre@us-east-1")


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("rcr_import_seed@us-east-1", id="an-import-has-no-region"),
        pytest.param("rcr.backup.pre@us-east-1", id="version-0.1-keys-had-no-region"),
    ],
)
def test_a_region_where_none_can_be_is_an_unreadable_receipt(key: str) -> None:
    with pytest.raises(ReceiptError, match="only today's backup receipts name a region"):
        receipt_tags.decode(LiveTag(key, "v1 done fp:0123456789ab at:1", CLAIMED_AT), "orders-aa")
