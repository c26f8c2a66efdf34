"""All-or-nothing JSON files (plan files, apply reports): a temp file beside the target, fsync, rename."""

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
    target = Path(path)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if redact is not None:
        text = redact(text)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
