"""Drills this version cannot run, refused before anything is written (no claim, no backup, no import).

An Active-Active source backs up each region on its own: its `POST …/backup` needs a `regionName` (API-NOTES §3,
§11), and a drill of one region, or of each, is not designed yet. An Active-Active scratch database would take
the import database-wide, but whether such an import replaces or merges its data is unclear (API-NOTES §11), so
neither the import nor a key count would prove the backup restores. One `GET` per database the drills name.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.cloud.client import RedisCloudClient
from reconciler.core.desired import DatabaseSpec
from reconciler.drill.runner import DrillJob


def unsupported(client: RedisCloudClient, jobs: Iterable[DrillJob]) -> list[str]:
    """One line per drill that cannot run, naming it and the database in the way; empty when all can."""
    active_active: dict[str, bool] = {}

    def is_active_active(spec: DatabaseSpec) -> bool:
        if spec.name not in active_active:
            live = client.get_database(spec.tier, spec.subscription, spec.database)
            active_active[spec.name] = live.active_active
        return active_active[spec.name]

    problems: list[str] = []
    for job in jobs:
        if is_active_active(job.source):
            problems.append(
                f"{job.address}: {job.source.name} is an Active-Active database, and per-region drills are not "
                "supported yet (each region's backup needs its own regionName); remove the drill or drill a "
                "single-region database"
            )
        elif is_active_active(job.scratch):
            problems.append(
                f"{job.address}: its scratch database {job.scratch.name} is an Active-Active database, and a drill "
                "cannot import into one yet (whether such an import replaces or merges its data is unclear, so it "
                "would prove nothing); choose a single-region scratch database"
            )
    return problems
