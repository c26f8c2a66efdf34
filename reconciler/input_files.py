"""Reading a file a user named (a manifest, a plan file): a regular file only, and never more than a limit.

A FIFO would block the read forever and `/dev/zero` never ends (issue 20 items 16-17), so anything but a
regular file is refused by what it is before it is opened, and again on the open descriptor (opened without
blocking), in case the path was swapped in between. The size is checked before reading and while reading.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

_CHUNK = 1024 * 1024
# The limits of every file a user names (SPEC §10): a manifest, a plan file (one a person may have edited).
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
_MAX_NUMBER = 30  # characters: ids are int32; past 4,300 digits Python refuses to convert at all


class InputFileProblem(Exception):
    """One line saying what is wrong with the file; the caller adds which file."""


def kind_of(mode: int) -> str | None:
    """What a file that is not a regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; `InputFileProblem` for a non-regular or too large file, `OSError` when unreadable."""
    _refuse(os.stat(path).st_mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        _refuse(info.st_mode)
        if info.st_size > max_bytes:
            raise InputFileProblem(_too_large(max_bytes))
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(descriptor, _CHUNK):
            size += len(chunk)
            if size > max_bytes:  # it grew while being read
                raise InputFileProblem(_too_large(max_bytes))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _refuse(mode: int) -> None:
    kind = kind_of(mode)
    if kind is not None:
        raise InputFileProblem(f"this is {kind}, not a regular file — pass a file")


def _too_large(max_bytes: int) -> str:
    return f"file is larger than {max_bytes // (1024 * 1024)} MB"


def strict_json(text: str) -> Any:
    """JSON as a hostile file may hold it: NaN, Infinity, 1e999 and 5,000-digit numbers are refused, and so is
    nesting deeper than `MAX_DEPTH`; each refusal is an `InputFileProblem`."""
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_float=_finite, parse_int=_bounded_int)
    except _BadNumber as error:
        raise InputFileProblem(str(error)) from None
    except RecursionError:  # the decoder recurses: far past MAX_DEPTH, it stops here
        raise InputFileProblem(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise InputFileProblem(f"invalid JSON: {error}") from None
    if _depth(document) > MAX_DEPTH:
        raise InputFileProblem(f"nested deeper than {MAX_DEPTH} levels")
    return document


class _BadNumber(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _BadNumber(f"{name} is not a number a plan holds")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or len(text) > _MAX_NUMBER:
        raise _BadNumber(f"the number {text[:_MAX_NUMBER]}{'...' if len(text) > _MAX_NUMBER else ''} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_NUMBER:
        raise _BadNumber(f"a number of {len(text):,} digits is out of range")
    return int(text)


def _depth(document: Any) -> int:
    """Iterative: the document is hostile until proven otherwise."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest
