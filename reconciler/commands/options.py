"""The flags of each command, typed: `cli.py` parses the command line into one of these, and the command reads
nothing else, so a misspelt or missing flag is a type error rather than an `AttributeError` at run time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

TextOrJson = Literal["text", "json"]
PlanFormat = Literal["text", "markdown", "json"]


class CallsApi(Protocol):
    """Flags of a command that talks to the Redis Cloud API (or the sandbox)."""

    @property
    def rate_limit(self) -> int: ...


@dataclass(frozen=True, slots=True)
class GlobalFlags:
    """Accepted before the command and after it (SPEC §10)."""

    debug: bool = False
    no_color: bool = False
    quiet: bool = False
    sandbox: bool = False


@dataclass(frozen=True, slots=True)
class ValidateFlags:
    files: tuple[Path, ...]
    paths: tuple[Path, ...]  # positional, as pre-commit passes the changed files
    format: TextOrJson
    code_quality: Path | None  # where to write a GitLab code quality report


@dataclass(frozen=True, slots=True)
class SchemaFlags:
    """`schema` takes no flags of its own; the class keeps every command's signature alike."""


@dataclass(frozen=True, slots=True)
class PlanFlags:
    """`plan`'s flags; not `reconciler.core.planner.PlanOptions`, which is what the planner is given."""

    files: tuple[Path, ...]
    targets: tuple[str, ...]
    retry_failed: tuple[str, ...]
    retry_uncertain: tuple[str, ...]
    rate_limit: int
    out: Path | None
    format: PlanFormat
    detailed_exitcode: bool
    report_unmanaged: bool
    code_quality: Path | None  # where to write a GitLab code quality report
    observe: bool = False  # every database observed for this run (issue 17)
    owner: str | None = None  # the manifest set's owner id, as `owner:` in the files would give it
    takeover: bool = False  # manage databases another set owns, taking their owner tag over


@dataclass(frozen=True, slots=True)
class ApplyFlags:
    files: tuple[Path, ...]
    planfile: Path | None  # None: plan afresh, show it and ask
    targets: tuple[str, ...]
    retry_failed: tuple[str, ...]
    retry_uncertain: tuple[str, ...]
    rate_limit: int
    auto_approve: bool
    parallelism: int | None  # None: as many as the plan's subscriptions have backup slots (applier.py)
    max_backups_per_subscription: int
    timeout: float  # seconds, per operation
    report: Path | None
    observe: bool = False  # every database observed for this run: apply writes to none (issue 17)
    owner: str | None = None
    takeover: bool = False


@dataclass(frozen=True, slots=True)
class DrillFlags:
    files: tuple[Path, ...]
    targets: tuple[str, ...]
    rate_limit: int
    auto_approve: bool
    timeout: float  # seconds, per step
    format: TextOrJson


@dataclass(frozen=True, slots=True)
class ShowFlags:
    planfile: Path
    format: PlanFormat


@dataclass(frozen=True, slots=True)
class StatusFlags:
    files: tuple[Path, ...]
    rate_limit: int
    format: TextOrJson


@dataclass(frozen=True, slots=True)
class CheckFlags:
    files: tuple[Path, ...]
    targets: tuple[str, ...]
    rate_limit: int
    format: PlanFormat


@dataclass(frozen=True, slots=True)
class ReceiptsListFlags:
    files: tuple[Path, ...]
    rate_limit: int
    format: TextOrJson


@dataclass(frozen=True, slots=True)
class ReceiptsForgetFlags:
    files: tuple[Path, ...]
    rate_limit: int
    address: str
    auto_approve: bool
    force: bool  # forget a claimed receipt, whose operation may be running


@dataclass(frozen=True, slots=True)
class DiscoverFlags:
    subscriptions: tuple[int, ...]  # empty: every subscription of the chosen tiers
    tier: Literal["pro", "essentials"] | None  # None: both
    out: Path
    split: Literal["subscription", "none"]
    force: bool  # replace files that exist
    rate_limit: int


@dataclass(frozen=True, slots=True)
class ReceiptsAdoptFlags:
    files: tuple[Path, ...]
    rate_limit: int
    address: str
    auto_approve: bool


@dataclass(frozen=True, slots=True)
class SandboxServeFlags:
    host: str
    port: int
    seed: Path | None  # None: as for reset
    verbose: bool  # a line per request on stdout


@dataclass(frozen=True, slots=True)
class SandboxResetFlags:
    seed: Path | None  # None: the example account shipped in the package


@dataclass(frozen=True, slots=True)
class SandboxUpFlags:
    seed: Path | None  # None: as for reset
    dir: Path | None  # None: the default state directory
    backup_speedup: float
    verbose: bool  # a line per request in its sandbox.log


@dataclass(frozen=True, slots=True)
class SandboxStatusFlags:
    dir: Path | None
    format: TextOrJson


@dataclass(frozen=True, slots=True)
class SandboxDownFlags:
    dir: Path | None
