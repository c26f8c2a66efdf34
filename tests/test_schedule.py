"""The apply scheduler: slots per subscription respected, no worker idle while another subscription has room."""

from __future__ import annotations

import threading
from collections import Counter

from reconciler.apply.schedule import Job, run_jobs


def test_a_full_subscription_does_not_hold_up_another_one() -> None:
    b_started = threading.Event()
    order: list[str] = []

    def work(name: str) -> str:
        order.append(name)
        if name == "a1":  # a1 ends only once b1 runs: a worker must not wait for a's slot with b1 queued
            assert b_started.wait(5), "b1 did not start while a1 held subscription a's only slot"
        if name == "b1":
            b_started.set()
        return name.upper()

    jobs = [Job("a", True, "a1"), Job("a", True, "a2"), Job("b", True, "b1")]
    assert run_jobs(jobs, work, workers=2, slots_per_group=1) == ["A1", "A2", "B1"]
    assert order.index("b1") < order.index("a2")


def test_never_more_than_the_slots_of_a_subscription_at_once() -> None:
    running: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    lock = threading.Lock()
    full = threading.Event()  # both subscriptions have 4 running: the first wave may end
    others = threading.Barrier(6)  # the six jobs without backups must all run at once

    def work(group: str) -> None:
        with lock:
            running[group] += 1
            peak[group] = max(peak[group], running[group])
            if running["a"] >= 4 and running["b"] >= 4:
                full.set()
        if group == "c":
            others.wait(timeout=10)  # breaks (and fails the run) if the scheduler held one of them back
        else:
            full.wait(timeout=2)  # the first four of each subscription overlap, however loaded the machine
        with lock:
            running[group] -= 1

    jobs = [Job(group, True, group) for group in "aaaaaaaaaabbbbbb"] + [Job("c", False, "c") for _ in range(6)]
    run_jobs(jobs, work, workers=14, slots_per_group=4)  # room for 4 + 4 slot jobs and all 6 others
    assert peak["a"] == 4 and peak["b"] == 4  # reached, never passed
    assert peak["c"] == 6  # jobs without backups are not limited by slots


def test_one_worker_keeps_plan_order() -> None:
    seen: list[int] = []
    jobs = [
        Job(group, uses, i) for i, (group, uses) in enumerate([("a", True), ("b", False), ("a", True), ("b", True)])
    ]
    run_jobs(jobs, seen.append, workers=1, slots_per_group=1)
    assert seen == [0, 1, 2, 3]
