"""`plan()`: the pure heart of the tool. The same manifest, live account (receipts included, decoded by the
refresh) and options always give the same `Plan`; no network, files, clock or environment. The only user of
deepdiff (STYLE §1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from deepdiff import DeepDiff

from reconciler.core import normalise
from reconciler.core.calls import fingerprint, is_backup, operation_calls, settings_call
from reconciler.core.confirmation import import_problem, switch_off_problem, where
from reconciler.core.desired import (
    DatabaseSpec,
    Import,
    Manifest,
    OnDemandBackup,
    OperationKind,
    Tier,
    operation_address,
    settings_address,
)
from reconciler.core.evidence import classify, edited_problem, unreadable_while_backup_off, unverifiable_backup_note
from reconciler.core.live import LiveAccount, LiveDatabase
from reconciler.core.ownership import owner_address, owner_budget_note, ownership
from reconciler.core.plan import (
    Change,
    DatabaseRef,
    FieldChange,
    OneShot,
    Plan,
    PlanWarning,
    SettingsUpdate,
    WarningKind,
)
from reconciler.core.receipt_tags import Receipt, adopted_note, budget_note
from reconciler.core.uris import mask_in_text
from reconciler.errors import PlanError


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """`targets` are addresses or database names (empty: everything); the retry sets hold addresses.
    `observe_all` (`--observe`) observes every database for the run, as `mode: observe` does one."""

    targets: frozenset[str] = frozenset()
    retry_failed: frozenset[str] = frozenset()
    retry_uncertain: frozenset[str] = frozenset()
    observe_all: bool = False
    takeover: bool = False  # manage databases another manifest set owns, taking their owner tag over (issue 17)


@dataclass(slots=True)
class _Collector:
    changes: list[Change] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    observed: list[Change] = field(default_factory=list)

    def take(self, found: _Collector, *, observed: bool) -> None:
        """One database's plan: an observed database's changes go apart, and its warnings are marked, so that
        apply, which runs `changes` and settlements only, has nothing to do there."""
        (self.observed if observed else self.changes).extend(found.changes)
        self.warnings.extend(replace(w, observed=True) if observed else w for w in found.warnings)


def plan(desired: Manifest, live: LiveAccount, options: PlanOptions | None = None) -> Plan:
    """The API calls that bring the live account to the manifest, plus receipts needing attention."""
    options = options or PlanOptions()
    out = _Collector(problems=_option_problems(desired, options))
    for spec in sorted(desired.databases, key=lambda spec: spec.name):
        if _selected(spec, options.targets):
            found = _Collector(problems=out.problems)
            observed = spec.observe or options.observe_all
            _plan_database(spec, live, options, found, desired.owner, observed)
            out.take(found, observed=observed)
    if out.problems:
        raise PlanError(out.problems)
    return Plan(tuple(out.changes), tuple(out.warnings), live, tuple(out.observed))


def _option_problems(desired: Manifest, options: PlanOptions) -> list[str]:
    operations = {address for spec in desired.databases for address, _, _ in _operations(spec)}
    known = operations | {spec.name for spec in desired.databases}
    known |= {settings_address(spec.name) for spec in desired.databases if spec.backup is not None}
    known |= {owner_address(spec.name) for spec in desired.databases if desired.owner is not None}
    problems = [
        f"--target {target}: no database or operation in the manifest has this name or address"
        for target in sorted(options.targets - known)
    ]
    for flag, addresses in (("--retry-failed", options.retry_failed), ("--retry-uncertain", options.retry_uncertain)):
        problems += [
            f"{flag} {address}: no on-demand backup or import in the manifest has this address"
            for address in sorted(addresses - operations)
        ]
    return problems


def selected(desired: Manifest, targets: frozenset[str]) -> Manifest:
    """The databases a plan for `targets` looks at (all of them when there are none): what the refresh must read,
    and nothing more (issue 16: a saved plan for one database need not read 2,000)."""
    return replace(desired, databases=tuple(spec for spec in desired.databases if _selected(spec, targets)))


def _selected(spec: DatabaseSpec, targets: frozenset[str]) -> bool:
    return not targets or any(t == spec.name or t.startswith(f"{spec.name}.") for t in targets)


def _targeted(address: str, spec: DatabaseSpec, targets: frozenset[str]) -> bool:
    return not targets or spec.name in targets or address in targets


def _operations(spec: DatabaseSpec) -> Iterable[tuple[str, OperationKind, Import | OnDemandBackup]]:
    for kind, operation in spec.operations():
        yield operation_address(spec.name, kind, operation.id), kind, operation


def _plan_database(
    spec: DatabaseSpec, live: LiveAccount, options: PlanOptions, out: _Collector, owner: str | None, observed: bool
) -> None:
    db = _find(spec, live, out)
    if db is None:
        return
    ref = DatabaseRef.of(spec, live_name=db.name)
    own = ownership(ref, db.tags, owner, takeover=options.takeover, observed=observed)
    if own.problem is not None:
        out.problems.append(own.problem)
        return
    if own.note is not None:
        out.warnings.append(own.note)
    _plan_contents(spec, db, ref, live, options, out, owner_tag=own.change is not None)
    if own.change is not None and (out.changes or _targeted(own.change.address, spec, options.targets)):
        out.changes.insert(0, own.change)  # written first: a set that loses the race writes nothing else


def _plan_contents(
    spec: DatabaseSpec,
    db: LiveDatabase,
    ref: DatabaseRef,
    live: LiveAccount,
    options: PlanOptions,
    out: _Collector,
    *,
    owner_tag: bool,
) -> None:
    """Its settings and one-shot operations; `owner_tag`: the plan writes an owner tag too (the tag budget)."""
    backup_on = db.backup.enabled
    if spec.backup is not None and _targeted(settings_address(spec.name), spec, options.targets):
        update = _settings_change(spec, db, ref, out.problems)
        if update is not None:
            out.changes.append(update)
            backup_on = update.after.enabled
    if not spec.has_one_shot_operations:
        full = owner_budget_note(spec.name, db.tags) if owner_tag and db.tags is not None else None
        if full is not None:
            out.warnings.append(PlanWarning(spec.name, WarningKind.TAG_BUDGET, full))
        return
    if db.tags is None or db.receipts is None:
        out.problems.append(
            f"{spec.name}: its tags were not read, so its receipts are unknown and its "
            "on-demand backups and imports cannot be planned safely"
        )
        return
    out.problems.extend(db.receipts.problems)
    unclaimed = [a for a, kind, op in _operations(spec) if db.receipts.get(kind, op.id) is None]
    planned = sum(1 for address in unclaimed if _targeted(address, spec, options.targets))
    note = budget_note(spec.name, db.tags, planned, owner_tag=owner_tag)
    if note is not None:
        out.warnings.append(PlanWarning(spec.name, WarningKind.TAG_BUDGET, note))
    ctx = _Context(spec, ref, live, backup_on)
    for address, kind, operation in _operations(spec):
        if _targeted(address, spec, options.targets):
            _plan_operation(address, kind, operation, ctx, db.receipts.get(kind, operation.id), options, out)


def _find(spec: DatabaseSpec, live: LiveAccount, out: _Collector) -> LiveDatabase | None:
    db = live.databases.get((spec.subscription, spec.database))
    where = f"database {spec.database} in subscription {spec.subscription}"
    if db is None:
        out.problems.append(
            f"{spec.name}: {where} does not exist ({_tier_name(spec.tier)}); check the ids and the tier in the manifest"
        )
        return None
    if db.tier is not spec.tier:
        out.problems.append(
            f"{spec.name}: {where} is a Redis Cloud {_tier_name(db.tier)} database, but the "
            f"manifest says tier {spec.tier.value}; set `tier: {db.tier.value}`"
        )
        return None
    return db


def _tier_name(tier: Tier) -> str:
    return "Pro" if tier is Tier.PRO else "Essentials"


def _settings_change(
    spec: DatabaseSpec, db: LiveDatabase, ref: DatabaseRef, problems: list[str]
) -> SettingsUpdate | None:
    """Settings drift, compared field by field after normalisation; unmanaged fields never drift."""
    if spec.backup is None:
        return None
    desired = normalise.from_desired(spec.backup, spec.tier)
    current = normalise.from_live(db.backup, db.tier)
    managed = desired.managed_fields()
    interval = desired.interval or current.interval
    before_cmp = _pick(normalise.comparable(current, interval=current.interval), managed)
    after_cmp = _pick(normalise.comparable(desired, interval=interval), managed)
    if before_cmp == after_cmp:
        # Most databases match: plain equality of a few strings tells them apart in a microsecond, where
        # DeepDiff takes about 200 µs (4.4 s of a 5.4 s plan at 20,000 databases, issue 16); it names the fields.
        return None
    changed = set(DeepDiff(before_cmp, after_cmp).affected_root_keys)
    address = settings_address(spec.name)
    found = _settings_problems(address, spec, desired, current, ref)
    if found:
        problems.extend(found)
        return None
    before = normalise.masked(current)
    after = normalise.masked(replace(desired, path=spec.backup.path) if desired.path else desired)  # as written
    fields = tuple(
        FieldChange(name, getattr(before, name), getattr(after, name)) for name in normalise.FIELDS if name in changed
    )
    storage_type = normalise.storage_type(spec.backup.path, spec.backup.storage_type) if desired.enabled else None
    call = settings_call(spec.tier, ref.path, spec.backup, live_interval=current.interval)
    # Pro `active: false` or Essentials `periodicBackupPath: ""`: no backups from now on (issue 12).
    risky = current.enabled and not desired.enabled
    return SettingsUpdate(address, ref, before, after, call, fields, storage_type, risky)


def _settings_problems(
    address: str, spec: DatabaseSpec, desired: normalise.Settings, current: normalise.Settings, ref: DatabaseRef
) -> list[str]:
    """What stops a settings update: an interval to keep that is not there, or an unconfirmed switch-off."""
    if desired.enabled and spec.tier is Tier.PRO and desired.interval is None:
        # `interval` left out is not managed: the PUT carries the live one (the API needs one), if there is one.
        if current.interval is None:
            state = "backup is off on" if not current.enabled else "Redis Cloud reports no backup interval for"
            return [
                f"{address}: {state} {where(ref)}, so there is no live interval to keep — add `interval:` to its "
                "backup block, e.g. interval: every-24-hours"
            ]
        if desired.time_utc is not None and current.interval not in normalise.TIMED_INTERVALS:
            return [
                f"{address}: time_utc needs every-12-hours or every-24-hours, but the live interval it keeps is "
                f"{current.interval} — add `interval:` to its backup block, or remove time_utc"
            ]
    if current.enabled and not desired.enabled:
        problem = switch_off_problem(address, spec, ref)
        return [problem] if problem else []
    return []


def _pick(values: Mapping[str, str | bool | None], names: Iterable[str]) -> dict[str, str | bool | None]:
    return {name: values[name] for name in names}


@dataclass(frozen=True, slots=True)
class _Context:
    spec: DatabaseSpec
    ref: DatabaseRef
    live: LiveAccount
    backup_on: bool  # after this plan's settings update, if any


def _plan_operation(
    address: str,
    kind: OperationKind,
    operation: Import | OnDemandBackup,
    ctx: _Context,
    receipt: Receipt | None,
    options: PlanOptions,
    out: _Collector,
) -> None:
    calls = operation_calls(ctx.ref.path, operation)
    if receipt is not None and not _may_repeat(address, receipt, fingerprint(calls[-1]), ctx, options, out):
        return
    if not ctx.backup_on and any(is_backup(call) and call.body is None for call in calls):
        # A backup to the configured destination, with none configured (API-NOTES §3).
        error = "DATABASE_BACKUP_DISABLED" if ctx.ref.tier is Tier.PRO else "DATABASE_BACKUP_NOT_CONFIGURED"
        what, fix = _NO_DESTINATION[kind]
        out.problems.append(
            f"{address}: {what} needs a backup destination, but backup is off on this database "
            f"and this plan does not switch it on (the API would answer {error}); "
            f"enable backup in its `backup:` block{fix}"
        )
        return
    if isinstance(operation, Import):
        problem = import_problem(address, operation, ctx.ref)
        if problem is not None:
            out.problems.append(problem)
            return
    if not ctx.backup_on and unreadable_while_backup_off(kind):  # it has a `path`, or it is a problem above
        out.warnings.append(PlanWarning(address, WarningKind.UNVERIFIABLE, unverifiable_backup_note(address)))
    out.changes.append(OneShot(address, ctx.ref, kind, operation.id, calls, receipt))


_NO_DESTINATION = {  # what needs a destination, and the other way out
    OperationKind.IMPORT: ("`backup_first`", ""),
    OperationKind.BACKUP: ("an on-demand backup without `path`", ", or give this backup a `path`"),
}


def _may_repeat(
    address: str,
    receipt: Receipt,
    current: str,  # the fingerprint of the operation's call as the manifest gives it now
    ctx: _Context,
    options: PlanOptions,
    out: _Collector,
) -> bool:
    """A receipt blocks its operation unless the user asked to retry a failed or uncertain one."""
    problem = edited_problem(receipt, current, address)
    if problem is not None:
        out.problems.append(problem)
        return False
    if receipt.adopted:  # done, but a receipt never lies: the plan says who did it
        out.warnings.append(PlanWarning(address, WarningKind.ADOPTED, adopted_note(receipt)))
        return False
    key = (ctx.spec.subscription, ctx.spec.database)
    task = next((t for i, t in ctx.live.tasks.items() if i.lower() == receipt.task_id), None)
    assessment = classify(receipt, address, latest=ctx.live.latest_status(receipt.kind, key), task=task)
    if (assessment.kind is WarningKind.FAILED and address in options.retry_failed) or (
        assessment.kind is WarningKind.UNCERTAIN and address in options.retry_uncertain
    ):
        return True
    if assessment.kind is not None:
        outcome = assessment.outcome.value if assessment.outcome else None
        message = mask_in_text(assessment.message)  # may quote an API error description
        out.warnings.append(PlanWarning(address, assessment.kind, message, outcome, ctx.ref))
    return False
