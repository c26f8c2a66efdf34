"""The emulator's call-outs into the data plane: one function per handler, each a no-op without a data plane.

Import-light on purpose (the emulator imports this module): the data plane registers itself here when it
starts (`install`), in the `sandbox up` daemon or in a test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from reconciler.sandbox.problems import error_object
from reconciler.sandbox.state import Database, ErrorObject, JsonObject, WorldData

if TYPE_CHECKING:
    from reconciler.sandbox.data.plane import DataPlane

_active: list[DataPlane] = []


def install(plane: DataPlane) -> None:
    _active[:] = [plane]


def uninstall(plane: DataPlane) -> None:
    if _active and _active[0] is plane:
        _active.clear()


def active() -> DataPlane | None:
    return _active[0] if _active else None


@dataclass(slots=True)
class ImportVerdict:
    """What an import request will do: a task error, or a run ending in `outcome` once `carry_out` ran."""

    task_error: ErrorObject | None = None
    outcome: Literal["success", "failed"] = "success"
    failure_reason: str | None = None
    action: Callable[[str], tuple[Literal["success", "failed"], str | None]] | None = field(default=None, repr=False)

    def carry_out(self, task_id: str) -> None:
        """Move the data (when a data plane serves the database); call only once the task was accepted."""
        if self.action is not None:
            self.outcome, self.failure_reason = self.action(task_id)


def judge_import(world: WorldData, database: Database, source_type: str, uris: Sequence[str]) -> ImportVerdict:
    """`POST …/import`: real files when a data plane serves the database, else the world's source markers."""
    plane = active()
    if plane is not None and plane.serves(database["id"]):
        return plane.judge_import(world, database, source_type, list(uris))
    missing = [uri for uri in uris if world["sources"].get(uri) == "missing"]
    if missing:
        # UNCONFIRMED (API-NOTES §4): a missing source ends the import task in processing-error.
        return ImportVerdict(error_object("DATABASE_IMPORT_SOURCE_NOT_FOUND", f"Import source not found: {missing[0]}"))
    if any(world["sources"].get(uri) == "corrupt" for uri in uris):
        # API-NOTES §4: a corrupt file surfaces later as resource status "failed", reason "file-corrupted".
        return ImportVerdict(outcome="failed", failure_reason="file-corrupted")
    return ImportVerdict()


def import_failure_params(task_id: str) -> list[JsonObject] | None:
    """The real `failureReasonParams` of a failed import run by the data plane (None: not one of its runs)."""
    plane = active()
    return plane.failure_params(task_id) if plane is not None else None


def run_backup(database: Database, destination: str, *, adhoc: bool, at: float, task_id: str) -> None:
    """`POST …/backup` accepted (issue 14): dump the database and upload it (nothing without a data plane)."""
    plane = active()
    if plane is not None and plane.serves(database["id"]):
        plane.backup(database, destination, adhoc=adhoc, at=at, task_id=task_id)


def backup_failure(task_id: str) -> str | None:
    """Why the data plane could not write the files of this backup run (None: written, or not its run)."""
    plane = active()
    return plane.backup_failure(task_id) if plane is not None else None


def dress_database(shape: JsonObject, database_id: int, *, with_password: bool) -> None:
    """Database reads: the local server's endpoint, and its password in `security.password` (GET only:
    API-NOTES §11 says list items omit it)."""
    plane = active()
    endpoint = plane.endpoint(database_id) if plane is not None else None
    if endpoint is None:
        return
    address, password = endpoint
    shape["publicEndpoint"] = address
    shape["privateEndpoint"] = address
    if with_password and isinstance(shape.get("security"), dict):
        shape["security"]["password"] = password
