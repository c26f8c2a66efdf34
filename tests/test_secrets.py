"""Secrets never reach output, plan files or the CI summary, with `--debug` and on error paths too (SPEC §9)."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from reconciler.cli import main
from reconciler.core.uris import resolve
from reconciler.output.redact import Redactor
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Fault
from tests.support.cli import Ran, cli, run_reconciler
from tests.support.manifests import write_manifest
from tests.support.workdirs import STATE, copy_examples, sandbox_dir, world

ACCESS_KEY = "acme-ci-access-Kq7Zp2"
SECRET_KEY = "acme-ci-secret-Wv93Lm"
WRONG_SECRET = "wrong-secret-Hd82Rt"
SEED_FTP_PASSWORD = "seed-ftp-Pw5tR8"
BACKUP_FTP_PASSWORD = "backup-ftp-Pw3Gx1"
LIVE_SECRET = "LiveSecret123"  # stored in the account, read back in a backup destination
LITERAL_PASSWORD = "Literal-Pw-Q9zz"
SECRETS = (ACCESS_KEY, SECRET_KEY, WRONG_SECRET, SEED_FTP_PASSWORD, BACKUP_FTP_PASSWORD, LIVE_SECRET, LITERAL_PASSWORD)

MANIFEST = """\
version: 1
databases:
  - name: catalog-prod
    subscription: 1234567
    database: 7654323
    backup:
      path: ftp://backup:${env:BACKUP_FTP_PASSWORD}@ftp.acme.example/catalog
      interval: every-24-hours
      time_utc: "02:00"
    imports:
      - id: seed-from-ftp
        from: ftp://loader:${env:SEED_FTP_PASSWORD}@ftp.acme.example/x.rdb
        confirm: catalog-prod
"""
UNKNOWN_DATABASE = """\
  - name: ghost-db
    subscription: 1234567
    database: 1
    backup: {path: "ftp://u:${env:BACKUP_FTP_PASSWORD}@ftp.acme.example/ghost", interval: every-6-hours}
"""
LITERAL = f"""\
version: 1
databases:
  - name: catalog-prod
    subscription: 1234567
    database: 7654323
    imports:
      - id: seed-literal
        from: ftp://loader:{LITERAL_PASSWORD}@ftp.acme.example/x.rdb
        confirm: catalog-prod
"""


def plant_secrets(world: dict[str, Any]) -> None:
    """A CI key of the account, and a live FTP destination with its password in the URI."""
    world["api_keys"].append({"name": "ci", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "role": "owner"})
    for subscription in world["subscriptions"]:
        for database in subscription.get("databases") or []:
            if database["name"] == "catalog-prod":
                database["backup"] = {
                    "path": f"ftp://backup:{LIVE_SECRET}@ftp.example/path",
                    "interval": "every-24-hours",
                    "time_utc": "01:00",
                }


@pytest.fixture
def work(tmp_path: Path) -> Path:
    copy_examples(tmp_path, plant_secrets)
    write_manifest(tmp_path / "manifests", MANIFEST)
    return tmp_path


def run(work: Path, *args: str, secret_key: str = SECRET_KEY) -> subprocess.CompletedProcess[str]:
    return run_reconciler(
        "--sandbox",
        "--debug",
        *args,
        cwd=work,
        REDISCLOUD_ACCESS_KEY=ACCESS_KEY,
        REDISCLOUD_SECRET_KEY=secret_key,
        SEED_FTP_PASSWORD=SEED_FTP_PASSWORD,
        BACKUP_FTP_PASSWORD=BACKUP_FTP_PASSWORD,
        GITHUB_STEP_SUMMARY=str(work / "summary.md"),
    )


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {where}"


def assert_clean(work: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert_no_secret("stdout", result.stdout)
    assert_no_secret("stderr", result.stderr)
    for written in ("plan.json", "summary.md"):
        if (work / written).exists():
            assert_no_secret(written, (work / written).read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_shows_credentials_masked_or_unresolved_in_every_format(work: Path, fmt: str) -> None:
    result = run(work, "plan", "-f", "manifests/", "--format", fmt, "--out", "plan.json")
    assert result.returncode == 0, result.stderr
    assert_clean(work, result)
    # Not vacuous: the live destination is shown, masked, and the manifest's references stay unresolved.
    for text in (result.stdout, (work / "plan.json").read_text(encoding="utf-8")):
        assert "ftp://backup:****@ftp.example/path" in text
        assert "${env:SEED_FTP_PASSWORD}" in text and "${env:BACKUP_FTP_PASSWORD}" in text
    assert "ftp://backup:****@ftp.example/path" in (work / "summary.md").read_text(encoding="utf-8")
    assert "API requests:" in result.stderr  # --debug was on


def test_show_of_a_saved_plan_shows_no_secret(work: Path) -> None:
    assert run(work, "plan", "-f", "manifests/", "--out", "plan.json").returncode == 0
    for fmt in ("text", "json"):
        result = run(work, "show", "plan.json", "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert_clean(work, result)
    assert json.loads(result.stdout)["changes"]


def test_status_shows_the_live_destination_masked(work: Path) -> None:
    for fmt in ("text", "json"):
        result = run(work, "status", "-f", "manifests/", "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert_clean(work, result)
        assert "ftp://backup:****@ftp.example/path" in result.stdout


def test_a_wrong_key_error_shows_neither_key(work: Path) -> None:
    result = run(work, "plan", "-f", "manifests/", "--out", "plan.json", secret_key=WRONG_SECRET)
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr
    assert_clean(work, result)
    assert not (work / "plan.json").exists()


def test_an_unknown_database_error_shows_no_secret(work: Path) -> None:
    write_manifest(work / "manifests", MANIFEST + UNKNOWN_DATABASE)
    result = run(work, "plan", "-f", "manifests/", "--out", "plan.json")
    assert result.returncode == 1
    assert "ghost-db: database 1 in subscription 1234567 does not exist" in result.stderr
    assert_clean(work, result)
    assert not (work / "plan.json").exists()


def test_a_literal_credential_in_a_manifest_is_refused_without_echoing_it(work: Path) -> None:
    write_manifest(work / "manifests", LITERAL)
    result = run(work, "plan", "-f", "manifests/")
    assert result.returncode == 1
    assert "${env:" in result.stderr  # it says how to fix it
    assert_clean(work, result)


# --- issue 12 part 1: references anywhere in a user-info, encoded values, unset variables -----------------

AWKWARD = "Aw@k/w:rd+K3y=="  # '@', '/', ':', '+' and '=' (the issue's list)
AWKWARD_USER = "ci+loader@acme"
VARIABLES = {"SRC_SECRET": AWKWARD, "SRC_USER": AWKWARD_USER}
CATALOG_DB = 7654323
CATALOG = """\
version: 1
databases:
  - name: catalog-prod
    subscription: 1234567
    database: 7654323
"""

# (scheme case, the manifest's URI, exactly what the emulator must receive in importFromUri)
SOURCES = [
    pytest.param(
        "abs://:${env:SRC_SECRET}@acmestore/seeds/catalog.rdb",
        "abs://:Aw%40k%2Fw%3Ard%2BK3y%3D%3D@acmestore/seeds/catalog.rdb",
        id="abs",
    ),
    pytest.param(
        "abs://${env:SRC_SECRET}@acmestore/seeds/catalog.rdb",
        "abs://Aw%40k%2Fw%3Ard%2BK3y%3D%3D@acmestore/seeds/catalog.rdb",
        id="abs-no-colon",
    ),
    pytest.param(
        "ftp://${env:SRC_USER}:${env:SRC_SECRET}@ftp.acme.example/catalog.rdb",
        "ftp://ci+loader%40acme:Aw%40k%2Fw%3Ard+K3y==@ftp.acme.example/catalog.rdb",
        id="ftp",
    ),
    pytest.param(
        "ftps://loader:${env:SRC_SECRET}@ftp.acme.example:990/seeds@2026/catalog.rdb",
        "ftps://loader:Aw%40k%2Fw%3Ard+K3y==@ftp.acme.example:990/seeds@2026/catalog.rdb",
        id="ftps",
    ),
    pytest.param(
        "http://loader:${env:SRC_SECRET}@files.acme.example/catalog.rdb",
        "http://loader:Aw%40k%2Fw%3Ard+K3y==@files.acme.example/catalog.rdb",
        id="http",
    ),
    pytest.param(
        "https://${env:SRC_USER}:${env:SRC_SECRET}@files.acme.example/catalog.rdb",
        "https://ci+loader%40acme:Aw%40k%2Fw%3Ard+K3y==@files.acme.example/catalog.rdb",
        id="https",
    ),
    pytest.param("redis://${env:SRC_SECRET}@10.0.0.5:6379", "redis://Aw%40k%2Fw%3Ard+K3y==@10.0.0.5:6379", id="redis"),
]


def _catalog(directory: Path, extra: str) -> None:
    write_manifest(directory / "manifests", CATALOG + extra)


def _import(uri: str) -> str:
    return f'    imports:\n      - id: seed\n        from: "{uri}"\n        confirm: catalog-prod\n'


def _assert_never_shown(directory: Path, ran: Ran, *values: str) -> None:
    shown = {"stdout": ran.out, "stderr": ran.err}
    for name in ("plan.json", "report.json"):
        if (directory / name).exists():
            shown[name] = (directory / name).read_text(encoding="utf-8")
    for where, text in shown.items():
        for value in values:
            assert value not in text, f"{value!r} leaked into {where}"


@pytest.mark.parametrize(("uri", "received"), SOURCES)
def test_an_import_sends_referenced_credentials_percent_encoded(tmp_path: Path, uri: str, received: str) -> None:
    directory = sandbox_dir(tmp_path)
    _catalog(directory, _import(uri))
    planned = cli(directory, "plan", "-f", "manifests/", "--out", "plan.json", environ=VARIABLES)
    assert planned.code == 0, planned.err
    assert uri in planned.out  # the reviewer sees the references, unresolved

    ran = cli(directory, "apply", "-f", "manifests/", "--auto-approve", "--report", "report.json", environ=VARIABLES)
    assert ran.code == 0, ran.err
    # What the emulator received (its request log masks credentials, as a server's logs should).
    (sent,) = world(directory).import_history(CATALOG_DB)
    assert sent.uris == (received,) and sent.status == "success"
    parts = urlsplit(received)  # well formed: a standard parser gets every value back exactly
    assert unquote(parts.password or parts.username or "") == AWKWARD
    assert parts.hostname in ("acmestore", "ftp.acme.example", "files.acme.example", "10.0.0.5")
    _assert_never_shown(directory, planned, AWKWARD, "Aw%40k")
    _assert_never_shown(directory, ran, AWKWARD, "Aw%40k")


def test_backup_destinations_are_sent_percent_encoded_and_read_back_without_drift(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    _catalog(
        directory,
        "    backup:\n"
        "      path: ftp://backup:${env:SRC_SECRET}@ftp.acme.example/catalog\n"
        "      interval: every-24-hours\n"
        "    backups:\n"
        "      - id: adhoc\n"
        "        path: abs://:${env:SRC_SECRET}@acmestore/adhoc\n",
    )
    ran = cli(directory, "apply", "-f", "manifests/", "--auto-approve", "--report", "report.json", environ=VARIABLES)
    assert ran.code == 0, ran.err
    received = world(directory)
    assert received.database(CATALOG_DB)["backup"]["path"] == (
        "ftp://backup:Aw%40k%2Fw%3Ard+K3y==@ftp.acme.example/catalog"
    )
    (adhoc,) = received.backup_history(CATALOG_DB)
    assert adhoc.adhoc and adhoc.destination == "abs://:Aw%40k%2Fw%3Ard%2BK3y%3D%3D@acmestore/adhoc"
    _assert_never_shown(directory, ran, AWKWARD, "Aw%40k")

    again = cli(directory, "plan", "-f", "manifests/", "--detailed-exitcode", environ=VARIABLES)
    assert again.code == 0, again.out + again.err  # the encoded destination the API echoes is no drift
    assert "No changes" in again.out


def test_an_api_error_echoing_the_encoded_uri_shows_no_part_of_the_secrets(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    uri = "ftp://${env:SRC_USER}:${env:SRC_SECRET}@ftp.acme.example/missing.rdb"
    world(directory).mark_source("ftp://ci+loader%40acme:Aw%40k%2Fw%3Ard+K3y==@ftp.acme.example/missing.rdb", "missing")
    _catalog(directory, _import(uri))
    ran = cli(directory, "apply", "-f", "manifests/", "--auto-approve", "--report", "report.json", environ=VARIABLES)
    assert ran.code == 1
    # The description names the URI the API was sent: the password is masked, and so is the user name
    # wherever the redactor sees it (it is a variable too, so the redactor treats it as a secret).
    assert "DATABASE_IMPORT_SOURCE_NOT_FOUND" in ran.err and "ftp://****:****@ftp.acme.example/missing.rdb" in ran.err
    _assert_never_shown(directory, ran, AWKWARD, "Aw%40k", AWKWARD_USER)
    assert "ci+loader%40acme" not in ran.out + ran.err
    assert "ci+loader%40acme" not in (directory / "report.json").read_text()  # the report is output too


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_an_unset_variable_stops_plan_and_apply_before_any_request(
    tmp_path: Path, command: str, value: str | None
) -> None:
    directory = sandbox_dir(tmp_path)
    _catalog(
        directory,
        "    backup:\n"
        "      path: ftp://backup:${env:SRC_SECRET}@ftp.acme.example/catalog\n"
        "      interval: every-24-hours\n"
        + _import("redis://${env:SRC_SECRET}@10.0.0.5:6379")
        + "      - id: second\n        confirm: catalog-prod\n        from:\n"  # two shard files, one variable: the address is named once
        + "".join(
            f"          - ftp://${{env:SRC_USER}}:${{env:FTP_PASS}}@ftp.acme.example/x-{n}.rdb\n" for n in (1, 2)
        ),
    )
    before = len(world(directory).request_log())
    environ = {"SRC_USER": AWKWARD_USER} | ({"SRC_SECRET": value} if value is not None else {})
    argv = ("plan", "-f", "manifests/") if command == "plan" else ("apply", "-f", "manifests/", "--auto-approve")
    ran = cli(directory, *argv, environ=environ)
    assert ran.code == 1
    assert ran.err.splitlines()[:2] == [
        "Error: environment variable FTP_PASS is not set (needed by catalog-prod.imports.second)",
        "environment variable SRC_SECRET is not set (needed by catalog-prod.backup, catalog-prod.imports.seed)",
    ]
    assert "Traceback" not in ran.err and "None" not in ran.err
    assert len(world(directory).request_log()) == before  # not one request


def test_a_saved_plan_applied_without_its_variables_writes_nothing(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    shards = "".join(f"          - abs://:${{env:SRC_SECRET}}@acmestore/seeds/part-{n}.rdb\n" for n in (1, 2, 3))
    _catalog(directory, "    imports:\n      - id: seed\n        confirm: catalog-prod\n        from:\n" + shards)
    assert cli(directory, "plan", "-f", "manifests/", "--out", "plan.json", environ=VARIABLES).code == 0
    mark = len(world(directory).request_log())
    ran = cli(directory, "apply", "plan.json", "-f", "manifests/", "--auto-approve", environ={})
    assert ran.code == 1
    assert ran.err.splitlines()[0] == (
        "Error: environment variable SRC_SECRET is not set (needed by catalog-prod.imports.seed)"
    )
    assert world(directory).request_log()[mark:] == []  # not even a read: the variables are checked first


def test_target_narrows_the_variables_a_plan_needs(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    _catalog(
        directory,
        "    backup: {path: s3://acme-backups/catalog, interval: every-24-hours}\n"
        + _import("redis://${env:SRC_SECRET}@10.0.0.5:6379"),
    )
    narrowed = cli(directory, "plan", "-f", "manifests/", "--target", "catalog-prod.backup", environ={})
    assert narrowed.code == 0, narrowed.err
    assert "catalog-prod.backup" in narrowed.out and "imports.seed" not in narrowed.out
    whole = cli(directory, "plan", "-f", "manifests/", environ={})
    assert "SRC_SECRET is not set (needed by catalog-prod.imports.seed)" in whole.err


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(AWKWARD, id="at-slash-colon-plus-equals"),
        pytest.param("first\nsecond-line", id="newline"),
        pytest.param("Zq/+=@:" * 300, id="2KB"),
    ],
)
def test_the_redactor_knows_every_form_a_secret_travels_in(secret: str) -> None:
    redact = Redactor([secret])
    forms = {
        "raw": secret,
        "userinfo": resolve("ftp://u:${env:S}@h/f", {"S": secret}),
        "azure": resolve("abs://:${env:S}@acct/c/f", {"S": secret}),
        "json": json.dumps({"description": f"bad uri {resolve('redis://${env:S}@h:1', {'S': secret})}"}),
        "json-raw": json.dumps({"description": secret}),
        "repr": repr(secret),
        "lowercase-hex": re.sub("%[0-9A-F]{2}", lambda hexa: hexa.group(0).lower(), quote(secret, safe="")),
    }
    for name, text in forms.items():
        shown = redact(f"error: {text} (end)")
        assert shown.startswith("error: ") and shown.endswith(" (end)"), name
        for fragment in (secret, quote(secret, safe=""), forms["lowercase-hex"]):
            assert fragment not in shown, name
        assert "****" in shown, name


# --- issue 20 item 8 (and 18): keys that cannot be a header are refused at once, naming the variable ------


@contextmanager
def listening_port() -> Iterator[tuple[int, list[bytes]]]:
    """A port that accepts connections and records what arrives: proof that nothing was sent."""
    received: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    received.append(connection.recv(65536) or b"(connected)")
                except OSError:
                    received.append(b"(connected)")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], received
    finally:
        done.set()
        thread.join()
        server.close()


BAD_KEYS = [
    pytest.param("\n", "ends with a newline", id="trailing-newline"),
    pytest.param("\r\n", "ends with a carriage return", id="trailing-crlf"),
    pytest.param(" ", "ends with a space", id="trailing-space"),
    pytest.param("\tx", "holds a tab", id="inner-tab"),
    pytest.param("\u00e9x", "holds a non-ASCII character", id="non-ascii"),
    pytest.param("\u2013", "ends with a non-ASCII character", id="en-dash"),
]


@pytest.mark.parametrize("variable", ["REDISCLOUD_ACCESS_KEY", "REDISCLOUD_SECRET_KEY"])
@pytest.mark.parametrize(("suffix", "problem"), BAD_KEYS)
def test_a_key_with_whitespace_or_non_ascii_is_refused_before_any_request(
    tmp_path: Path, variable: str, suffix: str, problem: str
) -> None:
    copy_examples(tmp_path)
    keys = {"REDISCLOUD_ACCESS_KEY": ACCESS_KEY, "REDISCLOUD_SECRET_KEY": SECRET_KEY}
    keys[variable] += suffix
    with listening_port() as (port, received):
        result = run_reconciler(
            "--debug", "plan", "-f", "examples/", cwd=tmp_path, REDISCLOUD_URL=f"http://127.0.0.1:{port}/v1", **keys
        )
    assert result.returncode == 1, result.stderr  # a user's mistake, not a bug (exit 3) or a dead network
    assert result.stderr.startswith(f"Error: {variable} {problem}: "), result.stderr
    assert "Traceback" not in result.stderr and "CONNECTION" not in result.stderr
    assert received == []  # not one byte went out
    for shown in (result.stdout, result.stderr):
        assert SECRET_KEY not in shown and ACCESS_KEY not in shown


def test_a_sandbox_key_with_a_trailing_newline_is_refused_too(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    before = len(world(directory).request_log())
    environ = {"REDISCLOUD_ACCESS_KEY": SANDBOX_ACCESS_KEY, "REDISCLOUD_SECRET_KEY": SANDBOX_SECRET_KEY + "\r\n"}
    ran = cli(directory, "status", "-f", "examples/", environ=environ)
    assert ran.code == 1
    error = [line for line in ran.err.splitlines() if line.startswith("Error:")]
    assert error[0].startswith("Error: REDISCLOUD_SECRET_KEY ends with a carriage return"), ran.err
    assert SANDBOX_SECRET_KEY not in ran.out + ran.err
    assert len(world(directory).request_log()) == before


KEY = "Kq7Zp2-s\u00e9cret-Wv93\n"  # a non-ASCII letter and the newline `echo` adds


def test_the_redactor_masks_a_key_in_every_form_an_error_quotes_it() -> None:
    redact = Redactor([KEY])
    forms = {
        "raw": KEY,
        "stripped": KEY.strip(),
        "bytes-repr": f"Illegal header value {KEY.encode()!r}",  # as httpx/h11 word it
        "repr": repr(KEY),
        "ascii": ascii(KEY),
        "json": json.dumps(KEY),
        "json-non-ascii": json.dumps(KEY, ensure_ascii=False),
        "json-of-repr": json.dumps({"message": repr(KEY.encode())}),  # a report quoting the error above
        "percent-encoded": quote(KEY, safe=""),
    }
    for name, form in forms.items():
        shown = redact(f"error: {form} (end)")
        assert "****" in shown, name
        for fragment in ("Kq7Zp2", "Wv93"):
            assert fragment not in shown, (name, shown)


# --- issue 20 item 11: a live destination with a raw '@' in its password, in every output -----------------

RAW_AT_SECRET = "RawAt-Secret-7Qx"
LIVE_WITH_RAW_AT = [
    pytest.param(f"ftp://bk:pa@{RAW_AT_SECRET}@ftp.example/path", id="raw-at"),
    pytest.param(f"ftp://bk:pa/x@{RAW_AT_SECRET}@ftp.example/path", id="slash-then-raw-at"),
    pytest.param(f"ftp://bk:pa?x@{RAW_AT_SECRET}@ftp.example:21/d@e", id="question-then-raw-at-and-at-in-path"),
]
CATALOG_12_HOURLY = CATALOG + (
    "    backup:\n      path: ftp://backup:${env:BACKUP_FTP_PASSWORD}@ftp.acme.example/catalog\n"
    "      interval: every-12-hours\n"
)


@pytest.mark.parametrize("live", LIVE_WITH_RAW_AT)
def test_a_live_destination_with_a_raw_at_in_its_password_is_masked_in_every_output(tmp_path: Path, live: str) -> None:
    directory = sandbox_dir(tmp_path)
    _plant_live_destination(directory, live)
    _catalog(directory, CATALOG_12_HOURLY.removeprefix(CATALOG))
    environ = {"BACKUP_FTP_PASSWORD": BACKUP_FTP_PASSWORD, "GITHUB_STEP_SUMMARY": str(directory / "summary.md")}
    shown: dict[str, str] = {}
    for fmt in ("text", "json"):
        ran = cli(directory, "status", "-f", "manifests/", "--format", fmt, environ=environ)
        assert ran.code == 0, ran.err
        shown[f"status {fmt}"] = ran.out + ran.err
    for fmt in ("text", "markdown", "json"):
        ran = cli(directory, "plan", "-f", "manifests/", "--format", fmt, "--out", "plan.json", environ=environ)
        assert ran.code == 0, ran.err
        shown[f"plan {fmt}"] = ran.out + ran.err
        ran = cli(directory, "show", "plan.json", "--format", fmt, environ=environ)
        shown[f"show {fmt}"] = ran.out + ran.err
    shown["plan file"] = (directory / "plan.json").read_text(encoding="utf-8")
    # The live state moves on (another run sets 6-hourly backups): the saved plan's `before` no longer holds.
    write_manifest(directory / "other", CATALOG_12_HOURLY.replace("every-12-hours", "every-6-hours"))
    assert cli(directory, "apply", "-f", "other/", "--auto-approve", environ=environ).code == 0
    stale = cli(directory, "apply", "plan.json", environ=environ)
    assert stale.code == 1 and "stale plan" in stale.err
    shown["stale-plan message"] = stale.out + stale.err
    shown["step summary"] = (directory / "summary.md").read_text(encoding="utf-8")
    for where, text in shown.items():
        assert RAW_AT_SECRET not in text, f"the password's tail leaked into {where}"
        assert "Traceback" not in text, where
    # Not vacuous: the destination is shown, masked, up to its host.
    assert "ftp://bk:****@ftp.example" in shown["status text"] and "ftp://bk:****@ftp.example" in shown["plan json"]
    assert "ftp://bk:****@ftp.example" in shown["stale-plan message"]


def _plant_live_destination(directory: Path, path: str) -> None:
    """The live backup destination as someone set it outside the reconciler (the console), saved in the world."""
    state = directory / STATE / "world.json"
    data = json.loads(state.read_text(encoding="utf-8"))
    database = next(d for d in data["databases"] if d["id"] == CATALOG_DB)
    database["backup"] = {
        "enabled": True,
        "interval": "every-24-hours",
        "time_utc": "01:00",
        "storage_type": "ftp",
        "path": path,
    }
    state.write_text(json.dumps(data), encoding="utf-8")


# --- issue 20 item 12: a variable naming a place is no secret; one used as a credential still is ----------

SAS = "sv=2026&sig=Zq9PresignedSignature"


def test_a_variable_naming_a_bucket_is_shown_and_credentials_stay_masked(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    source = "https://files.acme.example/${env:DIR}/catalog.rdb?${env:SAS}"
    _catalog(
        directory,
        "    backup:\n      path: ftp://backup:${env:SRC_SECRET}@ftp.acme.example/catalog\n"
        "      interval: every-24-hours\n"
        "    backups:\n      - id: adhoc\n        path: s3://${env:BKT}/adhoc\n" + _import(source),
    )
    # `catalog` is the bucket and a word of every address; `seeds` a directory: names, not secrets.
    environ = VARIABLES | {"BKT": "catalog", "DIR": "seeds", "SAS": SAS}
    world(directory).mark_source(f"https://files.acme.example/seeds/catalog.rdb?{SAS}", "missing")
    ran = cli(directory, "apply", "-f", "manifests/", "--auto-approve", "--report", "report.json", environ=environ)
    assert ran.code == 1  # the import's source is missing
    report = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    assert [op["address"] for op in report["operations"]] == [
        "catalog-prod.backup",
        "catalog-prod.backups.adhoc",
        "catalog-prod.imports.seed",
    ]
    assert "DATABASE_IMPORT_SOURCE_NOT_FOUND" in ran.err
    assert "https://files.acme.example/seeds/catalog.rdb?****" in ran.err  # the path is shown, the signature not
    _assert_never_shown(directory, ran, SAS, quote(SAS, safe=""), AWKWARD, "Aw%40k")

    for fmt in ("text", "json"):
        status = cli(directory, "status", "-f", "manifests/", "--format", fmt, environ=environ)
        assert status.code == 0, status.err
        assert "catalog-prod" in status.out  # not `****-prod`
        assert "****" not in status.out.replace("ftp://backup:****@", "")
    plan = cli(directory, "plan", "-f", "manifests/", "--format", "json", environ=environ)
    assert [w["address"] for w in json.loads(plan.out)["warnings"]] == ["catalog-prod.imports.seed"], plan.out
    assert "****" not in plan.out.replace("ftp://backup:****@", "")


def test_a_backup_destination_whose_place_is_a_reference_is_refused_by_validate(tmp_path: Path) -> None:
    # It would be drift forever: plan compares the place with the live one, and never resolves variables.
    _catalog(tmp_path, "    backup:\n      path: s3://${env:BKT}/backups\n      interval: every-24-hours\n")
    result = run_reconciler("validate", "-f", "manifests/", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "${env:BKT} stands for part of the place, but a backup destination may use references only for "
        "credentials (in the user-info)" in result.stderr
    ), result.stderr


# --- issue 20 items 9 and 10: an API error quoting a secret, through the summary table, report and summary --


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


QUOTED_SECRETS = [
    pytest.param("Zq/+=@:" * 300, id="2KB"),
    pytest.param("first-line-Pw\nsecond-line-Pw", id="newline"),
    pytest.param("Short-Pw-4Kz9", id="short"),
]


@pytest.mark.parametrize("terminal", ["no-tty", "wide-tty"])
@pytest.mark.parametrize("secret", QUOTED_SECRETS)
def test_an_api_error_quoting_a_password_is_masked_in_the_table_the_report_and_the_step_summary(
    tmp_path: Path, secret: str, terminal: str
) -> None:
    directory = sandbox_dir(tmp_path)
    _catalog(directory, _import("ftp://loader:${env:SEED_PW}@ftp.acme.example/x.rdb"))
    world(directory).inject(
        Fault.task_error(
            "DATABASE_IMPORT_FAILED",
            command_type="databaseImportRequest",
            description=f"FTP login refused for loader with password '{secret}' (530)",
        )
    )
    environ = {"SEED_PW": secret, "GITHUB_STEP_SUMMARY": str(directory / "summary.md")}
    out, err = (_Terminal(), _Terminal()) if terminal == "wide-tty" else (io.StringIO(), io.StringIO())
    if terminal == "wide-tty":
        environ |= {"COLUMNS": "400", "LINES": "100"}
    previous = Path.cwd()
    os.chdir(directory)
    try:
        code = main(
            ["--sandbox", "apply", "-f", "manifests/", "--auto-approve", "--report", "report.json"],
            out=out,
            err=err,
            environ=environ,
        )
    finally:
        os.chdir(previous)
    assert code == 1
    shown = {
        "stdout (the summary table)": out.getvalue(),
        "stderr": err.getvalue(),
        "report.json": (directory / "report.json").read_text(encoding="utf-8"),
        "step summary": (directory / "summary.md").read_text(encoding="utf-8"),
    }
    assert "DATABASE_IMPORT_FAILED" in shown["stdout (the summary table)"]  # the error is there, masked
    report = json.loads(shown["report.json"])
    assert "FTP login refused for loader with password '****' (530)" in report["operations"][0]["message"]
    # Every fragment of the secret a wrapped table could leave on one line: no 12-character run of it.
    fragments = {part for line in secret.splitlines() for part in (line[:12], line[-12:])}
    fragments |= {secret[n : n + 12] for n in range(0, len(secret) - 12, 97)}
    for where, text in shown.items():
        flat = re.sub(r"\x1b\[[0-9;]*m", "", text)  # colour codes may split a line's text
        for fragment in fragments:
            assert fragment not in flat, f"part of the secret ({fragment!r}) leaked into {where}"
