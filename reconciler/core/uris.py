"""Storage and source URIs: scheme inference, `${env:NAME}` references, credential masking.

Credentials may sit in the user-info part of a URI (API-NOTES §2 and §4: `ftp://user:pass@…`,
`abs://:key@account/…`, `redis://pass@host:port`, `http://user:pass@…`). Manifests must reference them
as `${env:NAME}`, anywhere in the user-info (`ftp://${env:USER}:${env:PASS}@…`); anything shown to a
person passes through `mask()` first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote

from reconciler.errors import UnsetVariableError

MASK = "****"

# Scheme -> API type name (API-NOTES §2 storage paths, §4 import URI formats).
_TYPE_BY_SCHEME = {
    "s3": "aws-s3",
    "gs": "google-blob-storage",
    "abs": "azure-blob-storage",
    "ftp": "ftp",
    "ftps": "ftp",
    "http": "http",
    "https": "http",
    "redis": "redis",
}
# `storageType` values a backup destination accepts (API-NOTES §2); imports take all of _TYPE_BY_SCHEME's.
BACKUP_STORAGE_TYPES = ("aws-s3", "google-blob-storage", "azure-blob-storage", "ftp")
IMPORT_SOURCE_TYPES = ("aws-s3", "google-blob-storage", "azure-blob-storage", "ftp", "http", "redis")
SCHEMES_BY_TYPE = {
    kind: tuple(scheme for scheme, k in _TYPE_BY_SCHEME.items() if k == kind) for kind in IMPORT_SOURCE_TYPES
}

ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_ONLY_ENV_REFERENCE = re.compile(r"^(\$\{env:[A-Za-z_][A-Za-z0-9_]*\})+$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# In these schemes a user-info without a colon is itself the secret (a key or a password).
_SECRET_WITHOUT_COLON = {"abs", "redis"}
# An Azure storage account name: 3-24 lowercase letters and digits. An Azure key is base64 and may hold
# '/', so in `abs://` a '/' before the '@' ends the user-info only when no account follows the '@'.
_AZURE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}(?:[/?#]|$)", re.IGNORECASE)
# RFC 3986 user-info keeps unreserved characters and sub-delims as they are; everything else (notably
# `@ : / ? # %`, spaces and newlines) is percent-encoded, and so is `'`, which would end a URI quoted in a
# message before `mask_in_text` reaches its '@'. Azure keys are base64, whose `+` and `=` a URI parser may
# read as a space or a separator, so they are encoded too. The FTP docs ask for percent-encoding (API-NOTES
# §2); UNCONFIRMED (API-NOTES §11) that the API decodes an encoded Azure key or redis password likewise.
_USERINFO_SAFE = "!$&()*+,;="
_AZURE_USERINFO_SAFE = "!$&()*,;"


@dataclass(frozen=True, slots=True)
class _Parts:
    scheme: str
    head: str  # "scheme://"
    user: str | None  # the part before the first ':' outside a reference, or None
    secret: str | None  # the credential part of user-info, or None
    rest: str  # from '@' (exclusive) on, or everything after '://' when there is no user-info

    def joined(self, user: str | None, secret: str | None) -> str:
        if user is None and secret is None:
            return self.head + self.rest
        userinfo = secret if user is None else user if secret is None else f"{user}:{secret}"
        return f"{self.head}{userinfo}@{self.rest}"


def scheme_of(uri: str) -> str | None:
    match = _SCHEME.match(uri)
    return match.group(1).lower() if match else None


def infer_type(uri: str) -> str | None:
    """The API's storage/source type for a URI's scheme, or None when the scheme is unknown."""
    scheme = scheme_of(uri)
    return _TYPE_BY_SCHEME.get(scheme) if scheme else None


def _userinfo_end(scheme: str, after: str) -> int | None:
    """The index of the '@' that ends the user-info in `after` (the text past '://'), or None."""
    if scheme == "redis":  # `redis://[password]@host:port` has no path: the last '@' ends the password
        at = after.rfind("@")
        return at if at >= 0 else None
    authority = re.split(r"[/?#]", after, maxsplit=1)[0]
    at = authority.rfind("@")
    if at >= 0:
        # The last '@' of the authority: an unencoded '@' in a user name (an e-mail address) stays in it,
        # and an '@' after the first '/' is part of the path (`s3://bucket/user@x/f.rdb`).
        return at
    later = after.find("@")
    if later < 0:
        return None
    # A literal credential holding '/', '?' or '#' (an Azure key; a password the API echoes as it was typed):
    # the authority goes on past that character to the host, i.e. to the last '@' before the next '/', '?' or
    # '#' (`user:pa/x@SEC@host/d@e` ends the password before `host`). Masking must not miss any of it.
    host_end = re.search(r"[/?#]", after[later:])
    at = after.rfind("@", later, later + host_end.start() if host_end else len(after))
    if scheme == "abs":
        # An Azure key (base64, may hold '/') ends at an '@' followed by an account name.
        return at if _AZURE_ACCOUNT.match(after[at + 1 :]) else None
    # `user:pa/ss@host`: what follows the colon is no port, so this is no host:port but a user and password.
    colon = authority.find(":")
    if colon >= 0 and not authority.startswith("[") and not authority[colon + 1 :].isdigit():
        return at
    return None


def _first_colon(userinfo: str) -> int | None:
    """The first ':' of the user-info that is not inside a `${env:NAME}` reference."""
    i = 0
    while i < len(userinfo):
        reference = ENV_REFERENCE.match(userinfo, i)
        if reference:
            i = reference.end()
        elif userinfo[i] == ":":
            return i
        else:
            i += 1
    return None


def _split(uri: str) -> _Parts | None:
    match = _SCHEME.match(uri)
    if not match:
        return None
    scheme = match.group(1).lower()
    head, after = uri[: match.end()], uri[match.end() :]
    # No '@', no user-info, whatever the scheme: most paths, parsed a few times each by checks, the planner and
    # masking (5 times a database, 0.3 s of a 20,000-database plan, issue 16).
    at = _userinfo_end(scheme, after) if "@" in after else None
    if at is None:
        return _Parts(scheme, head, None, None, after)
    userinfo, rest = after[:at], after[at + 1 :]
    colon = _first_colon(userinfo)
    if colon is not None:
        return _Parts(scheme, head, userinfo[:colon], userinfo[colon + 1 :], rest)
    if scheme in _SECRET_WITHOUT_COLON:
        return _Parts(scheme, head, None, userinfo, rest)
    return _Parts(scheme, head, userinfo, None, rest)


def _is_literal(secret: str | None) -> bool:
    return bool(secret) and not _ONLY_ENV_REFERENCE.match(secret or "")


def has_literal_credential(uri: str) -> bool:
    """True when the URI carries a credential that is not made of `${env:NAME}` references only."""
    if "@" not in uri:  # no user-info (see _split): the common case, checked per database (issue 16)
        return False
    parts = _split(uri)
    return bool(parts and _is_literal(parts.secret))


def mask(uri: str) -> str:
    """The URI with any literal credential replaced by `****`; `${env:…}` references and user names stay."""
    if "@" not in uri:  # no user-info, nothing to mask
        return uri
    parts = _split(uri)
    if parts is None or not _is_literal(parts.secret):
        return uri
    return parts.joined(parts.user, MASK)


def suggest_reference(uri: str, variable: str) -> str:
    """The URI as it should be written, with its credential moved into `${env:variable}`; an Azure key in
    the leading-colon form `abs://:key@…` that the import docs use (API-NOTES §11). Normalising compares
    paths through this too, so either Azure form matches the other."""
    parts = _split(uri)
    if parts is None or not parts.secret:
        return uri
    user = "" if parts.user is None and parts.scheme == "abs" else parts.user
    return parts.joined(user, f"${{env:{variable}}}")


def secret_of(uri: str) -> str | None:
    """The URI's credential as written (percent-encoded, or a `${env:…}` reference), or None: what a store's
    client signs with (an Azure key in `abs://:key@account/…`), found by the same rules as `mask`."""
    parts = _split(uri)
    return parts.secret if parts is not None else None


def without_userinfo(uri: str) -> str:
    """The URI with no user-info at all: what names the place, for comparing a manifest path (user and secret
    often `${env:…}`) with the one the API echoes (resolved, encoded, or with the secret left out)."""
    if "@" not in uri:  # no user-info to leave out: twice a database in every plan (issue 16)
        return uri
    parts = _split(uri)
    return uri if parts is None else parts.head + parts.rest


def references(text: str) -> tuple[str, ...]:
    """The environment variables a string refers to, in order of first use."""
    return tuple(dict.fromkeys(ENV_REFERENCE.findall(text)))


def credential_references(uri: str) -> tuple[str, ...]:
    """The variables whose values act as credentials, which the redactor masks wherever they appear: those in
    the user-info (a user name too: it is half a login), and those in a query string or fragment (a pre-signed
    URL's signature, `https://host/f.rdb?${env:SAS}`). A reference in the scheme's place, the host or the path
    names a place (`s3://${env:BUCKET}/…`): it is shown as it is, resolved, wherever the API echoes it."""
    if "${" not in uri:  # no reference at all (most paths): nothing to find, as in `place_references`
        return ()
    parts = _split(uri)
    if parts is None:  # not a URI: nothing says what it is, so it counts as secret
        return references(uri)
    query = re.search(r"[?#]", parts.rest)
    credentials = [parts.user or "", parts.secret or "", parts.rest[query.start() :] if query else ""]
    return references(" ".join(credentials))


def place_references(uri: str) -> tuple[str, ...]:
    """The variables that stand for part of the place (host, bucket, path): the complement of the above."""
    if "${" not in uri:  # every reference starts so (ENV_REFERENCE); checked for each backup path
        return ()
    parts = _split(uri)
    if parts is None:
        return ()
    query = re.search(r"[?#]", parts.rest)
    return references(parts.rest[: query.start()] if query else parts.rest)


def encode_userinfo(value: str, scheme: str) -> str:
    """A value as `resolve` puts it into the user-info of a `scheme://` URI."""
    return quote(value, safe=_AZURE_USERINFO_SAFE if scheme == "abs" else _USERINFO_SAFE)


def userinfo_encodings(value: str) -> tuple[str, ...]:
    """Every form in which a value may travel inside a URI (for the redactor): as is, as `resolve` encodes
    it for any scheme, fully encoded, and with lowercase hex digits, as a server may echo it."""
    forms = [value, encode_userinfo(value, "ftp"), encode_userinfo(value, "abs"), quote(value, safe="")]
    forms += [re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form) for form in forms]
    return tuple(dict.fromkeys(forms))


def resolve(text: str, environ: Mapping[str, str]) -> str:
    """Substitute `${env:NAME}`; an unset (or empty) variable is an error, never an empty string.

    Inside a URI's user-info a value is percent-encoded (`p@ss/w:rd` → `p%40ss%2Fw%3Ard`), so the URI
    the API receives is well formed whatever the secret holds. A reference anywhere else (a bucket or a
    path) is inserted as is: there the user writes the URI, encoding included."""
    parts = _split(text)
    if parts is None or (parts.user is None and parts.secret is None):
        return _substitute(text, environ, lambda value: value)

    def encoded(value: str) -> str:
        return encode_userinfo(value, parts.scheme)

    user = _substitute(parts.user, environ, encoded) if parts.user is not None else None
    secret = _substitute(parts.secret, environ, encoded) if parts.secret is not None else None
    rest = _substitute(parts.rest, environ, lambda value: value)
    return replace(parts, rest=rest).joined(user, secret)


def _substitute(text: str, environ: Mapping[str, str], encode: Callable[[str], str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = environ.get(match.group(1))
        if not value:
            raise UnsetVariableError(match.group(1))
        return encode(value)

    return ENV_REFERENCE.sub(substitute, text)


_URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")


def mask_in_text(text: str) -> str:
    """Every URI inside free text masked, e.g. an API error description that echoes a request."""
    return _URI_IN_TEXT.sub(lambda match: mask(match.group(0)), text)
