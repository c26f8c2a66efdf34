"""A problem found in the manifests: where it was written, and what is wrong and how to fix it.

Kept as data until it is shown, so `validate --format json` reports the position without parsing a line back.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.desired import Position


@dataclass(frozen=True, slots=True)
class Problem:
    position: Position | None  # None: a problem of a path as a whole (missing, a FIFO), or of no file at all
    message: str

    def __str__(self) -> str:
        """The line the CLI prints: `path:line:col: message`, or the message alone."""
        return f"{self.position}: {self.message}" if self.position is not None else self.message

    def to_dict(self) -> dict[str, str | int | None]:
        where = self.position
        return {
            "path": where.path if where is not None else None,
            "line": where.line if where is not None else None,
            "column": where.column if where is not None else None,
            "message": self.message,
        }
