"""`drill`: run the restore drills that are due (issue 15 §2), after showing them and asking, like apply."""

from __future__ import annotations

import sys

from reconciler.commands.options import DrillFlags
from reconciler.commands.runtime import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Runtime, utc_now
from reconciler.core.desired import DatabaseSpec, Manifest, drill_address
from reconciler.core.drills import DrillOutcome
from reconciler.core.plan import DatabaseRef
from reconciler.drill.claim import DrillClaims
from reconciler.drill.runner import DrillJob, DrillRunner
from reconciler.errors import ReconcilerError, UsageError
from reconciler.output.drill_report import render_due, render_json, render_text
from reconciler.stores import StoreReach

# A run writes its receipt ahead of each step, and a step waits at most three times the timeout (its task, the
# database's `active`, its status): a `running` receipt older than that, plus slack for the clocks of two
# runners, is a run that died.
_LEASE_MARGIN = 120


def run_drill(rt: Runtime[DrillFlags]) -> int:
    flags = rt.flags
    started = utc_now()
    jobs = _jobs(rt.manifest(list(flags.files)), flags.targets)
    connection = rt.connect()
    if connection.sandbox and connection.data_plane is None:
        raise ReconcilerError(
            "a drill moves real data, and the in-process sandbox has none: start one with `reconciler sandbox up`"
        )
    claims = DrillClaims(connection.client, lease=int(3 * flags.timeout) + _LEASE_MARGIN)
    due: list[tuple[DrillJob, str]] = []
    for job in jobs:
        found = claims.read(DatabaseRef.of(job.source), job.drill)
        if found.verdict.due:
            due.append((job, found.verdict.message))
        elif flags.format == "text":
            print(f"{job.address}: not due: {found.verdict.message}", file=rt.err)
    if not due:
        if flags.format == "json":
            render_json([], rt.out, started=started, finished=utc_now())
        else:
            print("No drill is due.", file=rt.out)
        return EXIT_OK
    shown = rt.err if flags.format == "json" else rt.out
    render_due([(job.address, job.scratch.name, why) for job, why in due], shown)
    if not flags.auto_approve:
        if not sys.stdin.isatty():
            raise ReconcilerError("no terminal to confirm on: pass --auto-approve")
        if input("\nRun these drills? Only 'yes' will be accepted: ").strip() != "yes":
            print("Drills cancelled; nothing was changed.", file=rt.err)
            return EXIT_ERROR
    plane = connection.data_plane
    runner = DrillRunner(
        connection.client,
        claims,
        environ=rt.environ,
        reach=plane.stores if plane else StoreReach(environ=rt.environ),
        count_keys=plane.count_keys if plane else None,
        timeout=flags.timeout,
    )
    results = [runner.run(job) for job, _ in due]
    if flags.format == "json":
        render_json(results, rt.out, started=started, finished=utc_now())
    else:
        render_text(results, rt.out)
    rt.report_requests()
    outcomes = {result.outcome for result in results}
    if DrillOutcome.ERROR in outcomes:
        return EXIT_ERROR
    return EXIT_CHANGES if DrillOutcome.FAILED in outcomes else EXIT_OK


def _jobs(manifest: Manifest, targets: tuple[str, ...]) -> list[DrillJob]:
    by_name = {spec.name: spec for spec in manifest.databases}
    jobs = [
        DrillJob(spec, by_name[drill.into], drill)
        for spec in manifest.databases
        for drill in spec.drills
        if _chosen(spec, drill_address(spec.name, drill.id), targets)
    ]
    unknown = [t for t in targets if not any(t in (job.source.name, job.address) for job in jobs)]
    if unknown:
        raise UsageError(
            f"--target {unknown[0]}: no drill has this address or database (drills are written like "
            "orders-prod.drills.weekly)"
        )
    return jobs


def _chosen(spec: DatabaseSpec, address: str, targets: tuple[str, ...]) -> bool:
    return not targets or spec.name in targets or address in targets
