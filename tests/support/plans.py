"""Plans as big as a monorepo's: for the size limits of markdown and of plan files."""

from __future__ import annotations

from typing import Any

from reconciler.core.desired import Tier
from reconciler.core.normalise import Settings
from reconciler.core.plan import DatabaseRef, Plan, PlanWarning, WarningKind
from reconciler.output.planfile import build_document
from tests.support.api_calls import import_change, settings_change


def document_of(plan: Plan, *, api_url: str = "sandbox") -> dict[str, Any]:
    """The plan document `plan --out` would write, with fixed metadata."""
    return build_document(
        plan,
        tool_version="0.1.0",
        created_at="2026-11-24T06:30:00Z",
        manifest_digest="d",
        manifest_paths=["m.yaml"],
        api_url=api_url,
    )


def big_plan(
    imports: int,
    *,
    shards: int = 8,
    updates: int = 0,
    risky_every: int = 0,
    attention: int = 0,
    settled: int = 0,
    live_name: str = "données-{n}-注文",
) -> Plan:
    """Many databases, each one change: multi-shard imports with multi-byte live names, and settings updates (every
    `risky_every`-th switching backup off); `attention` uncertain receipts and `settled` ones."""
    changes = []
    for n in range(imports + updates):
        ref = DatabaseRef(f"db-{n:05d}", 1, 100_000 + n, Tier.PRO, live_name=live_name.format(n=n))
        if n < imports:
            uris = [f"s3://acme-seeds/{ref.name}/dump-{k + 1}_of_{shards}.rdb.gz" for k in range(shards)]
            changes.append(import_change(f"{ref.name}.imports.seed-2026-11-20", ref, uris, backup_first=True))
        else:
            risky = bool(risky_every) and n % risky_every == 0
            after = Settings(False) if risky else Settings(True, interval="every-12-hours")
            before = Settings(True, "s3://b", "every-6-hours")
            changes.append(settings_change(f"{ref.name}.backup", ref, before, after, risky=risky))
    warnings = [
        PlanWarning(f"db-{n:05d}.imports.old-{n}", WarningKind.UNCERTAIN, "claimed → no outcome seen")
        for n in range(attention)
    ]
    warnings += [
        PlanWarning(f"db-{n:05d}.backups.pre-{n}", WarningKind.SETTLED, "apply will record done", "done")
        for n in range(settled)
    ]
    return Plan(tuple(changes), tuple(warnings))
