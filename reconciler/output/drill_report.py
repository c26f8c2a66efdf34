"""The drill report (issue 15 §2): the drills due, and each run with every step's duration, as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from reconciler import __version__
from reconciler.core.drills import DrillResult

FORMAT_VERSION = "1.0"


def render_due(due: Sequence[tuple[str, str, str]], out: TextIO) -> None:
    """(address, scratch database, verdict message) of each drill about to run."""
    print(f"{len(due)} drill{'s' * (len(due) != 1)} due; each OVERWRITES all data in its scratch database:", file=out)
    for address, into, why in due:
        print(f"  ~ {address} -> {into}   ({why})", file=out)


def plan_section(due: Sequence[tuple[str, str, str]], *, markdown: bool = False) -> str:
    """The drills due, as `plan` shows them: a reviewer sees them, but apply never runs them (only `drill` does)."""
    head = "Drills due (run by `reconciler drill`, never by apply; each overwrites its scratch database):"
    if markdown:
        return "\n".join([f"**{head}**", "", *(f"- `{a}` → `{into}`: {why}" for a, into, why in due)])
    return "\n".join([head, *(f"  ~ {a} -> {into}   ({why})" for a, into, why in due)])


def render_text(results: Sequence[DrillResult], out: TextIO) -> None:
    for result in results:
        if result.settled:
            print(f"{result.address}: {result.settled}", file=out)
        print(f"{result.address} -> {result.into}: {result.outcome.value.upper()}: {result.message}", file=out)
        for step in result.steps:
            print(f"  {step.step.value:<7} {step.seconds:9.2f} s  {step.detail}", file=out)
        if result.backup_age is not None:
            print(f"  backup age at import: {result.backup_age} s", file=out)
    counts = {outcome: sum(1 for r in results if r.outcome.value == outcome) for outcome in _OUTCOMES}
    print("Drills: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n) + ".", file=out)


def render_json(results: Sequence[DrillResult], out: TextIO, *, started: str, finished: str) -> None:
    document = {
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "started_at": started,
        "finished_at": finished,
        "drills": [result.to_dict() for result in results],
    }
    print(json.dumps(document, indent=2), file=out)


_OUTCOMES = ("passed", "failed", "error", "skipped", "interrupted")
