"""`check`: are the backups of every managed database fresh? Read-only (GET only, so a Viewer's key is enough).

Requests: the list pages (one per 100 databases), one backup status read per checked database whose backup is
on live (per region whose backup is on, for an Active-Active database), one import status read per database
whose manifest declares imports (core/freshness.py says why), and one tags read per database whose manifest
declares restore drills (their receipts, core/drill_check.py).
Each status read is a task (API-NOTES §3, §4); `refresh.fetch_freshness` reads them many at once, so that the
client's shared watch answers their polls with one `GET /tasks` a tick.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from reconciler.cloud.client import RedisCloudClient
from reconciler.commands.options import CheckFlags
from reconciler.commands.runtime import EXIT_CHANGES, EXIT_OK, Runtime
from reconciler.core.desired import Manifest, OperationKind
from reconciler.core.drill_check import drill_findings
from reconciler.core.drills import DEFAULT_TIMEOUT, lease
from reconciler.core.freshness import CheckReport, Clock, judge
from reconciler.core.live import LatestStatus
from reconciler.core.planner import selected
from reconciler.errors import ReconcilerError
from reconciler.output.check_report import render_check_json, render_check_markdown, render_check_text
from reconciler.refresh import fetch_freshness

_DRILL_LEASE = lease(DEFAULT_TIMEOUT)  # as plan's: a `running` drill older than this is taken for dead


def run_check(rt: Runtime[CheckFlags]) -> int:
    flags = rt.flags
    manifest = _targeted(rt.manifest(flags.files), frozenset(flags.targets))
    client = rt.connect().client
    with rt.reading(machine=flags.format == "json"):
        live, statuses = fetch_freshness(client, manifest)
    # API text may quote a credential (a destination's, in a failure reason): masked before it is shaped into
    # messages and table cells, where the stream's redactor would no longer recognise it.
    statuses = {key: _redacted(rt, status) for key, status in statuses.items()}
    now, clock = _now(client)
    regional: dict[str, dict[str, LatestStatus]] = {}
    for (name, _, region), status in statuses.items():
        if region is not None:
            regional.setdefault(name, {})[region] = status
    verdicts = (
        judge(
            spec,
            db := live.databases.get((spec.subscription, spec.database)),
            statuses.get((spec.name, OperationKind.BACKUP, None)),
            statuses.get((spec.name, OperationKind.IMPORT, None)),
            now,
            regions=regional.get(spec.name),
        ).with_findings(*drill_findings(spec, db.tags if db else None, now, lease=_DRILL_LEASE))
        for spec in manifest.databases
    )
    report = CheckReport(now, clock, tuple(verdicts))
    if flags.format == "json":
        print(render_check_json(report), file=rt.out)
    elif flags.format == "markdown":
        print(render_check_markdown(report), file=rt.out, end="")
    else:
        print(render_check_text(report), file=rt.out)
    rt.append_step_summary(render_check_markdown(report))
    rt.report_requests()
    return EXIT_OK if report.holds else EXIT_CHANGES


def _targeted(manifest: Manifest, targets: frozenset[str]) -> Manifest:
    """`--target NAME` checks that database only; a name no manifest declares is refused before any request."""
    names = {spec.name for spec in manifest.databases}
    unknown = sorted(target for target in targets if target.split(".", 1)[0] not in names)
    if unknown:
        raise ReconcilerError(
            "; ".join(f"--target {target}: no database in the manifests has this name" for target in unknown)
        )
    return selected(manifest, targets)


def _redacted(rt: Runtime[CheckFlags], status: LatestStatus) -> LatestStatus:
    reason = status.failure_reason
    return replace(status, failure_reason=rt.redactor(reason)) if reason else status


def _now(client: RedisCloudClient) -> tuple[datetime, Clock]:
    """The API's clock when an answer carried a `Date` (SPEC §10: server times are compared with server times),
    else this machine's."""
    server = client.session.server_now()
    if server is not None:
        return server.astimezone(UTC), Clock.API
    return datetime.now(UTC), Clock.LOCAL
