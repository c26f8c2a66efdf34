"""Last line of defence for secrets: every byte the CLI prints passes through here.

URIs are masked where they are rendered; this catches what nobody thought of: the API keys and the
values of `${env:…}` variables, should any of them reach a message, a traceback or a report. A value is
known in every form it may travel in: percent-encoded as `resolve` puts it into a URI (an API error may echo
the URI it was sent), and escaped as JSON or a Python repr would print it (a newline becomes `\\n`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TextIO

from reconciler.uris import MASK, userinfo_encodings

_MIN_SECRET = 4  # shorter values would mangle ordinary words


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET:
            forms = set(userinfo_encodings(secret))
            forms |= {json.dumps(form, ensure_ascii=only_ascii)[1:-1] for form in forms for only_ascii in (True, False)}
            forms |= {repr(form)[1:-1] for form in forms}
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
