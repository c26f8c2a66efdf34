"""Plan's progress while it reads a large account: a line now and then in a CI log, a counter on a terminal."""

from __future__ import annotations

import io

from reconciler.cloud.session import Exchange
from reconciler.output.read_progress import ReadProgress


class _Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def _request(waited: float = 0.0) -> Exchange:
    return Exchange("GET", "/subscriptions/1/databases/2/tags", 200, 0.02, waited, 1)


def test_a_log_gets_a_line_every_fifteen_seconds_and_a_quick_plan_none() -> None:
    stream, clock = io.StringIO(), _Clock()
    with ReadProgress(stream, live=False, clock=clock) as progress:
        for _ in range(40):  # 40 requests in 14 s
            clock.now += 0.35
            progress(_request())
        assert stream.getvalue() == ""
        for _ in range(10):
            clock.now += 0.35
            progress(_request(waited=0.6 if clock.now > 66 else 0.0))
        clock.now += 20
        progress(_request(waited=12.0))
        clock.now += 1
        progress(_request())
    assert stream.getvalue().splitlines() == [
        "Reading the live account: 43 requests in 15s",
        "Reading the live account: 51 requests in 37s, paced by the API's rate limit",
    ]


def test_a_terminal_gets_one_line_redrawn_in_place_and_erased_at_the_end() -> None:
    stream, clock = io.StringIO(), _Clock()
    with ReadProgress(stream, live=True, clock=clock) as progress:
        progress(_request())
        progress(_request())  # at the same instant: not redrawn
        clock.now += 0.5
        progress(_request())
    assert stream.getvalue() == (
        "\r\x1b[KReading the live account: 1 request in 0s..."
        "\r\x1b[KReading the live account: 3 requests in 0s..."
        "\r\x1b[K"
    )


def test_nothing_drawn_means_nothing_to_erase() -> None:
    stream = io.StringIO()
    with ReadProgress(stream, live=True):
        pass
    assert stream.getvalue() == ""
