"""`plan` and `show`: refresh the live account, plan, render; and render a saved plan again."""

from __future__ import annotations

from reconciler import __version__
from reconciler.commands.options import ApplyFlags, PlanFlags, ShowFlags
from reconciler.commands.runtime import EXIT_CHANGES, EXIT_OK, Runtime, utc_now
from reconciler.core.desired import Manifest
from reconciler.core.ownership import with_owner
from reconciler.core.plan import Plan
from reconciler.core.planner import PlanOptions, plan, selected
from reconciler.core.variables import check_manifest
from reconciler.errors import ReconcilerError
from reconciler.output.drill_report import plan_section
from reconciler.output.planfile import build_document, read_plan, write_plan
from reconciler.output.render import render_json, render_markdown, render_text
from reconciler.refresh import fetch_live, list_unmanaged


def plan_from_flags(rt: Runtime[PlanFlags | ApplyFlags]) -> tuple[Manifest, Plan]:
    """Manifests, live state and the plan, as `plan` and a fresh `apply` both make it from their flags."""
    flags = rt.flags
    manifest = with_owner(rt.manifest(flags.files), flags.owner)
    check_manifest(manifest, rt.environ, frozenset(flags.targets))  # before the first request
    options = PlanOptions(
        frozenset(flags.targets),
        frozenset(flags.retry_failed),
        frozenset(flags.retry_uncertain),
        observe_all=flags.observe,
        takeover=flags.takeover,
    )
    if options.targets and not rt.global_flags.quiet:
        # As Terraform says of -target: a partial plan leaves the rest of the account unchecked.
        print(
            f"Note: --target limits this plan to {', '.join(sorted(options.targets))}; the rest of the manifests is "
            "not read or compared. Use it for exceptional cases, and plan everything before you rely on the result.",
            file=rt.err,
        )
    machine = isinstance(flags, PlanFlags) and flags.format == "json"
    with rt.reading(machine=machine):
        live = fetch_live(rt.connect().client, selected(manifest, options.targets))  # only what the plan looks at
    return manifest, plan(manifest, live, options)


def run_plan(rt: Runtime[PlanFlags]) -> int:
    flags = rt.flags
    manifest, result = plan_from_flags(rt)
    connection = rt.connect()
    extra: dict[str, object] = {}
    due = _drills_due(rt, manifest)
    if due:
        extra["drills_due"] = [{"address": a, "into": into, "why": why} for a, into, why in due]
    if flags.report_unmanaged:
        extra["unmanaged"] = [
            {"name": db.name, "subscription": db.subscription, "database": db.database, "tier": db.tier.value}
            for db in list_unmanaged(connection.client, manifest)
        ]
    # The plan as JSON only where it is written out: each change's document cost 0.3 s at 20,000 databases when
    # the text was all that was shown (issue 16).
    document: dict[str, object] = extra
    if flags.out or flags.format == "json":
        sealed = build_document(
            result,
            tool_version=__version__,
            created_at=utc_now(),
            manifest_digest=manifest.digest,
            manifest_paths=manifest.paths,
            api_url=connection.api_url,
            account_id=result.live.account_id if result.live else None,
            observe_all=flags.observe,
            owner=manifest.owner,
        )
        document = {**sealed, **extra}
    if flags.out:
        try:
            write_plan(flags.out, document, redact=rt.redactor)
        except OSError as exc:  # a path the user gave: their mistake to fix, not a bug (exit 1, not 3)
            raise ReconcilerError(f"{flags.out}: cannot write the plan file ({exc.strerror or exc})") from exc
    full_plan = str(flags.out) if flags.out else None  # where a cut markdown says the whole plan is
    _render(rt, result, document, full_plan)
    if due:
        if flags.format == "text":
            print("\n" + plan_section(due), file=rt.out)
        elif flags.format == "markdown":
            print("\n" + plan_section(due, markdown=True), file=rt.out)
    if rt.writes_step_summary:  # the markdown is made only then: 0.15 s at 20,000 databases (issue 16)
        markdown = render_markdown(result, full_plan=full_plan)
        rt.append_step_summary(markdown + ("\n\n" + plan_section(due, markdown=True) if due else ""))
    rt.report_requests()
    # Operations needing a person count like changes: a pipeline must not go green on an uncertain import.
    # Observed drift does not (issue 17): 2 says "apply has work", and apply leaves observed databases alone;
    # the summary line, and `summary.observed` in JSON, say what an observed database would need.
    needs_review = not result.is_empty or bool(result.attention)
    return EXIT_CHANGES if flags.detailed_exitcode and needs_review else EXIT_OK


def _drills_due(rt: Runtime[PlanFlags], manifest: Manifest) -> list[tuple[str, str, str]]:
    """(address, scratch database, why) of each due drill the plan's targets cover: one tag read per drill."""
    from reconciler.core.drills import DEFAULT_TIMEOUT, lease
    from reconciler.drill.claim import DrillClaims
    from reconciler.drill.due import drill_jobs, verdicts

    names = {spec.name for spec in selected(manifest, frozenset(rt.flags.targets)).databases}
    jobs = [job for job in drill_jobs(manifest) if job.source.name in names]
    if not jobs:
        return []
    claims = DrillClaims(rt.connect().client, lease=lease(DEFAULT_TIMEOUT))
    return [(s.job.address, s.job.scratch.name, s.verdict.message) for s in verdicts(claims, jobs) if s.verdict.due]


def run_show(rt: Runtime[ShowFlags]) -> int:
    saved = read_plan(rt.flags.planfile)
    document = build_document(
        saved.plan,
        tool_version=saved.tool_version,
        created_at=saved.created_at,
        manifest_digest=saved.manifest_digest,
        manifest_paths=saved.manifest_paths,
        api_url=saved.api_url,
        account_id=saved.account_id,
        observe_all=saved.observe_all,
        owner=saved.owner,
    )
    if not saved.is_sealed:  # shown as the format 1.0 file it is: never given a digest it was not written with
        document = {key: value for key, value in document.items() if key not in ("account_id", "plan_digest")}
        document["format_version"] = saved.format_version
    _render(rt, saved.plan, document, str(rt.flags.planfile))
    return EXIT_OK


def _render(
    rt: Runtime[PlanFlags | ShowFlags], result: Plan, document: dict[str, object], full_plan: str | None
) -> None:
    fmt = rt.flags.format
    if fmt == "json":
        print(render_json(document), file=rt.out)
    elif fmt == "markdown":
        print(render_markdown(result, full_plan=full_plan), file=rt.out)
    else:
        render_text(result, rt.out, color=rt.color)
        unmanaged = document.get("unmanaged")
        if isinstance(unmanaged, list):
            print(f"\nUnmanaged databases ({len(unmanaged)}), not in any manifest:", file=rt.out)
            for db in unmanaged:
                print(
                    f"  {db['name']}  ({db['tier']} subscription {db['subscription']} database {db['database']})",
                    file=rt.out,
                )
