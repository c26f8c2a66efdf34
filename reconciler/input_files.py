"""Reading a file a user named (a manifest, a plan file): a regular file only, and never more than a limit.

A FIFO would block the read forever and `/dev/zero` never ends (issue 20 items 16-17), so anything but a
regular file is refused by what it is before it is opened, and again on the open descriptor (opened without
blocking), in case the path was swapped in between. The size is checked before reading and while reading.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_CHUNK = 1024 * 1024


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
