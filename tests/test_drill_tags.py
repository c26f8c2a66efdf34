"""The drill receipt's format and the verdict on it (core/drill_tags.py, core/drills.py): pure, tables of cases."""

from __future__ import annotations

import pytest

from reconciler.core.desired import Drill
from reconciler.core.drill_tags import DrillPhase, DrillReceipt, Step, decode, encode, start
from reconciler.core.drills import DrillState, drill_verdict
from reconciler.core.live import LiveTag
from reconciler.core.receipt_tags import MAX_VALUE_LENGTH, read_receipts
from reconciler.errors import ReceiptError

DAY = 86400
WEEKLY = Drill("weekly", "scratch", "7d", 7 * DAY, "s3://b/drills")
T0 = 1_764_000_000
ADDRESS = "orders-prod.drills.weekly"


def tag(value: str) -> LiveTag:
    return LiveTag("rcr_drill_weekly", value, "2026-12-01T10:00:00.000Z", "2026-12-01T10:05:00.500Z")


def passed(at: int) -> DrillReceipt:
    return start("weekly", "0c1d2e3f", now=at, previous=None).ended(DrillPhase.PASSED, now=at + 60)


def test_a_passed_receipt_reads_back_as_written_with_every_step_and_count() -> None:
    receipt = (
        start("weekly", "0c1d2e3f", now=T0, previous=None)
        .timed(Step.BACKUP, 12.34)
        .timed(Step.LIST, 0.2)
        .timed(Step.IMPORT, 27.9)
        .timed(Step.VERIFY, 0.05)
    )
    receipt = DrillReceipt(**{**_fields(receipt), "age": 3, "keys": 100000, "src": 100000})
    done = receipt.ended(DrillPhase.PASSED, now=T0 + 41)
    value = encode(done)
    assert value == (
        "v1 passed run:0c1d2e3f at:1764000000 up:41 ok:1764000000 step:backup age:3 d:12.3_0.2_27.9_0.1 "
        "keys:100000 src:100000"
    )
    back = decode(tag(value), ADDRESS)
    assert encode(back) == value and back.keys == 100000 and back.duration(Step.IMPORT) == 27.9
    assert back.updated_at == "2026-12-01T10:05:00.500Z"


def test_the_longest_receipt_fits_the_tag_value_limit_keeping_outcome_times_and_reason() -> None:
    huge = DrillReceipt(
        "x" * 40,
        DrillPhase.INTERRUPTED,
        "ffffffff",
        9_999_999_999,
        99_999,
        9_999_999_999,
        Step.VERIFY,
        tuple((step, 21_600.0) for step in Step),  # four steps at the 6-hour timeout
        21_600,
        999_999_999,
        999_999_999,
        "file-larger-than-mem-limit",
    )
    value = encode(huge)
    assert len(value) <= MAX_VALUE_LENGTH
    back = decode(LiveTag("rcr_drill_" + "x" * 40, value, ""), ADDRESS)
    assert (back.phase, back.at, back.up, back.ok, back.step, back.why) == (
        DrillPhase.INTERRUPTED,
        9_999_999_999,
        99_999,
        9_999_999_999,
        Step.VERIFY,
        "file-larger-than-mem-limit",
    )
    assert back.duration(Step.IMPORT) == 21_600.0


def test_a_failed_run_keeps_the_last_pass_and_says_why_in_the_api_s_words() -> None:
    again = start("weekly", "99999999", now=T0 + 8 * DAY, previous=passed(T0))
    failed = again.at_step(Step.IMPORT, now=T0 + 8 * DAY + 30).ended(
        DrillPhase.FAILED, now=T0 + 8 * DAY + 40, why="file-corrupted"
    )
    assert "ok:1764000000" in failed.value and "why:file-corrupted" in failed.value and "step:import" in failed.value
    assert decode(tag(failed.value), ADDRESS).ok == T0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("v1 passed", id="no-times"),
        pytest.param("v1 running at:1 up:0", id="running-without-its-run"),
        pytest.param("v1 passed run:xyz at:1 up:0", id="run-not-hex"),
        pytest.param("v1 done run:0c1d2e3f at:1 up:0", id="unknown-phase"),
        pytest.param("v1 passed run:0c1d2e3f at:soon up:0", id="time-not-a-number"),
        pytest.param("v1 passed run:0c1d2e3f at:1 up:0 step:nap", id="unknown-step"),
    ],
)
def test_an_unreadable_drill_receipt_is_an_error_naming_the_drill(value: str) -> None:
    with pytest.raises(ReceiptError, match="orders-prod.drills.weekly: drill receipt tag rcr_drill_weekly"):
        decode(tag(value), ADDRESS)


def test_one_shot_receipts_ignore_drill_tags() -> None:
    """`plan` and `receipts list` read every rcr_ tag: a drill's must be neither a receipt nor a problem there."""
    found = read_receipts("orders-prod", [tag(passed(T0).value)])
    assert not found.found and not found.problems


LEASE = 3600


@pytest.mark.parametrize(
    ("receipt", "now", "state", "due", "violation"),
    [
        pytest.param(None, T0, DrillState.NEVER, True, True, id="never-run"),
        pytest.param(passed(T0), T0 + DAY, DrillState.PASSED, False, False, id="passed-recently"),
        pytest.param(passed(T0), T0 + 7 * DAY, DrillState.DUE, True, False, id="due-after-every"),
        pytest.param(passed(T0), T0 + 14 * DAY, DrillState.OVERDUE, True, True, id="overdue-after-two-periods"),
        pytest.param(
            start("weekly", "0c1d2e3f", now=T0, previous=None).ended(DrillPhase.FAILED, now=T0 + 9, why="x"),
            T0 + 60,
            DrillState.FAILED,
            True,
            True,
            id="failed-is-due-at-once",
        ),
        pytest.param(
            start("weekly", "0c1d2e3f", now=T0, previous=None), T0 + 60, DrillState.RUNNING, False, False, id="running"
        ),
        pytest.param(
            start("weekly", "0c1d2e3f", now=T0, previous=None),
            T0 + LEASE + 1,
            DrillState.INTERRUPTED,
            True,
            True,
            id="running-past-its-lease-is-a-dead-run",
        ),
        pytest.param(
            start("weekly", "0c1d2e3f", now=T0, previous=None).ended(DrillPhase.INTERRUPTED, now=T0 + 9),
            T0 + 60,
            DrillState.INTERRUPTED,
            True,
            True,
            id="interrupted-is-due-at-once",
        ),
    ],
)
def test_verdicts(receipt: DrillReceipt | None, now: int, state: DrillState, due: bool, violation: bool) -> None:
    verdict = drill_verdict(WEEKLY, receipt, now=now, lease=LEASE)
    assert (verdict.state, verdict.due, verdict.violation) == (state, due, violation)


def test_a_failed_run_after_a_pass_never_reads_as_passed() -> None:
    again = start("weekly", "99999999", now=T0 + DAY, previous=passed(T0))
    failed = again.ended(DrillPhase.FAILED, now=T0 + DAY + 5, why="too-few-keys")
    verdict = drill_verdict(WEEKLY, failed, now=T0 + DAY + 10, lease=LEASE)
    assert verdict.state is DrillState.FAILED
    assert "too-few-keys" in verdict.message and "last passed 1 d ago" not in verdict.message
    assert "last passed 24 h ago" in verdict.message


def _fields(receipt: DrillReceipt) -> dict[str, object]:
    return {name: getattr(receipt, name) for name in DrillReceipt.__dataclass_fields__}
