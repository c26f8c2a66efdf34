"""Plans for people (text, markdown for pull requests) and machines (JSON), written only where told.

Values in a plan are masked by the planner already; every string shown passes through `mask` once
more, because a leaked credential in a PR comment cannot be taken back (SPEC §9).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from reconciler.core.plan import (
    Action,
    Change,
    DatabaseRef,
    OneShot,
    OwnerTag,
    Plan,
    PlanWarning,
    RegionalUpdate,
    RegionUpdate,
    SettingsUpdate,
    WarningKind,
)
from reconciler.core.receipt_tags import OWNER_KEY
from reconciler.core.uris import mask, mask_in_text

MARKDOWN_LIMIT = 60_000  # UTF-8 bytes (`markdown_size`); GitHub rejects comments over 65,536 "characters"
SYMBOLS = {Action.OWN: "@", Action.UPDATE: "~", Action.BACKUP: "+", Action.IMPORT: "-/+"}
_STYLES = {Action.OWN: "green", Action.UPDATE: "yellow", Action.BACKUP: "green", Action.IMPORT: "bold red"}
_VERBS = {
    Action.OWN: "will be tagged as owned by this manifest set",
    Action.UPDATE: "will be updated",
    Action.BACKUP: "will be backed up once",
    Action.IMPORT: "will be imported once, REPLACING ALL DATA in the database",
}
RISKY = "SWITCHING REMOTE BACKUP OFF: no backups from now on"
TAKEOVER = "TAKING IT OVER from another manifest set"
ADOPT_HINT = (
    "An operation above was already carried out by hand? `reconciler receipts adopt ADDRESS` records it as done "
    "(adopted) instead, and shows what it would record first.\n"
)
OBSERVED = "Observed only, never applied (mode: observe, or --observe):"
# Issue 19: the Cloud spec says an import removes all existing data (API-NOTES §4: the POST …/import description);
# Redis Software documents that an import into an Active-Active database merges into it. Neither is confirmed for
# Redis Cloud Active-Active, so the plan says exactly that, and still treats the import as destructive.
ACTIVE_ACTIVE_IMPORT = (
    "will be imported once into an Active-Active database (database-wide, every region): whether it REPLACES ALL "
    "DATA or MERGES into it is unclear (the Redis Cloud API spec says an import removes all existing data; the "
    "Redis Software docs say an Active-Active import merges) — treat it as replacing"
)


def render_text(plan: Plan, stream: IO[str], *, color: bool) -> None:
    """Terraform-like text. The caller decides colour (TTY, NO_COLOR); the environment is not read here."""
    console = Console(
        file=stream,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        soft_wrap=True,
        highlight=False,
        markup=False,
        emoji=False,
        _environ={},
    )
    lines: list[Text] = []  # printed at once: rich's print costs ~100 µs a call (issue 16)

    def show(line: Text | str = "") -> None:
        lines.append(line if isinstance(line, Text) else Text(line))

    if plan.changes:
        show("Redis Cloud will be changed as follows:\n")
    for change in plan.changes:
        show(_change_heading(change))
        for line in _change_details(change):
            show(Text("      " + line))
        show()
    if plan.observed:
        show(Text(OBSERVED, style="bold cyan"))
        for change in plan.observed:
            show(_change_heading(change, observed=True))
            for line in _change_details(change):
                show(Text("      " + line))
        show()
    for title, warnings in (
        ("Operations needing attention:", plan.attention),
        ("Receipts apply will record:", plan.settlements),
        ("Notes:", _notes(plan.warnings)),
        ("On observed databases (apply leaves these as they are):", _observed(plan.warnings)),
    ):
        if warnings:
            show(Text(title, style="bold yellow"))
            for warning in warnings:
                show(
                    Text.assemble(
                        ("  ! ", "yellow"),
                        (warning.address, "bold"),
                        (f" [{warning.kind.value}] ", "yellow"),
                        mask_in_text(warning.message),
                    )
                )
            show()
    if any(isinstance(change, OneShot) and change.replaces is None for change in plan.changes):
        show(Text(ADOPT_HINT, style="dim"))
    show(Text(plan.summary_line, style="bold"))
    whole = Text("\n").join(lines)
    if color or "\t" in whole.plain:
        console.print(whole)
    else:
        # Without colour rich writes the text as it is (Text already stripped its control codes), but for tabs,
        # which it expands: its rendering was still 0.6 s of a 2,000-change plan (issue 16).
        stream.write(whole.plain + "\n")


def _notes(warnings: Iterable[PlanWarning]) -> list[PlanWarning]:
    """Informational warnings (a tag budget near its end, a backup that cannot be verified): no action waits."""
    return [w for w in warnings if not w.kind.needs_attention and w.kind is not WarningKind.SETTLED and not w.observed]


def _observed(warnings: Iterable[PlanWarning]) -> list[PlanWarning]:
    return [w for w in warnings if w.observed]


def _verb(change: Change, *, observed: bool = False) -> str:
    """An observed change is what apply would do, were the database managed."""
    verb = _what_it_does(change)
    return verb.replace("will be", "would be", 1) + " (observed only)" if observed else verb


def _what_it_does(change: Change) -> str:
    if change.action is Action.IMPORT and change.database.active_active:
        return ACTIVE_ACTIVE_IMPORT
    if isinstance(change, RegionalUpdate):
        count = len(change.regions)
        return f"will be updated in {count} region{'s' * (count != 1)}" + (" by one request" if count > 1 else "")
    return _VERBS[change.action]


def _change_heading(change: Change, *, observed: bool = False) -> Text:
    style = "cyan" if observed else _STYLES[change.action]
    verb = Text(_verb(change, observed=observed), style)
    if change.risky:
        verb.append(", ").append(RISKY, "bold red")
    if isinstance(change, OwnerTag) and change.takeover:
        verb.append(", ").append(TAKEOVER, "bold red")
    return Text.assemble(
        ("  " + SYMBOLS[change.action], style),
        " ",
        (change.address, "bold"),
        " ",
        verb,
        f" ({_text_where(change.database)})",
    )


def _text_where(ref: DatabaseRef) -> str:
    """`pro 1234567/7654321, named "orders-prod" in Redis Cloud`: the ids and the live name, side by side."""
    ids = f"{ref.tier.value} {ref.subscription}/{ref.database}"
    return ids if ref.live_name is None else f"{ids}, named {json.dumps(ref.live_name)} in Redis Cloud"


def _change_details(change: Change, show: Callable[[Any], str] | None = None, arrow: str = "->") -> list[str]:
    """`field: before -> after` for updates; what will be sent for one-shots. `show` formats values."""
    show = show or _show
    if isinstance(change, SettingsUpdate):
        return _settings_lines(change, show, arrow)
    if isinstance(change, RegionalUpdate):
        # Each line names its region's own address, so that a line read alone (a PR comment, a grep) says where.
        return [f"{region.address} {line}" for region in change.regions for line in _region_lines(region, show, arrow)]
    if isinstance(change, OwnerTag):
        return [f"owner: {show(change.previous)} {arrow} {show(change.owner)} (tag {OWNER_KEY})"]
    return _operation_details(change, show)


def _settings_lines(change: SettingsUpdate | RegionUpdate, show: Callable[[Any], str], arrow: str) -> list[str]:
    lines = [f"{f.field}: {show(f.before)} {arrow} {show(f.after)}" for f in change.fields]
    if change.kept_interval:
        kept = show(change.kept_interval)
        lines.append(f"interval: {kept} (unchanged: not in the manifest, the live interval is sent)")
    return lines


def _region_lines(region: RegionUpdate, show: Callable[[Any], str], arrow: str) -> list[str]:
    return _settings_lines(region, show, arrow) + ([RISKY] if region.risky else [])


def _operation_details(change: OneShot, show: Callable[[Any], str]) -> list[str]:
    lines = []
    if change.action is Action.BACKUP:
        # Each region of an Active-Active database is backed up on its own, to its own destination.
        region = f"region {show(change.region)}" if change.region is not None else None
        if change.target:
            lines.append(f"to: {show(change.target)}" + (f" ({region})" if region else ""))
        else:
            lines.append("to: the configured destination" + (f" of {region}" if region else ""))
    else:
        lines += [f"from: {show(uri)}" for uri in change.sources]
        lines.append(f"source_type: {show(change.source_type)}")
        if change.backup_first:
            lines.append("backup_first: true (an on-demand backup runs just before)")
    if change.replaces is not None:
        written = change.replaces.created_at or change.replaces.at
        lines.append(f"retrying: receipt is {change.replaces.phase.value} (written {written})")
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


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT, full_plan: str | None = None) -> str:
    """A pull-request comment: summary first, then what needs a person, destructive imports and backups
    switched off called out, details folded; cut to stay under `limit` rather than rejected by GitHub.

    The summary line and the counts of attention items, destructive and risky changes are always there; what
    does not fit is counted, and the note says where the whole plan is (`full_plan`: the plan file written).
    """
    where = (
        f"the full plan is in `{_code(full_plan)}` (`reconciler show {_code(full_plan)}`)"
        if full_plan
        else "keep the full plan with `reconciler plan --out plan.json` (a CI artifact) and read it with "
        "`reconciler show plan.json`"
    )
    sections = [
        *_warnings_block("Needs attention", plan.attention, pinned=True),
        *_destructive_block(plan.changes, where),
        *_risky_block(plan.changes),
        *_takeover_block(plan.changes),
        *_warnings_block("Receipts apply will record", plan.settlements, pinned=False),
        *_warnings_block("Notes", _notes(plan.warnings), pinned=False),
        *_observed_block(plan.observed),
        *_warnings_block("On observed databases", _observed(plan.warnings), pinned=False),
    ]
    by_database: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_database.setdefault(change.database.name, []).append(change)
    sections += [_database_block(name, changes) for name, changes in by_database.items()]
    return _fit(f"### {plan.summary_line}\n", sections, limit, where)


def markdown_size(text: str) -> int:
    """How long GitHub finds a comment, at most: UTF-8 bytes. GitHub's error says "maximum is 65536
    characters", yet issue comments are measured to hold 262,144 UTF-8 bytes and pull-request bodies 65,536
    code points, and the web form counts UTF-16 units. UTF-8 bytes are never fewer than any of these."""
    return len(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class _Section:
    """Lines joined by newlines: `head`, the `items` that fit, a `more` line for those that do not, `tail`.
    A pinned section (a callout whose head carries its count) is shown even when none of its items fit."""

    head: tuple[str, ...]
    items: tuple[str, ...]
    tail: tuple[str, ...]
    more: Callable[[int, str], str]  # the line for `n` items not shown; `more` is "more " when some are shown
    pinned: bool
    changes: int = 0  # changes detailed by its items (database sections), for the closing note


def _lines_size(lines: Iterable[str]) -> int:
    return sum(markdown_size(line) + 1 for line in lines)


def _fit(summary: str, sections: Sequence[_Section], limit: int, where: str) -> str:
    """Sections in order while they fit, then only the pinned heads, each with how many of its items are not
    shown, and a closing note; whatever the plan's size, the result stays within `limit` (UTF-8 bytes)."""

    whole = "\n".join([summary, *(line for part in sections for line in (*part.head, *part.items, *part.tail))])
    if markdown_size(whole) <= limit:
        return whole

    def note(changes: int, receipts: int) -> str:
        hidden = [f"{changes} change{'s' * (changes != 1)}"] if changes else []
        hidden += [f"{receipts} receipt{'s' * (receipts != 1)} apply will record"] if receipts else []
        return (
            f"\n> [!NOTE]\n> Truncated to stay under {limit:,} characters (counted as UTF-8 bytes): the details "
            f"of {' and '.join(hidden) or 'some items'} are not shown; {where}.\n"
        )

    def pinned_cost(section: _Section) -> int:
        return _lines_size((*section.head, section.more(len(section.items), "more "), *section.tail))

    worst_note = markdown_size(note(sum(s.changes for s in sections), sum(len(s.items) for s in sections))) + 1
    reserve = [0] * (len(sections) + 1)  # room the pinned sections after each index need, and the note
    reserve[-1] = worst_note
    for index in range(len(sections) - 1, -1, -1):
        reserve[index] = reserve[index + 1] + (pinned_cost(sections[index]) if sections[index].pinned else 0)
    lines, used, cut = [summary], markdown_size(summary) + 1, False
    hidden_changes = hidden_receipts = 0
    for index, section in enumerate(sections):
        frame = _lines_size((*section.head, *section.tail, section.more(len(section.items), "more ")))
        shown: list[str] = []
        room = limit - used - frame - reserve[index + 1]
        for item in () if cut else section.items:
            room -= markdown_size(item) + 1
            if room < 0:
                cut = True
                break
            shown.append(item)
        if not shown and not section.pinned:  # a database or receipt list with no room for even one item
            hidden_changes += section.changes
            hidden_receipts += 0 if section.changes else len(section.items)
            continue
        missing = len(section.items) - len(shown)
        body = [
            *section.head,
            *shown,
            *([section.more(missing, "more " if shown else "")] if missing else []),
            *section.tail,
        ]
        lines += body
        used += _lines_size(body)
        if missing:
            hidden_changes += missing if section.changes else 0
            hidden_receipts += 0 if section.changes or section.pinned else missing
    if cut:
        lines.append(note(hidden_changes, hidden_receipts))
    return "\n".join(lines)


def _destructive_block(changes: Iterable[Change], where: str) -> list[_Section]:
    destructive = [change for change in changes if change.destructive]
    if not destructive:
        return []
    head = (
        f"> [!WARNING]\n> **{len(destructive)} destructive import{'s' * (len(destructive) != 1)}**: "
        "each replaces all data in its database."
    )
    items = tuple(
        f"> - `{_code(c.address)}` into {_md_where(c.database)} from {', '.join(_code_span(u) for u in c.sources)}"
        + (
            " (an Active-Active database: replace or merge is unclear, treat it as replacing)"
            if c.database.active_active
            else ""
        )
        for c in destructive
        if isinstance(c, OneShot)
    )

    def more(n: int, more: str) -> str:
        return f"> - **{n} {more}destructive import{'s' * (n != 1)} not shown**: {where}."

    return [_Section((head,), items, ("",), more, pinned=True)]


def _risky_block(changes: Iterable[Change]) -> list[_Section]:
    risky = [change for change in changes if change.risky]
    if not risky:
        return []
    head = (
        f"> [!CAUTION]\n> **{len(risky)} database{'s' * (len(risky) != 1)} will stop backing up**: "
        "remote backup is switched off."
    )
    items = tuple(
        f"> - `{_code(address)}` on {_md_where(c.database)}"
        for c in risky
        for address in (
            tuple(r.address for r in c.regions if r.risky) if isinstance(c, RegionalUpdate) else (c.address,)
        )
    )
    return [_Section((head,), items, ("",), lambda n, more: f"> - **{n} {more}not shown**.", pinned=True)]


def _takeover_block(changes: Iterable[Change]) -> list[_Section]:
    takeovers = [change for change in changes if isinstance(change, OwnerTag) and change.takeover]
    if not takeovers:
        return []
    head = (
        f"> [!CAUTION]\n> **{len(takeovers)} database{'s' * (len(takeovers) != 1)} taken over** from another "
        "manifest set (`--takeover`): that set's plans will refuse them from now on."
    )
    items = tuple(
        f"> - `{_code(c.address)}` on {_md_where(c.database)}: `{_code(str(c.previous))}` → `{_code(c.owner)}`"
        for c in takeovers
    )
    return [_Section((head,), items, ("",), lambda n, more: f"> - **{n} {more}not shown**.", pinned=True)]


def _observed_block(changes: Sequence[Change]) -> list[_Section]:
    """Observed changes, pinned (their count is always there): a reviewer sees the drift apply leaves alone."""
    if not changes:
        return []
    head = f"#### {OBSERVED.rstrip(':')} ({len(changes)})\n"
    items = []
    for change in changes:
        lines = [f"- `{SYMBOLS[change.action]}` `{_code(change.address)}` {_verb(change, observed=True)}"]
        lines += [f"  - {detail}" for detail in _change_details(change, _code_span, "→")]
        items.append("\n".join(lines))
    return [_Section((head,), tuple(items), ("",), lambda n, more: f"- **{n} {more}not shown**.", pinned=True)]


def _md_where(ref: DatabaseRef) -> str:
    ids = f"{ref.tier.value} {ref.subscription}/{ref.database}"
    return f"`{ids}`" if ref.live_name is None else f"`{ids}` (**{_escape(_code(ref.live_name))}** in Redis Cloud)"


def _warnings_block(title: str, warnings: Sequence[PlanWarning], *, pinned: bool) -> list[_Section]:
    if not warnings:
        return []
    items = tuple(f"- **{w.kind.value}** `{_code(w.address)}`: {_escape(mask_in_text(w.message))}" for w in warnings)
    head = f"#### {title} ({len(warnings)})\n"
    return [_Section((head,), items, ("",), lambda n, more: f"- **{n} {more}not shown**.", pinned)]


def _database_block(name: str, changes: Sequence[Change]) -> _Section:
    counts = ", ".join(
        f"{sum(1 for c in changes if c.action is a)} {a.value}" for a in Action if any(c.action is a for c in changes)
    )
    head = f"<details><summary><code>{name}</code> on {_html_where(changes[0].database)}: {counts}</summary>\n"
    items = []
    for change in changes:
        verb = _verb(change) + (f", **{RISKY}**" if change.risky else "")
        verb += f", **{TAKEOVER}**" if isinstance(change, OwnerTag) and change.takeover else ""
        lines = [f"- `{SYMBOLS[change.action]}` `{_code(change.address)}` {verb}"]
        lines += [f"  - {detail}" for detail in _change_details(change, _code_span, "→")]
        items.append("\n".join(lines))
    return _Section(
        (head,),
        tuple(items),
        ("\n</details>\n",),
        lambda n, more: f"- **{n} {more}change{'s' * (n != 1)} not shown**.",
        pinned=False,
        changes=len(changes),
    )


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
