"""All-or-nothing files (plan files, apply reports, discovered manifests): a temp file beside the target, fsync,
rename."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def write_json(
    path: str | os.PathLike[str],
    document: Mapping[str, Any] | list[Any],
    *,
    redact: Callable[[str], str] | None = None,
) -> None:
    """`redact` scrubs the text before it reaches the disk: a file is output too (SPEC §9)."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if redact is not None:
        text = redact(text)
    write_text(path, text)


def write_text(path: str | os.PathLike[str], text: str, *, overwrite: bool = True) -> None:
    """Without `overwrite`, an existing file is never replaced, even one that appears after the caller looked
    (the temp file is hard-linked to the name, which fails if the name exists): `FileExistsError`."""
    target = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if overwrite:
            os.replace(temp_name, target)
        else:
            os.link(temp_name, target)
    finally:
        Path(temp_name).unlink(missing_ok=True)
