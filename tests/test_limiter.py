"""The request budget under concurrency (issue 16, "fix the limiter"): a 429 costs its retry-after, not a window;
a late answer never holds up expired budget; and a thread waiting for budget never blocks the others."""

from __future__ import annotations

import threading
import time

from reconciler.cloud.limiter import RateLimiter
from reconciler.sandbox import ManualClock


def test_a_429_while_requests_are_in_flight_costs_its_retry_after_not_a_window() -> None:
    """Regression: the back-dated cells a 429 adds sat behind the in-flight requests' newer ones, and the next
    request waited ~60 s for the oldest in-flight cell instead of the 1 s the server asked for."""
    clock = ManualClock(100.0)
    limiter = RateLimiter(400, window=60.0, clock=clock, sleep=clock.advance)
    first, second = limiter.slot(), limiter.slot()
    first.__enter__()
    second.__enter__()  # two requests in flight
    clock.advance(0.2)
    limiter.observe(0, reopens_in=1.0)  # one of them came back 429, retry after 1 s, nothing left
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    started = clock()
    limiter.acquire()
    assert clock() - started <= 1.0
    for _ in range(397):  # the rest of the budget, with our own three requests still counted
        limiter.acquire()
    assert clock() - started <= 1.0


def test_an_answer_stamped_late_never_holds_up_expired_budget_behind_it() -> None:
    """Regression: the log assumed its cells in time order, so a request answered late (its cell moved to its answer)
    blocked an older, expired cell behind it, and a plan waited 15 s instead of 12 s."""
    clock = ManualClock(0.0)
    limiter = RateLimiter(2, window=10.0, clock=clock, sleep=clock.advance)
    slow = limiter.slot()
    slow.__enter__()  # taken first, answered last
    with limiter.slot():
        pass  # answered at once, at 0
    clock.advance(9.0)
    slow.__exit__(None, None, None)  # answered at 9: its cell now ends at 19
    clock.advance(1.5)  # 10.5: the quick request's cell has expired, the slow one's has not
    limiter.acquire()
    assert clock() == 10.5 and limiter.waited == 0


def test_a_thread_waiting_for_budget_does_not_hold_up_the_others() -> None:
    """Regression: `acquire` slept holding the lock `slot()` needs to stamp an answer, so answers were stamped (and
    budget freed) only once the sleeper woke, up to a window late."""
    limiter = RateLimiter(1, window=1.0)
    waiting = threading.Event()

    def blocked() -> None:
        waiting.set()
        limiter.acquire()  # the budget is spent: this sleeps for most of a second

    held = limiter.slot()
    held.__enter__()
    other = threading.Thread(target=blocked)
    other.start()
    waiting.wait(5)
    time.sleep(0.05)  # the other thread is asleep in acquire by now
    started = time.monotonic()
    held.__exit__(None, None, None)  # stamping the answer needs the lock
    stamped_in = time.monotonic() - started
    other.join(5)
    assert stamped_in < 0.5, f"stamping an answer waited {stamped_in:.2f} s for a sleeping thread"


def test_racing_threads_never_put_more_than_the_limit_into_a_window() -> None:
    limiter = RateLimiter(20, window=0.5)
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(15):
            with limiter.slot(), lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(sent) == 90
    for start in sent:  # stamps are taken inside the slot, after the limiter admitted the request
        assert sum(1 for t in sent if start <= t < start + 0.5) <= 20


def stamped(limiter: RateLimiter, clock: ManualClock, answered_at: float) -> None:
    """One request sent now and answered at `answered_at`."""
    with limiter.slot():
        clock.advance(answered_at - clock())


def test_a_fixed_window_that_reopens_frees_the_budget_at_once() -> None:
    """The first answer of the server's new window says it counts one request; those answered before it was sent
    reached the server first, so it has stopped counting them: they no longer hold the budget (figure 4: the next
    window's requests went at the pace of the last window's answers)."""
    clock = ManualClock(0.0)
    limiter = RateLimiter(3, window=10.0, clock=clock, sleep=clock.advance)
    for answered_at in (0.1, 2.0, 4.0):
        stamped(limiter, clock, answered_at)
    clock.advance(10.2 - clock())  # the first cell has expired: one request may go
    with limiter.slot() as sent_at:
        pass
    limiter.observe(2, sent_at=sent_at)  # the server: 2 left, so it counts this one alone

    started = clock()
    limiter.acquire()
    limiter.acquire()
    assert clock() == started  # no wait for the cells of 2.0 and 4.0 to expire


def test_an_answer_frees_nothing_the_server_may_not_have_counted_yet() -> None:
    """Requests answered after the observed one was sent, or still in flight, may have reached the server after it."""
    clock = ManualClock(0.0)
    limiter = RateLimiter(3, window=10.0, clock=clock, sleep=clock.advance)
    slow = limiter.slot()
    sent_at = slow.__enter__()  # sent first, answered last
    stamped(limiter, clock, 0.5)
    stamped(limiter, clock, 0.7)
    clock.advance(0.3)
    slow.__exit__(None, None, None)
    limiter.observe(2, sent_at=sent_at)  # it reached the server before the other two

    started = clock()
    limiter.acquire()
    assert clock() - started >= 9.0  # the budget is still spent until the oldest cell leaves the window
