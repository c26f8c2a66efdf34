"""`plan()`: the pure heart of the tool. The same manifest, live account (receipts included, decoded by the
refresh) and options always give the same `Plan`; no network, files, clock or environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reconciler.core import normalise
from reconciler.core.active_active import form_problem, regions_on
from reconciler.core.calls import RegionWrite, fingerprint, is_backup, operation_calls, regions_call, settings_call
from reconciler.core.confirmation import import_problem, switch_off_problem, where
from reconciler.core.desired import (
    BackupSettings,
    DatabaseSpec,
    Import,
    Manifest,
    OnDemandBackup,
    OperationKind,
    Tier,
    base_address,
    canonical_address,
    operation_address,
    region_address,
    settings_address,
)
from reconciler.core.evidence import classify, edited_problem, unreadable_while_backup_off, unverifiable_backup_note
from reconciler.core.live import LiveAccount, LiveBackup, LiveDatabase
from reconciler.core.ownership import owner_address, owner_budget_note, ownership
from reconciler.core.plan import (
    Change,
    DatabaseRef,
    FieldChange,
    OneShot,
    Plan,
    PlanWarning,
    RegionalUpdate,
    RegionUpdate,
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
    options = canonical(options or PlanOptions())
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


def canonical(options: PlanOptions) -> PlanOptions:
    """Addresses with their region written one way: `orders-aa.backup[us-east-1]` (a shell took the quotes) is
    `orders-aa.backup["us-east-1"]`. Every other option is kept as it is."""

    def written_one_way(addresses: frozenset[str]) -> frozenset[str]:
        return frozenset(canonical_address(a) for a in addresses)

    return replace(
        options,
        targets=written_one_way(options.targets),
        retry_failed=written_one_way(options.retry_failed),
        retry_uncertain=written_one_way(options.retry_uncertain),
    )


def _option_problems(desired: Manifest, options: PlanOptions) -> list[str]:
    if not (options.targets or options.retry_failed or options.retry_uncertain):
        return []  # nothing to look up: every database's addresses were 0.1 s of a 20,000-database plan
    operations = {address for spec in desired.databases for address, _, _ in _operations(spec)}
    # A `regions: all` backup has one address per live region, known only once the database is read: its region
    # addresses are checked then (`_unknown_regions`).
    every_region = {address for spec in desired.databases for address, _, op in _operations(spec) if _all_regions(op)}
    known = operations | {spec.name for spec in desired.databases}
    known |= {settings_address(spec.name) for spec in desired.databases if spec.manages_backup}
    known |= {region_address(s.name, r.region) for s in desired.databases for r in s.backup_regions or ()}
    known |= {owner_address(spec.name) for spec in desired.databases if desired.owner is not None}

    def unknown(addresses: frozenset[str], among: set[str]) -> list[str]:
        return sorted(
            a for a in addresses if a not in among and not (a != base_address(a) and base_address(a) in every_region)
        )

    problems = [
        f"--target {target}: no database or operation in the manifest has this name or address"
        + (_QUOTING if "[" in target else "")
        for target in unknown(options.targets, known)
    ]
    for flag, addresses in (("--retry-failed", options.retry_failed), ("--retry-uncertain", options.retry_uncertain)):
        problems += [
            f"{flag} {address}: no on-demand backup or import in the manifest has this address"
            for address in unknown(addresses, operations)
        ]
    return problems


def _all_regions(operation: Import | OnDemandBackup) -> bool:
    return isinstance(operation, OnDemandBackup) and operation.all_regions


def selected(desired: Manifest, targets: frozenset[str]) -> Manifest:
    """The databases a plan for `targets` looks at (all of them when there are none): what the refresh must read,
    and nothing more (issue 16: a saved plan for one database need not read 2,000)."""
    return replace(desired, databases=tuple(spec for spec in desired.databases if _selected(spec, targets)))


_QUOTING = (
    ' (a region is addressed as NAME.backup["REGION"] or NAME.backups.ID["REGION"], for a region under its '
    "`backup.regions` or a backup with `region:` or `regions: all`; in a shell, quote the whole address: "
    "--target 'orders-aa.backup[\"us-east-1\"]')"
)


def _selected(spec: DatabaseSpec, targets: frozenset[str]) -> bool:
    return not targets or any(t == spec.name or t.startswith(f"{spec.name}.") for t in targets)


def _targeted(address: str, spec: DatabaseSpec, targets: frozenset[str]) -> bool:
    """A region's backup is targeted by its own address, by its backup's (`orders-aa.backups.pre`: every region)
    and by its database's."""
    return not targets or spec.name in targets or address in targets or base_address(address) in targets


def _operations(
    spec: DatabaseSpec, regions: Sequence[str] | None = None
) -> Iterable[tuple[str, OperationKind, Import | OnDemandBackup]]:
    """With `regions` (an Active-Active database's, as read), a regional backup is one operation per region."""
    for kind, operation in spec.operations(regions):
        yield operation_address(spec.name, kind, operation.id), kind, operation


def _plan_database(
    spec: DatabaseSpec, live: LiveAccount, options: PlanOptions, out: _Collector, owner: str | None, observed: bool
) -> None:
    db = _find(spec, live, out)
    if db is None:
        return
    ref = DatabaseRef.of(spec, live_name=db.name, active_active=db.active_active)
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
    form = form_problem(spec, db, ref)
    if form is not None:
        out.problems.append(form)
        return
    if spec.backup is not None and _targeted(settings_address(spec.name), spec, options.targets):
        update = _settings_change(spec, db, ref, out.problems)
        if update is not None:
            out.changes.append(update)
            backup_on = update.after.enabled
    regional = None
    if spec.backup_regions is not None:
        regional = _regional_change(spec, db, ref, options.targets, out.problems)
        if regional is not None:
            out.changes.append(regional)
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
    regions = None if db.regions is None else [region.region for region in db.regions]
    operations = list(_operations(spec, regions))
    out.problems.extend(_unknown_regions(spec, operations, options))
    unclaimed = [a for a, kind, op in operations if db.receipts.get(kind, op.id) is None]
    planned = sum(1 for address in unclaimed if _targeted(address, spec, options.targets))
    note = budget_note(spec.name, db.tags, planned, owner_tag=owner_tag)
    if note is not None:
        out.warnings.append(PlanWarning(spec.name, WarningKind.TAG_BUDGET, note))
    ctx = _Context(spec, ref, live, backup_on, regions_on(db, regional))
    for address, kind, operation in operations:
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
    address = settings_address(spec.name)
    diff = _diff(address, spec, spec.backup, db.backup, ref, problems)
    if diff is None:
        return None
    call = settings_call(spec.tier, ref.path, spec.backup, live_interval=diff.before.interval)
    return SettingsUpdate(address, ref, diff.before, diff.after, call, diff.fields, diff.storage_type, diff.risky)


def _unknown_regions(
    spec: DatabaseSpec, operations: list[tuple[str, OperationKind, Import | OnDemandBackup]], options: PlanOptions
) -> list[str]:
    """Region addresses of `regions: all` backups given to a flag, that name no region of the live database."""
    every_region = {operation_address(spec.name, OperationKind.BACKUP, b.id) for b in spec.backups if b.all_regions}
    found = {address for address, _, _ in operations}
    asked = options.targets | options.retry_failed | options.retry_uncertain
    return [
        f"{address}: the database has no such region (its backups of every region: "
        f"{', '.join(sorted(a for a in found if base_address(a) == base_address(address)))})"
        for address in sorted(asked)
        if base_address(address) in every_region and address != base_address(address) and address not in found
    ]


@dataclass(frozen=True, slots=True)
class _Diff:
    """One set of backup settings (a database's, or one region's) that differs from the live one."""

    before: normalise.Settings
    after: normalise.Settings
    fields: tuple[FieldChange, ...]
    storage_type: str | None
    risky: bool


def _regional_change(
    spec: DatabaseSpec, db: LiveDatabase, ref: DatabaseRef, targets: frozenset[str], problems: list[str]
) -> RegionalUpdate | None:
    """Each region's drift on its own; one `PUT …/regions` for the regions that differ (and are targeted)."""
    updates: list[RegionUpdate] = []
    writes: list[RegionWrite] = []
    for wanted in spec.backup_regions or ():
        address = region_address(spec.name, wanted.region)
        region = db.region(wanted.region)
        if region is None:
            names = ", ".join(r.region for r in db.regions or ()) or "none"
            problems.append(
                f"{address}: {where(ref)} has no region {wanted.region!r} (its regions: {names}) — fix the region's "
                "name under `backup.regions`, or remove it"
            )
            continue
        if targets and not ({spec.name, settings_address(spec.name), address} & targets):
            continue
        diff = _diff(address, spec, wanted.settings, region.backup, ref, problems)
        if diff is not None:
            kept = normalise.from_live(region.backup, Tier.PRO).interval
            updates.append(RegionUpdate(address, wanted.region, *_fields_of(diff)))
            writes.append(RegionWrite(wanted.region, wanted.settings, kept))
    if not updates:
        return None
    return RegionalUpdate(settings_address(spec.name), ref, tuple(updates), regions_call(ref.path, writes))


def _fields_of(diff: _Diff) -> tuple[normalise.Settings, normalise.Settings, tuple[FieldChange, ...], str | None, bool]:
    return diff.before, diff.after, diff.fields, diff.storage_type, diff.risky


def _diff(
    address: str,
    spec: DatabaseSpec,
    settings: BackupSettings,
    live: LiveBackup,
    ref: DatabaseRef,
    problems: list[str],
) -> _Diff | None:
    """Settings drift, compared field by field after normalisation (a region of an Active-Active database has the
    Pro shape); unmanaged fields never drift."""
    desired = normalise.from_desired(settings, spec.tier)
    current = normalise.from_live(live, spec.tier)
    managed = desired.managed_fields()
    interval = desired.interval or current.interval
    before_cmp = _pick(normalise.comparable(current, interval=current.interval), managed)
    after_cmp = _pick(normalise.comparable(desired, interval=interval), managed)
    # The compared values are flat: a few strings, booleans and None a field. Plain comparison names what differs in
    # about a microsecond; DeepDiff took 230-330 µs a database for the same names (4.4 s of a 5.4 s plan at 20,000
    # databases, and 520 µs a drifting database, issue 16). It names what differs in nested documents instead
    # (core/staleness.py, output/plan_json.py), where a change is rare and its shape deep.
    changed = {name for name, value in after_cmp.items() if before_cmp[name] != value}
    if not changed:
        return None
    found = _settings_problems(address, spec, settings, desired, current, ref)
    if found:
        problems.extend(found)
        return None
    before = normalise.masked(current)
    written = replace(desired, path=settings.path) if desired.path and desired.path != settings.path else desired
    after = normalise.masked(written)  # the path as written
    fields = tuple(
        FieldChange(name, getattr(before, name), getattr(after, name)) for name in normalise.FIELDS if name in changed
    )
    storage_type = normalise.storage_type(settings.path, settings.storage_type) if desired.enabled else None
    # Pro `active: false` or Essentials `periodicBackupPath: ""`: no backups from now on (issue 12).
    risky = current.enabled and not desired.enabled
    return _Diff(before, after, fields, storage_type, risky)


def _settings_problems(
    address: str,
    spec: DatabaseSpec,
    settings: BackupSettings,
    desired: normalise.Settings,
    current: normalise.Settings,
    ref: DatabaseRef,
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
        problem = switch_off_problem(address, spec, ref, settings.confirm)
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
    regions_on: Mapping[str, bool]  # an Active-Active database's, after this plan's update of its regions

    def destination_on(self, operation: Import | OnDemandBackup) -> bool:
        """Backup is on where this operation backs up: its region's, or the database's."""
        region = operation.region if isinstance(operation, OnDemandBackup) else None
        return self.backup_on if region is None else self.regions_on.get(region, False)


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
    backup_on = ctx.destination_on(operation)
    if not backup_on and any(is_backup(call) and not (call.body or {}).get("adhocBackupPath") for call in calls):
        # A backup to the configured destination, with none configured (API-NOTES §3).
        error = "DATABASE_BACKUP_DISABLED" if ctx.ref.tier is Tier.PRO else "DATABASE_BACKUP_NOT_CONFIGURED"
        what, fix = _NO_DESTINATION[kind]
        region = operation.region if isinstance(operation, OnDemandBackup) else None
        off, block = (
            (f"in region {region} of", f"`backup.regions.{region}`") if region else ("on", "its `backup:` block")
        )
        out.problems.append(
            f"{address}: {what} needs a backup destination, but backup is off {off} this database "
            f"and this plan does not switch it on (the API would answer {error}); enable backup in {block}{fix}"
        )
        return
    if isinstance(operation, Import):
        problem = import_problem(address, operation, ctx.ref)
        if problem is not None:
            out.problems.append(problem)
            return
    if not backup_on and unreadable_while_backup_off(kind):  # it has a `path`, or it is a problem above
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
    latest = ctx.live.latest_status(receipt.kind, key, receipt.region)
    assessment = classify(receipt, address, latest=latest, task=task)
    if (assessment.kind is WarningKind.FAILED and address in options.retry_failed) or (
        assessment.kind is WarningKind.UNCERTAIN and address in options.retry_uncertain
    ):
        return True
    if assessment.kind is not None:
        outcome = assessment.outcome.value if assessment.outcome else None
        message = mask_in_text(assessment.message)  # may quote an API error description
        out.warnings.append(PlanWarning(address, assessment.kind, message, outcome, ctx.ref))
    return False
