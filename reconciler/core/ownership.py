"""Ownership of databases by a manifest set (issue 17): an owner tag on each database it manages, so that two
manifest repositories (or a manifest and another tool) cannot manage one database and undo each other's work.

The tag is of the receipt family (`rcr_owner`, receipt_tags.py) and holds the owner id as written, so it reads
plainly in the console. An owner id is a tag value (API-NOTES §9): lowercase letters, digits, spaces and
`- _ . + @ :`, at most 128 characters (the value maximum is UNCONFIRMED; receipts keep under it too), and here
neither starting nor ending with a space, which no reader would see. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from reconciler.core.calls import owner_call
from reconciler.core.confirmation import where
from reconciler.core.desired import Manifest
from reconciler.core.live import LiveTag
from reconciler.core.plan import DatabaseRef, OwnerTag, PlanWarning, WarningKind
from reconciler.core.receipt_tags import MAX_VALUE_LENGTH, OWNER_KEY, TAG_BUDGET
from reconciler.errors import ReconcilerError

_OWNER = re.compile(r"^[a-z0-9_.+@:-](?:[a-z0-9 _.+@:-]*[a-z0-9_.+@:-])?$(?!\n)")
OWNER_RULE = (
    f"lowercase letters, digits, spaces and - _ . + @ : (a database tag value), at most {MAX_VALUE_LENGTH} "
    "characters, not starting or ending with a space"
)


def owner_problem(owner: str) -> str | None:
    """Why `owner` cannot be an owner id, or None."""
    if len(owner) > MAX_VALUE_LENGTH or not _OWNER.match(owner):
        return f"owner {owner[:60]!r} is not a valid owner id: use {OWNER_RULE}"
    return None


def live_owner(tags: Iterable[LiveTag]) -> str | None:
    """The owner a database's tags name; None: unowned."""
    return next((tag.value for tag in tags if tag.key == OWNER_KEY), None)


def owner_budget_note(database_name: str, tags: tuple[LiveTag, ...]) -> str | None:
    """Where the owner tag is to be created on a database with no room left for it (the budget_note of a database
    with no one-shot operations, whose receipts need none)."""
    if len(tags) + 1 <= TAG_BUDGET:
        return None
    return (
        f"{database_name} has {len(tags)} of its {TAG_BUDGET} tags in use; its owner tag needs one free: remove one "
        "of the database's own tags, or apply refuses to write it (and then writes nothing else there)"
    )


def owner_address(database_name: str) -> str:
    return f"{database_name}.owner"


@dataclass(frozen=True, slots=True)
class Ownership:
    """What ownership asks of one database's plan: the owner tag to write first, a note, or a refusal."""

    change: OwnerTag | None = None
    note: PlanWarning | None = None
    problem: str | None = None


def ownership(
    ref: DatabaseRef, tags: tuple[LiveTag, ...] | None, owner: str | None, *, takeover: bool, observed: bool
) -> Ownership:
    """The owner tag a managed database needs (none where this set owns it already); a refusal where another set
    owns it and `takeover` was not given; for an observed database, only a note naming its live owner."""
    name = ref.name
    if tags is None:
        if owner is None or observed:
            return Ownership()
        return Ownership(problem=f"{name}: its tags were not read, so whether another manifest set owns it is unknown")
    current = live_owner(tags)
    if observed:
        if owner is None and current is None:
            return Ownership()
        says = f"owned by {current!r}" if current else "not owned by any manifest set (no rcr_owner tag)"
        return Ownership(note=PlanWarning(owner_address(name), WarningKind.OWNER, f"observed database, {says}"))
    if owner is None or current == owner:
        return Ownership()
    if current is not None and not takeover:
        return Ownership(
            problem=f"{name}: {where(ref)} is owned by another manifest set, {current!r} (tag {OWNER_KEY}), not by "
            f"{owner!r}; pass --takeover to take it over (the plan shows each takeover), observe it (mode: observe), "
            "or leave it out of these manifests"
        )
    call = owner_call(ref.path, OWNER_KEY, owner, previous=current)
    return Ownership(change=OwnerTag(owner_address(name), ref, owner, current, call))


def with_owner(manifest: Manifest, flag: str | None) -> Manifest:
    """The manifests with the set's owner id: `owner:` in the files, or `--owner`; both given, they must agree."""
    if flag is None:
        return manifest
    problem = owner_problem(flag)
    if problem is not None:
        raise ReconcilerError(f"--owner: {problem}")
    if manifest.owner is not None and manifest.owner != flag:
        raise ReconcilerError(
            f"--owner {flag!r} differs from owner: {manifest.owner!r} in the manifests; a manifest set has one "
            "owner id: drop the flag, or change the files"
        )
    return replace(manifest, owner=flag)
