"""Manifest text for `reconciler discover`: discovered entries in, YAML out, with the comments a reviewer needs.

Written by hand rather than with yaml.dump, which cannot place comments. The shapes are few and known; every
string is either plain and read the same by YAML 1.2 and 1.1 tools (`_plain`), or double-quoted with JSON's
escapes, which YAML reads as JSON does. `tests/test_discover.py` reads every form back through the loader.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reconciler.core.desired import BackupSettings
from reconciler.core.discovery import Entry
from reconciler.core.normalise import TWELVE_HOURS

Split = Literal["subscription", "none"]
ONE_FILE = "discovered.yaml"
_WIDTH = 100

# Plain scalars that stay strings for YAML 1.2 and 1.1 readers alike: a letter first (no number, no indicator),
# then characters that start no comment, flow or mapping; and not one of the words either version reads as a
# boolean or null.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(://[A-Za-z0-9._~/@%+=,;!$&()*{}:\-]*)?")
_KEYWORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
# Outside YAML's printable set (YAML 1.2 §5.1), or a line break to YAML 1.1 (NEL, LS, PS), or a byte order mark.
_UNSAFE_IN_COMMENT = re.compile(
    r"[^\t\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029]"
)


@dataclass(frozen=True, slots=True)
class ManifestFile:
    name: str  # the file's name inside the output directory
    text: str
    entries: tuple[Entry, ...]


def manifest_files(entries: Sequence[Entry], *, split: Split, schema: str) -> list[ManifestFile]:
    """One file per subscription (`<tier>-<subscription>.yaml`), or one for all; `schema` is the path or URL the
    `# yaml-language-server` line points at."""
    if split == "none":
        groups = {ONE_FILE: list(entries)} if entries else {}
    else:
        groups = {}
        for entry in entries:
            groups.setdefault(f"{entry.found.tier.value}-{entry.found.subscription}.yaml", []).append(entry)
    return [ManifestFile(name, manifest_text(group, schema=schema), tuple(group)) for name, group in groups.items()]


def manifest_text(entries: Sequence[Entry], *, schema: str) -> str:
    subscriptions = sorted({(e.found.tier.value, e.found.subscription) for e in entries})
    where = ", ".join(f"{tier} subscription {number}" for tier, number in subscriptions)
    about = (
        f"Written by `reconciler discover` from {where}: the backup settings each database has now, so that "
        "`reconciler plan` on this file shows no changes. Review it before you commit it (README: Adopting an "
        "existing account)."
    )
    lines = [
        f"# yaml-language-server: $schema={schema}",
        "#",
        *textwrap.wrap(about, _WIDTH, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False),
        "version: 1",
        "databases:" if entries else "databases: []",
    ]
    for i, entry in enumerate(entries):
        if i:
            lines.append("")
        lines.extend(_entry_lines(entry))
    return "\n".join(lines) + "\n"


def _entry_lines(entry: Entry) -> list[str]:
    found = entry.found
    renamed = f"  # live name: {_commented(found.name)}" if entry.name != found.name else ""
    lines = [
        f"  - name: {_scalar(entry.name)}{renamed}",
        f"    subscription: {found.subscription}",
        f"    database: {found.database}",
        f"    tier: {found.tier.value}",
    ]
    if entry.backup is not None:
        lines.append("    backup:")
        lines.extend(_settings_lines(entry.backup, "      "))
    elif entry.regions:
        lines.append("    backup:  # Active-Active: each region's own settings")
        lines.append("      regions:")
        for region in entry.regions:
            lines.append(f"        {_scalar(region.region)}:")
            lines.extend(_settings_lines(region.settings, "          "))
    for variable in entry.variables:
        lines.append(f"    # {variable.name}: set it to the credential the live destination holds, before plan.")
    lines.extend(f"    # {note}" for note in entry.notes)
    return lines


def _settings_lines(backup: BackupSettings, indent: str) -> list[str]:
    lines = []
    if not backup.enabled:
        lines.append(f"{indent}enabled: false")
    if backup.path is not None:
        lines.append(f"{indent}path: {_scalar(backup.path)}")
    if backup.interval is not None:
        lines.append(f"{indent}interval: {backup.interval}")
    if backup.time_utc is not None:
        twin = _twelve_hours_later(backup.time_utc) if backup.interval == TWELVE_HOURS else None
        same = f"  # or {_quoted(twin)}: Redis Cloud reads a 12-hourly time back as the morning one" if twin else ""
        lines.append(f"{indent}time_utc: {_quoted(backup.time_utc)}{same}")
    return lines


def _scalar(text: str) -> str:
    return text if _PLAIN.fullmatch(text) and text.lower() not in _KEYWORDS else _quoted(text)


def _quoted(text: str) -> str:
    """JSON's string syntax is YAML's double-quoted scalar; ASCII only, so no reader has to guess an encoding."""
    return json.dumps(text, ensure_ascii=True)


def _commented(text: str) -> str:
    """Quoted for a comment, readable (UTF-8 as it is) but on one line: every character YAML would read as a
    line break (NEL, U+2028, U+2029) or refuse as unprintable is escaped, so the comment cannot end early."""
    return _UNSAFE_IN_COMMENT.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json.dumps(text, ensure_ascii=False))


def _twelve_hours_later(time_utc: str) -> str:
    hour, minute = time_utc.split(":")
    return f"{(int(hour) + 12) % 24:02d}:{minute}"
