"""The one backoff loop on fake time: what it returns, how long it pauses, when it gives up (timeout, stop)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence

import pytest

from reconciler.core.polling import PollPolicy, poll
from reconciler.errors import WaitInterrupted


class _TimedOut(Exception):
    pass


class _Fake:
    """A clock that moves only when slept on, and a `check` that gives the scripted answers in turn."""

    def __init__(self, answers: Sequence[str | None]) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._answers = iter(answers)
        self.checks = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def check(self) -> str | None:
        self.checks += 1
        return next(self._answers)

    def poll(self, policy: PollPolicy, deadline: float, stop: threading.Event | None = None) -> str:
        return poll(
            self.check,
            policy=policy,
            deadline=deadline,
            clock=self.clock,
            sleep=self.sleep,
            timed_out=_TimedOut,
            stop=stop,
        )


DOUBLING = PollPolicy(initial=1.0, maximum=30.0, factor=2.0)


@pytest.mark.parametrize(
    ("policy", "count", "expected"),
    [
        pytest.param(PollPolicy(), 7, [1, 2, 4, 8, 16, 30, 30], id="default-1s-doubling-to-30s"),
        pytest.param(PollPolicy(initial=0.5, maximum=0.5, factor=1.0), 3, [0.5, 0.5, 0.5], id="steady"),
        pytest.param(PollPolicy(initial=10, maximum=25, factor=3), 3, [10, 25, 25], id="capped-at-once"),
    ],
)
def test_the_pauses_grow_by_the_factor_up_to_the_maximum(policy: PollPolicy, count: int, expected: list[float]) -> None:
    assert list(itertools.islice(policy.delays(), count)) == expected


@pytest.mark.parametrize(
    ("answers", "deadline", "expected", "sleeps"),
    [
        pytest.param(["done"], 0.0, "done", [], id="answer-at-once-no-pause-even-past-deadline"),
        pytest.param([None, None, "done"], 100.0, "done", [1, 2], id="answer-after-two-pauses"),
        pytest.param([None] * 6 + ["done"], 1000.0, "done", [1, 2, 4, 8, 16, 30], id="pauses-capped"),
        # At 0, 1, 3, 7: the next pause (8 s) would end at 15, past 10.
        pytest.param([None] * 4, 10.0, _TimedOut, [1, 2, 4], id="times-out-before-a-pause-past-the-deadline"),
        # A pause that ends exactly at the deadline is still taken, and the check runs there once more.
        pytest.param([None, None, "done"], 3.0, "done", [1, 2], id="a-pause-ending-at-the-deadline-is-taken"),
        pytest.param([None] * 3, 3.0, _TimedOut, [1, 2], id="then-gives-up"),
    ],
)
def test_poll_returns_the_first_answer_or_times_out(
    answers: list[str | None], deadline: float, expected: str | type[Exception], sleeps: list[float]
) -> None:
    fake = _Fake(answers)
    if isinstance(expected, str):
        assert fake.poll(DOUBLING, deadline) == expected
    else:
        with pytest.raises(expected):
            fake.poll(DOUBLING, deadline)
    assert fake.sleeps == sleeps
    assert fake.checks == len(answers)


def test_what_the_check_raises_goes_through_at_once() -> None:
    fake = _Fake([])
    calls = itertools.count()

    def check() -> str | None:
        if next(calls) == 0:
            return None
        raise LookupError("the task failed")

    with pytest.raises(LookupError):
        poll(check, policy=DOUBLING, deadline=100, clock=fake.clock, sleep=fake.sleep, timed_out=_TimedOut)
    assert fake.sleeps == [1]


def test_the_timeout_error_is_built_when_it_is_raised() -> None:
    """`timed_out` is called late, so its message can tell what the last check saw."""
    seen: list[str] = []

    def check() -> str | None:
        seen.append(f"status {len(seen)}")
        return None

    def timed_out() -> Exception:
        return _TimedOut(f"no outcome (latest: {seen[-1]})")

    fake = _Fake([])
    with pytest.raises(_TimedOut, match=r"latest: status 2\)$"):
        poll(check, policy=DOUBLING, deadline=4, clock=fake.clock, sleep=fake.sleep, timed_out=timed_out)


@pytest.mark.parametrize(
    "deadline",
    [pytest.param(100.0, id="before-the-deadline"), pytest.param(0.0, id="even-when-the-deadline-passed-too")],
)
def test_a_set_stop_ends_the_wait_after_a_check(deadline: float) -> None:
    stop = threading.Event()
    stop.set()
    fake = _Fake([None, "never asked"])
    with pytest.raises(WaitInterrupted):
        fake.poll(DOUBLING, deadline, stop)
    assert fake.checks == 1 and fake.sleeps == []


def test_a_stop_that_is_set_still_returns_an_answer() -> None:
    """Stopping is the check's own business when it has an answer (`wait_until_active` looks once more)."""
    stop = threading.Event()
    stop.set()
    assert _Fake(["done"]).poll(DOUBLING, 100.0, stop) == "done"


def test_with_a_stop_the_pauses_are_its_wait_not_sleep() -> None:
    fake = _Fake([None, None, "done"])
    assert fake.poll(PollPolicy(initial=0.001, maximum=0.001), 100.0, threading.Event()) == "done"
    assert fake.sleeps == [] and fake.checks == 3


def test_setting_the_stop_ends_a_long_pause_at_once() -> None:
    stop = threading.Event()
    fake = _Fake([None, None])
    threading.Timer(0.05, stop.set).start()
    started = time.monotonic()
    with pytest.raises(WaitInterrupted):
        fake.poll(PollPolicy(initial=60.0), 1000.0, stop)
    assert time.monotonic() - started < 10
    assert fake.checks == 2  # the pause ended, the check ran once more, then the stop was seen


@pytest.mark.parametrize(
    ("pause_first", "sleeps", "checks"),
    [
        pytest.param(False, [1, 2], 3, id="asks-at-once"),
        # A status read just after a start: its answer cannot be there yet, so the first ask waits a pause too.
        pytest.param(True, [1, 2, 4], 3, id="pauses-before-the-first-ask"),
    ],
)
def test_the_first_ask_waits_a_pause_only_when_told(pause_first: bool, sleeps: list[float], checks: int) -> None:
    fake = _Fake([None, None, "done"])
    answer = poll(
        fake.check,
        policy=DOUBLING,
        deadline=100,
        clock=fake.clock,
        sleep=fake.sleep,
        timed_out=_TimedOut,
        pause_first=pause_first,
    )
    assert (answer, fake.sleeps, fake.checks) == ("done", sleeps, checks)
