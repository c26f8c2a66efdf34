"""Problems where CI shows them on the diff: GitHub workflow commands and GitLab code quality issues (issue 18).

GitHub: `::error file=…,line=…,col=…::message`, escaped as the runner unescapes it (actions/toolkit
`packages/core/src/command.ts`: `%`, CR and LF in the message; `:` and `,` too in a property). GitLab: the code
quality report format (docs.gitlab.com/ci/testing/code_quality, "Code Quality report format"): a JSON array of
`{description, check_name, fingerprint, severity, location: {path, lines: {begin}}}`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.core.desired import Manifest, Position

SEVERITY = "blocker"  # a problem here stops the plan: nothing can be applied until it is fixed


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, with its place as the repository names it (None: a problem of no particular line)."""

    check: str  # what found it: "manifest" (loading and validating) or "plan" (comparing with the account)
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, str | int | None]:
        """As `validate --format json` lists a problem (manifest.problems.Problem.to_dict)."""
        return {"path": self.path, "line": self.line, "column": self.column, "message": self.message}


def github_command(finding: Finding) -> str:
    properties = [("file", finding.path), ("line", finding.line), ("col", finding.column)]
    given = ",".join(f"{name}={_escape_property(str(value))}" for name, value in properties if value is not None)
    return f"::error{' ' + given if given else ''}::{_escape_data(finding.message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def code_quality(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """GitLab's issues, one per finding with a file (GitLab shows an issue on a file, so a problem of no file, such
    as a missing path, is only in the job's log). The fingerprint stays the same while the problem does, wherever
    its line moves, so GitLab tells a fixed problem from a new one; a repeat of the same problem is numbered."""
    issues: list[dict[str, Any]] = []
    seen: Counter[tuple[str, str, str]] = Counter()
    for finding in findings:
        if finding.path is None:
            continue
        key = (finding.check, finding.path, finding.message)
        seen[key] += 1
        identity = "\0".join([*key, str(seen[key])])
        issues.append(
            {
                "description": finding.message,
                "check_name": f"reconciler-{finding.check}",
                "fingerprint": hashlib.sha256(identity.encode("utf-8")).hexdigest(),
                "severity": SEVERITY,
                "location": {"path": finding.path, "lines": {"begin": finding.line or 1}},
            }
        )
    return issues


def database_position(problem: str, manifest: Manifest) -> Position | None:
    """Where the database a plan problem names is declared. Every such problem starts with the database's name
    or one of its addresses (`orders-prod: …`, `orders-prod.imports.seed: …`; SPEC §3), and a name holds no dot."""
    head = problem.split(":", 1)[0].split(".", 1)[0]
    return next((spec.position for spec in manifest.databases if spec.name == head), None)
