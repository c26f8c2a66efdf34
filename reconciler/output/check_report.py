"""`reconciler check` for people (text), pull requests and job summaries (markdown) and machines (JSON).

The JSON document is a contract (README "Checking that backups are fresh"): `format_version` "1.0";
`checked_at` (ISO 8601 UTC, `Z`), `clock` (`api`: the API's `Date` header, `local`: this machine's), `holds`,
`summary`, `counts` {databases, checked, violated, skipped}, and `databases[]`, each {address, tier,
subscription, database, holds, findings[]}, a finding being {address, kind, severity, message, at, age_seconds,
max_age_seconds, reason, status}; a finding's `address` is the database's, or the part's it is about (a drill,
`orders-prod.drills.weekly`); times are ISO 8601 UTC or null, ages whole seconds or null (a drill's `at` is the
start of its last passing run, its `max_age_seconds` twice its `every`). New finding kinds may appear; a reader
should treat an unknown kind by its `severity`.

Every text here comes from the core's findings, whose API values (failure reasons) are masked there; the
streams and the step summary pass through the redactor as well.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.core.freshness import CheckReport, Clock, DatabaseVerdict, Finding, Severity, iso

FORMAT_VERSION = "1.0"
MARKDOWN_LIMIT = 60_000  # characters, as plan's markdown (SPEC §5): a GitHub comment or summary must fit
_MARKS = {Severity.OK: "ok", Severity.NOTE: "note", Severity.VIOLATION: "FAIL"}
_ICONS = {Severity.OK: "✅", Severity.NOTE: "ℹ️", Severity.VIOLATION: "❌"}
_CLOCKS = {
    Clock.API: "Ages are measured on the API's clock (the `Date` of its answers), as its backup times are.",
    Clock.LOCAL: "Ages are measured on this machine's clock: the API's answers carried no `Date`.",
}


def check_document(report: CheckReport) -> dict[str, Any]:
    checked = [verdict for verdict in report.verdicts if not verdict.skipped]
    return {
        "format_version": FORMAT_VERSION,
        "checked_at": iso(report.now),
        "clock": report.clock.value,
        "holds": report.holds,
        "summary": report.summary_line,
        "counts": {
            "databases": len(report.verdicts),
            "checked": len(checked),
            "violated": sum(1 for verdict in checked if not verdict.holds),
            "skipped": len(report.verdicts) - len(checked),
        },
        "databases": [_database(verdict) for verdict in report.verdicts],
    }


def render_check_json(report: CheckReport) -> str:
    return json.dumps(check_document(report), indent=2, ensure_ascii=False)


def render_check_text(report: CheckReport) -> str:
    """One line per finding, each starting with its address (the database's name, or a drill's address that starts
    with it), so `grep orders-prod` finds all of it."""
    lines = [
        f"{_MARKS[finding.severity]:<4} {_address(verdict, finding)}: {finding.message}"
        for verdict in report.verdicts
        for finding in verdict.findings
    ]
    return "\n".join([*lines, "", _CLOCKS[report.clock], report.summary_line])


def render_check_markdown(report: CheckReport, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The summary first; the failing databases' findings in a table, the others folded. Rows that would take it
    past `limit` characters are left out with a note: GitHub refuses a longer summary or comment."""
    lines = [f"### {'✅' if report.holds else '❌'} {report.summary_line}", "", _CLOCKS[report.clock], ""]
    room = limit - sum(len(line) + 1 for line in lines) - 400  # the tables' heads, the fold and the note
    left_out = 0

    def fitting(verdicts: list[DatabaseVerdict]) -> list[str]:
        nonlocal room, left_out
        kept = []
        for row in (_row(verdict, finding) for verdict in verdicts for finding in verdict.findings):
            if len(row) + 1 > room:
                left_out += 1
                continue
            room -= len(row) + 1
            kept.append(row)
        return kept

    table = ["| database | finding | detail |", "|---|---|---|"]
    failing = fitting([verdict for verdict in report.verdicts if not verdict.holds])
    holding_verdicts = [verdict for verdict in report.verdicts if verdict.holds]
    holding = fitting(holding_verdicts)
    if failing:
        lines += [*table, *failing, ""]
    if holding:
        summary = f"{len(holding_verdicts)} database{'' if len(holding_verdicts) == 1 else 's'} holding"
        lines += [f"<details><summary>{summary}</summary>", "", *table, *holding, "", "</details>", ""]
    if left_out:
        lines.append(
            f"_{left_out} more rows are not shown (a summary is cut at {limit:,} characters): "
            "`reconciler check --format json` lists them all._"
        )
    return "\n".join(lines).rstrip() + "\n"


def _row(verdict: DatabaseVerdict, finding: Finding) -> str:
    detail = finding.message.replace("|", "\\|").replace("\n", " ")
    return f"| `{_address(verdict, finding)}` | {_ICONS[finding.severity]} {finding.kind.value} | {detail} |"


def _address(verdict: DatabaseVerdict, finding: Finding) -> str:
    return finding.address or verdict.name


def _database(verdict: DatabaseVerdict) -> dict[str, Any]:
    return {
        "address": verdict.name,
        "tier": verdict.tier.value,
        "subscription": verdict.subscription,
        "database": verdict.database,
        "holds": verdict.holds,
        "findings": [_finding(verdict, finding) for finding in verdict.findings],
    }


def _finding(verdict: DatabaseVerdict, finding: Finding) -> dict[str, Any]:
    return {
        "address": _address(verdict, finding),
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "message": finding.message,
        "at": iso(finding.at) if finding.at is not None else None,
        "age_seconds": int(finding.age.total_seconds()) if finding.age is not None else None,
        "max_age_seconds": int(finding.max_age.total_seconds()) if finding.max_age is not None else None,
        "reason": finding.reason,
        "status": finding.status,
    }
