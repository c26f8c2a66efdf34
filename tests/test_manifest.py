"""Manifest loading: every bad input gives one positioned line naming the fix; good input builds the model."""

from __future__ import annotations

import io
import json
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main
from reconciler.core.desired import Position, Tier
from reconciler.errors import ManifestError
from reconciler.manifest.load import load_manifest
from reconciler.manifest.problems import Problem
from tests.support.examples import EXAMPLES

GOOD_DB = """\
version: 1
databases:
  - name: orders-prod
    subscription: 1234567
    database: 7654321
"""


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _problems(path: Path) -> list[str]:
    """The problems as the CLI prints them, one line each."""
    with pytest.raises(ManifestError) as caught:
        load_manifest([path])
    return [str(problem) for problem in caught.value.problems]


NO_CONFIRM = (
    "m.yaml:8:9: databases[0].imports[0]: missing required key 'confirm' — an import overwrites all data in its "
    "database: add `confirm:` with the database's name as Redis Cloud shows it (plan checks it against the "
    "live name)"
)

BAD = [
    pytest.param(
        "version: 2\ndatabases: []\n",
        "m.yaml:1:10: version: unsupported version 2 — this reconciler reads version 1",
        id="version-2",
    ),
    pytest.param("databases: []\n", "m.yaml:1:1: (top level): missing required key 'version'", id="no-version"),
    pytest.param("", "m.yaml:1:1: file is empty — it needs `version: 1` and `databases:`", id="empty"),
    pytest.param(
        "- a\n- b\n", "m.yaml:1:1: the file must be a mapping with `version: 1` and `databases:`, not a list", id="list"
    ),
    pytest.param("version: 1\ndatabases: [\n", "m.yaml:3:1: not valid YAML: ", id="not-yaml"),
    pytest.param(
        "version: 1\nversion: 1\ndatabases: []\n",
        "m.yaml:2:1: duplicate key 'version' — keep only one",
        id="duplicate-key",
    ),
    pytest.param(
        "version: 1\ndatabases: []\nextra: !!python/object:os.system x\n",
        "m.yaml:3:8: not valid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'",
        id="python-tag",
    ),
    pytest.param(
        GOOD_DB + "    tiers: pro\n",
        "m.yaml:6:5: databases[0].tiers: unknown key 'tiers' — did you mean 'tier'?",
        id="unknown-key",
    ),
    pytest.param(
        GOOD_DB.replace("orders-prod", "Orders"),
        "m.yaml:3:11: databases[0].name: 'Orders' is not valid — use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters",
        id="bad-name",
    ),
    pytest.param(
        GOOD_DB.replace("1234567", '"1234567"'),
        "m.yaml:4:19: databases[0].subscription: expected a whole number, got 1234567 — write the id in plain "
        "decimal digits, as Redis Cloud shows it",
        id="subscription-string",
    ),
    pytest.param(
        GOOD_DB.replace("    database: 7654321\n", ""),
        "m.yaml:3:5: databases[0]: missing required key 'database'",
        id="missing-database",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      path: s3://b/p\n      interval: every-3-hours\n",
        "m.yaml:8:17: databases[0].backup.interval: 'every-3-hours' is not one of every-1-hours, every-2-hours, every-4-hours, every-6-hours, every-12-hours, every-24-hours",
        id="bad-interval",
    ),
    pytest.param(
        GOOD_DB + '    backup:\n      path: s3://b/p\n      interval: every-24-hours\n      time_utc: "16:30"\n',
        'm.yaml:9:17: databases[0].backup.time_utc: \'16:30\' is not valid — write a whole hour in UTC as "HH:00", e.g. "04:00"',
        id="time-not-whole-hour",
    ),
    pytest.param(
        GOOD_DB + '    backup:\n      path: s3://b/p\n      interval: every-6-hours\n      time_utc: "04:00"\n',
        "m.yaml:9:17: databases[0].backup.time_utc: a time of day is only allowed with every-12-hours or every-24-hours, not every-6-hours — remove time_utc or change the interval",
        id="time-with-6-hours",
    ),
    pytest.param(
        GOOD_DB + "    tier: essentials\n    backup:\n      path: s3://b/p\n      interval: every-24-hours\n",
        "m.yaml:9:7: databases[0].backup.interval: Essentials databases back up every 24 hours at a time Redis Cloud chooses — remove it",
        id="essentials-interval",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      interval: every-24-hours\n",
        "m.yaml:7:7: databases[0].backup: missing 'path' — an enabled backup needs a destination such as s3://bucket/path",
        id="enabled-without-path",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      enabled: false\n      path: s3://b/p\n",
        "m.yaml:8:7: databases[0].backup.path: `enabled: false` stands alone (with at most `confirm`) — remove it, or set enabled: true",
        id="disabled-with-path",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      path: gs://b/p\n      storage_type: aws-s3\n      interval: every-1-hours\n",
        "m.yaml:7:13: databases[0].backup.path: 'gs://b/p' is a google-blob-storage URI but the type says aws-s3 — fix the URI, or the type (or drop the type: it is inferred from the scheme)",
        id="scheme-vs-storage-type",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      path: https://b/p\n      interval: every-1-hours\n",
        "m.yaml:7:13: databases[0].backup.path: 'https://b/p': unsupported scheme 'https' here — use one of s3://, gs://, abs://, ftp://, ftps://",
        id="http-backup-destination",
    ),
    pytest.param(
        GOOD_DB + "    backups:\n      - id: a\n      - id: a\n",
        "m.yaml:8:13: databases[0].backups[1].id: id 'a' is already used by orders-prod.backups.a — ids are unique within a database",
        id="duplicate-id",
    ),
    pytest.param(
        GOOD_DB + "    protected: true\n    imports:\n      - id: seed\n        from: s3://b/f.rdb\n",
        NO_CONFIRM,
        id="protected-without-confirm",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: s3://b/f.rdb\n",
        NO_CONFIRM.replace(":8:9:", ":7:9:"),
        id="import-without-confirm",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: s3://b/f.rdb\n        confirm: ''\n",
        "m.yaml:9:18: databases[0].imports[0].confirm: confirm is empty — write the database's name as Redis Cloud shows it (plan checks it)",
        id="empty-confirm",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      path: s3://b/p\n      interval: every-1-hours\n      confirm: orders-prod\n",
        "m.yaml:9:7: databases[0].backup.confirm: `confirm` only goes with `enabled: false` (switching backups off) — remove it",
        id="confirm-beside-enabled-backup",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: [s3://b/1.rdb, gs://b/2.rdb]\n",
        "m.yaml:8:15: databases[0].imports[0].from: all sources of one import must use the same scheme",
        id="mixed-schemes",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: []\n",
        "m.yaml:8:15: databases[0].imports[0].from: expected a URI or a non-empty list of distinct URIs",
        id="empty-from",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: redis://s3cr3tpw@10.0.0.1:6379\n",
        "m.yaml:8:15: databases[0].imports[0].from: 'redis://****@10.0.0.1:6379' holds a literal credential — keep secrets out of manifests: write 'redis://${env:ORDERS_PROD_PASSWORD}@10.0.0.1:6379' and set ORDERS_PROD_PASSWORD in the environment",
        id="literal-redis-password",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: abs://:s3cr3tkey/x+y==@acct/c/f.rdb\n",
        "m.yaml:8:15: databases[0].imports[0].from: 'abs://:****@acct/c/f.rdb' holds a literal credential — keep secrets out of manifests: write 'abs://:${env:ORDERS_PROD_KEY}@acct/c/f.rdb' and set ORDERS_PROD_KEY in the environment",
        id="literal-azure-key",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: ftp://${env:FTP_USER}:hunter2@host/f.rdb\n",
        "m.yaml:8:15: databases[0].imports[0].from: 'ftp://${env:FTP_USER}:****@host/f.rdb' holds a literal credential — keep secrets out of manifests: write 'ftp://${env:FTP_USER}:${env:ORDERS_PROD_PASSWORD}@host/f.rdb' and set ORDERS_PROD_PASSWORD in the environment",
        id="literal-password-after-a-referenced-user",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: abs://Zm9v/YmFy+cXV4==@acct/c/f.rdb\n",
        "m.yaml:8:15: databases[0].imports[0].from: 'abs://****@acct/c/f.rdb' holds a literal credential — keep secrets out of manifests: write 'abs://:${env:ORDERS_PROD_KEY}@acct/c/f.rdb' and set ORDERS_PROD_KEY in the environment",
        id="literal-azure-key-without-colon",
    ),
    pytest.param(
        GOOD_DB + "    imports:\n      - id: seed\n        from: ftp://u:${env:PW@host/f.rdb\n",
        "m.yaml:8:15: databases[0].imports[0].from: 'ftp://u:****@host/f.rdb' has a malformed reference — write ${env:NAME}",
        id="malformed-reference",
    ),
    pytest.param(
        GOOD_DB + "  - name: orders-prod\n    subscription: 1\n    database: 2\n",
        "m.yaml:6:11: name 'orders-prod' is already used at m.yaml:3:11 — names are unique across all manifests",
        id="duplicate-name",
    ),
    pytest.param(
        GOOD_DB + "  - name: other\n    subscription: 1234567\n    database: 7654321\n",
        "m.yaml:8:15: subscription 1234567 database 7654321 is already declared at m.yaml:5:15 — declare each database once",
        id="duplicate-database",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      path: s3://b/p\n      max_age: 26 hours\n",
        "m.yaml:8:16: databases[0].backup.max_age: '26 hours' is not valid — write days, hours and minutes in that order, such as 26h, 2d, 90m or 1d12h",
        id="max-age-not-a-duration",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      path: s3://b/p\n      max_age: 0h\n",
        "m.yaml:8:16: databases[0].backup.max_age: '0h' is no time at all — write how old a backup may get, e.g. 26h",
        id="max-age-zero",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      path: s3://b/p\n      interval: every-12-hours\n      max_age: 6h\n",
        "m.yaml:9:16: databases[0].backup.max_age: 6h is shorter than the time between two backups (the interval is every-12-hours), so check would fail before every backup — make it at least 12h",
        id="max-age-below-the-interval",
    ),
    pytest.param(
        GOOD_DB + "    tier: essentials\n    backup:\n      path: s3://b/p\n      max_age: 20h\n",
        "m.yaml:9:16: databases[0].backup.max_age: 20h is shorter than the time between two backups (Essentials backs up every 24 hours), so check would fail before every backup — make it at least 1d",
        id="max-age-below-a-day-on-essentials",
    ),
    pytest.param(
        GOOD_DB + "    backup:\n      enabled: false\n      max_age: 2d\n",
        "m.yaml:8:7: databases[0].backup.max_age: `enabled: false` stands alone (with at most `confirm`) — remove it, or set enabled: true",
        id="max-age-beside-enabled-false",
    ),
    pytest.param(
        GOOD_DB + "    check: no\n",
        "m.yaml:6:12: databases[0].check: expected true or false, got no — YAML 1.2, as your editor reads it, takes no as text: write false",
        id="check-yaml11-boolean",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_manifest_names_position_and_fix(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(_write(tmp_path, text))
    expected = expected.replace("m.yaml", str(tmp_path / "m.yaml"))
    # YAML syntax errors are worded by the parser (libyaml or PyYAML's own): only their start is ours.
    assert any(p == expected or (expected.endswith(": ") and p.startswith(expected)) for p in problems), problems


# Every form the issue names (12, part 1): references anywhere in the user-info, with or without literal users.
REFERENCED = [
    "redis://${env:SRC_PASS}@10.0.0.5:6379",
    "ftp://${env:FTP_USER}:${env:FTP_PASS}@host/f.rdb",
    "ftp://loader:${env:P}@host/f.rdb",
    "ftps://loader:${env:P}@host:990/dir@2026/f.rdb",
    "abs://:${env:AZ_KEY}@account/container/f.rdb",
    "abs://${env:AZ_KEY}@acct/c/f.rdb",
    "http://u:${env:P}@h/f.rdb",
    "https://${env:U}:${env:P}@h/f.rdb",
]


@pytest.mark.parametrize("uri", REFERENCED)
def test_references_anywhere_in_the_userinfo_are_accepted_and_kept_unresolved(tmp_path: Path, uri: str) -> None:
    text = GOOD_DB + f'    imports:\n      - id: seed\n        confirm: orders-prod\n        from: "{uri}"\n'
    (database,) = load_manifest([_write(tmp_path, text)]).databases
    assert database.imports[0].sources == (uri,)


def _validate(path: Path, *flags: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["validate", *flags, "-f", str(path)], out=out, err=err, environ={})
    return code, out.getvalue(), err.getvalue()


VARIABLES_MANIFEST = (
    GOOD_DB
    + """\
    backup:
      path: ftp://backup:${env:FTP_PASS}@ftp.example/orders
      interval: every-24-hours
    imports:
      - id: seed
        from: redis://${env:SRC_PASS}@10.0.0.5:6379
        confirm: orders-prod
      - id: again
        from: ftp://${env:FTP_USER}:${env:FTP_PASS}@ftp.example/o.rdb
        confirm: orders-prod
"""
)


def test_validate_names_the_variables_a_plan_will_need_without_reading_them(tmp_path: Path) -> None:
    path = _write(tmp_path, VARIABLES_MANIFEST)
    code, out, err = _validate(path)  # offline, and with none of them set
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Valid: 1 database in 1 file.",
        "Variables a plan will need: FTP_PASS, FTP_USER, SRC_PASS",
    ]
    code, out, _ = _validate(path, "--format", "json")
    assert code == 0 and json.loads(out)["variables"] == ["FTP_PASS", "FTP_USER", "SRC_PASS"]
    assert _validate(path, "--quiet")[:2] == (0, "")


def test_validate_without_variables_prints_no_variables_line(tmp_path: Path) -> None:
    code, out, _ = _validate(_write(tmp_path, GOOD_DB), "--format", "json")
    assert code == 0 and json.loads(out)["variables"] == []
    assert _validate(_write(tmp_path, GOOD_DB))[1] == "Valid: 1 database in 1 file.\n"


def test_literal_credential_is_never_echoed(tmp_path: Path) -> None:
    text = GOOD_DB + "    imports:\n      - id: seed\n        from: ftp://loader:Hunter2Secret@ftp.acme.example/o.rdb\n"
    problems = _problems(_write(tmp_path, text))
    assert problems and not any("Hunter2Secret" in p for p in problems)


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "version: 2\ndatabases: []\n", "a.yaml")
    _write(tmp_path, GOOD_DB + "    tiers: pro\n", "b.yaml")
    problems = _problems(tmp_path)
    assert [p.split(":")[0].rsplit("/", 1)[-1] for p in problems] == ["a.yaml", "b.yaml"]


def test_names_must_be_unique_across_files(tmp_path: Path) -> None:
    _write(tmp_path, GOOD_DB, "a.yaml")
    _write(tmp_path, GOOD_DB.replace("7654321", "1"), "b.yaml")
    (problem,) = _problems(tmp_path)
    assert problem.startswith(
        f"{tmp_path / 'b.yaml'}:3:11: name 'orders-prod' is already used at {tmp_path / 'a.yaml'}:3:11"
    )


def test_examples_validate_into_the_model() -> None:
    manifest = load_manifest([EXAMPLES])
    by_name = {db.name: db for db in manifest.databases}
    assert set(by_name) == {
        "orders-prod",
        "sessions-prod",
        "catalog-prod",
        "analytics-prod",
        "inventory-prod",
        "marketing-cache",
        "orders-aa",
    }
    orders = by_name["orders-prod"]
    assert orders.protected and orders.imports[0].source_type == "aws-s3" and len(orders.imports[0].sources) == 3
    assert orders.backup is not None and orders.backup.storage_type == "aws-s3"
    assert by_name["marketing-cache"].tier is Tier.ESSENTIALS
    assert by_name["analytics-prod"].backup is not None and not by_name["analytics-prod"].backup.enabled
    assert by_name["inventory-prod"].backup is None
    aa = by_name["orders-aa"]
    assert aa.backup is None and aa.backup_regions is not None
    assert [(r.region, r.settings.storage_type, r.settings.time_utc) for r in aa.backup_regions] == [
        ("us-east-1", "aws-s3", "02:00"),
        ("eu-west-1", "aws-s3", "16:00"),
    ]


@pytest.mark.parametrize(
    ("backup", "expected"),
    [
        pytest.param("      path: s3://b/p\n", None, id="pro-path-without-interval"),
        pytest.param('      path: s3://b/p\n      time_utc: "04:00"\n', None, id="pro-time-without-interval"),
        pytest.param("      enabled: false\n      confirm: orders-prod\n", "orders-prod", id="switch-off-confirmed"),
    ],
)
def test_backup_blocks_that_validate(tmp_path: Path, backup: str, expected: str | None) -> None:
    """An interval left out is not managed (issue 12 part 5); `confirm` may stand beside `enabled: false`."""
    (db,) = load_manifest([_write(tmp_path, GOOD_DB + "    protected: true\n    backup:\n" + backup)]).databases
    assert db.backup is not None and db.backup.interval is None and db.backup.confirm == expected


def test_max_age_and_check_build_into_the_model(tmp_path: Path) -> None:
    text = GOOD_DB + "    check: false\n    backup:\n      path: s3://b/p\n      max_age: 1d12h\n"
    (db,) = load_manifest([_write(tmp_path, text)]).databases
    assert db.check is False and db.backup is not None and db.backup.max_age == timedelta(hours=36)
    (db,) = load_manifest([_write(tmp_path, GOOD_DB)]).databases
    assert db.check is True and db.backup is None


def test_invalid_example_reports_one_positioned_line_per_problem() -> None:
    problems = _problems(EXAMPLES / "invalid")
    assert len(problems) == 8
    assert all(p.startswith(str(EXAMPLES / "invalid" / "broken.yaml") + ":") for p in problems)


def test_directory_skips_documents_of_another_kind_and_an_explicit_file_says_why_it_is_refused(
    tmp_path: Path,
) -> None:
    _write(tmp_path, GOOD_DB, "a.yaml")
    other = _write(
        tmp_path, "# the sandbox's world\nkind: redis-cloud-sandbox-world\nformat_version: 1\n", "world.yaml"
    )
    assert [db.name for db in load_manifest([tmp_path]).databases] == ["orders-prod"]
    assert _problems(other) == [
        f"{other}:2:1: this file declares kind: 'redis-cloud-sandbox-world', so it is not a manifest (a directory "
        "of manifests skips it) — leave it out of -f"
    ]


def test_digest_follows_content_not_spelling_of_the_path(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_DB)
    first = load_manifest([tmp_path]).digest
    assert load_manifest([path]).digest == first
    path.write_text(GOOD_DB.replace("7654321", "7654322"))
    assert load_manifest([path]).digest != first


def test_yaml_anchors_share_settings(tmp_path: Path) -> None:
    text = GOOD_DB + (
        "    backup: &daily\n      path: s3://b/p\n      interval: every-24-hours\n"
        "  - name: other\n    subscription: 1\n    database: 2\n    backup: *daily\n"
    )
    manifest = load_manifest([_write(tmp_path, text)])
    assert [db.backup for db in manifest.databases][0] == manifest.databases[1].backup


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="deeply-nested"),
        pytest.param(
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)),
            id="billion-laughs",
        ),
        pytest.param(
            "version: 1\na0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 200)),
            id="alias-chain-nests-deeper-than-any-line",
        ),
    ],
)
def test_hostile_yaml_is_refused_quickly(tmp_path: Path, text: str) -> None:
    started = time.monotonic()
    (problem,) = _problems(_write(tmp_path, text))
    assert time.monotonic() - started < 2
    assert "nested deeper than 64 levels" in problem or "aliases expand past 100,000 nodes" in problem


@pytest.mark.parametrize("text", ["version: 1\ndatabases: &a [*a]\n", "version: 1\nx: &a {b: *a}\n"])
def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path, text: str) -> None:
    (problem,) = _problems(_write(tmp_path, text))
    assert "an alias refers to its own anchor" in problem


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    started = time.monotonic()
    assert _problems(path) == [f"{path}:1:1: file is larger than 10 MB"]
    assert time.monotonic() - started < 2


def test_a_problem_keeps_its_position_as_data_and_prints_it_as_a_prefix(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_DB + "    tier: enterprise\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest([path])
    (problem,) = caught.value.problems
    assert problem.position == Position(str(path), 6, 11)
    assert problem.message == "databases[0].tier: 'enterprise' is not one of pro, essentials"
    assert str(problem) == f"{path}:6:11: {problem.message}" and str(caught.value) == str(problem)


def test_missing_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest([tmp_path / "nope.yaml", tmp_path])
    assert caught.value.problems == (  # of paths as wholes: no line and column
        Problem(None, f"{tmp_path / 'nope.yaml'}: no such file or directory"),
        Problem(None, f"{tmp_path}: no *.yaml or *.yml files in this directory"),
    )


# --- issue 20: inputs that get a clear error, not a crash, a hang or a wrong call ---------------------------


def _minimal_fleet(count: int) -> str:
    """`count` databases with no aliases at all: name, subscription and database each (~57 bytes apiece)."""
    entries = "".join(
        f"  - name: db-{n}\n    subscription: {200_001 + n // 2_500}\n    database: {1_000_001 + n}\n"
        for n in range(count)
    )
    return "version: 1\ndatabases:\n" + entries


# The 15,000 databases write about 105,000 nodes, past the limit the old count applied to every node; the
# 100,000-database figure is measured by hand in benchmarks/ (a 20 s test would slow every run for no new branch).
@pytest.mark.parametrize("count", [15_000])
def test_a_large_file_without_aliases_validates(tmp_path: Path, count: int) -> None:
    """Item 13: only alias expansion counts against the 100,000-node limit, not the nodes written out."""
    path = _write(tmp_path, _minimal_fleet(count))
    assert path.stat().st_size < 10 * 1024 * 1024
    code, out, err = _validate(path)
    assert (code, err) == (0, "")
    assert f"{count:,} databases" in out or str(count) in out


def test_aliases_that_add_more_than_100000_nodes_are_still_refused(tmp_path: Path) -> None:
    """A small file whose aliases add 10 x 10,001 nodes: refused though only ~10,000 nodes are written."""
    text = "x: &x [" + ", ".join(["a"] * 10_000) + "]\ny: [" + ", ".join(["*x"] * 11) + "]\n"
    (problem,) = _problems(_write(tmp_path, text))
    assert "aliases expand past 100,000 nodes" in problem


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        pytest.param(("name: orders-prod\n", "name: |\n      orders-prod\n"), "databases[0].name", id="name"),
        pytest.param(("- id: seed\n", "- id: |\n          seed\n"), "databases[0].imports[0].id", id="import-id"),
        pytest.param(("- id: nightly\n", '- id: "nightly\\n"\n'), "databases[0].backups[0].id", id="backup-id"),
        pytest.param(('time_utc: "04:00"\n', 'time_utc: "04:00\\n"\n'), "databases[0].backup.time_utc", id="time"),
        pytest.param(("from: s3://b/f.rdb\n", 'from: "s3://b/f.rdb\\n"\n'), "databases[0].imports[0].from", id="uri"),
        pytest.param(("from: s3://b/f.rdb\n", 'from: "s3://b/f .rdb"\n'), "databases[0].imports[0].from", id="space"),
    ],
)
def test_values_must_match_as_a_whole_not_up_to_a_final_line_break(
    tmp_path: Path, edit: tuple[str, str], where: str
) -> None:
    """Item 14: Python's `$` matches before a final newline; a receipt key with a newline never settles."""
    text = GOOD_DB + (
        '    backup:\n      path: s3://b/p\n      interval: every-24-hours\n      time_utc: "04:00"\n'
        "    backups:\n      - id: nightly\n"
        "    imports:\n      - id: seed\n        from: s3://b/f.rdb\n        confirm: orders-prod\n"
    )
    path = _write(tmp_path, text)
    code, _, err = _validate(path)
    assert code == 0, err
    path.write_text(text.replace(*edit))
    code, _, err = _validate(path)
    assert code == 1 and f": {where}: " in err and "is not valid" in err and "Traceback" not in err
    if "\\n" in edit[1] or "|" in edit[1]:
        assert "ends in a line break" in err


@pytest.mark.parametrize(
    ("written", "message"),
    [
        pytest.param("1.0", "expected a whole number, got 1.0", id="float"),
        pytest.param("7654321.0", "expected a whole number, got 7654321.0", id="float-id"),
        pytest.param("1.0e+3", "expected a whole number, got 1.0e+3", id="exponent"),
        pytest.param("true", "expected a whole number, got true", id="boolean"),
        pytest.param("2147483648", "larger than any Redis Cloud id (at most 2,147,483,647)", id="past-int32"),
        pytest.param(
            "07654321",
            "07654321 has a leading zero: 7654321 in YAML 1.2, octal to YAML 1.1 tools — write the id in plain decimal",
            id="leading-zero",
        ),
        pytest.param("0x10", "is read by YAML as 16", id="hex"),
        pytest.param(
            "7_654_321", "expected a whole number, got 7_654_321 — write the id in plain decimal", id="underscores"
        ),
        pytest.param("9" * 5_000, "a number of 5,000 characters — no id is that long", id="5000-digits"),
    ],
)
def test_ids_are_whole_numbers_written_in_decimal(tmp_path: Path, written: str, message: str) -> None:
    """Item 15: `database: 1.0` planned `/databases/1.0`; YAML 1.1 tools read `012` as octal (another database)."""
    code, out, err = _validate(_write(tmp_path, GOOD_DB.replace("database: 7654321", f"database: {written}")))
    assert code == 1 and message in err and "Internal error" not in err, err
    assert len(err) < 1_000


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_device_is_named_for_what_it_is_and_never_read(tmp_path: Path, kind: str) -> None:
    """Item 17: not "no such file"; and a FIFO with no writer must not hang the read."""
    import os

    if kind == "fifo":
        path = tmp_path / "m.yaml"
        os.mkfifo(path)
        words = "a named pipe (FIFO)"
    else:
        path = Path("/dev/zero")
        words = "a character device"
    code, _, err = _validate(path)
    assert code == 1 and f"{path}: this is {words}, not a manifest file" in err
    if kind == "fifo":  # inside a directory, too: reported, not read and not skipped in silence
        _write(tmp_path, GOOD_DB, name="good.yaml")
        with pytest.raises(ManifestError) as caught:
            load_manifest([tmp_path])
        assert caught.value.problems == (
            Problem(None, f"{path}: this is {words}, not a manifest file — pass a YAML file or a directory of them"),
        )


@pytest.mark.parametrize(
    ("edit", "kept"),
    [
        pytest.param(("name: orders-prod", "name: " + "x" * 1_000_000), "'xxxx", id="name"),
        pytest.param(("database: 7654321", "database: " + "y" * 1_000_000), "got yyyy", id="type"),
        pytest.param(("name: orders-prod", "name: orders-prod\n    " + "k" * 1_000 + ": 1"), "unknown key", id="key"),
        pytest.param(
            ("name: orders-prod", "name: orders-prod\n    tier: " + "t" * 1_000_000), "is not one of", id="enum"
        ),
    ],
)
def test_a_huge_bad_value_is_not_echoed_back_in_full(tmp_path: Path, edit: tuple[str, str], kept: str) -> None:
    """Item 17: a 1 MB bad value was quoted back whole, in every line that named it."""
    code, _, err = _validate(_write(tmp_path, GOOD_DB.replace(*edit)))
    assert code == 1 and kept in err
    assert len(err) < 1_000, err[:300]


# --- Active-Active databases (issue 19) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backup", "expected"),
    [
        pytest.param(
            "    backup:\n      path: s3://b/p\n      regions:\n        us-east-1: {path: s3://b/p}\n",
            "m.yaml:7:7: databases[0].backup.path: `regions` stands alone in a backup block — move this setting "
            "under each region it applies to",
            id="regions-beside-flat-settings",
        ),
        pytest.param(
            "    backup:\n      regions:\n        US-EAST-1: {path: s3://b/p}\n",
            "m.yaml:8:9: databases[0].backup.regions: 'US-EAST-1' is not valid — name a region as Redis Cloud "
            "reports it (crdbDatabases[].region): lowercase letters, digits and '-', e.g. us-east-1",
            id="a-region-name-outside-the-api-s-form",
        ),
        pytest.param(
            "    backup:\n      regions:\n        eu-west-1: {interval: every-24-hours}\n",
            "m.yaml:8:20: databases[0].backup.regions.eu-west-1: missing 'path' — an enabled backup needs a "
            "destination such as s3://bucket/path",
            id="each-region-is-a-backup-block",
        ),
        pytest.param(
            "    backup:\n      regions: {}\n",
            "m.yaml:7:16: databases[0].backup.regions: {} should be non-empty",
            id="no-region",
        ),
        pytest.param(
            "    backups:\n      - {id: a, region: us-east-1, regions: all}\n",
            "m.yaml:7:36: databases[0].backups[0].regions: `region` names one region and `regions: all` every one "
            "— keep one of them",
            id="region-and-regions",
        ),
    ],
)
def test_active_active_forms_are_checked_where_they_are_written(tmp_path: Path, backup: str, expected: str) -> None:
    assert _problems(_write(tmp_path, GOOD_DB + backup)) == [f"{tmp_path}/{expected}"]


def test_active_active_forms_build_into_the_model(tmp_path: Path) -> None:
    text = GOOD_DB + (
        "    backup:\n      regions:\n        us-east-1: {path: 'ftp://${env:U}@h/d', interval: every-6-hours}\n"
        "        eu-west-1: {enabled: false}\n"
        "    backups:\n      - {id: a, region: us-east-1}\n      - {id: b, regions: all, path: s3://x/y}\n"
    )
    spec = load_manifest([_write(tmp_path, text)]).databases[0]
    assert spec.backup is None and spec.backup_regions is not None
    assert [(r.region, r.settings.enabled, r.settings.storage_type) for r in spec.backup_regions] == [
        ("us-east-1", True, "ftp"),
        ("eu-west-1", False, None),
    ]
    assert [(b.id, b.region, b.all_regions, b.path) for b in spec.backups] == [
        ("a", "us-east-1", False, None),
        ("b", None, True, "s3://x/y"),
    ]


def _jsonschema_errors(document: object) -> list[str]:
    """The oracle: jsonschema itself on the shipped schema, integers written as such (an id is never 1.0 or true)."""
    from jsonschema import Draft202012Validator, validators

    def whole(_: object, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", whole)
    strict = validators.extend(Draft202012Validator, type_checker=checker)
    schema = json.loads((Path(__file__).parent.parent / "schemas" / "manifest.v1.json").read_text())
    return [error.message for error in strict(schema).iter_errors(document)]


def _db(**fields: object) -> dict[str, object]:
    return {"version": 1, "databases": [{"name": "a", "subscription": 1, "database": 2, **fields}]}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(_db(), id="valid"),
        pytest.param({"version": True, "databases": []}, id="version-true"),
        pytest.param({"version": 1.0, "databases": []}, id="version-float"),
        pytest.param(_db(database=2.0), id="id-float"),
        pytest.param(_db(database=True), id="id-true"),
        pytest.param(_db(database=10**40), id="id-huge"),
        pytest.param(_db(name="a\n"), id="name-line-break"),
        pytest.param(_db(backup={"regions": {1: {"path": "s3://b/p"}}}), id="region-int-key"),
        pytest.param(_db(backup={"regions": {None: {}}}), id="region-null-key"),
        pytest.param(_db(backup={"regions": {"r": {"path": 1.5}}}), id="float-path"),
        pytest.param(_db(imports=[{"id": "i", "from": ["s3://a/b", "s3://a/b"], "confirm": "a"}]), id="from-twice"),
        pytest.param(_db(imports=[{"id": "i", "from": [], "confirm": "a"}]), id="from-empty"),
        pytest.param({"version": 1, "databases": [], 5: 1}, id="int-key"),
        pytest.param(_db(backups=[{"id": "b", "regions": True}]), id="regions-true"),
        pytest.param(_db(drills=[{"id": "d", "into": "b", "every": "1d", "verify": {"min_keys": 0}}]), id="keys-0"),
        pytest.param(_db(drills=[{"id": "d", "into": "b", "every": "1d", "verify": {"min_keys": 1.0}}]), id="keys-1.0"),
        pytest.param(
            _db(drills=[{"id": "d", "into": "b", "every": "1d", "verify": {"min_keys": False}}]), id="keys-no"
        ),
        pytest.param({"version": 1, "databases": [], "owner": "team a"}, id="owner-inner-space"),
        pytest.param({"version": 1, "databases": [], "owner": "team "}, id="owner-final-space"),
        pytest.param(_db(backup={"path": "s3://a\u00a0b"}), id="path-nbsp"),
        pytest.param(_db(backup={"path": "s3://a\x1cb"}), id="path-control"),
        pytest.param({"version": 1, "databases": None}, id="databases-null"),
    ],
)
def test_schema_problems_appear_exactly_where_jsonschema_finds_errors(document: dict[object, object]) -> None:
    """A compiled validator says "valid" first (issue 16); it must never pass what jsonschema would refuse."""
    from reconciler.manifest.schema import schema_problems
    from reconciler.manifest.yaml_source import YamlDocument

    node = yaml.compose("{}")
    assert node is not None
    problems = list(schema_problems(YamlDocument("m.yaml", b"", document, node)))
    assert bool(problems) == bool(_jsonschema_errors(document)), problems
