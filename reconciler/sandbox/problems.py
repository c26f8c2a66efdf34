"""Synchronous error answers.

Body shape: API-NOTES §7 saw only a Spring-Boot 404 (`{"timestamp", "status", "error", "path"}`) and the
OpenAPI documents no body for any error status, so every synchronous error uses that same envelope.
When an API error type applies (e.g. a validation error answered synchronously) we add the `type` and
`description` of the task error object (API-NOTES §5); UNCONFIRMED (API-NOTES §7) that the real API does:
clients should rely on the status code only.
"""

from __future__ import annotations

from http import HTTPStatus

from reconciler.sandbox.state import ErrorObject, JsonObject
from reconciler.sandbox.timings import iso_utc


class ApiProblem(Exception):
    """Raised by a handler to answer with an error status; the emulator turns it into a response."""

    def __init__(self, status: int, error_type: str | None = None, description: str | None = None) -> None:
        self.status = status
        self.error_type = error_type
        self.description = description
        super().__init__(f"{status} {error_type or ''} {description or ''}".strip())


class RateLimited(ApiProblem):
    """A 429 for the request budget (not for the backup limit), so the rate-limit headers say "0"."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(429)
        self.retry_after = retry_after


def error_body(status: int, path: str, now: float, problem: ApiProblem | None = None) -> JsonObject:
    body: JsonObject = {
        "timestamp": iso_utc(now, micros=True),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "path": path,
    }
    if problem is not None and problem.error_type:
        body["type"] = problem.error_type
    if problem is not None and problem.description:
        body["description"] = problem.description
    return body


def error_object(error_type: str, description: str, status: int = 400) -> ErrorObject:
    """The task `response.error` object; `status` reads like "400 BAD_REQUEST" (API-NOTES §5, §7)."""
    reason = HTTPStatus(status).phrase.upper().replace(" ", "_")
    return {"type": error_type, "status": f"{status} {reason}", "description": description}


def not_found() -> ApiProblem:
    return ApiProblem(404)
