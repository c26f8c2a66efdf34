"""Drills in the manifest (issue 15 §2): each bad drill gets one positioned line naming the fix; good ones build."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.core.desired import DrillVerify
from reconciler.errors import ManifestError
from reconciler.manifest.load import load_manifest

SCRATCH = """
  - name: scratch
    subscription: 2345678
    database: 8765433
    tier: essentials
    scratch: true
"""


def manifest(tmp_path: Path, source: str, rest: str = SCRATCH) -> Path:
    path = tmp_path / "m.yaml"
    head = "version: 1\ndatabases:\n  - name: orders-prod\n    subscription: 1234567\n    database: 7654321\n"
    path.write_text(head + textwrap.indent(textwrap.dedent(source), "    ") + rest, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifest([path])
    return [str(problem).replace(str(path.parent) + "/", "") for problem in caught.value.problems]


BACKUP = "backup: {path: 's3://acme-backups/orders'}\n"
DRILL = "drills:\n  - {id: weekly, into: scratch, every: 7d}\n"


@pytest.mark.parametrize(
    ("source", "rest", "expected"),
    [
        pytest.param(
            BACKUP + DRILL,
            SCRATCH.replace("    scratch: true\n", ""),
            "m.yaml:8:28: databases[0].drills[0].into: scratch is not marked `scratch: true`, and a drill overwrites "
            "all its data — mark it scratch if drills may overwrite it, or name a scratch database",
            id="into-a-database-not-marked-scratch",
        ),
        pytest.param(
            BACKUP + DRILL.replace("into: scratch", "into: nowhere"),
            SCRATCH,
            "m.yaml:8:28: databases[0].drills[0].into: nowhere names no managed database — declare it, with "
            "`scratch: true`, in a manifest",
            id="into-an-unknown-database",
        ),
        pytest.param(
            BACKUP + DRILL.replace("into: scratch", "into: orders-prod"),
            SCRATCH,
            "m.yaml:8:28: databases[0].drills[0].into: orders-prod is this very database — a drill imports into "
            "another database",
            id="into-itself",
        ),
        pytest.param(
            DRILL,
            SCRATCH,
            "m.yaml:7:9: databases[0].drills[0]: a drill needs a backup destination it can list (s3://, gs://, "
            "abs:// or ftp://) — give the drill a `path:`, or the database an enabled `backup.path`",
            id="no-destination",
        ),
        pytest.param(
            "backup: {enabled: false}\n" + DRILL,
            SCRATCH,
            "m.yaml:8:9: databases[0].drills[0]: a drill needs a backup destination it can list (s3://, gs://, "
            "abs:// or ftp://) — give the drill a `path:`, or the database an enabled `backup.path`",
            id="backup-off-and-no-drill-path",
        ),
        pytest.param(
            "drills:\n  - {id: weekly, into: scratch, every: 7d, path: 'https://files.acme.example/drills'}\n",
            SCRATCH,
            "m.yaml:7:54: databases[0].drills[0].path: 'https://files.acme.example/drills': an http(s) destination "
            "cannot be listed, so the drill could not find its backup's files — use s3://, gs://, abs:// or ftp://",
            id="http-destination",
        ),
        pytest.param(
            BACKUP + DRILL.replace("7d", "weekly"),
            SCRATCH,
            "m.yaml:8:44: databases[0].drills[0].every: 'weekly' is not valid — write whole hours or days, e.g. 12h or 7d",
            id="every-not-a-duration",
        ),
        pytest.param(
            BACKUP + DRILL + "  - {id: weekly, into: scratch, every: 1d}\n",
            SCRATCH,
            "m.yaml:9:14: databases[0].drills[1].id: id 'weekly' is used by another drill of this database",
            id="duplicate-id",
        ),
        pytest.param(
            BACKUP + DRILL,
            SCRATCH + "    protected: true\n",
            "m.yaml:14:5: databases[1].scratch: a protected database cannot be a scratch database (drills overwrite "
            "all its data) — remove one of `protected: true` and `scratch: true`",
            id="protected-scratch",
        ),
        pytest.param(
            "drills:\n  - {id: weekly, into: scratch, every: 7d, path: 'ftp://u:hunter2@ftp.acme.example/d'}\n",
            SCRATCH,
            "m.yaml:7:54: databases[0].drills[0].path: 'ftp://u:****@ftp.acme.example/d' holds a literal credential",
            id="literal-credential-in-the-drill-path",
        ),
    ],
)
def test_bad_drills(tmp_path: Path, source: str, rest: str, expected: str) -> None:
    found = problems(manifest(tmp_path, source, rest))
    assert any(line.startswith(expected) for line in found), found
    assert not any("hunter2" in line for line in found)


def test_a_drill_builds_with_its_period_and_the_database_s_backup_path(tmp_path: Path) -> None:
    source = (
        BACKUP + "drills:\n  - {id: weekly, into: scratch, every: 7d, verify: {min_keys: 10, match_source: true}}\n"
    )
    source += (
        "  - {id: twice-a-day, into: scratch, every: 12h, path: 'ftp://u:${env:FTP_PASSWORD}@ftp.acme.example/d'}\n"
    )
    loaded = load_manifest([manifest(tmp_path, source)])
    orders, scratch = loaded.databases
    assert scratch.scratch and not orders.scratch
    weekly, twice = orders.drills
    assert (weekly.every_seconds, weekly.path, weekly.verify) == (
        7 * 86400,
        "s3://acme-backups/orders",
        DrillVerify(min_keys=10, match_source=True),
    )
    assert (twice.every_seconds, twice.path, twice.verify.counts_keys) == (
        43200,
        "ftp://u:${env:FTP_PASSWORD}@ftp.acme.example/d",
        False,
    )
