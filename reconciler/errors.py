"""The exception tree. Only `cli.py` catches broadly; everything else raises one of these.

ReconcilerError            a problem the user can fix; exit 1, one clear message
├── ManifestError          manifests that do not load or validate (carries every problem)
├── StateError             the live account is not what the manifest expects
├── UnsafePlanError        a plan that must not be applied as it is
├── StalePlanError         a saved plan whose `before` no longer holds
├── CredentialsError       missing or rejected API keys
├── WaitInterrupted        a wait given up at Ctrl-C/SIGTERM
└── ApiError               an HTTP call failed (method, path, status, API error type/description)
    ├── NotFoundError      404
    ├── ConflictError      409
    ├── RateLimitedError   429 after retries
    └── ServerError        5xx or the connection dropped, after retries
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for ManifestError's annotation: this module imports nothing of ours at run time
    from reconciler.problems import Problem


class ReconcilerError(Exception):
    """A problem the user can fix. The message is shown as is, so it must never hold a secret."""


class ManifestError(ReconcilerError):
    """Every problem found in the manifests, each shown as one `path:line:col: message` line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class StateError(ReconcilerError):
    pass


class UnsafePlanError(ReconcilerError):
    pass


class StalePlanError(ReconcilerError):
    pass


class CredentialsError(ReconcilerError):
    pass


class ApiError(ReconcilerError):
    """An API call that failed; `error_type`/`description` come from the API's `{type, status, description}`."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        error_type: str | None = None,
        description: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.retry_after = retry_after  # seconds the API asked us to wait, on a 429
        self.path = path
        self.status = status
        self.error_type = error_type
        self.description = description
        where = f"{method} {path}"
        what = f"HTTP {status}" if status is not None else "no response"
        detail = " - ".join(part for part in (error_type, description) if part)
        super().__init__(f"{where}: {what}" + (f": {detail}" if detail else ""))


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


class RateLimitedError(ApiError):
    pass


class ServerError(ApiError):
    pass


class OutcomeUnknownError(ApiError):
    """A POST of a backup or import was sent but no answer came back: never repeated blindly (SPEC §7)."""


class TaskFailedError(ApiError):
    """A task ended `processing-error`; `error_type`/`description` are its `response.error` (API-NOTES §5)."""

    def __init__(
        self, method: str, path: str, status: int | None, error_type: str | None = None, description: str | None = None
    ) -> None:
        super().__init__(method, path, status, error_type, description)
        detail = " - ".join(part for part in (error_type, description) if part)
        self.args = (f"{method} {path} failed" + (f": {detail}" if detail else ""),)


class TaskTimeoutError(ReconcilerError):
    pass


class WaitInterrupted(ReconcilerError):
    """A wait given up because the run was told to stop (Ctrl-C, SIGTERM); nothing after it may be sent."""
