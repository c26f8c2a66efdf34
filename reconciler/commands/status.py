"""`status`: what each managed database looks like now: backup settings, last backup, last import.

Each status read is itself an asynchronous task (API-NOTES §3, §4), so this costs a few requests per
database; plan never does it for databases without a receipt to settle.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from reconciler.cloud.client import RedisCloudClient
from reconciler.commands.options import StatusFlags
from reconciler.commands.runtime import EXIT_OK, Runtime
from reconciler.core.desired import DatabaseSpec, OperationKind
from reconciler.core.statuses import StatusMeaning
from reconciler.errors import NotFoundError
from reconciler.output.status_report import BackupView, LatestView, StatusRow, missing_row, status_row

_STATUS_TIMEOUT = 600.0


def run_status(rt: Runtime[StatusFlags]) -> int:
    manifest = rt.manifest(rt.flags.files)
    client = rt.connect().client
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="status") as pool:
        rows = list(pool.map(lambda spec: _fetch(client, spec), manifest.databases))
    if rt.flags.format == "json":
        print(json.dumps({"databases": rows}, indent=2), file=rt.out)
    else:
        for row in rows:
            _print_row(rt, row)
    rt.report_requests()
    return EXIT_OK


def _fetch(client: RedisCloudClient, spec: DatabaseSpec) -> StatusRow:
    where = (spec.tier, spec.subscription, spec.database)
    try:
        live = client.get_database(*where)
    except NotFoundError:
        return missing_row(spec)
    last_import = client.latest(OperationKind.IMPORT, *where, timeout=_STATUS_TIMEOUT)
    if live.regions is not None:  # Active-Active: each region's backup status on its own (`?regionName=`)
        per_region = [
            client.latest(OperationKind.BACKUP, *where, timeout=_STATUS_TIMEOUT, region=region.region)
            for region in live.regions
        ]
        return status_row(spec, live, per_region, last_import)
    last_backup = client.latest(OperationKind.BACKUP, *where, timeout=_STATUS_TIMEOUT)
    return status_row(spec, live, last_backup, last_import)


def _print_row(rt: Runtime[StatusFlags], row: StatusRow) -> None:
    print(f"{row['name']}  ({row['tier']} subscription {row['subscription']} database {row['database']})", file=rt.out)
    if "error" in row:
        print(f"  error: {row['error']}", file=rt.out)
        return
    if "backup" in row:
        print(f"  backup:      {_settings(row['backup'])}", file=rt.out)
        print(f"  last backup: {_describe(row['last_backup'])}", file=rt.out)
    for region in row.get("regions", []):
        print(f"  {region['address']}: {_settings(region['backup'])}", file=rt.out)
        print(f"    last backup: {_describe(region['last_backup'])}", file=rt.out)
    print(f"  last import: {_describe(row['last_import'])}", file=rt.out)


def _settings(backup: BackupView) -> str:
    if not backup["enabled"]:
        return "off"
    when = ", ".join(
        part for part in (backup["interval"], backup["time_utc"] and f"at {backup['time_utc']} UTC") if part
    )
    return f"on, to {backup['path']}" + (f" ({when})" if when else "")


def _describe(latest: LatestView) -> str:
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
