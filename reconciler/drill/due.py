"""Which drills a manifest declares, and what each one's receipt says now: what `drill` runs and `plan` shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.core.desired import Manifest, drill_address
from reconciler.core.drills import DrillVerdict
from reconciler.core.plan import DatabaseRef
from reconciler.drill.claim import DrillClaims
from reconciler.drill.runner import DrillJob


@dataclass(frozen=True, slots=True)
class Seen:
    job: DrillJob
    verdict: DrillVerdict


def drill_jobs(manifest: Manifest, targets: Iterable[str] = ()) -> list[DrillJob]:
    """Every drill, or those `targets` name (a drill's address or its database's name)."""
    chosen = set(targets)
    by_name = {spec.name: spec for spec in manifest.databases}
    return [
        DrillJob(spec, by_name[drill.into], drill)
        for spec in manifest.databases
        for drill in spec.drills
        if not chosen or spec.name in chosen or drill_address(spec.name, drill.id) in chosen
    ]


def verdicts(claims: DrillClaims, jobs: Iterable[DrillJob]) -> list[Seen]:
    return [Seen(job, claims.read(DatabaseRef.of(job.source), job.drill).verdict) for job in jobs]
