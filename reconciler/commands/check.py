"""`check`: are the backups of every managed database fresh? Read-only (GET only, so a Viewer's key is enough).

Requests: the list pages (one per 100 databases), one backup status read per checked database whose backup is
on live, and one import status read per database whose manifest declares imports (core/freshness.py says why).
Each status read is a task (API-NOTES §3, §4): they are read many at once, so that the client's shared watch
answers their polls with one `GET /tasks` a tick, and the rate limit, not the polling pauses, sets the pace.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from reconciler.cloud.client import RedisCloudClient
from reconciler.commands.options import CheckFlags
from reconciler.commands.runtime import EXIT_CHANGES, EXIT_OK, Runtime
from reconciler.core.desired import DatabaseSpec, Manifest, OperationKind
from reconciler.core.freshness import (
    CheckReport,
    Clock,
    judge,
    reads_backup_status,
    reads_import_status,
    skip_reason,
)
from reconciler.core.live import LatestStatus, LiveAccount, LiveDatabase
from reconciler.core.planner import selected
from reconciler.errors import NotFoundError, ReconcilerError, TaskTimeoutError
from reconciler.output.check_report import render_check_json, render_check_markdown, render_check_text
from reconciler.refresh import fetch_databases

STATUS_TIMEOUT = 600.0  # seconds a status task may take to answer, as `status` allows
# Status reads in flight at once: enough for one `GET /tasks` to answer dozens of them, so the rate limit is what
# bounds a large check; each is a thread blocked in the watch or the rate limiter, not a CPU.
STATUS_WORKERS = 32

_Read = tuple[DatabaseSpec, OperationKind]
_Key = tuple[str, OperationKind]  # (database name, kind)


def run_check(rt: Runtime[CheckFlags]) -> int:
    flags = rt.flags
    manifest = _targeted(rt.manifest(flags.files), frozenset(flags.targets))
    client = rt.connect().client
    wanted = replace(manifest, databases=tuple(spec for spec in manifest.databases if skip_reason(spec) is None))
    with rt.reading(machine=flags.format == "json"):
        live = fetch_databases(client, wanted) if wanted.databases else LiveAccount({})
        # API text may quote a credential (a destination's, in a failure reason): masked before it is shaped
        # into messages and table cells, where the stream's redactor would no longer recognise it.
        statuses = {key: _redacted(rt, status) for key, status in _statuses(client, wanted, live).items()}
    now, clock = _now(client)
    report = CheckReport(
        now,
        clock,
        tuple(
            judge(
                spec,
                _live(live, spec),
                statuses.get((spec.name, OperationKind.BACKUP)),
                statuses.get((spec.name, OperationKind.IMPORT)),
                now,
            )
            for spec in manifest.databases
        ),
    )
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


def _live(account: LiveAccount, spec: DatabaseSpec) -> LiveDatabase | None:
    return account.databases.get((spec.subscription, spec.database))


def _statuses(client: RedisCloudClient, manifest: Manifest, live: LiveAccount) -> dict[_Key, LatestStatus]:
    reads: list[_Read] = []
    for spec in manifest.databases:
        db = _live(live, spec)
        if reads_backup_status(spec, db):
            reads.append((spec, OperationKind.BACKUP))
        if reads_import_status(spec, db):
            reads.append((spec, OperationKind.IMPORT))
    if not reads:
        return {}

    def read(item: _Read) -> LatestStatus:
        spec, kind = item
        try:
            return client.latest(kind, spec.tier, spec.subscription, spec.database, timeout=STATUS_TIMEOUT)
        except NotFoundError as error:  # gone since it was listed
            return LatestStatus(error_type=error.error_type or "NOT_FOUND")
        except TaskTimeoutError:
            return LatestStatus(error_type=f"no answer within {STATUS_TIMEOUT:g} s")

    with ThreadPoolExecutor(max_workers=min(STATUS_WORKERS, len(reads)), thread_name_prefix="check") as pool:
        answers = pool.map(read, reads)
        return {(spec.name, kind): status for (spec, kind), status in zip(reads, answers, strict=True)}


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
