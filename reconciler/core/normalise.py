"""One canonical form for desired and live backup settings, so that comparing them means something.

Every Redis Cloud read-side quirk that would otherwise show up as drift is folded away here, one
comment per quirk. This module decides nothing about change: `planner.py` compares what it returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from reconciler.core.desired import BackupSettings, Tier
from reconciler.core.live import LiveBackup
from reconciler.core.uris import infer_type, mask, without_userinfo

TWELVE_HOURS = "every-12-hours"
TIMED_INTERVALS = ("every-12-hours", "every-24-hours")  # the only intervals that take a timeUTC
FIELDS = ("enabled", "path", "interval", "time_utc")  # display and comparison order

_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Backup settings in canonical form. `None` means "not managed" (desired) or "not reported" (live).

    A disabled setting carries nothing else: what a disabled backup would use is not state.
    """

    enabled: bool
    path: str | None = None
    interval: str | None = None
    time_utc: str | None = None

    def managed_fields(self) -> tuple[str, ...]:
        """The fields a desired value takes a position on; the others are never drift."""
        return tuple(name for name in FIELDS if getattr(self, name) is not None)


def masked(settings: Settings) -> Settings:
    """For plans: the path with any literal credential masked (live destinations may hold one)."""
    shown = settings.path if settings.path is None else mask(settings.path)
    return settings if shown == settings.path else replace(settings, path=shown)


def from_desired(settings: BackupSettings, tier: Tier) -> Settings:
    """The manifest's backup block in canonical form; fields left out stay `None` (unmanaged)."""
    if not settings.enabled:
        return Settings(enabled=False)
    if tier is Tier.ESSENTIALS:
        # Essentials has only a path (`periodicBackupPath`); there is no interval or time to manage.
        return Settings(enabled=True, path=_path(settings.path))
    return Settings(
        enabled=True,
        path=_path(settings.path),
        interval=_interval(settings.interval),
        time_utc=_time(settings.time_utc),
    )


def from_live(backup: LiveBackup, tier: Tier) -> Settings:
    """What the API reports, in the same canonical form as `from_desired`."""
    if not backup.enabled:
        # Quirk: a disabled Pro backup reads `{"enableRemoteBackup": false, "interval": "", "timeUTC": ""}`
        # (API-NOTES §1); the empty strings are not settings, just "disabled".
        return Settings(enabled=False)
    if tier is Tier.ESSENTIALS:
        # Quirk: Essentials reports an `interval` only sometimes and it cannot be set (API-NOTES §1).
        return Settings(enabled=True, path=_path(backup.path))
    return Settings(
        enabled=True,
        path=_path(backup.path),
        interval=_interval(backup.interval),
        time_utc=_time(backup.time_utc),
    )


def comparable(settings: Settings, *, interval: str | None) -> dict[str, str | bool | None]:
    """The values to compare, given the interval in force (the desired one, else the live one)."""
    return {
        "enabled": settings.enabled,
        "path": _path_key(settings.path),
        "interval": settings.interval,
        "time_utc": _time_key(settings.time_utc, interval),
    }


def storage_type(path: str | None, given: str | None) -> str | None:
    """The `storageType` to write. The API never returns it (API-NOTES §1), so it is never compared."""
    return given or (infer_type(path) if path else None)


def _path(path: str | None) -> str | None:
    # Quirk: `s3://bucket/dir/` and `s3://bucket/dir` name the same place; one trailing "/" is ignored.
    if not path:
        return None
    return path[:-1] if path.endswith("/") and not path.endswith("://") else path


def _path_key(path: str | None) -> str | None:
    # The manifest holds `${env:NAME}` where the API may echo the credential itself (encoded, or not at all),
    # and the core never resolves variables: compare paths without their user-info. A user name is part of
    # the credential (it may be a reference too), so changing only a user name is not drift.
    return without_userinfo(path) if path else None


def _interval(interval: str | None) -> str | None:
    # Intervals compare as the API writes them: lowercase and dashed (`every-12-hours`, API-NOTES §2).
    # An empty string on an enabled read is "not reported", not a value.
    return interval.strip().lower() if interval and interval.strip() else None


def _time(time_utc: str | None) -> str | None:
    # The API writes "HH:MM"; accept "4:00" as "04:00". An empty string is "not reported".
    if not time_utc or not time_utc.strip():
        return None
    match = _TIME.match(time_utc)
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else time_utc.strip()


def _time_key(time_utc: str | None, interval: str | None) -> str | None:
    # Quirk: with `every-12-hours` the API reports an afternoon timeUTC as its morning twin ("16:00" reads
    # back as "04:00"; API-NOTES §1, the Terraform provider's skipDiffIfIntervalIs12And12HourTimeDiff).
    # Compare such times modulo 12 h.
    if time_utc is None or interval != TWELVE_HOURS:
        return time_utc
    match = _TIME.match(time_utc)
    return f"{int(match.group(1)) % 12:02d}:{match.group(2)}" if match else time_utc
