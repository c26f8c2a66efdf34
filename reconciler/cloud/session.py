"""One HTTP session: auth headers, the request budget, retries, and API errors turned into typed exceptions.

Retries follow SPEC §7 and API-NOTES §6: 429, 502, 503, 504 and connection errors are retried with
exponential backoff and jitter, but only for requests that are safe to repeat. A request that is not
(the POST of a backup or an import) is retried only when it provably never reached the server (a 429, or a
connection that never opened); any other failure after sending raises `OutcomeUnknownError`.

Every attempt is reported to an optional observer as an `Exchange` (`--debug` prints each one, plan's progress
counts them); it carries no header and no body, and its path is masked, so it cannot leak a key or a credential.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.transport import default_transport
from reconciler.core.uris import mask_in_text
from reconciler.errors import (
    AuthError,
    CallError,
    ConflictError,
    CredentialsError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ReconcilerError,
    ServerError,
)

DEFAULT_URL = "https://api.redislabs.com/v1"
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_RETRY_AFTER_HEADER = "x-rate-limit-retry-after-seconds"  # "may" carry the delay on a 429 (API-NOTES §6)
_REMAINING_HEADER = "x-rate-limit-remaining"


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # never let a key reach a log or a traceback
        return "Credentials(****)"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP attempt as `--debug` shows it: what was asked, how it ended, how long it and the rate limit took,
    and what happens next. No headers (the keys) and no bodies (URIs with credentials); the path is masked."""

    method: str
    path: str  # with its query string, URI credentials masked
    status: int | None  # None: no HTTP answer (the connection failed or dropped)
    seconds: float  # from sending to the answer (or the failure)
    waited: float  # seconds spent waiting for the rate limiter before sending
    attempt: int  # 1 for the first try
    error: str | None = None  # the API's error type, or what went wrong on the wire
    retry_in: float | None = None  # the back-off before the next attempt; None when none follows

    def __str__(self) -> str:
        answer = str(self.status) if self.status is not None else "no response"
        line = f"{self.method} {self.path} -> {answer}" + (f" {self.error}" if self.error else "")
        line += f" in {_ms(self.seconds)}"
        if self.attempt > 1:
            line += f", attempt {self.attempt}"
        if self.waited >= 0.001:
            line += f", after {_ms(self.waited)} waiting for the rate limit"
        if self.retry_in is not None:
            line += f"; retrying in {_ms(self.retry_in)}"
        return line


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


Observer = Callable[[Exchange], None]


@dataclass(frozen=True, slots=True)
class _Attempt:
    sent: float  # the clock when it left (after the rate limiter let it)
    answered: float  # the clock when its answer, or its failure, came
    response: httpx.Response | None
    failure: CallError | None  # None: a 2xx answer
    retryable: bool = False

    def exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, int | str] | None,
        asked: float,
        attempt: int,
        retry_in: float | None,
    ) -> Exchange:
        # Shown decoded, as a person reads it, and masked: a percent-encoded URI would hide its credentials.
        query = "?" + "&".join(f"{name}={value}" for name, value in params.items()) if params else ""
        return Exchange(
            method=method,
            path=mask_in_text(path + query),
            status=self.response.status_code if self.response is not None else None,
            seconds=self.answered - self.sent,
            waited=self.sent - asked,
            attempt=attempt,
            error=self.failure.error_type if self.failure is not None else None,
            retry_in=retry_in,
        )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Full jitter over an exponential ceiling; a server hint is a floor."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        jittered = random.uniform(ceiling / 2, ceiling)
        return max(jittered, hint or 0.0)


_KEY_VARIABLES = (("access_key", "REDISCLOUD_ACCESS_KEY"), ("secret_key", "REDISCLOUD_SECRET_KEY"))
_WHITESPACE_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", " ": "a space"}


def check_credentials(credentials: Credentials) -> None:
    """Keys are printable ASCII without spaces: anything else cannot be sent as a header, and would fail only
    after ~25 s of retries, inside an error that quotes the header (the key) back. Refuse it at once, naming the
    variable and what is wrong, never the value."""
    for field, variable in _KEY_VARIABLES:
        problem = _key_problem(getattr(credentials, field))
        if problem:
            raise CredentialsError(f"{variable} {problem}")


def _key_problem(key: str) -> str | None:
    for index, char in enumerate(key):
        if char.isascii() and char.isprintable() and not char.isspace():
            continue
        last = index == len(key) - 1 or not key[index:].strip()
        where = "ends with" if last else "starts with" if index == 0 else "holds"
        if char in _WHITESPACE_NAMES:
            return (
                f"{where} {_WHITESPACE_NAMES[char]}: API keys hold no whitespace; export it again without "
                "(a key read from a file or written by `echo` often carries a newline)"
            )
        if char.isascii():
            return f"{where} a control character (U+{ord(char):04X}): API keys are printable ASCII; copy the key again"
        return (
            f"{where} a non-ASCII character: API keys are plain ASCII; copy the key again "
            "(an editor or a chat may have turned a character into a look-alike)"
        )
    return None


def open_http(base_url: str, credentials: Credentials, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The httpx client every request goes through; `transport` is the seam for the built-in emulator (without one,
    the standard library's http.client carries the requests, transport.py)."""
    check_credentials(credentials)
    try:
        return httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "x-api-key": credentials.access_key,
                "x-api-secret-key": credentials.secret_key,
                "accept": "application/json",
                # The official Go client sets it on every request, bodiless POSTs (a backup) and GETs included:
                # "The API expects this" (API-NOTES §11).
                "content-type": "application/json",
            },
            timeout=httpx.Timeout(30.0, connect=10.0),
            transport=transport if transport is not None else default_transport(),
        )
    except httpx.InvalidURL as exc:  # e.g. REDISCLOUD_URL=http://[::1/v1: the user's to fix, not a bug
        raise ReconcilerError(
            mask_in_text(f"API URL {base_url!r} is not a valid URL ({exc}); check REDISCLOUD_URL")
        ) from None


class Session:
    def __init__(
        self,
        http: httpx.Client,
        *,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        # Paths are sent as absolute URLs: httpx parses a relative one twice (itself, then merged with base_url),
        # 75 µs a request, 0.18 s of a 2,400-request plan (issue 16). A base without a scheme stays relative, so
        # that httpx refuses it as before (UnsupportedProtocol).
        self._base = str(http.base_url) if http.base_url.is_absolute_url else None
        self._last_date: tuple[str, datetime | None] = ("", None)  # a `Date` header and what it reads as
        self.limiter = limiter or RateLimiter(400)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._observer = observer
        self._clock = clock
        self._count_lock = threading.Lock()
        self.requests = 0  # every HTTP request sent, retries included (shown with --debug)
        self.retries = 0
        self._server_date: tuple[datetime, float] | None = None  # the last `Date` header, and our clock then

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, int | str] | None = None,
        safe: bool = True,
    ) -> Any:
        """The parsed JSON body of a 2xx answer; a `CallError` otherwise."""
        attempt = 0
        while True:
            with self._count_lock:
                self.requests += 1
            asked = self._clock()
            tried = self._once(method, path, json, params, safe)
            retry_in = None
            if tried.failure is not None and tried.retryable and attempt + 1 < self.retry.attempts:
                retry_in = self.retry.delay(attempt, tried.failure.retry_after)
            if self._observer is not None:
                self._observer(tried.exchange(method, path, params, asked, attempt + 1, retry_in))
            if tried.failure is None:
                assert tried.response is not None
                return tried.response.json() if tried.response.content else None
            if retry_in is None:
                raise tried.failure
            self._sleep(retry_in)
            attempt += 1
            with self._count_lock:
                self.retries += 1

    def _once(
        self, method: str, path: str, json: Mapping[str, Any] | None, params: Mapping[str, int | str] | None, safe: bool
    ) -> _Attempt:
        """One attempt, judged: its answer, or the failure and whether it may be tried again."""
        sent = self._clock()
        try:
            with self.limiter.slot() as ticket:
                sent = self._clock()
                url = path if self._base is None else self._base + path.lstrip("/")  # as httpx merges them
                response = self._http.request(method, url, json=json, params=params)
        except httpx.UnsupportedProtocol as exc:
            # A base URL without http(s)://: nothing was sent, and retrying would only add ~30 s of back-off.
            bad_url = CallError(method, path, None, "BAD_URL", f"{_describe(exc)} (check REDISCLOUD_URL)")
            return _Attempt(sent, self._clock(), None, bad_url)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # The connection never opened, so nothing was sent: always safe to try again.
            refused = ServerError(method, path, None, "CONNECTION_FAILED", _describe(exc))
            return _Attempt(sent, self._clock(), None, refused, retryable=True)
        except httpx.TransportError as exc:
            if not safe:
                unknown = OutcomeUnknownError(method, path, None, "NO_RESPONSE", _describe(exc))
                return _Attempt(sent, self._clock(), None, unknown)
            lost = ServerError(method, path, None, "CONNECTION_LOST", _describe(exc))
            return _Attempt(sent, self._clock(), None, lost, retryable=True)
        answered = self._clock()
        self._observe(response, ticket)
        if response.is_success:
            return _Attempt(sent, answered, response, None)
        failure = _error_for(method, path, response)
        status = response.status_code
        if not safe and status != 429 and status >= 500:
            unknown = OutcomeUnknownError(method, path, status, failure.error_type, failure.description)
            return _Attempt(sent, answered, response, unknown)
        return _Attempt(sent, answered, response, failure, retryable=status in _RETRY_STATUSES)

    def server_now(self) -> datetime | None:
        """The API's clock now: the last answer's `Date` (to the second) plus the time since it came; None when no
        answer carried one. API timestamps (`lastBackupTime`) are compared with this, not with our clock."""
        seen = self._server_date
        if seen is None:
            return None
        date, at = seen
        return date + timedelta(seconds=max(0.0, self._clock() - at))

    def _observe(self, response: httpx.Response, sent_at: float) -> None:
        text = response.headers.get("date") or ""
        seen = self._last_date  # read once: other threads replace it (whole, never in part)
        if text != seen[0]:  # a second's answers share one: parsed once
            seen = self._last_date = (text, _date(text))
        date = seen[1]
        if date is not None:
            self._server_date = (date, self._clock())
        remaining = response.headers.get(_REMAINING_HEADER)
        if remaining is not None and remaining.strip().isdigit():
            # A 429 says when the window reopens; without that, assume a whole window (the safe side).
            self.limiter.observe(int(remaining), reopens_in=_seconds(response.headers), sent_at=sent_at)

    def close(self) -> None:
        self._http.close()


def _describe(exc: Exception) -> str:
    return mask_in_text(str(exc) or type(exc).__name__)


def _error_for(method: str, path: str, response: httpx.Response) -> CallError:
    error_type, description = _parse_error_body(response)
    status = response.status_code
    if status in (401, 403):
        hint = (
            "the API rejected the keys (check REDISCLOUD_ACCESS_KEY and REDISCLOUD_SECRET_KEY)"
            if status == 401
            else "the key may not do this (a Viewer key can only read, or an IP allow-list blocks it)"
        )
        # Keep the hint even when the body has a description: Spring's bare "Unauthorized" names nothing to fix.
        return AuthError(method, path, status, error_type, " - ".join(part for part in (description, hint) if part))
    kind: type[CallError] = {404: NotFoundError, 409: ConflictError, 429: RateLimitedError}.get(status, CallError)
    if status >= 500:
        kind = ServerError
    return kind(method, path, status, error_type, description, retry_after=_seconds(response.headers))


def _date(text: str | None) -> datetime | None:
    """An HTTP `Date` (RFC 9110: `Tue, 01 Dec 2026 16:35:50 GMT`), aware and in UTC; None when absent or garbled."""
    if not text:
        return None
    try:
        date = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return date if date.tzinfo is not None else None


def _seconds(headers: httpx.Headers) -> float | None:
    try:
        return float(headers[_RETRY_AFTER_HEADER])
    except (KeyError, ValueError):
        return None


def _parse_error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """`{type, description}` when the body has them (task-style), else Spring's `error` phrase (API-NOTES §7)."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    nested = body.get("error")
    if isinstance(nested, dict):  # the task-style error object, should a synchronous answer carry one
        body = nested
    error_type = body.get("type") if isinstance(body.get("type"), str) else None
    description = body.get("description")
    if not isinstance(description, str):
        description = body.get("error") if isinstance(body.get("error"), str) else None
    return error_type, mask_in_text(description) if description else None
