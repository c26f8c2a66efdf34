"""When apply reads an operation's latest status again (apply/pacing.py), on a fake clock."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from itertools import islice

import pytest

from reconciler.apply.pacing import Pacing, length_seen
from reconciler.core.desired import OperationKind
from reconciler.core.polling import PollPolicy

POLICY = PollPolicy(initial=1.0, maximum=30.0, factor=2.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def pauses(
    learned: list[float],
    count: int,
    kind: OperationKind = OperationKind.BACKUP,
    *,
    started: float = 0.0,
    earlier: tuple[float, ...] = (),
) -> list[float]:
    """The first `count` pauses of an operation accepted at `started` while operations of the same kind accepted at
    `earlier` still wait, each read taken when the pause before it ended."""
    clock = Clock()
    clock.now = started
    pacing = Pacing(POLICY, clock)
    for seconds in learned:
        pacing.learn(OperationKind.BACKUP, seconds)
    taken = []
    with ExitStack() as others:
        for moment in earlier:
            others.enter_context(pacing.waiting(kind, moment))
        with pacing.waiting(kind, started) as mine:
            for pause in islice(mine.delays(), count):
                taken.append(pause)
                clock.now += pause
    return taken


@pytest.mark.parametrize(
    ("learned", "expected"),
    [
        pytest.param([], [1, 2, 4, 8, 16, 30, 30], id="nothing-learnt-plain-backoff"),
        # The first read waits until the operation has run as long as the shortest seen and one shortest pause
        # more (so that it lands just after the end), then backoff resumes.
        pytest.param([300.0, 240.0], [241, 30, 30, 30], id="learnt-four-minutes"),
        pytest.param([12.0], [13, 2, 4, 8, 16, 30], id="learnt-twelve-seconds"),
        # Past a minute, reads are at least the longest pause apart even though backoff would be shorter.
        pytest.param([65.0], [66, 30, 30], id="past-a-minute-thirty-seconds-apart"),
    ],
)
def test_status_reads_are_paced_by_what_the_run_has_learnt(learned: list[float], expected: list[float]) -> None:
    assert pauses(learned, len(expected)) == expected


def test_what_backups_taught_does_not_pace_imports() -> None:
    assert pauses([300.0], 3, kind=OperationKind.IMPORT) == [1, 2, 4]


@pytest.mark.parametrize(
    ("learned", "started", "earlier", "expected"),
    [
        # An earlier backup still waits and nothing is learnt: it scouts, this one reads at 1, 3, 9, 27, 81, 243 s.
        pytest.param([], 10.0, (0.0,), [1, 2, 6, 18, 54, 162], id="follower-reads-thrice-as-far-apart"),
        # The earliest one is the scout: plain backoff, however many follow it.
        pytest.param([], 0.0, (5.0, 6.0), [1, 2, 4, 8, 16, 30, 30], id="the-scout-reads-as-usual"),
        # Once something is learnt, there are no followers: everyone reads where the learnt length says.
        pytest.param([40.0], 10.0, (0.0,), [41, 2, 4], id="learnt-beats-following"),
    ],
)
def test_until_a_length_is_learnt_only_the_earliest_operation_reads_with_the_backoff(
    learned: list[float], started: float, earlier: tuple[float, ...], expected: list[float]
) -> None:
    assert pauses(learned, len(expected), started=started, earlier=earlier) == expected


def test_a_follower_whose_scout_has_its_outcome_goes_back_to_the_backoff() -> None:
    clock = Clock()
    pacing = Pacing(POLICY, clock)
    with pacing.waiting(OperationKind.BACKUP, 0.0):
        pass  # the scout is over, without an outcome to learn from (it failed to be read, say)
    with pacing.waiting(OperationKind.BACKUP, 1.0) as follower:
        assert list(islice(follower.delays(), 3)) == [1, 2, 4]


def test_a_sleeping_follower_wakes_when_its_kind_is_learnt() -> None:
    """A follower may sleep minutes; the scout's outcome cuts that short to where the learnt length says."""
    pacing = Pacing(PollPolicy(initial=0.01, maximum=30.0), time.monotonic)
    woke = threading.Event()

    def follower() -> None:
        with pacing.waiting(OperationKind.BACKUP, time.monotonic()) as pauses:
            pauses.sleep(30.0)
        woke.set()

    thread = threading.Thread(target=follower)
    thread.start()
    time.sleep(0.05)
    assert not woke.is_set()
    pacing.learn(OperationKind.IMPORT, 0.0)  # another kind teaches nothing of backups
    assert not woke.wait(0.2)
    pacing.learn(OperationKind.BACKUP, 0.0)
    assert woke.wait(5.0), "the follower slept on after its kind's length was learnt"
    thread.join()


@pytest.mark.parametrize(
    ("api_length", "running_at", "seen_at", "learnt"),
    [
        pytest.param(121.0, 100.0, 133.0, 121.0, id="the-api-clock-inside-what-the-reads-prove"),
        pytest.param(None, 100.0, 133.0, 133.0, id="no-time-given-the-read-that-saw-it"),
        pytest.param(5.0, 100.0, 133.0, 100.0, id="a-clock-behind-is-held-to-the-last-running-read"),
        pytest.param(900.0, 100.0, 133.0, 133.0, id="a-clock-ahead-is-held-to-the-read-that-saw-it"),
    ],
)
def test_the_length_learnt_is_the_apis_within_what_the_reads_prove(
    api_length: float | None, running_at: float, seen_at: float, learnt: float
) -> None:
    assert length_seen(api_length=api_length, running_at=running_at, seen_at=seen_at) == learnt
