"""When apply reads an operation's latest status again (apply/pacing.py), on a fake clock."""

from __future__ import annotations

from itertools import islice

import pytest

from reconciler.apply.pacing import Pacing
from reconciler.core.desired import OperationKind
from reconciler.core.polling import PollPolicy

POLICY = PollPolicy(initial=1.0, maximum=30.0, factor=2.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def pauses(learned: list[float], count: int, kind: OperationKind = OperationKind.BACKUP) -> list[float]:
    """The first `count` pauses of an operation accepted at 0, each read taken when the pause before it ended."""
    clock = Clock()
    pacing = Pacing(POLICY, clock)
    for seconds in learned:
        pacing.learn(OperationKind.BACKUP, seconds)
    taken = []
    for pause in islice(pacing.of(kind, 0.0).delays(), count):
        taken.append(pause)
        clock.now += pause
    return taken


@pytest.mark.parametrize(
    ("learned", "expected"),
    [
        pytest.param([], [1, 2, 4, 8, 16, 30, 30], id="nothing-learnt-plain-backoff"),
        # The first read waits until the operation has run as long as the shortest seen, then backoff resumes.
        pytest.param([300.0, 240.0], [240, 30, 30, 30], id="learnt-four-minutes"),
        pytest.param([12.0], [12, 2, 4, 8, 16, 30], id="learnt-twelve-seconds"),
        # Past a minute, reads are at least the longest pause apart even though backoff would be shorter.
        pytest.param([65.0], [65, 30, 30], id="past-a-minute-thirty-seconds-apart"),
    ],
)
def test_status_reads_are_paced_by_what_the_run_has_learnt(learned: list[float], expected: list[float]) -> None:
    assert pauses(learned, len(expected)) == expected


def test_what_backups_taught_does_not_pace_imports() -> None:
    assert pauses([300.0], 3, kind=OperationKind.IMPORT) == [1, 2, 4]
