"""`--debug`: a line per HTTP request (method, path, status, duration, retry, rate-limit wait), never a secret."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from reconciler.cloud.session import Credentials, Exchange, RetryPolicy, Session, open_http
from reconciler.errors import NotFoundError
from reconciler.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator, Fault
from tests.support.cli import cli
from tests.support.clients import BASE_URL
from tests.support.examples import SEED
from tests.support.manifests import write_manifest
from tests.support.workdirs import sandbox_dir, world

LINE = re.compile(r"^debug: (GET|PUT|POST|DELETE) /\S+ -> (\d{3}|no response)( [A-Z_]+)? in \d+ ms")


def _debug_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("debug: ")]


def test_every_request_of_a_plan_is_one_debug_line(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    ran = cli(directory, "--debug", "plan", "-f", "examples/")
    assert ran.code == 0, ran.err
    lines = _debug_lines(ran.err)
    assert lines and all(LINE.match(line) for line in lines), lines
    assert "debug: GET /subscriptions/1234567/databases?offset=0&limit=100 -> 200 in " in ran.err
    assert f"API requests: {len(lines)} (0 retried" in ran.err  # one line per request sent, no more, no fewer
    assert not _debug_lines(cli(directory, "plan", "-f", "examples/").err)  # only with --debug


def test_a_retried_request_says_why_when_and_which_attempt(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    world(directory).inject(Fault.server_error(503, count=1, method="GET", path="/subscriptions/1234567/databases"))
    ran = cli(directory, "--debug", "plan", "-f", "examples/")
    assert ran.code == 0, ran.err
    listed = [line for line in _debug_lines(ran.err) if "/subscriptions/1234567/databases?" in line]
    assert len(listed) == 2, listed
    assert re.search(r"-> 503 in \d+ ms; retrying in \d+ ms$", listed[0]), listed[0]
    assert re.search(r"-> 200 in \d+ ms, attempt 2$", listed[1]), listed[1]
    assert "(1 retried" in ran.err


@pytest.mark.parametrize(
    ("exchange", "line"),
    [
        pytest.param(Exchange("GET", "/tasks/5d1e", 200, 0.0123, 0.0, 1), "GET /tasks/5d1e -> 200 in 12 ms", id="ok"),
        pytest.param(
            Exchange("POST", "/x/import", None, 30.0, 0.0, 1, "NO_RESPONSE"),
            "POST /x/import -> no response NO_RESPONSE in 30.0 s",
            id="no-answer",
        ),
        pytest.param(
            Exchange("GET", "/subscriptions", 429, 0.004, 12.5, 3, "RATE_LIMITED", 2.0),
            "GET /subscriptions -> 429 RATE_LIMITED in 4 ms, attempt 3, after 12.5 s waiting for the rate limit; "
            "retrying in 2.0 s",
            id="paced-and-retried",
        ),
    ],
)
def test_a_debug_line_reads_as_one_sentence(exchange: Exchange, line: str) -> None:
    assert str(exchange) == line


AWKWARD = "p@ss/:+=w0rd" + "Q" * 300  # characters URIs, queries and headers treat specially, and long


def test_a_path_carrying_a_uri_with_credentials_is_masked_in_what_the_observer_sees() -> None:
    """As `resolve` puts a password into a URI: percent-encoded; what the observer sees is masked before any
    stream's redactor, which knows only the secrets it was told of."""
    seen: list[Exchange] = []
    http = open_http(BASE_URL, Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY), Emulator(seed=SEED).transport())
    session = Session(http, retry=RetryPolicy(attempts=1), observer=seen.append)
    with pytest.raises(NotFoundError, match="HTTP 404"):
        session.call("GET", "/nowhere", params={"source": f"ftp://loader:{quote(AWKWARD, safe='')}@ftp.example/x.rdb"})
    [exchange] = seen
    assert exchange.status == 404 and exchange.attempt == 1 and exchange.retry_in is None
    assert "p%40ss" not in str(exchange) and "w0rd" not in str(exchange) and "QQQQ" not in str(exchange)
    assert "ftp://loader:****@ftp.example/x.rdb" in str(exchange)


SECRET_MANIFEST = """\
version: 1
databases:
  - name: catalog-prod
    subscription: 1234567
    database: 7654323
    backup:
      path: ftp://backup:${env:BACKUP_PW}@ftp.acme.example/catalog
      interval: every-24-hours
      time_utc: "02:00"
    imports:
      - id: seed
        from: ftp://loader:${env:SEED_PW}@ftp.acme.example/x.rdb
        confirm: catalog-prod
"""


def test_debug_lines_of_an_apply_hold_no_secret_in_any_form(tmp_path: Path) -> None:
    directory = sandbox_dir(tmp_path)
    write_manifest(directory / "manifests", SECRET_MANIFEST)
    backup_pw, seed_pw = "b@ck/:+=Up" + "z" * 150, "s33d@:/+=pw\u00e9" + "y" * 150
    environ = {"BACKUP_PW": backup_pw, "SEED_PW": seed_pw}
    ran = cli(directory, "--debug", "apply", "-f", "manifests/", "--auto-approve", environ=environ)
    assert ran.code == 0, ran.err
    lines = _debug_lines(ran.err)
    assert any(" PUT /subscriptions/1234567/databases/7654323 -> 200" in line for line in lines), lines
    assert any(" POST /subscriptions/1234567/databases/7654323/import -> 200" in line for line in lines), lines
    for secret in (backup_pw, seed_pw):
        for part in (secret, secret[:10], "z" * 20, "y" * 20, SANDBOX_SECRET_KEY):
            assert part not in ran.err and part not in ran.out
