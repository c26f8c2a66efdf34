"""`apply`: a saved plan (checked against the manifests and the live account first) or a fresh one."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from types import FrameType

from reconciler import __version__
from reconciler.apply.applier import Applier, ApplyOptions
from reconciler.atomic import write_json
from reconciler.commands.options import ApplyFlags
from reconciler.commands.plan import plan_from_flags
from reconciler.commands.runtime import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, Runtime, utc_now
from reconciler.core.desired import Manifest
from reconciler.core.outcomes import StepResult
from reconciler.core.ownership import with_owner
from reconciler.core.plan import Plan
from reconciler.core.planner import selected
from reconciler.core.staleness import moved, recheck_options
from reconciler.core.uris import mask
from reconciler.core.variables import check_plan
from reconciler.errors import ReconcilerError, StalePlanError
from reconciler.output.planfile import read_plan
from reconciler.output.progress import (
    LineProgress,
    LiveProgress,
    render_markdown_summary,
    render_summary,
    summary_counts,
)
from reconciler.output.render import render_text
from reconciler.refresh import fetch_live


def run_apply(rt: Runtime[ApplyFlags]) -> int:
    stop, applying = threading.Event(), threading.Event()
    with _interrupts(rt, stop, applying):  # before the first request: a SIGTERM while planning exits 130 too
        return _apply(rt, stop, applying)


def _apply(rt: Runtime[ApplyFlags], stop: threading.Event, applying: threading.Event) -> int:
    flags = rt.flags
    started = utc_now()
    manifest, chosen = _saved(rt, flags.planfile) if flags.planfile else _fresh(rt)
    if chosen is None:
        return EXIT_ERROR
    to_apply = chosen
    if not to_apply.has_work:
        if flags.planfile:  # a fresh plan has already said so
            print(to_apply.summary_line, file=rt.out)
        return EXIT_ERROR if to_apply.attention else EXIT_OK  # what needs a person is never a green run
    check_plan(to_apply, rt.environ)
    options = ApplyOptions(
        run_id=secrets.token_hex(4),
        environ=rt.environ,
        parallelism=flags.parallelism,
        max_backups_per_subscription=flags.max_backups_per_subscription,
        timeout=flags.timeout,
    )
    progress: LiveProgress | LineProgress | None = None
    if not rt.global_flags.quiet:  # --quiet: only errors and the result (the summary table)
        progress = LiveProgress(rt.err, color=rt.color) if rt.err.isatty() else LineProgress(rt.err)
    applier = Applier(rt.connect().client, to_apply, options, listener=progress, stop=stop)
    applying.set()
    with progress or nullcontext():
        results = applier.run()
    # Redacted before the table is laid out: a secret wrapped over two lines would slip past the stream's redactor.
    results = [replace(result, message=rt.redactor(result.message)) for result in results]
    render_summary(results, rt.out, color=rt.color)
    _report(rt, results, started, options.run_id, interrupted=stop.is_set())
    rt.report_requests()
    if stop.is_set():
        return EXIT_INTERRUPTED
    if to_apply.attention:
        print(f"Not applied: {to_apply.attention_line}", file=rt.out)
    return EXIT_OK if all(result.ok for result in results) and not to_apply.attention else EXIT_ERROR


def _fresh(rt: Runtime[ApplyFlags]) -> tuple[Manifest, Plan | None]:
    manifest, fresh = plan_from_flags(rt)
    render_text(fresh, rt.out, color=rt.color)
    if not fresh.has_work:
        return manifest, fresh
    if not rt.flags.auto_approve:
        if not sys.stdin.isatty():
            raise ReconcilerError("no terminal to confirm on: pass --auto-approve, or apply a saved plan file")
        answer = input("\nApply these changes? Only 'yes' will be accepted: ")
        if answer.strip() != "yes":
            print("Apply cancelled; nothing was changed.", file=rt.err)
            return manifest, None
    return manifest, fresh


def _saved(rt: Runtime[ApplyFlags], path: Path) -> tuple[Manifest, Plan | None]:
    """The plan was reviewed: apply exactly it, but only if it was made for this account, the manifests still
    give it, and every field of every change is what the manifests and the live account give now (issue 20)."""
    saved = read_plan(path)  # an edited file (digest, or a change that does not read back as written) is refused
    if not saved.is_applicable:
        raise StalePlanError(
            f"{path} was written by an older reconciler (plan format {saved.format_version}: "
            + ("no account id or digest to check it against" if not saved.is_sealed else "no calls to send")
            + "); re-run plan"
        )
    files = rt.flags.files or [Path(p) for p in saved.manifest_paths]
    manifest = rt.manifest(files)
    if manifest.digest != saved.manifest_digest:
        raise StalePlanError(f"stale plan: the manifests changed since {path} was made; re-run plan")
    manifest = with_owner(manifest, rt.flags.owner or saved.owner)  # re-planned for the owner it was made for
    if manifest.owner != saved.owner:
        raise StalePlanError(
            f"{path} was made for owner {saved.owner!r}, not {manifest.owner!r}; re-run plan with the owner to apply"
        )
    check_plan(saved.plan, rt.environ)  # before the first request, even a read
    connection = rt.connect()
    if mask(connection.api_url) != saved.api_url:
        raise StalePlanError(f"stale plan: it was made against {saved.api_url}, not {mask(connection.api_url)}")
    if not saved.plan.has_work:
        return manifest, saved.plan
    # Only the databases the saved plan touches are read (issue 16): the stale check re-plans exactly those.
    with rt.reading():
        live = fetch_live(connection.client, selected(manifest, recheck_options(saved.plan).targets))
    observe_all = saved.observe_all or rt.flags.observe  # `apply --observe PLANFILE` refuses what it would write
    if live.account_id != saved.account_id:  # the same URL can serve another account (another key)
        raise StalePlanError(
            f"wrong account: {path} was made for account {_account(saved.account_id)}, but these keys reach "
            f"account {_account(live.account_id)}; re-run plan with this account's keys; nothing was changed"
        )
    lines = moved(saved.plan, manifest, live, observe_all=observe_all)
    if lines:
        raise StalePlanError("stale plan: re-run plan; nothing was changed\n" + "\n".join(lines))
    return manifest, saved.plan


def _account(account_id: int | None) -> str:
    return "(unknown: no database was listed)" if account_id is None else str(account_id)


@contextmanager
def _interrupts(rt: Runtime[ApplyFlags], stop: threading.Event, applying: threading.Event) -> Iterator[None]:
    """Ctrl-C or SIGTERM before apply starts (planning, reading, asking): leave at once, nothing was written. Once
    it runs, the first: start nothing new, let in-flight operations settle; the second: leave at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if not applying.is_set():
            raise KeyboardInterrupt  # the CLI boundary says "Interrupted." and exits 130
        if stop.is_set():
            os._exit(EXIT_INTERRUPTED)  # receipts stay claimed; the next plan reconciles them
        stop.set()
        print(
            "\nInterrupted: starting nothing new; waiting for running operations to settle their receipts "
            "(press Ctrl-C again to leave now).",
            file=rt.err,
            flush=True,
        )

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _report(
    rt: Runtime[ApplyFlags], results: list[StepResult], started: str, run_id: str, *, interrupted: bool
) -> None:
    if rt.flags.report:
        write_json(
            rt.flags.report,
            {
                "format_version": "1.0",
                "tool_version": __version__,
                "run_id": run_id,
                "started_at": started,
                "finished_at": utc_now(),
                "api_url": mask(rt.connect().api_url),
                "interrupted": interrupted,
                "summary": summary_counts(results),
                "operations": [result.to_dict() for result in results],
            },
            redact=rt.redactor,
        )
    report = str(rt.flags.report) if rt.flags.report else None
    rt.append_step_summary(render_markdown_summary(results, full_report=report))
