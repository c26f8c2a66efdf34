"""Rendering: exact summary lines, colour only when asked, markdown size limit, and no secret ever."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from reconciler.core.desired import BackupSettings, DatabaseSpec, Import, Manifest, OnDemandBackup, Position, Tier
from reconciler.core.live import LiveAccount, LiveBackup, LiveDatabase
from reconciler.core.normalise import Settings
from reconciler.core.outcomes import Outcome, StepResult
from reconciler.core.plan import Action, Change, DatabaseRef, Plan, PlanWarning, WarningKind
from reconciler.core.planner import plan
from reconciler.output.plan_json import change_document
from reconciler.output.planfile import summary
from reconciler.output.progress import render_markdown_summary
from reconciler.output.render import render_json, render_markdown, render_text
from tests.support.api_calls import backup_change, import_change, settings_change, with_receipts
from tests.support.plans import big_plan, document_of

SECRET = "hunter2hunter2"
REF = DatabaseRef("orders", 1, 10, Tier.PRO)


def _change(action: Action, address: str, ref: DatabaseRef = REF) -> Change:
    if action is Action.UPDATE:
        return settings_change(address, ref, Settings(True, "s3://b/old", "every-6-hours"), Settings(True, "s3://b/x"))
    return import_change(address, ref) if action is Action.IMPORT else backup_change(address, ref)


def _planted_plan() -> Plan:
    """A plan whose live side and manifest both carry credentials in URIs."""
    desired = DatabaseSpec(
        "orders",
        1,
        10,
        Tier.PRO,
        True,
        BackupSettings(True, "ftp://user:${env:FTP_PASS}@host/new", None, "every-6-hours"),
        (OnDemandBackup("pre", f"ftp://user:{SECRET}@host/adhoc"),),
        (Import("seed", (f"redis://{SECRET}@src:6379", f"http://u:{SECRET}@h/x.rdb"), "redis", confirm="orders"),),
        Position("m.yaml", 1, 3),
    )
    live = with_receipts(
        LiveDatabase(
            Tier.PRO, 1, 10, "orders", "active", LiveBackup(True, f"ftp://user:{SECRET}@host/old", "every-6-hours"), ()
        )
    )
    return plan(Manifest((desired,), ("m.yaml",), "d"), LiveAccount.of(live))


def _warning(kind: WarningKind, name: str = "z") -> PlanWarning:
    return PlanWarning(f"orders.imports.{name}", kind, f"{kind.value} receipt")


SETTLED = _warning(WarningKind.SETTLED)
UPDATE = _change(Action.UPDATE, "orders.backup")


@pytest.mark.parametrize(
    ("changes", "warnings", "line"),
    [
        pytest.param((), (), "No changes. Live state matches the manifest.", id="empty"),
        pytest.param(
            (
                UPDATE,
                _change(Action.BACKUP, "orders.backups.a"),
                _change(Action.IMPORT, "orders.imports.a"),
                _change(Action.IMPORT, "orders.imports.b"),
            ),
            (SETTLED,),
            "Plan: 1 to update, 1 to back up, 2 to import (2 destructive).",
            id="spec-example",
        ),
        pytest.param((UPDATE,), (), "Plan: 1 to update, 0 to back up, 0 to import.", id="no-destructive"),
        pytest.param((), (SETTLED,), "No changes. Live state matches the manifest.", id="settled-is-not-attention"),
        pytest.param(
            (),
            (_warning(WarningKind.UNCERTAIN, "seed"),),
            "No changes. 1 operation needs attention: orders.imports.seed (uncertain).",
            id="issue-example-no-changes",
        ),
        pytest.param(
            (UPDATE,),
            (_warning(WarningKind.FAILED, "a"), SETTLED, _warning(WarningKind.UNCERTAIN, "b")),
            "Plan: 1 to update, 0 to back up, 0 to import. 2 operations need attention: "
            "orders.imports.a (failed), orders.imports.b (uncertain).",
            id="issue-example-with-changes",
        ),
        pytest.param(
            (),
            tuple(_warning(kind, kind.value) for kind in WarningKind),
            "No changes. 4 operations need attention: orders.imports.failed (failed), orders.imports.uncertain "
            "(uncertain), orders.imports.in-progress (in-progress), orders.imports.claimed-by-other-run "
            "(claimed-by-other-run).",
            id="every-kind-but-settled-and-tag-budget",
        ),
        pytest.param(
            (),
            tuple(_warning(WarningKind.FAILED, f"f{n}") for n in range(7)),
            "No changes. 7 operations need attention: orders.imports.f0 (failed), orders.imports.f1 (failed), "
            "orders.imports.f2 (failed), orders.imports.f3 (failed), orders.imports.f4 (failed) and 2 more.",
            id="a-long-list-is-cut",
        ),
    ],
)
def test_summary_line(changes: tuple[Change, ...], warnings: tuple[PlanWarning, ...], line: str) -> None:
    result = Plan(changes, warnings)
    stream = io.StringIO()
    render_text(result, stream, color=False)
    assert result.summary_line == line
    assert stream.getvalue().rstrip().endswith(line)
    assert render_markdown(result).startswith(f"### {line}")
    waiting = {WarningKind.FAILED, WarningKind.UNCERTAIN, WarningKind.IN_PROGRESS, WarningKind.CLAIMED_BY_OTHER_RUN}
    assert summary(result)["attention"] == sum(1 for w in warnings if w.kind in waiting)


def test_colour_only_when_asked() -> None:
    plain, coloured = io.StringIO(), io.StringIO()
    render_text(_planted_plan(), plain, color=False)
    render_text(_planted_plan(), coloured, color=True)
    assert "\x1b" not in plain.getvalue()
    assert "\x1b[" in coloured.getvalue()
    assert "~ orders.backup" in plain.getvalue() and "-/+ orders.imports.seed" in plain.getvalue()
    assert 'path: "ftp://user:****@host/old" -> "ftp://user:${env:FTP_PASS}@host/new"' in plain.getvalue()


def test_a_planted_credential_never_appears() -> None:
    result = _planted_plan()
    text = io.StringIO()
    render_text(result, text, color=True)
    document = document_of(result, api_url=f"https://key:{SECRET}@api.example/v1")
    outputs = [
        text.getvalue(),
        render_markdown(result),
        render_json(document),
        json.dumps([change_document(c) for c in result.changes]),
    ]
    assert all(SECRET not in output for output in outputs)
    assert all("****" in output for output in outputs)


def test_markdown_calls_out_destructive_imports_and_folds_details() -> None:
    markdown = render_markdown(_planted_plan())
    assert "> [!WARNING]" in markdown and "`orders.imports.seed`" in markdown
    assert "<details><summary><code>orders</code>" in markdown


def _shown_and_hidden(markdown: str, head: str, hidden: str) -> tuple[int, int]:
    """Items listed under the callout whose head contains `head`, and the count its `hidden` line gives."""
    lines = markdown.splitlines()
    start = next(n for n, line in enumerate(lines) if head in line) + 1
    while not lines[start]:  # a heading's blank line
        start += 1
    block = []
    for line in lines[start:]:
        if not line.startswith(("> - ", "- **")):
            break
        block.append(line)
    items = [line for line in block if line.startswith(("> - `", "- **uncertain**"))]
    found = [int(match.group(1)) for line in block if (match := re.search(hidden, line))]
    assert len(found) <= 1 and len(items) + len(found) == len(block)
    return len(items), sum(found)


@pytest.mark.parametrize(
    ("big", "truncated"),
    [
        pytest.param(big_plan(2000), True, id="2000-multi-shard-imports"),
        pytest.param(big_plan(1000, updates=1000, risky_every=3, attention=40, settled=40), True, id="2000-mixed"),
        pytest.param(big_plan(500, updates=1500, risky_every=1, attention=3000), True, id="attention-floods-first"),
        pytest.param(big_plan(0, updates=2000, risky_every=1), True, id="2000-backups-switched-off"),
        pytest.param(big_plan(150, shards=3, updates=300), True, id="450-changes-multibyte-under-60000-codepoints"),
        pytest.param(big_plan(40, shards=2, updates=40, attention=2, settled=2), False, id="fits-whole"),
    ],
)
def test_markdown_stays_under_60000_utf8_bytes_with_every_count(big: Plan, truncated: bool) -> None:
    markdown = render_markdown(big, full_plan="plan.json")
    assert len(markdown.encode("utf-8")) <= 60_000  # never fewer than GitHub's count, however it counts
    assert markdown.startswith(f"### {big.summary_line}\n")
    assert ("> [!NOTE]\n> Truncated to stay under 60,000 characters" in markdown) is truncated
    assert not truncated or "the full plan is in `plan.json` (`reconciler show plan.json`)." in markdown
    callouts = [
        (big.destructive_count, f"**{big.destructive_count} destructive import", r"\*\*(\d+) (?:more )?destructive"),
        (big.risky_count, f"**{big.risky_count} database", r"\*\*(\d+) (?:more )?not shown"),
        (len(big.attention), f"#### Needs attention ({len(big.attention)})", r"\*\*(\d+) (?:more )?not shown"),
    ]
    for total, head, hidden in callouts:
        if total:  # every count stands, and what is listed and what is said to be left out add up
            shown, left_out = _shown_and_hidden(markdown, head, hidden)
            assert shown + left_out == total, head
    if not truncated:
        assert markdown.count("<details>") == len(big.changes) and "not shown" not in markdown


def test_destructive_imports_that_do_not_fit_say_how_many_and_where_the_plan_is() -> None:
    markdown = render_markdown(big_plan(2000, shards=16))
    shown, left_out = _shown_and_hidden(
        markdown, "**2000 destructive imports**", r"\*\*(\d+) more destructive imports not shown"
    )
    assert shown > 0 and left_out == 2000 - shown
    assert (
        "imports not shown**: keep the full plan with `reconciler plan --out plan.json` (a CI artifact) and read it "
        "with `reconciler show plan.json`."
    ) in markdown
    assert "<details>" not in markdown  # every byte went to the callout: no database section fits after it


def test_a_smaller_limit_is_kept_too() -> None:
    for limit in (2_000, 8_000, 30_000):
        markdown = render_markdown(big_plan(300, updates=300, risky_every=2, attention=30), limit=limit)
        assert len(markdown.encode("utf-8")) <= limit and "#### Needs attention (30)" in markdown
        assert "**300 destructive imports**" in markdown and "**150 databases will stop backing up**" in markdown


def test_json_is_the_document() -> None:
    document = {"format_version": "1.0", "changes": []}
    assert json.loads(render_json(document)) == document


def test_credentials_in_warning_messages_are_masked() -> None:
    warning = PlanWarning("orders.imports.seed", WarningKind.SETTLED, f"task failed: bad uri ftp://u:{SECRET}@h/x")
    result = Plan((), (warning,))
    text = io.StringIO()
    render_text(result, text, color=False)
    assert SECRET not in text.getvalue() + render_markdown(result)


# --- issue 12: which database, what is risky, what needs a person ------------------------------------------------


def _staging_plan(backup: BackupSettings | None = None, live_backup: LiveBackup | None = None) -> Plan:
    """The manifest calls it orders-staging; the API calls database 10 orders-prod."""
    desired = DatabaseSpec(
        "orders-staging",
        1,
        10,
        Tier.PRO,
        False,
        backup,
        (),
        (Import("seed", ("s3://b/x.rdb",), "aws-s3", confirm="orders-prod"),),
        Position("m.yaml", 1, 3),
    )
    live = with_receipts(
        LiveDatabase(
            Tier.PRO,
            1,
            10,
            "orders-prod",
            "active",
            live_backup or LiveBackup(True, "s3://b/backups", "every-6-hours"),
            (),
        )
    )
    return plan(Manifest((desired,), ("m.yaml",), "d"), LiveAccount.of(live))


def _all_formats(result: Plan) -> tuple[str, str, dict[str, Any]]:
    text = io.StringIO()
    render_text(result, text, color=False)
    document = document_of(result)
    return text.getvalue(), render_markdown(result), json.loads(render_json(document))


def test_every_format_shows_the_live_name_beside_the_ids() -> None:
    text, markdown, document = _all_formats(_staging_plan())
    assert (
        "-/+ orders-staging.imports.seed will be imported once, REPLACING ALL DATA in the database (pro 1/10, "
        'named "orders-prod" in Redis Cloud)' in text
    )
    callout = markdown[markdown.index("> [!WARNING]") :].split("\n\n")[0]
    assert "`orders-staging.imports.seed` into `pro 1/10` (**orders-prod** in Redis Cloud)" in callout
    assert "<summary><code>orders-staging</code> on pro 1/10 (<b>orders-prod</b> in Redis Cloud)" in markdown
    assert document["changes"][0]["database"] == {
        "name": "orders-staging",
        "subscription": 1,
        "database": 10,
        "tier": "pro",
        "live_name": "orders-prod",
    }


def test_a_live_name_is_escaped_in_markdown() -> None:
    ref = DatabaseRef("orders", 1, 10, Tier.PRO, live_name="<img src=x>*bold*")
    markdown = render_markdown(Plan((_change(Action.IMPORT, "orders.imports.a", ref),)))
    assert "<img" not in markdown and "&lt;img src=x&gt;" in markdown


@pytest.mark.parametrize(
    ("backup", "tier"),
    [
        pytest.param(BackupSettings(False), Tier.PRO, id="pro-enabled-false"),
        pytest.param(BackupSettings(False), Tier.ESSENTIALS, id="essentials-empty-path"),
    ],
)
def test_switching_backup_off_is_flagged_in_every_format(backup: BackupSettings, tier: Tier) -> None:
    desired = DatabaseSpec("orders", 1, 10, tier, False, backup, (), (), Position("m.yaml", 1, 3))
    live = with_receipts(
        LiveDatabase(tier, 1, 10, "orders", "active", LiveBackup(True, "s3://b/backups", "every-6-hours"), ())
    )
    text, markdown, document = _all_formats(plan(Manifest((desired,), ("m.yaml",), "d"), LiveAccount.of(live)))
    assert "~ orders.backup will be updated, SWITCHING REMOTE BACKUP OFF: no backups from now on" in text
    assert document["changes"][0]["risky"] is True
    assert document["summary"]["risky"] == 1
    callout = markdown[: markdown.index("<details>")]  # outside every folded section
    assert "> [!CAUTION]" in callout and "`orders.backup` on `" + f"{tier.value} 1/10`" in callout


def test_a_plain_update_is_not_risky() -> None:
    text, markdown, document = _all_formats(_staging_plan(BackupSettings(True, "s3://b/new", "aws-s3")))
    assert "SWITCHING" not in text and "[!CAUTION]" not in markdown
    assert [c["risky"] for c in document["changes"]] == [False, False]


def test_markdown_shows_operations_needing_attention_first() -> None:
    warnings = (
        PlanWarning("orders.imports.old", WarningKind.SETTLED, "apply will record done", "done"),
        PlanWarning("orders.imports.seed", WarningKind.UNCERTAIN, "claimed, no outcome seen"),
    )
    markdown = render_markdown(Plan((_change(Action.IMPORT, "orders.imports.new"),), warnings))
    lines = markdown.splitlines()
    assert lines[0] == (
        "### Plan: 0 to update, 0 to back up, 1 to import (1 destructive). "
        "1 operation needs attention: orders.imports.seed (uncertain)."
    )
    attention = markdown.index("#### Needs attention")
    assert (
        attention < markdown.index("> [!WARNING]") < markdown.index("orders.imports.old") < markdown.index("<details>")
    )
    assert markdown.index("**uncertain** `orders.imports.seed`") > attention


def test_a_kept_interval_is_shown_as_unchanged() -> None:
    text, markdown, document = _all_formats(_staging_plan(BackupSettings(True, "s3://b/new", "aws-s3")))
    assert 'interval: "every-6-hours" (unchanged: not in the manifest, the live interval is sent)' in text
    (update,) = [c for c in document["changes"] if c["action"] == "update"]
    assert update["calls"][0]["body"]["remoteBackup"]["interval"] == "every-6-hours"
    assert "interval" not in update["after"] and [f["field"] for f in update["fields"]] == ["path"]


# --- issue 20: the apply summary for the CI step summary stays within the same limit ------------------------------


def test_the_apply_summary_markdown_stays_under_the_limit_failures_first() -> None:
    results = [
        StepResult(
            f"db-{n:05d}.imports.seed-2026-11-20",
            "import",
            Outcome.FAILED if n % 100 == 7 else Outcome.DONE,
            1.5,
            f"import task → {'failed: données illisibles ' * 3 if n % 100 == 7 else 'success'}",
        )
        for n in range(2000)
    ]
    markdown = render_markdown_summary(results, full_report="report.json")
    assert len(markdown.encode("utf-8")) <= 60_000
    assert markdown.startswith("**Apply: 1980 done, 20 failed.**")
    rows = [line for line in markdown.splitlines() if line.startswith("| `db-")]
    assert [row for row in rows if "| failed |" in row] == [row for row in rows[:20]] and len(rows) > 20
    assert markdown.endswith(f"*{2000 - len(rows)} more operations not shown*: every outcome is in `report.json`.")
    small = render_markdown_summary(results[:5])
    assert "not shown" not in small and small.count("| `db-") == 5


def test_a_raw_at_sign_in_a_live_password_is_masked_in_every_plan_format() -> None:
    """Item 11 holds for the renderer: the authority ends at its last `@`, on the live side too."""
    leaky = "ftp://bk:pa@SECRET0@backup.acme.example/orders"
    desired = DatabaseSpec(
        "orders",
        1,
        10,
        Tier.PRO,
        False,
        BackupSettings(True, "s3://b/new", "every-6-hours"),
        (),
        (),
        Position("m.yaml", 1, 3),
    )
    live = with_receipts(
        LiveDatabase(Tier.PRO, 1, 10, "orders", "active", LiveBackup(True, leaky, "every-6-hours"), ())
    )
    text, markdown, document = _all_formats(plan(Manifest((desired,), ("m.yaml",), "d"), LiveAccount.of(live)))
    for output in (text, markdown, json.dumps(document)):
        assert "SECRET0" not in output and "pa@" not in output
        assert "ftp://bk:****@backup.acme.example/orders" in output


def test_a_plan_that_fits_exactly_is_whole_and_one_byte_less_is_cut() -> None:
    big = big_plan(20, updates=20, attention=2)
    whole = render_markdown(big, limit=1_000_000)
    size = len(whole.encode("utf-8"))
    assert render_markdown(big, limit=size) == whole and "not shown" not in whole
    cut = render_markdown(big, limit=size - 1)
    assert len(cut.encode("utf-8")) <= size - 1 and "> [!NOTE]\n> Truncated" in cut
