"""Injected failures, so tests can show how the product behaves when the API misbehaves.

A fault is stored in the world (it survives between processes in the file-backed modes) with a count
of requests it still applies to, and optionally a method and a path glob matched against the whole
path after `/v1`: `*` stays within one segment, `**` crosses segments (e.g. `**/import`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from reconciler.sandbox.state import FaultRecord, WorldData

FaultKind = Literal["rate_limit", "server_error", "slow", "drop", "drop_after", "task_error"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One kind of misbehaviour; build it with the class methods, then `Emulator.inject()` or `inject_fault()`."""

    kind: FaultKind
    count: int = 1
    method: str | None = None
    path: str | None = None
    status: int = 503
    seconds: float = 0.0
    error_type: str = "GENERAL_ERROR"
    error_status: str = "500 INTERNAL_SERVER_ERROR"
    description: str = "Injected failure"
    command_type: str | None = None

    @classmethod
    def rate_limit_storm(cls, count: int) -> Fault:
        """The next `count` requests answer 429, whatever their key's budget."""
        return cls("rate_limit", count=count, status=429)

    @classmethod
    def server_error(
        cls, status: int = 503, count: int = 1, method: str | None = None, path: str | None = None
    ) -> Fault:
        return cls("server_error", count=count, method=method, path=path, status=status)

    @classmethod
    def slow(cls, seconds: float, count: int = 1, method: str | None = None, path: str | None = None) -> Fault:
        """Wall-clock delay before answering (outside the emulator lock), to trigger client timeouts."""
        return cls("slow", count=count, method=method, path=path, seconds=seconds)

    @classmethod
    def drop(
        cls, count: int = 1, method: str | None = None, path: str | None = None, *, after_processing: bool = False
    ) -> Fault:
        """Drop the connection; with `after_processing` the request takes effect first (an unknown outcome)."""
        return cls("drop_after" if after_processing else "drop", count=count, method=method, path=path)

    @classmethod
    def task_error(
        cls,
        error_type: str,
        *,
        command_type: str | None = None,
        count: int = 1,
        error_status: str = "400 BAD_REQUEST",
        description: str = "Injected task failure",
    ) -> Fault:
        """The next matching task ends `processing-error` with this error type and has no effect."""
        return cls(
            "task_error",
            count=count,
            error_type=error_type,
            error_status=error_status,
            description=description,
            command_type=command_type,
        )

    def to_record(self) -> FaultRecord:
        if self.count < 1:
            raise ValueError("a fault must apply to at least one request")
        return {
            "kind": self.kind,
            "remaining": self.count,
            "method": self.method.upper() if self.method else None,
            "path": self.path,
            "status": self.status,
            "seconds": self.seconds,
            "error_type": self.error_type,
            "error_status": self.error_status,
            "description": self.description,
            "command_type": self.command_type,
        }


def add_fault(world: WorldData, fault: Fault) -> None:
    world["faults"].append(fault.to_record())


def take_request_fault(world: WorldData, kind: FaultKind, method: str, path: str) -> FaultRecord | None:
    """Consume one use of the first fault of `kind` matching this request, if any."""
    for record in world["faults"]:
        if record["kind"] != kind or record["remaining"] < 1:
            continue
        if record["method"] and record["method"] != method.upper():
            continue
        if record["path"] and not _glob(record["path"]).fullmatch(path):
            continue
        return _use(world, record)
    return None


def take_task_fault(world: WorldData, command_type: str) -> FaultRecord | None:
    for record in world["faults"]:
        if record["kind"] == "task_error" and record["command_type"] in (None, command_type):
            return _use(world, record)
    return None


def _use(world: WorldData, record: FaultRecord) -> FaultRecord:
    record["remaining"] -= 1
    if record["remaining"] < 1:
        world["faults"].remove(record)
    return record


@lru_cache(maxsize=64)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    wildcard = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcard.get(part) or re.escape(part) for part in parts))
