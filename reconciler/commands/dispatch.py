"""From the parsed command line to the chosen command: one function per command builds its typed flags (the
only code that reads argparse's untyped namespace) and imports the command's module when it is chosen, with a
plain import, so that `--version` loads no command and `validate` loads no HTTP client."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from reconciler.commands.runtime import Runtime

_Flags = TypeVar("_Flags")


class Start(Protocol):
    """Makes a command's runtime from its flags; the rest of it (streams, environment) is made once in `main`."""

    def __call__(self, flags: _Flags, /) -> Runtime[_Flags]: ...


Command = Callable[[argparse.Namespace, Start], int]


def validate(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import ValidateFlags
    from reconciler.commands.reporting import reported
    from reconciler.commands.validate import run_validate

    flags = ValidateFlags(
        files=tuple(args.files), paths=tuple(args.paths), format=args.format, code_quality=args.code_quality
    )
    rt = start(flags)
    with reported(rt, json_errors=flags.format == "json", annotate=True, code_quality_file=flags.code_quality):
        return run_validate(rt)


def schema(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import SchemaFlags
    from reconciler.commands.validate import run_schema

    return run_schema(start(SchemaFlags()))


def plan(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import PlanFlags
    from reconciler.commands.plan import run_plan
    from reconciler.commands.reporting import reported

    flags = PlanFlags(
        files=tuple(args.files),
        targets=tuple(args.target),
        retry_failed=tuple(args.retry_failed),
        retry_uncertain=tuple(args.retry_uncertain),
        rate_limit=args.rate_limit,
        out=args.out,
        format=args.format,
        detailed_exitcode=args.detailed_exitcode,
        report_unmanaged=args.report_unmanaged,
        code_quality=args.code_quality,
        observe=args.observe,
        owner=args.owner,
        takeover=args.takeover,
    )
    rt = start(flags)
    with reported(rt, json_errors=flags.format == "json", annotate=True, code_quality_file=flags.code_quality):
        return run_plan(rt)


def apply(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.apply import run_apply
    from reconciler.commands.options import ApplyFlags

    flags = ApplyFlags(
        files=tuple(args.files),
        planfile=args.planfile,
        targets=tuple(args.target),
        retry_failed=tuple(args.retry_failed),
        retry_uncertain=tuple(args.retry_uncertain),
        rate_limit=args.rate_limit,
        auto_approve=args.auto_approve,
        parallelism=args.parallelism,
        max_backups_per_subscription=args.max_backups_per_subscription,
        timeout=args.timeout,
        report=args.report,
        observe=args.observe,
        owner=args.owner,
        takeover=args.takeover,
    )
    return run_apply(start(flags))


def drill(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.drill import run_drill
    from reconciler.commands.options import DrillFlags
    from reconciler.commands.reporting import reported

    flags = DrillFlags(
        files=tuple(args.files),
        targets=tuple(args.target),
        rate_limit=args.rate_limit,
        auto_approve=args.auto_approve,
        timeout=args.timeout,
        format=args.format,
    )
    rt = start(flags)
    with reported(rt, json_errors=flags.format == "json"):
        return run_drill(rt)


def show(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import ShowFlags
    from reconciler.commands.plan import run_show
    from reconciler.commands.reporting import reported

    rt = start(ShowFlags(planfile=args.planfile, format=args.format))
    with reported(rt, json_errors=args.format == "json"):
        return run_show(rt)


def status(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import StatusFlags
    from reconciler.commands.reporting import reported
    from reconciler.commands.status import run_status

    rt = start(StatusFlags(files=tuple(args.files), rate_limit=args.rate_limit, format=args.format))
    with reported(rt, json_errors=args.format == "json"):
        return run_status(rt)


def check(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.check import run_check
    from reconciler.commands.options import CheckFlags
    from reconciler.commands.reporting import reported

    flags = CheckFlags(
        files=tuple(args.files), targets=tuple(args.target), rate_limit=args.rate_limit, format=args.format
    )
    rt = start(flags)
    with reported(rt, json_errors=flags.format == "json"):
        return run_check(rt)


def receipts_list(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import ReceiptsListFlags
    from reconciler.commands.receipts import run_receipts_list
    from reconciler.commands.reporting import reported

    rt = start(ReceiptsListFlags(files=tuple(args.files), rate_limit=args.rate_limit, format=args.format))
    with reported(rt, json_errors=args.format == "json"):
        return run_receipts_list(rt)


def receipts_forget(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import ReceiptsForgetFlags
    from reconciler.commands.receipts import run_receipts_forget

    flags = ReceiptsForgetFlags(
        files=tuple(args.files),
        rate_limit=args.rate_limit,
        address=args.address,
        auto_approve=args.auto_approve,
        force=args.force,
    )
    return run_receipts_forget(start(flags))


def discover(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.discover import run_discover
    from reconciler.commands.options import DiscoverFlags

    flags = DiscoverFlags(
        subscriptions=tuple(args.subscription),
        tier=args.tier,
        out=args.out,
        split=args.split,
        force=args.force,
        rate_limit=args.rate_limit,
    )
    return run_discover(start(flags))


def receipts_adopt(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import ReceiptsAdoptFlags
    from reconciler.commands.receipts import run_receipts_adopt

    flags = ReceiptsAdoptFlags(
        files=tuple(args.files), rate_limit=args.rate_limit, address=args.address, auto_approve=args.auto_approve
    )
    return run_receipts_adopt(start(flags))


def sandbox_serve(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import SandboxServeFlags
    from reconciler.commands.sandbox import run_sandbox_serve

    flags = SandboxServeFlags(host=args.host, port=args.port, seed=args.seed, verbose=args.verbose)
    return run_sandbox_serve(start(flags))


def sandbox_reset(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import SandboxResetFlags
    from reconciler.commands.sandbox import run_sandbox_reset

    return run_sandbox_reset(start(SandboxResetFlags(seed=args.seed)))


def sandbox_up(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import SandboxUpFlags
    from reconciler.commands.sandbox import run_sandbox_up

    flags = SandboxUpFlags(seed=args.seed, dir=args.dir, backup_speedup=args.backup_speedup, verbose=args.verbose)
    return run_sandbox_up(start(flags))


def sandbox_status(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import SandboxStatusFlags
    from reconciler.commands.reporting import reported
    from reconciler.commands.sandbox import run_sandbox_status

    rt = start(SandboxStatusFlags(dir=args.dir, format=args.format))
    with reported(rt, json_errors=args.format == "json"):
        return run_sandbox_status(rt)


def sandbox_down(args: argparse.Namespace, start: Start) -> int:
    from reconciler.commands.options import SandboxDownFlags
    from reconciler.commands.sandbox import run_sandbox_down

    return run_sandbox_down(start(SandboxDownFlags(dir=args.dir)))
