"""`reconciler discover` (issue 17): the name rule and the entries as pure functions with tables of cases, the
emitted YAML read back through the loader, and the command over the emulator, in-process and as a process: GETs
only, files never replaced without --force, secrets never written, and `plan` on the result empty at 2,000
databases for the cost of the list pages."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from reconciler.atomic import write_text
from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.session import Credentials, Session, open_http
from reconciler.core.desired import BackupSettings, Tier
from reconciler.core.discovery import FoundDatabase, base_name, discovered, manifest_names
from reconciler.core.live import LiveBackup
from reconciler.manifest.load import load_manifest
from reconciler.manifest.writer import manifest_files, manifest_text
from reconciler.refresh import discover_databases
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, SANDBOX_VIEWER_SECRET_KEY, Emulator
from reconciler.sandbox.seed import world_from_document
from tests.support.cli import cli, run_reconciler
from tests.support.examples import SEED
from tests.support.workdirs import STATE, sandbox_dir, world

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
NO_CHANGES = "No changes. Live state matches the manifest."


def found(name: str, database: int = 1, subscription: int = 10, backup: LiveBackup | None = None) -> FoundDatabase:
    return FoundDatabase(Tier.PRO, subscription, database, name, backup or LiveBackup(enabled=False))


# --- names -------------------------------------------------------------------------------------------------

BASE_NAMES = [
    pytest.param("orders-prod", "orders-prod", id="already-valid"),
    pytest.param("Orders Prod (EU)", "orders-prod-eu", id="case-spaces-brackets"),
    pytest.param("  __cache__  ", "cache", id="trimmed"),
    pytest.param("a...b___c", "a-b-c", id="runs-become-one-dash"),
    pytest.param("Café Crème", "cafe-creme", id="accents-dropped"),
    pytest.param("订单", "", id="nothing-left"),
    pytest.param("x" * 39 + "-yz", "x" * 39, id="cut-to-40-no-dash-at-the-end"),
    pytest.param("2024-reports", "2024-reports", id="digit-first"),
]


@pytest.mark.parametrize(("live", "expected"), BASE_NAMES)
def test_a_live_name_is_made_valid(live: str, expected: str) -> None:
    assert base_name(live) == expected


NAME_SETS = [
    pytest.param([("orders", 5)], ["orders"], id="unique-kept"),
    pytest.param([("Orders", 5), ("orders", 6)], ["orders-5", "orders-6"], id="clash-both-get-their-id"),
    pytest.param([("!!!", 7)], ["db-7"], id="nothing-left-db-id"),
    pytest.param(
        [("a", 5), ("A", 6), ("a-5", 9)], ["a-5", "a-6", "a-5-9"], id="a-suffixed-name-taken-the-plain-one-moves-up"
    ),
    pytest.param([("y" * 40, 123456), ("Y" * 40, 123457)], ["y" * 33 + "-123456", "y" * 33 + "-123457"], id="cut"),
]


@pytest.mark.parametrize(("live", "expected"), NAME_SETS)
def test_names_are_unique_and_do_not_depend_on_the_order(live: list[tuple[str, int]], expected: list[str]) -> None:
    databases = [found(name, database) for name, database in live]
    for order in (databases, databases[::-1]):
        names = manifest_names(order)
        assert [names[db.key] for db in databases] == expected
        assert all(NAME.match(name) for name in names.values())


def test_the_same_name_and_id_in_two_subscriptions_fall_back_to_both_ids() -> None:
    names = manifest_names([found("x", 5, subscription=1), found("x", 5, subscription=2)])
    assert names == {(1, 5): "db-1-5", (2, 5): "db-2-5"}


def test_a_thousand_random_names_come_out_valid_and_unique() -> None:
    chance = random.Random(17)
    alphabet = "aAbB-_ .9/é订"
    databases = [found("".join(chance.choices(alphabet, k=chance.randint(0, 50))), n) for n in range(1, 1001)]
    names = manifest_names(databases)
    assert len(set(names.values())) == 1000 and all(NAME.match(name) for name in names.values())


# --- entries and their YAML --------------------------------------------------------------------------------

AWKWARD = "p@ss/w:rd+=" * 300  # `@ / : + =`, and very long
ENCODED = quote(AWKWARD, safe="")  # as the API holds a password our apply sent (resolve encodes user-info)
AZURE_KEY = "Zm9v/YmFy+cXV4==" * 20  # base64: '/', '+' and '=' unencoded, as the docs write it


def pro(path: str | None, interval: str | None = "every-24-hours", time_utc: str | None = None) -> LiveBackup:
    return LiveBackup(enabled=True, path=path, interval=interval, time_utc=time_utc)


ENTRIES = [
    pytest.param(
        pro("s3://b/orders/", "every-12-hours", "4:00"),
        BackupSettings(enabled=True, path="s3://b/orders/", interval="every-12-hours", time_utc="04:00"),
        None,
        id="12-hourly-time-normalised",
    ),
    pytest.param(
        pro("gs://b/x", "every-6-hours", ""),
        BackupSettings(True, "gs://b/x", None, "every-6-hours"),
        None,
        id="untimed-interval",
    ),
    pytest.param(LiveBackup(enabled=False, interval="", time_utc=""), BackupSettings(False), None, id="off"),
    pytest.param(
        pro(f"ftp://backup:{ENCODED}@ftp.example.com/db"),
        BackupSettings(
            True, "ftp://backup:${env:DB_BACKUP_PASSWORD}@ftp.example.com/db", interval="every-24-hours", time_utc=None
        ),
        "DB_BACKUP_PASSWORD",
        id="ftp-password-to-a-reference",
    ),
    pytest.param(
        pro(f"abs://{AZURE_KEY}@acct/container/dir"),
        BackupSettings(True, "abs://:${env:DB_BACKUP_KEY}@acct/container/dir", interval="every-24-hours"),
        "DB_BACKUP_KEY",
        id="azure-key-to-a-reference",
    ),
    pytest.param(pro("redis-managed://repo/x"), None, None, id="a-scheme-no-manifest-holds"),
    pytest.param(pro("s3://b/with space"), None, None, id="not-a-uri"),
    pytest.param(pro(None), None, None, id="on-without-a-destination"),
    pytest.param(
        pro("s3://b/x", "every-24-hours", "04:30"),
        BackupSettings(True, "s3://b/x", None, "every-24-hours"),
        None,
        id="not-a-whole-hour-left-out",
    ),
    pytest.param(pro("s3://b/x", "every-90-minutes"), BackupSettings(True, "s3://b/x"), None, id="unknown-interval"),
]


@pytest.mark.parametrize(("live", "expected", "variable"), ENTRIES)
def test_each_live_backup_becomes_the_block_that_reads_back_the_same(
    live: LiveBackup, expected: BackupSettings | None, variable: str | None, tmp_path: Path
) -> None:
    (entry,) = discovered([found("db", 42, backup=live)])
    assert entry.backup == expected
    assert (entry.variables[0].name if entry.variables else None) == variable
    assert bool(entry.notes) == (expected is None or _left_out(live, expected))
    text = manifest_text([entry], schema="../schemas/manifest.v1.json")
    assert AWKWARD not in text and ENCODED not in text and AZURE_KEY not in text
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    (spec,) = load_manifest([tmp_path / "m.yaml"]).databases  # valid: schema and checks
    assert (spec.name, spec.subscription, spec.database, spec.tier, spec.protected) == ("db", 10, 42, Tier.PRO, False)
    if expected is None:
        assert spec.backup is None
    else:
        assert spec.backup is not None
        assert (spec.backup.enabled, spec.backup.path, spec.backup.interval, spec.backup.time_utc) == (
            expected.enabled,
            expected.path,
            expected.interval,
            expected.time_utc,
        )


def _left_out(live: LiveBackup, written: BackupSettings) -> bool:
    """A time or an interval the live state has but the block could not say."""
    return (live.interval not in (None, "", written.interval)) or (
        written.interval in ("every-12-hours", "every-24-hours") and bool(live.time_utc) and not written.time_utc
    )


@pytest.mark.parametrize(
    "path",
    [
        "ftp://u:se\ncret-Pw7@h/x",
        "ftp://u:se cret-Pw7@h/x",
        "s3://u:se\x7fcret-Pw7@b/x",
        "ftp://u:p@ss/cret-Pw7@ftp.example.com/x",  # unencoded '@' and '/': where the password ends is a guess
        "ftp://u:cret-Pw7@ftp.example.com/dir@x",
    ],
    ids=repr,
)
def test_a_destination_no_uri_can_hold_is_left_out_and_not_shown(path: str) -> None:
    (entry,) = discovered([found("db", 42, backup=pro(path))])
    text = manifest_text([entry], schema="x")
    assert entry.backup is None and entry.variables == ()
    assert any(why in text for why in ("not a URI", "cannot hold", "cannot be told"))
    assert "cret-Pw7" not in text


def test_essentials_gets_a_path_only_and_active_active_without_regions_no_backup_block(tmp_path: Path) -> None:
    databases = [
        FoundDatabase(Tier.ESSENTIALS, 20, 1, "cache", LiveBackup(True, "s3://b/c", "every-24-hours")),
        FoundDatabase(Tier.PRO, 10, 2, "Global Sessions", None),
    ]
    files = manifest_files(discovered(databases), split="subscription", schema="s.json")
    assert [file.name for file in files] == ["essentials-20.yaml", "pro-10.yaml"]
    active_active = files[1].text
    assert '- name: global-sessions  # live name: "Global Sessions"' in active_active
    assert "# Active-Active, but Redis Cloud reported none of its regions" in active_active
    assert "backup:" not in active_active
    for file in files:
        assert file.text.startswith("# yaml-language-server: $schema=s.json\n")
        (tmp_path / file.name).write_text(file.text, encoding="utf-8")
    cache, sessions = load_manifest([tmp_path]).databases
    assert cache.backup == BackupSettings(True, "s3://b/c", "aws-s3") and sessions.backup is None


@pytest.mark.parametrize(
    "live",
    ["null", "Yes", "on", "123", "0x1f", "1e3", "a: b", "# not a comment", 'quote " and \\ back\nslash', "\t"]
    + ["line\u2028sep", "next\x85line", "\ufeffbom", "\x7f", "订单 été"],
)
def test_names_and_live_names_that_yaml_would_misread_are_quoted(live: str, tmp_path: Path) -> None:
    entries = discovered([found(live, 3)])
    (tmp_path / "m.yaml").write_text(manifest_text(entries, schema="x"), encoding="utf-8")
    assert load_manifest([tmp_path / "m.yaml"]).databases[0].name == entries[0].name
    assert len((tmp_path / "m.yaml").read_text(encoding="utf-8").splitlines()) == 13  # no comment broke a line
    assert yaml.safe_load((tmp_path / "m.yaml").read_text())["databases"][0]["name"] == entries[0].name  # YAML 1.1


# --- the command, over the emulator ------------------------------------------------------------------------


def seeded(directory: Path, subscriptions: list[dict[str, Any]], **options: Any) -> Path:
    """A `--sandbox` world in `directory` with these subscriptions, the example account's keys, fast timings."""
    document = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    document["timings"] = {name: 0 for name in document["timings"]} | {"rate_limit_window": 60}
    document["options"] |= {"rate_limit": 1_000_000, **options}
    document["subscriptions"] = subscriptions
    # The world itself, as `reset` would save it from a seed file: 2,000 databases take seconds through YAML.
    (directory / STATE).mkdir(parents=True)
    (directory / STATE / "world.json").write_text(json.dumps(world_from_document(document)), encoding="utf-8")
    return directory


def requests(directory: Path, since: int = 0) -> list[tuple[str, str]]:
    return [(entry.method, entry.path) for entry in world(directory).request_log()[since:]]


def test_discover_then_plan_is_empty_and_costs_only_the_list_pages(tmp_path: Path) -> None:
    work = sandbox_dir(tmp_path)
    ran = cli(work, "discover")
    assert ran.code == 0, ran.err
    assert sorted(p.name for p in (work / "manifests").iterdir()) == [
        "essentials-2345678.yaml",
        "pro-1234567.yaml",
        "pro-1234568.yaml",
        "pro-1234569.yaml",
    ]
    assert "9 databases: 6 with backup settings, 3 with backup off" in ran.out
    # Two subscription lists and one page per subscription: its items carry their backup objects (an
    # Active-Active database's per region).
    assert sorted(path for _, path in requests(work)) == [
        "/v1/fixed/subscriptions",
        "/v1/fixed/subscriptions/2345678/databases",
        "/v1/subscriptions",
        "/v1/subscriptions/1234567/databases",
        "/v1/subscriptions/1234568/databases",
        "/v1/subscriptions/1234569/databases",
    ]
    active_active = yaml.safe_load((work / "manifests" / "pro-1234569.yaml").read_text(encoding="utf-8"))
    [orders_aa] = active_active["databases"]
    assert set(orders_aa["backup"]) == {"regions"}  # the per-region form (issue 19)
    assert set(orders_aa["backup"]["regions"]) == {"us-east-1", "eu-west-1"}
    assert cli(work, "validate", "-f", "manifests").code == 0
    before = len(requests(work))
    planned = cli(work, "plan", "-f", "manifests", "--detailed-exitcode")
    assert planned.code == 0 and NO_CHANGES in planned.out, planned.out + planned.err
    # One page per subscription, read concurrently: in any order.
    assert sorted(path for _, path in requests(work, before)) == [
        "/v1/fixed/subscriptions/2345678/databases",
        "/v1/subscriptions/1234567/databases",
        "/v1/subscriptions/1234568/databases",
        "/v1/subscriptions/1234569/databases",
    ]


def test_a_viewer_key_is_enough_and_nothing_is_written_to_the_account(tmp_path: Path) -> None:
    work = sandbox_dir(tmp_path)
    keys = {"REDISCLOUD_ACCESS_KEY": SANDBOX_ACCESS_KEY, "REDISCLOUD_SECRET_KEY": SANDBOX_VIEWER_SECRET_KEY}
    assert cli(work, "discover", "--out", "adopted", environ=keys).code == 0
    log = world(work).request_log()
    assert log and {(entry.method, entry.key) for entry in log} == {("GET", "viewer")}


def test_without_backup_in_the_pro_list_each_pro_database_is_read_once(tmp_path: Path) -> None:
    work = sandbox_dir(tmp_path, {"pro_list_includes_backup": False})
    assert cli(work, "discover").code == 0
    gets = [path for _, path in requests(work) if re.fullmatch(r"/v1/subscriptions/\d+/databases/\d+", path)]
    assert (
        len(gets) == len(set(gets)) == 7
    )  # the seven Pro databases (one Active-Active); Essentials items carry backup
    planned = cli(work, "plan", "-f", "manifests")
    assert planned.code == 0 and NO_CHANGES in planned.out, planned.err


def test_existing_files_are_never_replaced_without_force(tmp_path: Path) -> None:
    work = sandbox_dir(tmp_path)
    (work / "manifests").mkdir()
    mine = work / "manifests" / "pro-1234568.yaml"
    mine.write_text("# mine\n", encoding="utf-8")
    refused = cli(work, "discover")
    assert refused.code == 1
    assert f"{Path('manifests') / 'pro-1234568.yaml'} exists — pass --force to replace it" in refused.err
    assert "nothing was written" in refused.err and "Traceback" not in refused.err
    assert [p.name for p in (work / "manifests").iterdir()] == ["pro-1234568.yaml"]  # no other file, no temp
    assert mine.read_text(encoding="utf-8") == "# mine\n"

    (work / "manifests" / "team.yaml").write_text("version: 1\ndatabases: []\n", encoding="utf-8")
    forced = cli(work, "discover", "--force")
    assert forced.code == 0, forced.err
    assert "name: analytics-prod" in mine.read_text(encoding="utf-8")
    assert f"Note: {Path('manifests')} also holds team.yaml, which plan reads too" in forced.err


def test_a_file_that_appears_after_the_check_is_not_replaced_either(tmp_path: Path) -> None:
    """The race `--force` alone may win: the check found no file, and one appeared before the write."""
    target = tmp_path / "pro-1.yaml"
    target.write_text("# written by someone else meanwhile\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_text(target, "version: 1\n", overwrite=False)
    assert target.read_text(encoding="utf-8") == "# written by someone else meanwhile\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pro-1.yaml"]  # no temp file left
    write_text(tmp_path / "new.yaml", "version: 1\n", overwrite=False)
    assert (tmp_path / "new.yaml").read_text(encoding="utf-8") == "version: 1\n"


def test_subscription_tier_and_split_choose_what_is_written(tmp_path: Path) -> None:
    work = sandbox_dir(tmp_path)
    assert cli(work, "discover", "--subscription", "1234568", "--out", "one").code == 0
    assert [p.name for p in (work / "one").iterdir()] == ["pro-1234568.yaml"]
    assert cli(work, "discover", "--tier", "essentials", "--split", "none", "--out", "all").code == 0
    (spec_a, spec_b) = load_manifest([work / "all" / "discovered.yaml"]).databases
    assert {spec_a.tier, spec_b.tier} == {Tier.ESSENTIALS}

    empty = seeded(tmp_path / "empty", [{"id": 5, "name": "new", "tier": "pro", "databases": []}])
    nothing = cli(empty, "discover", "--subscription", "5")
    assert nothing.code == 0 and nothing.out == "No databases found in subscription 5: nothing written.\n"
    assert not (empty / "manifests").exists()

    unknown = cli(work, "discover", "--subscription", "2345678", "--tier", "pro")
    assert unknown.code == 1
    assert "subscription 2345678 is not among the account's pro subscriptions — check the id and --tier" in unknown.err


def test_literal_credentials_become_references_and_are_written_and_printed_nowhere(tmp_path: Path) -> None:
    ftp = f"ftp://backup:{ENCODED}@ftp.example.com/orders"
    azure = f"abs://:{AZURE_KEY}@acmeblobs/backups/sessions"
    s3 = "s3://AKIAEXAMPLE:se/cr+et=Q9@acme-backups/catalog"
    work = seeded(
        tmp_path,
        [
            {
                "id": 1,
                "name": "prod",
                "tier": "pro",
                "databases": [
                    {"id": 11, "name": "Orders", "backup": {"path": ftp, "interval": "every-24-hours"}},
                    {"id": 12, "name": "sessions", "backup": {"path": azure, "interval": "every-1-hours"}},
                    {"id": 13, "name": "catalog", "backup": {"path": s3, "interval": "every-2-hours"}},
                ],
            }
        ],
    )
    ran = cli(work, "--debug", "discover")
    assert ran.code == 0, ran.err
    text = (work / "manifests" / "pro-1.yaml").read_text(encoding="utf-8")
    everything = ran.out + ran.err + text
    for secret in (AWKWARD, ENCODED, AZURE_KEY, "se/cr+et=Q9", quote(AZURE_KEY, safe="")):
        assert secret not in everything
    assert "path: ftp://backup:${env:ORDERS_BACKUP_PASSWORD}@ftp.example.com/orders\n" in text
    assert "    # ORDERS_BACKUP_PASSWORD: set it to the credential the live destination holds, before plan.\n" in text
    assert "path: abs://:${env:SESSIONS_BACKUP_KEY}@acmeblobs/backups/sessions" in text
    assert "path: s3://AKIAEXAMPLE:${env:CATALOG_BACKUP_PASSWORD}@acme-backups/catalog" in text
    listed = ran.out.split("not percent-encoded):\n", 1)[1].splitlines()
    assert [line.split()[:2] for line in listed] == [
        ["ORDERS_BACKUP_PASSWORD", "orders:"],
        ["SESSIONS_BACKUP_KEY", "sessions:"],
        ["CATALOG_BACKUP_PASSWORD", "catalog:"],
    ]
    assert "ftp://backup:****@ftp.example.com/orders" in listed[0]

    unset = cli(work, "plan", "-f", "manifests")
    assert unset.code == 1 and "environment variable ORDERS_BACKUP_PASSWORD is not set" in unset.err
    values = {"ORDERS_BACKUP_PASSWORD": AWKWARD, "SESSIONS_BACKUP_KEY": AZURE_KEY, "CATALOG_BACKUP_PASSWORD": "x"}
    planned = cli(work, "plan", "-f", "manifests", "--detailed-exitcode", environ=values)
    assert planned.code == 0 and NO_CHANGES in planned.out, planned.out + planned.err


def test_an_active_active_list_item_is_written_per_region_from_the_page_alone(tmp_path: Path) -> None:
    """An edge in front of the emulator dresses a single-region list item as the staging fixture's Active-Active
    ones (`activeActiveRedis`, `crdbDatabases[].backup`, no database-wide backup; API-NOTES §11)."""
    emulator = Emulator(seed=SEED)

    def edge(request: httpx.Request) -> httpx.Response:
        answer = emulator.handle(request)
        if not request.url.path.endswith("/subscriptions/1234567/databases"):
            return answer
        body = json.loads(answer.read())
        for item in body["subscription"][0]["databases"]:
            if item["databaseId"] == 7654322:
                item["activeActiveRedis"] = True
                item["crdbDatabases"] = [{"region": "us-east-1", "backup": item.pop("backup")}]
        return httpx.Response(answer.status_code, json=body)

    credentials = Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)
    http = open_http("https://sandbox.test/v1", credentials, transport=httpx.MockTransport(edge))
    with http:
        found_dbs = discover_databases(RedisCloudClient(Session(http)), [Tier.PRO], frozenset({1234567}))
    assert [path for _, path in ((r.method, r.path) for r in emulator.request_log())] == [
        "/v1/subscriptions",
        "/v1/subscriptions/1234567/databases",
    ]  # no GET of the Active-Active database: the page has each region's backup
    (sessions,) = [entry for entry in discovered(found_dbs) if entry.found.database == 7654322]
    assert sessions.backup is None and [region.region for region in sessions.regions] == ["us-east-1"]
    text = manifest_files([sessions], split="none", schema="s.json")[0].text
    assert "    backup:  # Active-Active: each region's own settings\n      regions:\n        us-east-1:\n" in text


# --- the round trip at 2,000 databases ---------------------------------------------------------------------


def _fleet() -> list[dict[str, Any]]:
    """2,000 databases over three subscriptions, with what makes names and settings hard: clashing and empty
    names, backup off, afternoon 12-hourly times (read back as the morning twin), literal credentials."""

    def database(n: int, tier: str) -> dict[str, Any]:
        name = ["Orders", "orders", "!!!", f"Team {n % 40} Cache", f"db-{n}"][n % 5]
        if n % 7 == 0:
            backup: dict[str, Any] = {"enabled": False}
        elif tier == "essentials":
            backup = {"path": f"s3://ess/{n}"}
        elif n % 7 == 1:
            backup = {"path": f"gs://b/{n}/", "interval": "every-12-hours", "time_utc": f"{12 + n % 12:02d}:00"}
        elif n % 7 == 2:
            backup = {"path": f"ftp://u:{quote(AWKWARD[: n % 50 + 5], safe='')}@ftp.example.com/{n}"}
        else:
            backup = {"path": f"s3://b/{n}", "interval": "every-6-hours"}
        return {"id": n, "name": name, "backup": backup}

    layout = [
        (1, "pro", range(100_000, 100_900)),
        (2, "pro", range(200_000, 200_700)),
        (3, "essentials", range(300_000, 300_400)),
    ]
    return [
        {"id": sub, "name": f"s{sub}", "tier": tier, "databases": [database(n, tier) for n in ids]}
        for sub, tier, ids in layout
    ]


def test_two_thousand_databases_round_trip_with_an_empty_plan_for_the_list_pages(tmp_path: Path) -> None:
    work = seeded(tmp_path, _fleet())
    ran = cli(work, "discover")
    assert ran.code == 0, ran.err
    assert "2,000 databases:" in ran.out
    pages = (900 // 100 + 1) + (700 // 100 + 1) + (400 // 100 + 1)  # the last is short, a 404 (Pro) or empty
    assert len(requests(work)) == 2 + pages  # and the two lists of subscriptions
    names = [
        entry["name"]
        for file in (work / "manifests").iterdir()
        for entry in yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["databases"]
    ]
    assert len(names) == len(set(names)) == 2000
    variables = {line.split()[0] for line in ran.out.split("not percent-encoded):\n", 1)[1].splitlines()}
    assert len(variables) == sum(1 for n in range(100_000, 100_900) if n % 7 == 2) + sum(
        1 for n in range(200_000, 200_700) if n % 7 == 2
    )
    before = len(requests(work))
    planned = cli(work, "plan", "-f", "manifests", "--detailed-exitcode", environ=dict.fromkeys(variables, "pw"))
    assert planned.code == 0 and NO_CHANGES in planned.out, planned.out[-2000:] + planned.err
    planned_requests = requests(work, before)
    assert len(planned_requests) == pages
    assert all(method == "GET" and path.endswith("/databases") for method, path in planned_requests)


# --- as a process: help, usage errors, exit codes ----------------------------------------------------------


def test_help_names_the_rule_for_names(tmp_path: Path) -> None:
    result = run_reconciler("discover", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "gets -<id>, its database id" in result.stdout and "db-<subscription>-<id>." in result.stdout
    assert "--split {subscription,none}" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--split", "both"], "argument --split: invalid choice: 'both'"),
        (["--subscription", "abc"], "argument --subscription: expected a whole number, got 'abc'"),
        (["--tier", "free"], "argument --tier: invalid choice: 'free'"),
        (["--forc"], "flags are not abbreviated: write --force in full"),
    ],
)
def test_bad_flags_are_usage_errors(argv: list[str], message: str, tmp_path: Path) -> None:
    result = run_reconciler("--sandbox", "discover", *argv, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "manifests").exists()


def test_as_a_process_it_writes_and_then_refuses_to_replace(tmp_path: Path) -> None:
    work = sandbox_dir(tmp_path)
    first = run_reconciler("--sandbox", "discover", "--out", "m", cwd=work)
    assert first.returncode == 0, first.stderr
    assert "Next: review the files, then `reconciler plan -f m` shows no changes." in first.stderr
    again = run_reconciler("--sandbox", "discover", "--out", "m", cwd=work)
    assert again.returncode == 1 and again.stderr.count("exists — pass --force") == 4
    forced = run_reconciler("--sandbox", "discover", "--out", "m", "--force", cwd=work)
    assert forced.returncode == 0 and forced.stdout.count("Wrote m/") == 4, forced.stderr
    not_a_dir = run_reconciler("--sandbox", "discover", "--out", "m/pro-1234567.yaml", cwd=work)
    assert not_a_dir.returncode == 1 and "not a directory" in not_a_dir.stderr
