"""The data plane's own failures, each worded for the user of the sandbox."""

from __future__ import annotations

from reconciler.errors import ReconcilerError


class DataPlaneError(ReconcilerError):
    """A component of the data plane is missing, failed to start, or misbehaved."""


class ImportFailure(Exception):  # noqa: N818 - an outcome, not a bug
    """An import that fails the way the real API reports it: a `failureReason` and its parameters."""

    def __init__(self, reason: str, detail: str, params: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.params = params or {}


class SourceMissing(Exception):  # noqa: N818
    """The import source does not exist in its store."""


class SourceDenied(Exception):  # noqa: N818
    """The store refused the credentials in the URI."""
