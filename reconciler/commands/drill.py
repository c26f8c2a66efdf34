"""`drill`: run the restore drills that are due (issue 15 §2), after showing them and asking, like apply."""

from __future__ import annotations

import sys

from reconciler.commands.options import DrillFlags
from reconciler.commands.runtime import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Runtime, utc_now
from reconciler.core.drills import DrillOutcome, lease
from reconciler.drill.claim import DrillClaims
from reconciler.drill.due import drill_jobs, verdicts
from reconciler.drill.runner import DrillJob, DrillRunner
from reconciler.drill.unsupported import unsupported
from reconciler.errors import ReconcilerError, UsageError
from reconciler.output.drill_report import render_due, render_json, render_text
from reconciler.stores import StoreReach


def run_drill(rt: Runtime[DrillFlags]) -> int:
    flags = rt.flags
    started = utc_now()
    manifest = rt.manifest(list(flags.files))
    jobs = drill_jobs(manifest, flags.targets)
    unknown = [t for t in flags.targets if not any(t in (job.source.name, job.address) for job in jobs)]
    if unknown:
        raise UsageError(
            f"--target {unknown[0]}: no drill has this address or database (drills are written like "
            "orders-prod.drills.weekly)"
        )
    connection = rt.connect()
    refused = unsupported(connection.client, jobs)
    if refused:
        raise ReconcilerError("\n".join([*refused, "Nothing was written and no drill ran."]))
    if connection.sandbox and connection.data_plane is None:
        raise ReconcilerError(
            "a drill moves real data, and the in-process sandbox has none: start one with `reconciler sandbox up`"
        )
    claims = DrillClaims(connection.client, lease=lease(flags.timeout))
    due: list[tuple[DrillJob, str]] = []
    for seen in verdicts(claims, jobs):
        if seen.verdict.due:
            due.append((seen.job, seen.verdict.message))
        elif flags.format == "text":
            print(f"{seen.job.address}: not due: {seen.verdict.message}", file=rt.err)
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
