"""What every command is handed: its typed flags, the global ones, the (redacting) streams, the environment,
and helpers."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TextIO, TypeVar

from reconciler.commands.options import CallsApi, GlobalFlags
from reconciler.exitcodes import EXIT_BUG, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK
from reconciler.output.redact import Redactor

if TYPE_CHECKING:  # imported when used, so that `--version` and `validate` don't load httpx
    from reconciler.cloud.session import Exchange, Observer
    from reconciler.connect import Connection
    from reconciler.core.desired import Manifest

__all__ = ["EXIT_BUG", "EXIT_CHANGES", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "Runtime", "utc_now"]

# Covariant, so that a helper of two commands takes `Runtime[PlanFlags | ApplyFlags]` and `connect` can ask for
# any flags with a rate limit; sound because a runtime's flags are never replaced.
Flags = TypeVar("Flags", covariant=True)


@dataclass(slots=True)
class Runtime(Generic[Flags]):
    flags: Flags  # the command's own (commands/options.py)
    global_flags: GlobalFlags
    out: TextIO
    err: TextIO
    color: bool
    environ: Mapping[str, str]
    redactor: Redactor
    connection: Connection | None = None
    loaded: Manifest | None = None  # the manifests this run read, once read: CI reports place plan errors by it
    watchers: list[Observer] = field(default_factory=list)  # told of every HTTP attempt (plan's progress)
    _debug_lock: threading.Lock = field(default_factory=threading.Lock)

    def manifest(self, files: Sequence[Path]) -> Manifest:
        """Load the manifests, and teach the redactor the values of the variables used as credentials (not a
        bucket's name: masking every occurrence of it would hide `s3://orders/…` and every `orders-…` word)."""
        from reconciler.core.uris import credential_references
        from reconciler.manifest.load import load_manifest

        manifest = load_manifest(files)
        for uri in _uris(manifest):
            for name in credential_references(uri):
                self.redactor.add(self.environ.get(name))  # and its percent-encoded and escaped forms
        self.loaded = manifest
        return manifest

    def connect(self: Runtime[CallsApi]) -> Connection:
        """Only a command whose flags carry `--rate-limit` may connect (mypy checks it from the self type)."""
        if self.connection is None:
            from reconciler.connect import connect

            self.connection = connect(
                self.environ,
                sandbox=self.global_flags.sandbox,
                rate_limit=self.flags.rate_limit,
                redactor=self.redactor,
                notice=None if self.global_flags.quiet else self.err,
                observer=self._saw,
            )
        return self.connection

    def _saw(self, exchange: Exchange) -> None:
        """One HTTP attempt: a `--debug` line (masked by the session, and by the stream's redactor), and the
        watchers. Called from the refresh and apply threads, so a line is written whole."""
        if self.global_flags.debug:
            with self._debug_lock:
                self.err.write(f"debug: {exchange}\n")
                self.err.flush()
        for watch in tuple(self.watchers):
            watch(exchange)

    @contextmanager
    def reading(self, *, machine: bool = False) -> Iterator[None]:
        """Progress on stderr while the live account is read: a counter on a terminal, a line now and then in a
        log. None with --quiet or --debug (its lines are the progress), nor in a log when stdout is `machine`
        output: a script reading both streams gets nothing it did not ask for."""
        live = self.err.isatty()
        if self.global_flags.quiet or self.global_flags.debug or (machine and not live):
            yield
            return
        from reconciler.output.read_progress import ReadProgress

        with ReadProgress(self.err, live=live) as progress:
            self.watchers.append(progress)
            try:
                yield
            finally:
                self.watchers.remove(progress)

    def debug(self, text: str) -> None:
        if self.global_flags.debug:
            print(text, file=self.err)

    def report_requests(self) -> None:
        if self.connection is not None:
            session = self.connection.client.session
            self.debug(
                f"API requests: {session.requests} ({session.retries} retried; "
                f"{session.limiter.waited:.1f} s waited for the rate limit)"
            )

    @property
    def writes_step_summary(self) -> bool:
        """GitHub Actions asked for a step summary (a command may skip making one otherwise)."""
        return bool(self.environ.get("GITHUB_STEP_SUMMARY"))

    def append_step_summary(self, markdown: str) -> None:
        """GitHub Actions shows this file on the run's page (SPEC §5)."""
        target = self.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            try:
                with open(target, "a", encoding="utf-8") as handle:
                    handle.write(self.redactor(markdown) + "\n")
            except OSError as error:
                from reconciler.errors import ReconcilerError

                raise ReconcilerError(f"GITHUB_STEP_SUMMARY={target}: cannot append ({error.strerror})") from None


def _uris(manifest: Manifest) -> Iterator[str]:
    """Every URI a manifest writes: where `${env:…}` references may stand."""
    for spec in manifest.databases:
        if spec.backup is not None and spec.backup.path:
            yield spec.backup.path
        yield from (backup.path for backup in spec.backups if backup.path)
        for item in spec.imports:
            yield from item.sources
        yield from (drill.path for drill in spec.drills)


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
