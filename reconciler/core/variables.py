"""Which `${env:…}` variables a run needs, checked before its first request (issue 12 §1).

An unset variable must stop a run before any request, even a read, with one line per variable naming the
addresses that need it. Empty counts as unset, as in `uris.resolve`: an empty password is never what was meant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from reconciler.core.calls import operation_calls, variables
from reconciler.core.desired import (
    DatabaseSpec,
    Manifest,
    base_address,
    canonical_address,
    operation_address,
    region_address,
    settings_address,
)
from reconciler.core.plan import Plan
from reconciler.core.uris import references
from reconciler.errors import ReconcilerError


def check_plan(plan: Plan, environ: Mapping[str, str]) -> None:
    """Every variable the plan's calls refer to must be set before the first call is made."""
    needed: dict[str, list[str]] = {}
    for change in plan.changes:
        for call in change.calls:
            _need(needed, variables(call), change.address)
    _refuse_unset(needed, environ)


def check_manifest(manifest: Manifest, environ: Mapping[str, str], targets: frozenset[str]) -> None:
    """Before `plan` reads the account: every variable of the (targeted) entries must be set, since which
    of their calls the plan will need is only known once the live state has been read."""
    _refuse_unset(needed_variables(manifest, targets), environ)


def needed_variables(manifest: Manifest, targets: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """The variables the manifest's URIs reference, each with the addresses that need it, sorted by name.
    `targets` are addresses or database names, as `--target` takes them (empty: everything)."""
    needed: dict[str, list[str]] = {}
    targets = frozenset(canonical_address(target) for target in targets)
    for spec in manifest.databases:
        for address, uris in _uris(spec):
            if not targets or spec.name in targets or address in targets or base_address(address) in targets:
                _need(needed, (name for uri in uris for name in references(uri)), address)
    return dict(sorted(needed.items()))


def _uris(spec: DatabaseSpec) -> Iterator[tuple[str, list[str]]]:
    """Each address of a manifest entry, with the URIs its calls would send."""
    if spec.backup is not None:
        path = spec.backup.path if spec.backup.enabled else None
        yield settings_address(spec.name), [path] if path else []
    for region in spec.backup_regions or ():
        path = region.settings.path if region.settings.enabled else None
        yield region_address(spec.name, region.region), [path] if path else []
    for kind, operation in spec.operations():
        calls = operation_calls("", operation)  # the path plays no part: only bodies hold URIs
        yield operation_address(spec.name, kind, operation.id), [text for call in calls for text in call.strings()]


def _need(needed: dict[str, list[str]], names: Iterable[str], address: str) -> None:
    for name in names:  # once per address, however many shard URIs repeat the variable
        if address not in needed.setdefault(name, []):
            needed[name].append(address)


def _refuse_unset(needed: Mapping[str, list[str]], environ: Mapping[str, str]) -> None:
    missing = {name: addresses for name, addresses in needed.items() if not environ.get(name)}
    if missing:
        lines = [
            f"environment variable {name} is not set (needed by {', '.join(addresses)})"
            for name, addresses in sorted(missing.items())
        ]
        raise ReconcilerError("\n".join(lines) + "\nnothing was changed")
