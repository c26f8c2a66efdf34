"""Our client over the emulator's HTTP transport: on a ManualClock (`open_api`) or on the real clock
(`open_client`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.core.polling import PollPolicy
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator, ManualClock

BASE_URL = "https://sandbox.test/v1"


@dataclass(slots=True)
class Api:
    """Our client and what a test wants to look at around it."""

    client: RedisCloudClient
    session: Session
    limiter: RateLimiter
    backoffs: list[float] = field(default_factory=list)  # every retry delay the session slept


MakeApi = Callable[..., Api]


def open_api(
    emulator: Emulator,
    clock: ManualClock,
    *,
    access_key: str = SANDBOX_ACCESS_KEY,
    secret_key: str = SANDBOX_SECRET_KEY,
    limit: int = 400,
    window: float = 60.0,
    attempts: int = 6,
    poll: PollPolicy | None = None,
) -> Api:
    """A client whose every sleep (retry back-off, task polling, the rate limiter) moves `clock` instead: a
    test waits for nothing and still sees tasks finish, 429 windows roll over and fresh task ids appear."""
    http = open_http(BASE_URL, Credentials(access_key, secret_key), transport=emulator.transport())
    limiter = RateLimiter(limit, window, clock=clock, sleep=clock.advance)
    backoffs: list[float] = []

    def backoff(seconds: float) -> None:
        backoffs.append(seconds)
        clock.advance(seconds)

    session = Session(
        http, limiter=limiter, retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.05), sleep=backoff
    )
    client = RedisCloudClient(
        session, poll=poll or PollPolicy(initial=0.005, maximum=0.05), clock=clock, sleep=clock.advance
    )
    return Api(client, session, limiter, backoffs)


def open_client(
    emulator: Emulator, *, attempts: int = 6, backoffs: list[float] | None = None, poll: PollPolicy | None = None
) -> tuple[RedisCloudClient, Session]:
    """Our client over the emulator's HTTP transport. Retry delays are recorded and then slept for at most
    10 ms: the emulator's 429 asks for a whole second, which would only make the suite slow."""
    record = backoffs if backoffs is not None else []

    def sleep(seconds: float) -> None:
        record.append(seconds)
        time.sleep(min(seconds, 0.01))

    http = open_http(BASE_URL, Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY), transport=emulator.transport())
    session = Session(
        http,
        # Effectively unlimited, and a short window: a 429 answers `X-Rate-Limit-Remaining: 0`, which the
        # limiter (rightly) reads as "the window is spent"; a 60 s window would make the test wait a minute.
        limiter=RateLimiter(1000, window=0.05),
        retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.02),
        sleep=sleep,
    )
    return RedisCloudClient(session, poll=poll or PollPolicy(initial=0.005, maximum=0.05)), session
