"""Last line of defence for secrets: every byte the CLI prints passes through here.

URIs are masked where they are rendered; this catches what nobody thought of: the API keys and the
values of `${env:…}` variables, should any of them reach a message, a traceback or a report. A value is
known in every form it may travel in: percent-encoded as `resolve` puts it into a URI (an API error may echo
the URI it was sent), escaped as JSON, a Python repr or `ascii()` would print it (a newline becomes `\\n`), as
the repr of its UTF-8 bytes (`b'…\\xc3\\xa9…'`, as httpx quotes an illegal header value), stripped of the
whitespace around it, and each escaped form once more as JSON (a report quoting an escaped message).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import TextIO

from reconciler.uris import MASK, userinfo_encodings

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


class RedactingStream:
    """A text stream that masks every known secret before writing; TTY-ness passes through (for colour)."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self._stream = stream
        self._redact = redactor

    def write(self, text: str) -> int:
        self._stream.write(self._redact(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"
