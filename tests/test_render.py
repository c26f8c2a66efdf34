"""Rendering: exact summary lines, colour only when asked, markdown size limit, and no secret ever."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from reconciler.model import (
    Action,
    BackupSettings,
    Change,
    DatabaseRef,
    DatabaseSpec,
    Import,
    LiveAccount,
    LiveBackup,
    LiveDatabase,
    Manifest,
    OnDemandBackup,
    Plan,
    PlanWarning,
    Position,
    Tier,
    WarningKind,
)
from reconciler.planfile import build_document
from reconciler.planner import plan
from reconciler.render import render_json, render_markdown, render_text

SECRET = "hunter2hunter2"
REF = DatabaseRef("orders", 1, 10, Tier.PRO)


def _change(action: Action, address: str, ref: DatabaseRef = REF) -> Change:
    return Change(address, action, ref, {"receipt": None}, {"id": address.rsplit(".", 1)[-1],
                  "from": ["s3://b/x.rdb"]}, destructive=action is Action.IMPORT)


def _planted_plan() -> Plan:
    """A plan whose live side and manifest both carry credentials in URIs."""
    desired = DatabaseSpec(
        "orders", 1, 10, Tier.PRO, True,
        BackupSettings(True, "ftp://user:${env:FTP_PASS}@host/new", None, "every-6-hours"),
        (OnDemandBackup("pre", f"ftp://user:{SECRET}@host/adhoc"),),
        (Import("seed", (f"redis://{SECRET}@src:6379", f"http://u:{SECRET}@h/x.rdb"), "redis", confirm="orders"),),
        Position("m.yaml", 1, 3),
    )
    live = LiveDatabase(Tier.PRO, 1, 10, "orders", "active",
                        LiveBackup(True, f"ftp://user:{SECRET}@host/old", "every-6-hours"), ())
    return plan(Manifest((desired,), ("m.yaml",), "d"), LiveAccount.of(live))


def _warning(kind: WarningKind, name: str = "z") -> PlanWarning:
    return PlanWarning(f"orders.imports.{name}", kind, f"{kind.value} receipt")


SETTLED = _warning(WarningKind.SETTLED)
UPDATE = _change(Action.UPDATE, "orders.backup")


@pytest.mark.parametrize(
    ("changes", "warnings", "line"),
    [
        pytest.param((), (), "No changes. Live state matches the manifest.", id="empty"),
        pytest.param((UPDATE, _change(Action.BACKUP, "orders.backups.a"),
                      _change(Action.IMPORT, "orders.imports.a"), _change(Action.IMPORT, "orders.imports.b")),
                     (SETTLED,), "Plan: 1 to update, 1 to back up, 2 to import (2 destructive).", id="spec-example"),
        pytest.param((UPDATE,), (), "Plan: 1 to update, 0 to back up, 0 to import.", id="no-destructive"),
        pytest.param((), (SETTLED,), "No changes. Live state matches the manifest.",
                     id="settled-is-not-attention"),
        pytest.param((), (_warning(WarningKind.UNCERTAIN, "seed"),),
                     "No changes. 1 operation needs attention: orders.imports.seed (uncertain).",
                     id="issue-example-no-changes"),
        pytest.param((UPDATE,), (_warning(WarningKind.FAILED, "a"), SETTLED, _warning(WarningKind.UNCERTAIN, "b")),
                     "Plan: 1 to update, 0 to back up, 0 to import. 2 operations need attention: "
                     "orders.imports.a (failed), orders.imports.b (uncertain).", id="issue-example-with-changes"),
        pytest.param((), tuple(_warning(kind, kind.value) for kind in WarningKind),
                     "No changes. 4 operations need attention: orders.imports.failed (failed), orders.imports.uncertain "
                     "(uncertain), orders.imports.in-progress (in-progress), orders.imports.claimed-by-other-run "
                     "(claimed-by-other-run).", id="every-kind-but-settled"),
        pytest.param((), tuple(_warning(WarningKind.FAILED, f"f{n}") for n in range(7)),
                     "No changes. 7 operations need attention: orders.imports.f0 (failed), orders.imports.f1 (failed), "
                     "orders.imports.f2 (failed), orders.imports.f3 (failed), orders.imports.f4 (failed) and 2 more.",
                     id="a-long-list-is-cut"),
    ],
)
def test_summary_line(changes: tuple[Change, ...], warnings: tuple[PlanWarning, ...], line: str) -> None:
    result = Plan(changes, warnings)
    stream = io.StringIO()
    render_text(result, stream, color=False)
    assert result.summary_line == line
    assert stream.getvalue().rstrip().endswith(line)
    assert render_markdown(result).startswith(f"### {line}")
    assert result.summary()["attention"] == sum(1 for w in warnings if w.kind is not WarningKind.SETTLED)


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
    document = build_document(result, tool_version="0.1.0", created_at="2026-11-24T06:30:00Z",
                              manifest_digest="d", manifest_paths=["m.yaml"],
                              api_url=f"https://key:{SECRET}@api.example/v1")
    outputs = [text.getvalue(), render_markdown(result), render_json(document), json.dumps(result.to_dict())]
    assert all(SECRET not in output for output in outputs)
    assert all("****" in output for output in outputs)


def test_markdown_calls_out_destructive_imports_and_folds_details() -> None:
    markdown = render_markdown(_planted_plan())
    assert "> [!WARNING]" in markdown and "`orders.imports.seed`" in markdown
    assert "<details><summary><code>orders</code>" in markdown


def test_markdown_truncates_under_the_limit_with_a_note() -> None:
    refs = [DatabaseRef(f"db-{n:04d}", 1, n, Tier.PRO) for n in range(1500)]
    big = Plan(tuple(replace(_change(Action.IMPORT, f"{ref.name}.imports.seed-{'x' * 30}", ref))
                     for ref in refs))
    markdown = render_markdown(big)
    assert len(markdown) < 60_000
    assert "Output truncated" in markdown
    assert markdown.startswith("### Plan: 0 to update, 0 to back up, 1500 to import (1500 destructive).")


def test_json_is_the_document() -> None:
    document = {"format_version": "1.0", "changes": []}
    assert json.loads(render_json(document)) == document


def test_credentials_in_warning_messages_are_masked() -> None:
    warning = PlanWarning("orders.imports.seed", WarningKind.SETTLED, f"task failed: bad uri ftp://u:{SECRET}@h/x")
    result = Plan((), (warning,))
    text = io.StringIO()
    render_text(result, text, color=False)
    assert SECRET not in text.getvalue() + render_markdown(result)
