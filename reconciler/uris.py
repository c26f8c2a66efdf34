"""Storage and source URIs: scheme inference, `${env:NAME}` references, credential masking.

Credentials may sit in the user-info part of a URI (API-NOTES §2 and §4: `ftp://user:pass@…`,
`abs://key@account/…`, `redis://pass@host:port`, `http://user:pass@…`). Manifests must reference them
as `${env:NAME}`; anything shown to a person passes through `mask()` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import ReconcilerError

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


class UnsetVariableError(ReconcilerError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"environment variable {name} is not set (referenced as ${{env:{name}}})")


@dataclass(frozen=True, slots=True)
class _Parts:
    scheme: str
    head: str  # "scheme://"
    user: str | None  # the part before ':' in user-info, or None
    secret: str | None  # the credential part of user-info, or None
    rest: str  # from '@' (exclusive) on, or everything after '://' when there is no user-info


def scheme_of(uri: str) -> str | None:
    match = _SCHEME.match(uri)
    return match.group(1).lower() if match else None


def infer_type(uri: str) -> str | None:
    """The API's storage/source type for a URI's scheme, or None when the scheme is unknown."""
    scheme = scheme_of(uri)
    return _TYPE_BY_SCHEME.get(scheme) if scheme else None


def _split(uri: str) -> _Parts | None:
    match = _SCHEME.match(uri)
    if not match:
        return None
    scheme = match.group(1).lower()
    head, after = uri[: match.end()], uri[match.end() :]
    at = after.find("@")
    # A '/' before the '@' means the '@' is in the path, except for Azure keys, which are base64.
    if at < 0 or ("/" in after[:at] and scheme != "abs"):
        return _Parts(scheme, head, None, None, after)
    userinfo, rest = after[:at], after[at + 1 :]
    if ":" in userinfo:
        user, secret = userinfo.split(":", 1)
        return _Parts(scheme, head, user, secret, rest)
    if scheme in _SECRET_WITHOUT_COLON:
        return _Parts(scheme, head, None, userinfo, rest)
    return _Parts(scheme, head, userinfo, None, rest)


def has_literal_credential(uri: str) -> bool:
    """True when the URI carries a credential that is not an `${env:NAME}` reference."""
    parts = _split(uri)
    return bool(parts and parts.secret and not _ONLY_ENV_REFERENCE.match(parts.secret))


def mask(uri: str) -> str:
    """The URI with any literal credential replaced by `****`; `${env:…}` references stay readable."""
    parts = _split(uri)
    if parts is None or not parts.secret or _ONLY_ENV_REFERENCE.match(parts.secret):
        return uri
    user = f"{parts.user}:" if parts.user is not None else ""
    return f"{parts.head}{user}{MASK}@{parts.rest}"


def suggest_reference(uri: str, variable: str) -> str:
    """The URI as it should be written, with its credential moved into `${env:variable}`."""
    parts = _split(uri)
    if parts is None or not parts.secret:
        return uri
    user = f"{parts.user}:" if parts.user is not None else ""
    return f"{parts.head}{user}${{env:{variable}}}@{parts.rest}"


def references(text: str) -> tuple[str, ...]:
    """The environment variables a string refers to, in order of first use."""
    return tuple(dict.fromkeys(ENV_REFERENCE.findall(text)))


def resolve(text: str, environ: Mapping[str, str]) -> str:
    """Substitute `${env:NAME}`; an unset (or empty) variable is an error, never an empty string."""

    def substitute(match: re.Match[str]) -> str:
        value = environ.get(match.group(1))
        if not value:
            raise UnsetVariableError(match.group(1))
        return value

    return ENV_REFERENCE.sub(substitute, text)


_URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")


def mask_in_text(text: str) -> str:
    """Every URI inside free text masked, e.g. an API error description that echoes a request."""
    return _URI_IN_TEXT.sub(lambda match: mask(match.group(0)), text)
