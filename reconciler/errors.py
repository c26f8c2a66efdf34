"""The exception tree, all of it. Only `cli.py` catches broadly; everything else raises one of these.

ReconcilerError              a problem the user can fix; exit 1, one clear message
├── UsageError               command-line arguments that do not parse
├── ManifestError            manifests that do not load or validate (carries every problem)
├── UnsetVariableError       a `${env:NAME}` whose variable is not set
├── UnsafePlanError          a plan that must not be applied as it is
│   ├── PlanError            problems that stop a plan (carries every problem)
│   └── ReceiptError         receipt tags that cannot be trusted (carries every problem)
├── PlanFileError            a plan file that cannot be read as a plan
├── StalePlanError           a saved plan whose `before` no longer holds
├── CredentialsError         missing or malformed API keys
│   └── AuthError            401/403 (also a CallError: it names the call)
├── ClaimedElsewhere         another run holds the receipt: skipped, never run twice
├── ClaimRefused             the API refused to write the claim: nothing written or run
├── ClaimUnconfirmed         the claim is written but not shown to be ours alone: nothing run
├── TaskTimeoutError         a task, database or status gave no outcome within the timeout
├── WaitInterrupted          a wait given up at Ctrl-C/SIGTERM
└── ApiError                 the API failed us (`error_type`/`description` from its answer)
    ├── CallError            an HTTP call failed (method, path, status)
    │   ├── NotFoundError    404
    │   ├── ConflictError    409
    │   ├── RateLimitedError 429 after retries
    │   ├── ServerError      5xx or the connection dropped, after retries
    │   ├── OutcomeUnknownError  a backup/import POST sent but unanswered: never repeated blindly
    │   └── AuthError        (see CredentialsError)
    └── TaskFailedError      the API reports that work it accepted failed (a task, a database in `error`)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for ManifestError's annotation: this module imports nothing of ours at run time
    from reconciler.manifest.problems import Problem


class ReconcilerError(Exception):
    """A problem the user can fix. The message is shown as is, so it must never hold a secret."""


class UsageError(ReconcilerError):
    pass


class ManifestError(ReconcilerError):
    """Every problem found in the manifests, each shown as one `path:line:col: message` line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class UnsetVariableError(ReconcilerError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"environment variable {name} is not set (referenced as ${{env:{name}}})")


class UnsafePlanError(ReconcilerError):
    pass


class PlanError(UnsafePlanError):
    """Everything that stops a plan, gathered so the user fixes it in one go."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"cannot plan ({len(self.problems)} problem{'s' * (len(self.problems) != 1)}):\n{lines}")


class ReceiptError(UnsafePlanError):
    """Receipts that cannot be trusted; one line per address. Such a tag is never overwritten."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class PlanFileError(ReconcilerError):
    """A plan file that cannot be read as a plan; the message names the file and the problem."""


class StalePlanError(ReconcilerError):
    pass


class CredentialsError(ReconcilerError):
    pass


class ClaimedElsewhere(ReconcilerError):
    """Another run holds the receipt (or changed it since the plan): the operation is skipped, never run twice."""


class ClaimRefused(ReconcilerError):
    """The API refused to write the claim (a Viewer key, a full tag budget): nothing was written or run."""


class ClaimUnconfirmed(ReconcilerError):
    """The claim is written but could not be shown to be ours alone: no call is made, and it stays claimed."""


class TaskTimeoutError(ReconcilerError):
    pass


class WaitInterrupted(ReconcilerError):
    """A wait given up because the run was told to stop (Ctrl-C, SIGTERM); nothing after it may be sent."""


class ApiError(ReconcilerError):
    """The API failed us: a call that failed (`CallError`) or work it accepted that failed (`TaskFailedError`).

    `error_type`/`description` come from the API's `{type, status, description}`. `status` is the HTTP status
    of the answer that failed, None when no HTTP answer did (no response at all, or a failed task).
    """

    status: int | None = None

    def __init__(self, message: str, error_type: str | None, description: str | None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.description = description


def _detail(error_type: str | None, description: str | None) -> str:
    detail = " - ".join(part for part in (error_type, description) if part)
    return f": {detail}" if detail else ""


class CallError(ApiError):
    """An HTTP call that failed, named by its method and path."""

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
        what = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{method} {path}: {what}{_detail(error_type, description)}", error_type, description)
        self.method = method
        self.path = path
        self.status = status
        self.retry_after = retry_after  # seconds the API asked us to wait, on a 429


class NotFoundError(CallError):
    pass


class ConflictError(CallError):
    pass


class RateLimitedError(CallError):
    pass


class ServerError(CallError):
    pass


class OutcomeUnknownError(CallError):
    """A POST of a backup or import was sent but no answer came back: never repeated blindly (SPEC §7)."""


class AuthError(CallError, CredentialsError):
    """401/403: a failed call (it names the call) that is also a credentials problem."""


class TaskFailedError(ApiError):
    """Work the API accepted ended in failure: `subject` names it ("task 5d1e…", "database /subscriptions/1/…").

    For a task, `error_type`/`description` are its `response.error` (API-NOTES §5). No HTTP call failed, so it
    carries no method, path or status.
    """

    def __init__(self, subject: str, error_type: str | None, description: str | None) -> None:
        super().__init__(f"{subject} failed{_detail(error_type, description)}", error_type, description)
        self.subject = subject
