"""A database's status over time: a change leaves it in a transient status, and writes need `active`."""

from __future__ import annotations

from reconciler.sandbox.state import Database

ACTIVE = "active"
# API-NOTES §7 lists this type; its HTTP status is not documented. UNCONFIRMED (API-NOTES §7, §11): 400.
NOT_ACTIVE_ERROR = "DATABASE_NOT_ACTIVE"
NOT_ACTIVE_STATUS = 400


def status_at(database: Database, now: float) -> str:
    """A change leaves the database in a transient status (e.g. `active-change-pending`) for a while (API-NOTES §2)."""
    if database["busy_until"] is not None and now < database["busy_until"]:
        return database["busy_status"]
    return database["status"]


def hold(database: Database, status: str, until: float) -> None:
    """Keep the database in `status` until `until` (a test control: a console change, a scaling, a maintenance)."""
    database["busy_status"] = status
    database["busy_until"] = until
