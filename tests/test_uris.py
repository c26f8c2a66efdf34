"""URIs as a manifest writes them: `${env:NAME}` anywhere in the user-info, literal credentials found and
masked, and values percent-encoded where `resolve` puts them into a user-info (API-NOTES §2, §4, §11)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from reconciler.core.uris import (
    UnsetVariableError,
    credential_references,
    has_literal_credential,
    mask,
    mask_in_text,
    references,
    resolve,
    secret_of,
    suggest_reference,
)

# (uri, holds a literal credential, masked, suggested fix with ${env:V})
PARSED = [
    # s3 and gs carry no credential; an '@' after the bucket is part of the path.
    pytest.param("s3://bucket/path", False, "s3://bucket/path", "s3://bucket/path", id="s3"),
    pytest.param(
        "s3://bucket/user@x/f.rdb", False, "s3://bucket/user@x/f.rdb", "s3://bucket/user@x/f.rdb", id="s3-at-in-path"
    ),
    pytest.param(
        "gs://bucket/${env:DIR}/f.rdb",
        False,
        "gs://bucket/${env:DIR}/f.rdb",
        "gs://bucket/${env:DIR}/f.rdb",
        id="gs-reference-in-path",
    ),
    # Azure: the key alone or after a leading colon; a literal key may hold '/', '+' and '='.
    pytest.param(
        "abs://:${env:AZ_KEY}@account/container/f.rdb",
        False,
        "abs://:${env:AZ_KEY}@account/container/f.rdb",
        "abs://:${env:V}@account/container/f.rdb",
        id="abs-leading-colon",
    ),
    pytest.param(
        "abs://${env:AZ_KEY}@acct/c/f",
        False,
        "abs://${env:AZ_KEY}@acct/c/f",
        "abs://:${env:V}@acct/c/f",
        id="abs-no-colon",
    ),
    pytest.param(
        "abs://:Zm9v/YmFy+cXV4==@acct/c/f.rdb",
        True,
        "abs://:****@acct/c/f.rdb",
        "abs://:${env:V}@acct/c/f.rdb",
        id="abs-literal-key-with-slash",
    ),
    pytest.param(
        "abs://Zm9v/YmFy+cXV4==@acct/c/f.rdb",
        True,
        "abs://****@acct/c/f.rdb",
        "abs://:${env:V}@acct/c/f.rdb",
        id="abs-literal-key-no-colon",
    ),
    pytest.param(
        "abs://:${env:AZ_KEY}@acct/c/x@y.rdb",
        False,
        "abs://:${env:AZ_KEY}@acct/c/x@y.rdb",
        "abs://:${env:V}@acct/c/x@y.rdb",
        id="abs-at-in-path-too",
    ),
    pytest.param(
        "abs://acct/c/a@b.rdb", False, "abs://acct/c/a@b.rdb", "abs://acct/c/a@b.rdb", id="abs-at-in-path-no-key"
    ),
    # FTP: user and password, each a reference or a literal user name; ports; '@' in the path.
    pytest.param(
        "ftp://${env:FTP_USER}:${env:FTP_PASS}@host/f.rdb",
        False,
        "ftp://${env:FTP_USER}:${env:FTP_PASS}@host/f.rdb",
        "ftp://${env:FTP_USER}:${env:V}@host/f.rdb",
        id="ftp-both-references",
    ),
    pytest.param(
        "ftp://loader:${env:P}@host/f",
        False,
        "ftp://loader:${env:P}@host/f",
        "ftp://loader:${env:V}@host/f",
        id="ftp-literal-user",
    ),
    pytest.param(
        "ftp://loader:${env:P}@host:2121/dir@x/f.rdb",
        False,
        "ftp://loader:${env:P}@host:2121/dir@x/f.rdb",
        "ftp://loader:${env:V}@host:2121/dir@x/f.rdb",
        id="ftp-port-and-at-in-path",
    ),
    pytest.param("ftp://loader@host/f", False, "ftp://loader@host/f", "ftp://loader@host/f", id="ftp-user-only"),
    pytest.param(
        "ftp://${env:FTP_USER}@host/f",
        False,
        "ftp://${env:FTP_USER}@host/f",
        "ftp://${env:FTP_USER}@host/f",
        id="ftp-user-reference-only",
    ),
    pytest.param(
        "ftp://host/dir@x/f.rdb",
        False,
        "ftp://host/dir@x/f.rdb",
        "ftp://host/dir@x/f.rdb",
        id="ftp-no-userinfo-at-in-path",
    ),
    pytest.param(
        "ftp://loader:pa/ss@host/f",
        True,
        "ftp://loader:****@host/f",
        "ftp://loader:${env:V}@host/f",
        id="ftp-literal-password-with-slash",
    ),
    pytest.param(
        "ftp://host:21/dir@x/f", False, "ftp://host:21/dir@x/f", "ftp://host:21/dir@x/f", id="ftp-port-then-at-in-path"
    ),
    # A live destination echoed with a raw '@' in its password (issue 20 item 11): the user-info ends at the
    # last '@' before the host, also when the password holds '/', '?' or '#' before that '@'.
    pytest.param(
        "ftp://bk:pa@SEC@host/p", True, "ftp://bk:****@host/p", "ftp://bk:${env:V}@host/p", id="ftp-raw-at-in-password"
    ),
    pytest.param(
        "ftp://bk:p@S1@S2@host/p", True, "ftp://bk:****@host/p", "ftp://bk:${env:V}@host/p", id="ftp-two-raw-ats"
    ),
    pytest.param(
        "ftp://bk:pa/x@SEC@host/p", True, "ftp://bk:****@host/p", "ftp://bk:${env:V}@host/p", id="ftp-slash-then-at"
    ),
    pytest.param(
        "ftp://bk:pa?x@SEC@host:21/d@e",
        True,
        "ftp://bk:****@host:21/d@e",
        "ftp://bk:${env:V}@host:21/d@e",
        id="ftp-question-then-at-and-at-in-path",
    ),
    pytest.param(
        "ftps://bk:pa#x@SEC@host/p", True, "ftps://bk:****@host/p", "ftps://bk:${env:V}@host/p", id="ftps-hash-then-at"
    ),
    pytest.param(
        "abs://:k/e@SEC@acct/c/f", True, "abs://:****@acct/c/f", "abs://:${env:V}@acct/c/f", id="abs-slash-then-raw-at"
    ),
    pytest.param(
        "abs://:Zm9v/YmFy==@MyAccount/c/f.rdb",
        True,
        "abs://:****@MyAccount/c/f.rdb",
        "abs://:${env:V}@MyAccount/c/f.rdb",
        id="abs-literal-key-uppercase-account",
    ),
    pytest.param(
        "ftp://loader:hunter2@host/f",
        True,
        "ftp://loader:****@host/f",
        "ftp://loader:${env:V}@host/f",
        id="ftp-literal-password",
    ),
    pytest.param(
        "ftp://${env:FTP_USER}:hunter2@host/f",
        True,
        "ftp://${env:FTP_USER}:****@host/f",
        "ftp://${env:FTP_USER}:${env:V}@host/f",
        id="ftp-reference-user-literal-password",
    ),
    pytest.param(
        "ftp://loader:${env:P}x@host/f",
        True,
        "ftp://loader:****@host/f",
        "ftp://loader:${env:V}@host/f",
        id="ftp-reference-and-literal-mixed",
    ),
    pytest.param(
        "ftp://loader:${env:A}${env:B}@host/f",
        False,
        "ftp://loader:${env:A}${env:B}@host/f",
        "ftp://loader:${env:V}@host/f",
        id="ftp-two-references",
    ),
    pytest.param(
        "ftp://ops@acme.example:${env:P}@host/f",
        False,
        "ftp://ops@acme.example:${env:P}@host/f",
        "ftp://ops@acme.example:${env:V}@host/f",
        id="ftp-email-as-user",
    ),
    pytest.param(
        "ftps://u:${env:P}@host:990/f", False, "ftps://u:${env:P}@host:990/f", "ftps://u:${env:V}@host:990/f", id="ftps"
    ),
    pytest.param(
        "ftps://u:p4ss@host:990/f", True, "ftps://u:****@host:990/f", "ftps://u:${env:V}@host:990/f", id="ftps-literal"
    ),
    # HTTP(S): as FTP; an '@' in the query is not user-info.
    pytest.param("http://u:${env:P}@h/f", False, "http://u:${env:P}@h/f", "http://u:${env:V}@h/f", id="http"),
    pytest.param("http://:${env:P}@h/f", False, "http://:${env:P}@h/f", "http://:${env:V}@h/f", id="http-empty-user"),
    pytest.param(
        "https://h/f.rdb?sig=a@b", False, "https://h/f.rdb?sig=a@b", "https://h/f.rdb?sig=a@b", id="https-at-in-query"
    ),
    pytest.param("https://u:pw@h/f", True, "https://u:****@h/f", "https://u:${env:V}@h/f", id="https-literal"),
    # Redis: `redis://[password]@host:port`, or user and password (an ACL user).
    pytest.param(
        "redis://${env:SRC_PASS}@10.0.0.5:6379",
        False,
        "redis://${env:SRC_PASS}@10.0.0.5:6379",
        "redis://${env:V}@10.0.0.5:6379",
        id="redis-password-only",
    ),
    pytest.param(
        "redis://:${env:P}@10.0.0.5:6379",
        False,
        "redis://:${env:P}@10.0.0.5:6379",
        "redis://:${env:V}@10.0.0.5:6379",
        id="redis-leading-colon",
    ),
    pytest.param(
        "redis://default:${env:P}@10.0.0.5:6379",
        False,
        "redis://default:${env:P}@10.0.0.5:6379",
        "redis://default:${env:V}@10.0.0.5:6379",
        id="redis-acl-user",
    ),
    pytest.param(
        "redis://s3cr3t@10.0.0.5:6379",
        True,
        "redis://****@10.0.0.5:6379",
        "redis://${env:V}@10.0.0.5:6379",
        id="redis-literal",
    ),
    pytest.param(
        "redis://p@ss/w@10.0.0.5:6379",
        True,
        "redis://****@10.0.0.5:6379",
        "redis://${env:V}@10.0.0.5:6379",
        id="redis-literal-with-at-and-slash",
    ),
    pytest.param(
        "redis://10.0.0.5:6379", False, "redis://10.0.0.5:6379", "redis://10.0.0.5:6379", id="redis-no-password"
    ),
    pytest.param("${env:P}", False, "${env:P}", "${env:P}", id="not-a-uri"),
]


@pytest.mark.parametrize(("uri", "literal", "masked", "suggested"), PARSED)
def test_userinfo_is_split_outside_references(uri: str, literal: bool, masked: str, suggested: str) -> None:
    assert has_literal_credential(uri) is literal
    assert mask(uri) == masked
    assert suggest_reference(uri, "V") == suggested
    assert has_literal_credential(suggested) is False


AWKWARD = "k@y/w:th+and=="  # what the issue asks for: '@', '/', '+', '=' and ':'
ENVIRON = {
    "SECRET": AWKWARD,
    "USER": "ci+loader@acme",
    "ODD": "x?y#z%20 w",
    "NEWLINE": "line-one\nline-two",
    "DIR": "team@eu/2026",
    "QUOTE": 'it\'s"q"',
}

# (unresolved, resolved); the second element is exactly what the API receives.
RESOLVED = [
    pytest.param("redis://${env:SECRET}@10.0.0.5:6379", "redis://k%40y%2Fw%3Ath+and==@10.0.0.5:6379", id="redis"),
    pytest.param(
        "redis://default:${env:SECRET}@10.0.0.5:6379",
        "redis://default:k%40y%2Fw%3Ath+and==@10.0.0.5:6379",
        id="redis-acl",
    ),
    pytest.param(
        "abs://:${env:SECRET}@acct/c/f.rdb", "abs://:k%40y%2Fw%3Ath%2Band%3D%3D@acct/c/f.rdb", id="abs-leading-colon"
    ),
    pytest.param(
        "abs://${env:SECRET}@acct/c/f.rdb", "abs://k%40y%2Fw%3Ath%2Band%3D%3D@acct/c/f.rdb", id="abs-no-colon"
    ),
    pytest.param(
        "ftp://${env:USER}:${env:SECRET}@h:21/d/f.rdb",
        "ftp://ci+loader%40acme:k%40y%2Fw%3Ath+and==@h:21/d/f.rdb",
        id="ftp",
    ),
    pytest.param("ftps://loader:${env:SECRET}@h/f.rdb", "ftps://loader:k%40y%2Fw%3Ath+and==@h/f.rdb", id="ftps"),
    pytest.param(
        "http://u:${env:ODD}@h/f.rdb", "http://u:x%3Fy%23z%2520%20w@h/f.rdb", id="http-query-fragment-percent-space"
    ),
    pytest.param("ftp://u:${env:QUOTE}@h/f.rdb", "ftp://u:it%27s%22q%22@h/f.rdb", id="ftp-quotes"),
    pytest.param(
        "https://${env:USER}:${env:NEWLINE}@h/f.rdb",
        "https://ci+loader%40acme:line-one%0Aline-two@h/f.rdb",
        id="https-newline",
    ),
    # Outside the user-info a value is inserted as is: there the manifest's author writes the URI.
    pytest.param("s3://bucket/${env:DIR}/f.rdb", "s3://bucket/team@eu/2026/f.rdb", id="s3-path-as-is"),
    pytest.param("gs://bucket/${env:DIR}/f.rdb", "gs://bucket/team@eu/2026/f.rdb", id="gs-path-as-is"),
    pytest.param(
        "ftp://u:${env:SECRET}@h/${env:DIR}/f.rdb",
        "ftp://u:k%40y%2Fw%3Ath+and==@h/team@eu/2026/f.rdb",
        id="ftp-path-as-is",
    ),
    pytest.param("${env:SECRET}", AWKWARD, id="bare-reference"),
]


@pytest.mark.parametrize(("uri", "expected"), RESOLVED)
def test_resolved_values_are_percent_encoded_in_the_userinfo_only(uri: str, expected: str) -> None:
    resolved = resolve(uri, ENVIRON)
    assert resolved == expected
    if "://" in resolved:
        # Well formed: a standard parser finds the intended host and gives back each value exactly.
        parts = urlsplit(resolved)
        assert parts.hostname in ("10.0.0.5", "acct", "h", "bucket")
        in_userinfo = {unquote(parts.username or ""), unquote(parts.password or "")}
        for name in references(uri):
            assert (ENVIRON[name] in in_userinfo) is (name != "DIR")
        # And masking the resolved URI (an API error may echo it) hides the credential.
        assert AWKWARD not in mask_in_text(f"error: {resolved} failed")
        assert "k%40y" not in mask_in_text(f"error: {resolved} failed")


@pytest.mark.parametrize("value", ["", None], ids=["empty", "unset"])
def test_an_empty_or_unset_variable_is_an_error_naming_it(value: str | None) -> None:
    environ = {"SRC_PASS": value} if value is not None else {}
    with pytest.raises(UnsetVariableError, match=r"^environment variable SRC_PASS is not set"):
        resolve("redis://${env:SRC_PASS}@10.0.0.5:6379", environ)


@pytest.mark.parametrize(
    ("written", "echoed"),
    [
        pytest.param(
            "abs://${env:AZ_KEY}@acct/c/backups", "abs://:Zm9v%2FYmFy%3D%3D@acct/c/backups", id="no-colon-vs-colon"
        ),
        pytest.param("abs://:${env:AZ_KEY}@acct/c/backups", "abs://Zm9v/YmFy==@acct/c/backups", id="colon-vs-raw-key"),
        pytest.param("ftp://backup:${env:P}@h/d", "ftp://backup:p%40ss@h/d", id="ftp-encoded-echo"),
    ],
)
def test_a_destination_compares_equal_whichever_form_the_api_echoes(written: str, echoed: str) -> None:
    # Normalising compares backup paths with the credential replaced (normalise._path_key).
    assert suggest_reference(written, "CREDENTIAL") == suggest_reference(echoed, "CREDENTIAL")


# (uri, the variables whose values the redactor masks): credentials, not names of places (issue 20 item 12)
CREDENTIALS = [
    pytest.param("s3://${env:BKT}/orders", (), id="s3-bucket-is-a-name"),
    pytest.param("gs://bucket/${env:DIR}/f.rdb", (), id="gs-path-is-a-name"),
    pytest.param("ftp://${env:U}:${env:P}@${env:HOST}/${env:DIR}/f", ("U", "P"), id="ftp-user-and-password"),
    pytest.param("abs://:${env:KEY}@${env:ACCOUNT}/c/f", ("KEY",), id="abs-key-not-account"),
    pytest.param("redis://${env:PASS}@10.0.0.5:6379", ("PASS",), id="redis-password"),
    pytest.param("https://files.example/${env:DIR}/f.rdb?${env:SAS}", ("SAS",), id="https-presigned-query"),
    pytest.param("https://files.example/f.rdb#${env:FRAG}", ("FRAG",), id="https-fragment"),
    pytest.param("${env:WHOLE}", ("WHOLE",), id="not-a-uri-counts-as-secret"),
]


@pytest.mark.parametrize(("uri", "secret"), CREDENTIALS)
def test_only_variables_used_as_credentials_are_secret(uri: str, secret: tuple[str, ...]) -> None:
    assert credential_references(uri) == secret


@pytest.mark.parametrize(
    ("uri", "secret"),
    [
        ("abs://:Zm9v/YmFy+cXV4==@acct/c/f.rdb", "Zm9v/YmFy+cXV4=="),  # a key holding '/' still ends at the account
        ("abs://Zm9v%2FYmFy%2BcXV4%3D%3D@acct/c/f.rdb", "Zm9v%2FYmFy%2BcXV4%3D%3D"),  # the no-colon form, as written
        ("ftp://user:p%40ss@host/d", "p%40ss"),
        ("abs://acct/c/f.rdb", None),
        ("gs://bucket/user@x/f.rdb", None),  # an '@' in the path is no user-info
        ("not a uri", None),
    ],
)
def test_the_secret_a_store_signs_with_is_found_by_mask_s_rules(uri: str, secret: str | None) -> None:
    assert secret_of(uri) == secret
