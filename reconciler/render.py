"""Plans for people (text, markdown for pull requests) and machines (JSON), written only where told.

Values in a plan are masked by the planner already; every string shown passes through `mask` once
more, because a leaked credential in a PR comment cannot be taken back (SPEC §9).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from reconciler.model import Action, Change, DatabaseRef, Plan, PlanWarning
from reconciler.uris import mask, mask_in_text

MARKDOWN_LIMIT = 60_000  # GitHub rejects comments over 65,536 characters; keep a margin
SYMBOLS = {Action.UPDATE: "~", Action.BACKUP: "+", Action.IMPORT: "-/+"}
_STYLES = {Action.UPDATE: "yellow", Action.BACKUP: "green", Action.IMPORT: "bold red"}
_VERBS = {Action.UPDATE: "will be updated", Action.BACKUP: "will be backed up once",
          Action.IMPORT: "will be imported once, REPLACING ALL DATA in the database"}
RISKY = "SWITCHING REMOTE BACKUP OFF: no backups from now on"


def render_text(plan: Plan, stream: IO[str], *, color: bool) -> None:
    """Terraform-like text. The caller decides colour (TTY, NO_COLOR); the environment is not read here."""
    console = Console(file=stream, color_system="standard" if color else None, force_terminal=color,
                      no_color=not color, soft_wrap=True, highlight=False, markup=False, emoji=False,
                      _environ={})
    if plan.changes:
        console.print("Redis Cloud will be changed as follows:\n")
    for change in plan.changes:
        console.print(_change_heading(change))
        for line in _change_details(change):
            console.print(Text("      " + line))
        console.print()
    for title, warnings in (("Operations needing attention:", plan.attention),
                            ("Receipts apply will record:", _settled(plan.warnings))):
        if warnings:
            console.print(Text(title, style="bold yellow"))
            for warning in warnings:
                console.print(Text.assemble(("  ! ", "yellow"), (warning.address, "bold"),
                                            (f" [{warning.kind.value}] ", "yellow"), mask_in_text(warning.message)))
            console.print()
    console.print(Text(plan.summary_line, style="bold"))


def _settled(warnings: Iterable[PlanWarning]) -> list[PlanWarning]:
    return [warning for warning in warnings if not warning.kind.needs_attention]


def _change_heading(change: Change) -> Text:
    style = _STYLES[change.action]
    verb = Text(_VERBS[change.action], style)
    if change.risky:
        verb.append(", ").append(RISKY, "bold red")
    return Text.assemble(("  " + SYMBOLS[change.action], style), " ", (change.address, "bold"), " ",
                         verb, f" ({_text_where(change.database)})")


def _text_where(ref: DatabaseRef) -> str:
    """`pro 1234567/7654321, named "orders-prod" in Redis Cloud`: the ids and the live name, side by side."""
    ids = f"{ref.tier.value} {ref.subscription}/{ref.database}"
    return ids if ref.live_name is None else f"{ids}, named {json.dumps(ref.live_name)} in Redis Cloud"


def _change_details(change: Change, show: Callable[[Any], str] | None = None, arrow: str = "->") -> list[str]:
    """`field: before -> after` for updates; what will be sent for one-shots. `show` formats values."""
    show = show or _show
    if change.action is Action.UPDATE:
        lines = [f"{f.field}: {show(f.before)} {arrow} {show(f.after)}" for f in change.fields]
        kept = change.before.get("interval")
        if change.after.get("enabled") and "interval" not in change.after and kept:
            lines.append(f"interval: {show(kept)} (unchanged: not in the manifest, the live interval is sent)")
        return lines
    after, lines = change.after, []
    if change.action is Action.BACKUP:
        lines.append(f"to: {show(after.get('path'))}" if after.get("path") else "to: the configured destination")
    else:
        lines += [f"from: {show(uri)}" for uri in after.get("from", ())]
        lines.append(f"source_type: {show(after.get('source_type'))}")
        if after.get("backup_first"):
            lines.append("backup_first: true (an on-demand backup runs just before)")
    receipt = change.before.get("receipt")
    if isinstance(receipt, Mapping):
        written = receipt.get("created_at") or receipt.get("at")
        lines.append(f"retrying: receipt is {receipt.get('phase')} (written {written})")
    return lines


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(mask(value))
    if isinstance(value, Sequence):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


def render_json(document: Mapping[str, Any]) -> str:
    """The plan document (`planfile.build_document`), as `plan --format json` prints and `--out` writes."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment: summary first, then what needs a person, destructive imports and backups
    switched off called out, details folded; truncated with a note rather than rejected by GitHub."""
    pieces = [f"### {plan.summary_line}\n"]
    pieces += _warnings_block("Needs attention", plan.attention)
    pieces += _destructive_block(plan.changes)
    pieces += _risky_block(plan.changes)
    pieces += _warnings_block("Receipts apply will record", _settled(plan.warnings))
    names = list(dict.fromkeys(change.database.name for change in plan.changes))
    pieces += [_database_block(name, [c for c in plan.changes if c.database.name == name]) for name in names]
    return _fit(pieces, limit)


def _fit(pieces: Sequence[str], limit: int) -> str:
    """Whole pieces while they fit, then a note; the summary line always comes first."""
    note_room = 300
    kept, size = [pieces[0]], len(pieces[0])
    for index, piece in enumerate(pieces[1:], start=1):
        if size + len(piece) + 1 > limit - note_room:
            kept.append(f"\n> [!NOTE]\n> Output truncated to stay under {limit:,} characters: {len(pieces) - index} "
                        "more section(s) not shown. Run `reconciler show PLANFILE` for the full plan.\n")
            break
        kept.append(piece)
        size += len(piece) + 1
    return "\n".join(kept)


def _destructive_block(changes: Iterable[Change]) -> list[str]:
    destructive = [change for change in changes if change.destructive]
    if not destructive:
        return []
    head = (f"> [!WARNING]\n> **{len(destructive)} destructive import{'s' * (len(destructive) != 1)}**: "
            "each replaces all data in its database.")
    items = [f"> - `{_code(c.address)}` into {_md_where(c.database)} from "
             f"{', '.join(_code_span(u) for u in c.after.get('from', ()))}" for c in destructive]
    return [head, *items, ""]


def _risky_block(changes: Iterable[Change]) -> list[str]:
    risky = [change for change in changes if change.risky]
    if not risky:
        return []
    head = (f"> [!CAUTION]\n> **{len(risky)} database{'s' * (len(risky) != 1)} will stop backing up**: "
            "remote backup is switched off.")
    return [head, *(f"> - `{_code(c.address)}` on {_md_where(c.database)}" for c in risky), ""]


def _md_where(ref: DatabaseRef) -> str:
    ids = f"{ref.tier.value} {ref.subscription}/{ref.database}"
    return f"`{ids}`" if ref.live_name is None else f"`{ids}` (**{_escape(_code(ref.live_name))}** in Redis Cloud)"


def _warnings_block(title: str, warnings: Sequence[PlanWarning]) -> list[str]:
    if not warnings:
        return []
    items = [f"- **{w.kind.value}** `{_code(w.address)}`: {_escape(mask_in_text(w.message))}" for w in warnings]
    return [f"#### {title}\n", *items, ""]


def _database_block(name: str, changes: Sequence[Change]) -> str:
    counts = ", ".join(f"{sum(1 for c in changes if c.action is a)} {a.value}" for a in Action
                       if any(c.action is a for c in changes))
    lines = [f"<details><summary><code>{name}</code> on {_html_where(changes[0].database)}: {counts}</summary>\n"]
    for change in changes:
        marker = SYMBOLS[change.action]
        verb = _VERBS[change.action] + (f", **{RISKY}**" if change.risky else "")
        lines.append(f"- `{marker}` `{_code(change.address)}` {verb}")
        lines += [f"  - {detail}" for detail in _change_details(change, _code_span, "→")]
    lines.append("\n</details>\n")
    return "\n".join(lines)


def _html_where(ref: DatabaseRef) -> str:
    """Inside `<summary>` markdown is not rendered: plain HTML, the live name escaped."""
    ids = f"{ref.tier.value} {ref.subscription}/{ref.database}"
    return ids if ref.live_name is None else f"{ids} (<b>{html.escape(ref.live_name)}</b> in Redis Cloud)"


def _code(text: str) -> str:
    return text.replace("`", "'")


def _code_span(value: Any) -> str:
    return f"`{_code(_show(value))}`"


def _escape(text: str) -> str:
    """Plain text in markdown: no HTML from values, no accidental formatting."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")
