"""One HTTP session: auth headers, the request budget, retries, and API errors turned into typed exceptions.

Retries follow SPEC §7 and API-NOTES §6: 429, 502, 503, 504 and connection errors are retried with
exponential backoff and jitter, but only for requests that are safe to repeat. A request that is not
(the POST of a backup or an import) is retried only when it provably never reached the server (a 429, or a
connection that never opened); any other failure after sending raises `OutcomeUnknownError`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.cloud.limiter import RateLimiter
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
    """The httpx client every request goes through; `transport` is the seam for the built-in emulator."""
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
            transport=transport,
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
    ) -> None:
        self._http = http
        self.limiter = limiter or RateLimiter(400)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._count_lock = threading.Lock()
        self.requests = 0  # every HTTP request sent, retries included (shown with --debug)
        self.retries = 0

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
            try:
                with self.limiter.slot():
                    response = self._http.request(method, path, json=json, params=params)
            except httpx.UnsupportedProtocol as exc:
                # A base URL without http(s)://: nothing was sent, and retrying would only add ~30 s of back-off.
                raise CallError(method, path, None, "BAD_URL", f"{_describe(exc)} (check REDISCLOUD_URL)") from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The connection never opened, so nothing was sent: always safe to try again.
                failure: CallError = ServerError(method, path, None, "CONNECTION_FAILED", _describe(exc))
            except httpx.TransportError as exc:
                if not safe:
                    raise OutcomeUnknownError(method, path, None, "NO_RESPONSE", _describe(exc)) from None
                failure = ServerError(method, path, None, "CONNECTION_LOST", _describe(exc))
            else:
                self._observe(response)
                if response.is_success:
                    return response.json() if response.content else None
                failure = _error_for(method, path, response)
                if not safe and response.status_code != 429 and response.status_code >= 500:
                    raise OutcomeUnknownError(
                        method, path, response.status_code, failure.error_type, failure.description
                    ) from None
                if response.status_code not in _RETRY_STATUSES:
                    raise failure
            if attempt + 1 >= self.retry.attempts:
                raise failure
            self._sleep(self.retry.delay(attempt, failure.retry_after))
            attempt += 1
            with self._count_lock:
                self.retries += 1

    def _observe(self, response: httpx.Response) -> None:
        remaining = response.headers.get(_REMAINING_HEADER)
        if remaining is not None and remaining.strip().isdigit():
            # A 429 says when the window reopens; without that, assume a whole window (the safe side).
            self.limiter.observe(int(remaining), reopens_in=_seconds(response.headers))

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
