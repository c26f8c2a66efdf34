"""One poller for every wait (cloud/watch.py), over real HTTP against the emulator on the wall clock.

Waits run in threads, as apply runs them; the emulator's tasks take half a second and the client polls every
150 ms, so every thread is waiting before the first tick (even on a loaded machine), and what is counted is requests a user pays
for against the rate limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from reconciler.cloud.client import RedisCloudClient
from reconciler.core.desired import Tier
from reconciler.core.polling import PollPolicy
from reconciler.errors import TaskFailedError, TaskTimeoutError, WaitInterrupted
from reconciler.sandbox import Emulator, Fault, Timings
from tests.support.api_calls import put_settings
from tests.support.clients import open_client
from tests.support.examples import ANALYTICS, ANALYTICS_DB, CATALOG, INVENTORY, ORDERS, PROD_EU, SEED, SESSIONS

TASK_SECONDS = 0.45
PAUSE = 0.15
PROD_DATABASES = (ORDERS, SESSIONS, CATALOG)
OFF = {"remoteBackup": {"active": False}}


@pytest.fixture
def emulator() -> Emulator:
    timings = Timings(0.0, 0.1, TASK_SECONDS - 0.1, 0.5, 0.5, 0.4, 0.0, 60.0)
    return Emulator(seed=SEED, timings=timings)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[RedisCloudClient]:
    client, session = open_client(emulator, attempts=2, poll=PollPolicy(initial=PAUSE, maximum=PAUSE, factor=1.0))
    yield client
    session.close()


def tasks_on_every_database(client: RedisCloudClient) -> list[str]:
    """A settings PUT on each of the example account's Pro databases: five tasks in flight at once."""
    where = [(PROD_EU, db) for db in PROD_DATABASES] + [(ANALYTICS, ANALYTICS_DB), (ANALYTICS, INVENTORY)]
    return [put_settings(client, Tier.PRO, sub, db, OFF) for sub, db in where]


def all_at_once(waits: list[Callable[[], object]]) -> list[object]:
    """Every wait in a thread of its own, all let go together."""
    gate = threading.Barrier(len(waits))

    def together(wait: Callable[[], object]) -> object:
        gate.wait(timeout=10)
        return wait()

    with ThreadPoolExecutor(len(waits)) as pool:
        return [future.result(timeout=30) for future in [pool.submit(together, wait) for wait in waits]]


def task_reads(emulator: Emulator) -> tuple[int, int]:
    """(`GET /tasks` requests, `GET /tasks/{id}` requests) so far."""
    log = emulator.request_log()
    listed = [e for e in log if e.method == "GET" and e.path == "/v1/tasks"]
    single = [e for e in log if e.method == "GET" and e.path.startswith("/v1/tasks/")]
    return len(listed), len(single)


def test_tasks_in_flight_are_read_together_with_one_list_a_tick(emulator: Emulator, client: RedisCloudClient) -> None:
    tasks = tasks_on_every_database(client)
    outcomes = all_at_once([lambda t=t: client.wait_for_task(t, timeout=10) for t in tasks])

    assert [o.snapshot.status for o in outcomes] == ["processing-completed"] * len(tasks)  # type: ignore[attr-defined]
    listed, single = task_reads(emulator)
    assert single == 0
    # Alone, each wait reads about TASK_SECONDS / PAUSE times; together they share those ticks.
    assert listed <= TASK_SECONDS / PAUSE + 2


@pytest.mark.parametrize(
    ("options", "single_reads"),
    [
        pytest.param({"tasks_envelope": "array"}, 0, id="bare-array"),
        # A list of running tasks only: each finished task has left it, and is read once on its own.
        pytest.param({"tasks_list": "running"}, 5, id="running-only"),
    ],
)
def test_either_shape_of_the_task_list_serves_every_wait(
    emulator: Emulator, client: RedisCloudClient, options: dict[str, str], single_reads: int
) -> None:
    emulator.set_options(**options)
    tasks = tasks_on_every_database(client)
    outcomes = all_at_once([lambda t=t: client.wait_for_task(t, timeout=10) for t in tasks])

    assert {o.snapshot.task_id for o in outcomes} == set(tasks)  # type: ignore[attr-defined]
    listed, single = task_reads(emulator)
    assert listed >= 1 and single == single_reads


def test_a_task_list_that_fails_is_not_asked_again_and_single_reads_carry_on(
    emulator: Emulator, client: RedisCloudClient
) -> None:
    emulator.inject(Fault.server_error(412, count=1, method="GET", path="/tasks"))
    tasks = tasks_on_every_database(client)
    outcomes = all_at_once([lambda t=t: client.wait_for_task(t, timeout=10) for t in tasks])

    assert len(outcomes) == len(tasks)
    listed, single = task_reads(emulator)
    assert listed == 1 and single >= len(tasks)


def test_one_failed_task_fails_only_its_own_wait(emulator: Emulator, client: RedisCloudClient) -> None:
    emulator.inject(Fault.task_error("DATABASE_GENERAL_ERROR_BACKUP", command_type="databaseUpdateRequest"))
    tasks = tasks_on_every_database(client)

    def wait(task: str) -> str:
        try:
            client.wait_for_task(task, timeout=10)
        except TaskFailedError as error:
            return error.error_type or ""
        return "completed"

    results = all_at_once([lambda t=t: wait(t) for t in tasks])
    assert sorted(results) == ["DATABASE_GENERAL_ERROR_BACKUP"] + ["completed"] * (len(tasks) - 1)
    assert results[0] == "DATABASE_GENERAL_ERROR_BACKUP"  # the first PUT took the injected fault


def test_databases_waiting_in_one_subscription_are_read_from_its_list_page(
    emulator: Emulator, client: RedisCloudClient
) -> None:
    list(client.list_databases(Tier.PRO, PROD_EU))  # as refresh does: the client learns each database's page
    tasks = [put_settings(client, Tier.PRO, PROD_EU, db, OFF) for db in PROD_DATABASES]
    all_at_once([lambda t=t: client.wait_for_task(t, timeout=10) for t in tasks])
    mark = len(emulator.request_log())

    all_at_once([lambda db=db: client.wait_until_active(Tier.PRO, PROD_EU, db, timeout=10) for db in PROD_DATABASES])

    log = emulator.request_log()[mark:]
    singles = [e for e in log if any(e.path.endswith(f"/databases/{db}") for db in PROD_DATABASES)]
    pages = [e for e in log if e.path.endswith(f"/subscriptions/{PROD_EU}/databases")]
    # The three are read together from one page; only one left waiting alone is read with a GET.
    assert log[0].path.endswith(f"/subscriptions/{PROD_EU}/databases") and pages and len(singles) <= 1
    assert {client.get_database(Tier.PRO, PROD_EU, db).status for db in PROD_DATABASES} == {"active"}


def test_a_lone_database_is_read_with_a_get_not_its_subscriptions_pages(
    emulator: Emulator, client: RedisCloudClient
) -> None:
    list(client.list_databases(Tier.PRO, PROD_EU))
    client.wait_for_task(put_settings(client, Tier.PRO, PROD_EU, ORDERS, OFF), timeout=10)
    mark = len(emulator.request_log())

    client.wait_until_active(Tier.PRO, PROD_EU, ORDERS, timeout=10)

    log = emulator.request_log()[mark:]
    assert log and all(e.path == f"/v1/subscriptions/{PROD_EU}/databases/{ORDERS}" for e in log)


def test_a_stop_ends_every_wait_at_once_even_while_the_poller_sleeps(emulator: Emulator) -> None:
    slow, session = open_client(emulator, poll=PollPolicy(initial=30.0))
    quick = RedisCloudClient(session, poll=PollPolicy(initial=0.05))
    try:
        quick.wait_for_task(put_settings(slow, Tier.PRO, PROD_EU, ORDERS, OFF), timeout=10)
        # Held busy well past the stop (the change's own 0.4 s could end first on a loaded machine): read once,
        # then the next reading is 30 s away.
        emulator.hold_status(ORDERS, "active-change-pending", 30.0)
        stop = threading.Event()
        threading.Timer(0.1, stop.set).start()
        started = time.monotonic()
        with pytest.raises(WaitInterrupted):
            slow.wait_until_active(Tier.PRO, PROD_EU, ORDERS, timeout=60, stop=stop)
        assert time.monotonic() - started < 2
    finally:
        session.close()


def test_one_task_at_a_time_processes_an_accounts_tasks_in_order(emulator: Emulator, client: RedisCloudClient) -> None:
    emulator.set_options(task_processing="one-at-a-time")
    tasks = tasks_on_every_database(client)
    all_at_once([lambda t=t: client.wait_for_task(t, timeout=20) for t in tasks])

    ends = {task["task_id"]: task["done_at"] for task in emulator.tasks()}
    finished = [ends[t] for t in tasks]
    assert finished == sorted(finished)
    # Each waits for the one before it: five tasks take five processing times, not one.
    assert finished[-1] - finished[0] >= 4 * (TASK_SECONDS - 0.1) - 1e-6


LEARNT_TASK = 1.2  # seconds a settings task takes in the tests below: many pauses of a backoff from 0.1 s


@pytest.fixture
def backoff_client(emulator: Emulator) -> Iterator[RedisCloudClient]:
    """The product's kind of policy (a short first pause, doubling), for tasks that outlast several of its pauses."""
    emulator.timings = Timings(0.0, 0.1, LEARNT_TASK - 0.1, 0.5, 0.5, 0.0, 0.0, 60.0)
    client, session = open_client(emulator, attempts=2, poll=PollPolicy(initial=0.1, maximum=0.8, factor=2.0))
    yield client
    session.close()


def a_wave(emulator: Emulator, client: RedisCloudClient) -> tuple[list[float], float]:
    """Five settings tasks at once, waited for together: when each `GET /tasks` went, from the wave's first PUT."""
    mark = len(emulator.request_log())
    tasks = tasks_on_every_database(client)
    outcomes = all_at_once([lambda t=t: client.wait_for_task(t, timeout=20) for t in tasks])
    assert [o.snapshot.status for o in outcomes] == ["processing-completed"] * len(tasks)  # type: ignore[attr-defined]
    log = emulator.request_log()[mark:]
    began = log[0].time
    return [e.time - began for e in log if e.method == "GET" and e.path.startswith("/v1/tasks")], began


@pytest.mark.parametrize(
    ("options", "single_reads"),
    [
        pytest.param({}, 0, id="tasks-of-ten-days"),
        # UNCONFIRMED which GET /tasks lists (API-NOTES §5): with only running ones, each finished task is read on
        # its own once, and teaches its length from that reading.
        pytest.param({"tasks_list": "running"}, 5, id="running-only"),
    ],
)
def test_a_later_wave_of_tasks_is_first_read_once_it_has_run_the_learnt_length(
    emulator: Emulator, backoff_client: RedisCloudClient, options: dict[str, str], single_reads: int
) -> None:
    emulator.set_options(**options)
    first, _ = a_wave(emulator, backoff_client)
    second, _ = a_wave(emulator, backoff_client)

    # The first wave is read on the backoff (about 0.1, 0.3, 0.7, 1.5 s); the second one not before its tasks'
    # length on the API's clock, and then at most once more for a task whose PUT was answered a little later.
    assert len(first) >= 3 + single_reads
    assert second and second[0] >= LEARNT_TASK - 0.15
    assert len(second) <= 2 + single_reads < len(first)


def test_tasks_longer_than_the_learnt_length_are_still_followed_to_their_end(
    emulator: Emulator, backoff_client: RedisCloudClient
) -> None:
    first, _ = a_wave(emulator, backoff_client)
    emulator.timings = Timings(0.0, 0.1, 2 * LEARNT_TASK - 0.1, 0.5, 0.5, 0.0, 0.0, 60.0)

    second, _ = a_wave(emulator, backoff_client)  # asserts that every task is seen completed

    # Read first at the learnt length, then on the backoff from there: about as often as the first wave.
    assert second[0] >= LEARNT_TASK - 0.15
    assert len(second) <= len(first) + 2


def test_a_reading_for_an_earlier_task_does_not_bring_a_later_ones_first_reading_forward(
    emulator: Emulator, backoff_client: RedisCloudClient
) -> None:
    a_wave(emulator, backoff_client)  # learns the length
    mark = len(emulator.request_log())

    def later() -> object:
        time.sleep(LEARNT_TASK - 0.2)  # PUT while the first is still running: its reading lists this one too
        return backoff_client.wait_for_task(put_settings(backoff_client, Tier.PRO, PROD_EU, SESSIONS, OFF), timeout=20)

    all_at_once(
        [
            lambda: backoff_client.wait_for_task(
                put_settings(backoff_client, Tier.PRO, PROD_EU, ORDERS, OFF), timeout=20
            ),
            later,
        ]
    )

    reads = [e for e in emulator.request_log()[mark:] if e.method == "GET" and e.path.startswith("/v1/tasks")]
    # One reading each, at its learnt length; brought forward, the second would be read on the backoff from the
    # first one's reading (0.2, 0.4, 0.8 s later) until it ends.
    assert len(reads) <= 3


def test_a_timeout_shorter_than_the_learnt_length_still_ends_the_wait_on_time(
    emulator: Emulator, backoff_client: RedisCloudClient
) -> None:
    a_wave(emulator, backoff_client)  # learns LEARNT_TASK
    task = put_settings(backoff_client, Tier.PRO, PROD_EU, ORDERS, OFF)
    started = time.monotonic()
    with pytest.raises(TaskTimeoutError):
        backoff_client.wait_for_task(task, timeout=LEARNT_TASK / 3)
    # Read once at its deadline, then given up: not first read, and timed out, only at the learnt length.
    assert time.monotonic() - started < LEARNT_TASK * 0.8
