"""Durations as manifests write them: `90m`, `26h`, `2d`, or a combination in that order, such as `1d12h`.

Days, hours and minutes only: a backup's age is judged in hours, and seconds would invite a `max_age` no
schedule can meet. The schema's pattern (`duration` in schemas/manifest.v1.json) admits the same texts.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(?:(?P<d>[0-9]{1,4})d)?(?:(?P<h>[0-9]{1,5})h)?(?:(?P<m>[0-9]{1,6})m)?")


def parse_duration(text: str) -> timedelta | None:
    """The duration `text` writes, or None when it is not one (or is no time at all, like `0h`)."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    days, hours, minutes = (int(match.group(unit) or 0) for unit in "dhm")
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    return duration if duration > timedelta(0) else None


def format_duration(duration: timedelta) -> str:
    """The shortest text for it: 36 h is `1d12h`, 90 min `1h30m`; under a minute `0m` (shown to the minute)."""
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    text = "".join(f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if value)
    return text or "0m"
