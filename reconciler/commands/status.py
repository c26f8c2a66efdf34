"""`status`: what each managed database looks like now: backup settings, last backup, last import.

Each status read is itself an asynchronous task (API-NOTES §3, §4), so this costs a few requests per
database; plan never does it for databases without a receipt to settle.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reconciler.cloud.client import RedisCloudClient
from reconciler.commands.runtime import EXIT_OK, Runtime
from reconciler.desired import DatabaseSpec, OperationKind
from reconciler.errors import NotFoundError
from reconciler.live import LatestStatus
from reconciler.normalise import from_live
from reconciler.statuses import StatusMeaning, meaning
from reconciler.uris import mask

_STATUS_TIMEOUT = 600.0


def run_status(rt: Runtime) -> int:
    manifest = rt.manifest()
    client = rt.connect().client
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="status") as pool:
        rows = list(pool.map(lambda spec: _row(client, spec), manifest.databases))
    if rt.args.format == "json":
        print(json.dumps({"databases": rows}, indent=2), file=rt.out)
    else:
        for row in rows:
            _print_row(rt, row)
    rt.report_requests()
    return EXIT_OK


def _row(client: RedisCloudClient, spec: DatabaseSpec) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": spec.name,
        "tier": spec.tier.value,
        "subscription": spec.subscription,
        "database": spec.database,
    }
    try:
        live = client.get_database(spec.tier, spec.subscription, spec.database)
    except NotFoundError:
        row["error"] = f"database {spec.database} not found in {spec.tier.value} subscription {spec.subscription}"
        return row
    settings = from_live(live.backup, live.tier)
    row["status"] = live.status
    row["backup"] = {
        "enabled": settings.enabled,
        "path": mask(settings.path) if settings.path else None,
        "interval": settings.interval,
        "time_utc": settings.time_utc,
    }
    row["last_backup"] = _latest(
        client.latest(OperationKind.BACKUP, spec.tier, spec.subscription, spec.database, timeout=_STATUS_TIMEOUT)
    )
    row["last_import"] = _latest(
        client.latest(OperationKind.IMPORT, spec.tier, spec.subscription, spec.database, timeout=_STATUS_TIMEOUT)
    )
    return row


def _latest(status: LatestStatus) -> dict[str, Any]:
    """`status` exactly as the API wrote it; `outcome` is what it means in either vocabulary (statuses.py)."""
    what = meaning(status.status)
    return {
        "status": status.status,
        "outcome": what.value if what is not None else None,
        "time": status.time,
        "failure_reason": status.failure_reason,
        "error": status.error_type,
    }


def _print_row(rt: Runtime, row: dict[str, Any]) -> None:
    print(f"{row['name']}  ({row['tier']} subscription {row['subscription']} database {row['database']})", file=rt.out)
    if "error" in row:
        print(f"  error: {row['error']}", file=rt.out)
        return
    backup = row["backup"]
    if backup["enabled"]:
        when = ", ".join(
            part for part in (backup["interval"], backup["time_utc"] and f"at {backup['time_utc']} UTC") if part
        )
        print(f"  backup:      on, to {backup['path']}" + (f" ({when})" if when else ""), file=rt.out)
    else:
        print("  backup:      off", file=rt.out)
    for label, key in (("last backup", "last_backup"), ("last import", "last_import")):
        print(f"  {label}: {_describe(row[key])}", file=rt.out)


def _describe(latest: dict[str, Any]) -> str:
    if latest["error"]:
        return f"unavailable ({latest['error']})"
    if not latest["status"]:
        return "none"
    text = f"{latest['status']}"
    if latest["outcome"] == StatusMeaning.RUNNING:
        text += " (running)"
    elif latest["outcome"] == StatusMeaning.UNKNOWN:
        text += " (a status this version does not know; not counted as success)"
    text += f" at {latest['time']}" if latest["time"] else ""
    return text + (f" — {latest['failure_reason']}" if latest["failure_reason"] else "")
