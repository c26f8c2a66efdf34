"""What a plan must have confirmed before it overwrites a database or stops its backups (issue 12).

The manifest's `name` is only a handle; a wrong id under it would point a destructive change at another
database. So `confirm` is checked against the name the API reports for the database the ids point at.
Pure: the live name comes in the `DatabaseRef` the planner built from the refresh.
"""

from __future__ import annotations

from reconciler.core.desired import DatabaseSpec, Import
from reconciler.core.plan import DatabaseRef


def import_problem(address: str, operation: Import, ref: DatabaseRef) -> str | None:
    """Every import overwrites every key: its `confirm` must be the live name."""
    live_name = ref.live_name
    if operation.confirm == live_name:
        return None
    fix = f"check the ids; if this really is the database to overwrite, write confirm: {live_name}"
    if operation.confirm is None:
        return f"{address}: an import needs `confirm:` — {where(ref)} is named {live_name!r} in Redis Cloud; {fix}"
    return f"{address}: confirm is {operation.confirm!r} but {where(ref)} is named {live_name!r} in Redis Cloud — {fix}"


def switch_off_problem(address: str, spec: DatabaseSpec, ref: DatabaseRef, confirm: str | None) -> str | None:
    """Switching remote backup off (of the database, or of one region): a protected database needs `confirm`, and a
    `confirm` given must be right."""
    live_name = ref.live_name
    if confirm is None and spec.protected:
        return (
            f"{address}: {spec.name} is protected and this plan switches its remote backup off: {where(ref)} is "
            f"named {live_name!r} in Redis Cloud — if that is intended, write confirm: {live_name} "
            "beside enabled: false"
        )
    if confirm is not None and confirm != live_name:
        return (
            f"{address}: confirm is {confirm!r} but {where(ref)} is named {live_name!r} in Redis Cloud — check the "
            f"ids; if this really is the database whose backups to switch off, write confirm: {live_name}"
        )
    return None


def where(ref: DatabaseRef) -> str:
    return f"database {ref.database} in subscription {ref.subscription}"
