"""`status` rows as a pure function of the spec and what was read: the quirks folded, the path masked."""

from __future__ import annotations

from reconciler.core.desired import DatabaseSpec, Position, Tier
from reconciler.core.live import LatestStatus, LiveBackup, LiveDatabase
from reconciler.output.status_report import missing_row, status_row

SPEC = DatabaseSpec("orders-prod", 1234567, 7654321, Tier.PRO, False, None, (), (), Position("m.yaml", 3, 5))


def _live(backup: LiveBackup) -> LiveDatabase:
    return LiveDatabase(Tier.PRO, 1234567, 7654321, "orders", "active", backup)


def test_a_disabled_pro_backup_read_back_as_empty_strings_is_off() -> None:
    row = status_row(SPEC, _live(LiveBackup(False, "", "", "")), LatestStatus(), LatestStatus())
    assert row["backup"] == {"enabled": False, "path": None, "interval": None, "time_utc": None}
    assert row["last_backup"] == {"status": None, "outcome": None, "time": None, "failure_reason": None, "error": None}


def test_the_path_is_masked_and_a_status_keeps_its_word_beside_its_meaning() -> None:
    live = _live(LiveBackup(True, "ftp://user:hunter2@host/orders", "every-24-hours", "04:00"))
    row = status_row(SPEC, live, LatestStatus("Succeeded", "2026-12-01T04:00:00Z"), LatestStatus("weird"))
    assert "hunter2" not in str(row["backup"]["path"]) and row["backup"]["interval"] == "every-24-hours"
    assert (row["last_backup"]["status"], row["last_backup"]["outcome"]) == ("Succeeded", "success")
    assert row["last_import"]["outcome"] == "unknown"
    assert list(row) == ["name", "tier", "subscription", "database", "status", "backup", "last_backup", "last_import"]


def test_a_database_the_account_lacks_is_a_row_with_only_an_error() -> None:
    assert missing_row(SPEC) == {
        "name": "orders-prod",
        "tier": "pro",
        "subscription": 1234567,
        "database": 7654321,
        "error": "database 7654321 not found in pro subscription 1234567",
    }
