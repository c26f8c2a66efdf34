"""Last line of defence for secrets: every byte the CLI prints passes through here.

URIs are masked where they are rendered; this catches what nobody thought of: the API keys and the
values of `${env:…}` variables, should any of them reach a message, a traceback or a report. A value is
known in every form it may travel in: percent-encoded as `resolve` puts it into a URI (an API error may echo
the URI it was sent), escaped as JSON, a Python repr or `ascii()` would print it (a newline becomes `\\n`), as
the repr of its UTF-8 bytes (`b'…\\xc3\\xa9…'`, as httpx quotes an illegal header value), stripped of the
whitespace around it, and each escaped form once more as JSON (a report quoting an escaped message).
"""

from __future__ import annotations

import codecs
import json
import threading
from collections.abc import Callable, Iterable
from typing import TextIO

from reconciler.core.uris import MASK, userinfo_encodings

_MIN_SECRET = 4  # shorter values would mangle ordinary words

_ESCAPES: tuple[Callable[[str], str], ...] = (
    lambda form: json.dumps(form)[1:-1],
    lambda form: json.dumps(form, ensure_ascii=False)[1:-1],
    lambda form: repr(form)[1:-1],
    lambda form: ascii(form)[1:-1],
    lambda form: repr(form.encode("utf-8", "surrogatepass"))[2:-1],
)


def _forms(secret: str) -> set[str]:
    """Every form of `secret` worth looking for (see the module docstring)."""
    plain = {secret, secret.strip()}
    encoded = {form for value in plain if len(value) >= _MIN_SECRET for form in userinfo_encodings(value)}
    escaped = encoded | {escape(form) for form in encoded for escape in _ESCAPES}
    return escaped | {_ESCAPES[0](form) for form in escaped} | {_ESCAPES[1](form) for form in escaped}


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET:
            forms = {form for form in _forms(secret) if len(form) >= _MIN_SECRET}
            with self._lock:
                self._secrets.update(forms)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


_ESCAPE = "reconciler-escape"


def _escape(error: UnicodeError) -> tuple[str, int]:
    """What the stream's encoding cannot carry, as JSON's `\\uXXXX` escapes (UTF-16 units): JSON output stays
    exact (`json.loads` gives the original text back), text and markdown stay readable, nothing crashes."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    units = error.object[error.start : error.end].encode("utf-16-be", "surrogatepass")
    escaped = "".join(f"\\u{int.from_bytes(units[n : n + 2], 'big'):04x}" for n in range(0, len(units), 2))
    return escaped, error.end


codecs.register_error(_ESCAPE, _escape)


class RedactingStream:
    """A text stream that masks every known secret before writing; TTY-ness passes through (for colour).

    Any encoding works (`PYTHONIOENCODING=ascii`, a Windows console's code page): a character the stream
    cannot encode is written as an escape instead of ending the command with a `UnicodeEncodeError`.
    """

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self._stream = stream
        self._redact = redactor

    def write(self, text: str) -> int:
        clean = self._redact(text)
        try:
            self._stream.write(clean)
        except UnicodeEncodeError:  # raised before anything is written: a text stream encodes the whole string
            encoding = self.encoding
            self._stream.write(clean.encode(encoding, _ESCAPE).decode(encoding, "replace"))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"
