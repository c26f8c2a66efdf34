"""Is a saved plan still the plan? Pure: the saved plan, the manifests and a fresh live state in, the lines that
say what moved out (none: apply it as it is). SPEC §6, issue 20 item 6.

The reviewed plan is re-made for exactly its own addresses (retrying what it retried), and every change must come
out identical: the same calls, the same live state before, the same receipts replaced. A settlement is a write
too: the receipt it records must still be the one the reviewed plan judged (another run may have settled,
forgotten or re-claimed it since), or apply would record a lie.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from enum import Enum

from reconciler.core.desired import Manifest
from reconciler.core.differences import described
from reconciler.core.live import LiveAccount
from reconciler.core.plan import Change, OneShot, OwnerTag, Plan, RegionalUpdate
from reconciler.core.planner import PlanOptions, plan
from reconciler.core.receipt_tags import Phase


def recheck_options(saved: Plan, *, observe_all: bool = False) -> PlanOptions:
    """The saved plan's own addresses, retrying the receipts it replaces; `observe_all` as the plan was made
    (`plan --observe`) or as apply is told now (`apply --observe`)."""
    # A regional update is re-made for the regions it changes, not for every region of its database.
    addresses = {a for c in saved.changes for a in (c.addresses if isinstance(c, RegionalUpdate) else (c.address,))}
    addresses |= {w.address for w in saved.settlements}
    replaced = {c.address: c.replaces.phase for c in saved.changes if isinstance(c, OneShot) and c.replaces}
    takeover = any(isinstance(c, OwnerTag) and c.takeover for c in saved.changes)
    return PlanOptions(
        targets=frozenset(addresses),
        retry_failed=frozenset(a for a, phase in replaced.items() if phase is Phase.FAILED),
        retry_uncertain=frozenset(a for a, phase in replaced.items() if phase is Phase.CLAIMED),
        observe_all=observe_all,
        takeover=takeover,
    )


def moved(saved: Plan, manifest: Manifest, live: LiveAccount, *, observe_all: bool = False) -> list[str]:
    """One line per change or settlement of `saved` that the manifests and `live` no longer give. A change of a
    database that is observed now (a plan file edited to move it out of `observed`) is one of them."""
    if not saved.has_work:
        return []
    now = plan(manifest, live, recheck_options(saved, observe_all=observe_all))
    current = {change.address: change for change in now.changes}
    observed = {change.address for change in now.observed}
    lines = []
    for change in saved.changes:
        fresh = current.get(change.address)
        if change.address in observed:
            lines.append(
                f"{change.address}: its database is observed (mode: observe, or --observe), so apply never writes "
                "to it; the plan file lists this change as one to apply"
            )
        elif fresh is None:
            lines.append(f"{change.address}: no longer needed (the live account changed)")
        elif _before(fresh) != _before(change):
            lines.append(f"{change.address}: was {_short(_before(change))}, now {_short(_before(fresh))}")
        elif fresh != change:  # the calls, ids, live name, replaced receipt: what would be sent, and where
            lines.append(
                f"{change.address}: the plan file's {described(change, fresh)} differ from what the manifests give now"
            )
    settling = {w.address: (w.kind, w.outcome) for w in now.settlements}
    for warning in saved.settlements:
        if settling.get(warning.address) != (warning.kind, warning.outcome):
            still = next((w for w in now.warnings if w.address == warning.address), None)
            lines.append(
                f"{warning.address}: was {warning.kind.value} (apply would record {warning.outcome}), "
                f"now {still.kind.value + ': ' + still.message if still else 'nothing to settle'}"
            )
    return lines


def _before(change: Change) -> object:
    """What apply must still find live: the settings it changes, or the receipt it replaces (None: no receipt)."""
    if isinstance(change, OneShot):
        return None if change.replaces is None else _values(change.replaces)
    if isinstance(change, OwnerTag):
        return {"owner": change.previous}
    if isinstance(change, RegionalUpdate):
        return {region.region: _values(region.before) for region in change.regions}
    return _values(change.before)


def _values(item: object) -> dict[str, object]:
    values = {f.name: getattr(item, f.name) for f in fields(item)} if is_dataclass(item) else {}
    return {name: value.value if isinstance(value, Enum) else value for name, value in values.items()}


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) < 300 else text[:297] + "..."
