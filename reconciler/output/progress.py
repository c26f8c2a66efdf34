"""What a person sees while apply runs: a live display on a TTY (rich), one line per start/finish in CI with a
heartbeat while an operation runs, and the final table of every operation with its outcome and duration.

Both displays are the applier's `Listener`: `(event, address, detail)` with event "start" (detail None), "finish"
(its `StepResult`) or "status" (the latest status the API reported for the running operation, e.g. `importing`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from reconciler.core.outcomes import Outcome, StepResult
from reconciler.output.render import MARKDOWN_LIMIT, markdown_size

_STYLE = {
    Outcome.DONE: "green",
    Outcome.SETTLED: "green",
    Outcome.FAILED: "bold red",
    Outcome.UNCERTAIN: "yellow",
    Outcome.CLAIMED_BY_OTHER_RUN: "yellow",
    Outcome.REFUSED: "bold red",
    Outcome.SKIPPED: "dim",
}


HEARTBEAT = 60.0  # seconds between "still importing …" lines: a 6-hour import must not look hung in a CI log

Detail = StepResult | str | None  # what a listener event carries (see the module docstring)


@dataclass(slots=True)
class _Running:
    started: float
    last_line: float  # when its start or its latest heartbeat line was printed
    status: str | None = None


class LineProgress:
    """For CI logs: one line when an operation starts, one when it finishes, and every `heartbeat` seconds
    between them a line saying it is still running, how long it has run and the latest status the API gave."""

    def __init__(
        self, stream: TextIO, *, heartbeat: float = HEARTBEAT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream
        self._heartbeat = heartbeat
        self._clock = clock
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._timer: threading.Thread | None = None

    def __call__(self, event: str, address: str, detail: Detail) -> None:
        with self._lock:
            if isinstance(detail, StepResult):
                self._running.pop(address, None)
                message = f": {detail.message}" if detail.message and not detail.ok else ""
                self._print(f"{detail.outcome.value:<8} {address} ({detail.duration:.1f}s){message}")
            elif event == "status":
                if address in self._running and detail:
                    self._running[address].status = detail
            else:
                now = self._clock()
                self._running[address] = _Running(started=now, last_line=now)
                self._print(f"start    {address}")

    def beat(self) -> None:
        """A heartbeat line for each operation silent for `heartbeat` seconds; the timer calls it."""
        with self._lock:
            now = self._clock()
            for address, running in self._running.items():
                if now - running.last_line >= self._heartbeat:
                    running.last_line = now
                    self._print(heartbeat_line(address, now - running.started, running.status))

    def _print(self, line: str) -> None:
        print(line, file=self._stream, flush=True)

    def __enter__(self) -> LineProgress:
        tick = min(1.0, self._heartbeat / 4)

        def run() -> None:
            while not self._done.wait(tick):
                self.beat()

        self._timer = threading.Thread(target=run, name="heartbeat", daemon=True)
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._timer is not None:
            self._timer.join()


_VERBS = {"backup": "updating", "backups": "backing up", "imports": "importing", "owner": "writing the owner tag of"}


def heartbeat_line(address: str, elapsed: float, status: str | None) -> str:
    """`still importing orders-prod.imports.seed (12m elapsed, status importing)`; the verb comes from the
    address (SPEC §3: `NAME.backup`, `NAME.backups.ID`, `NAME.imports.ID`; a name holds no dot)."""
    parts = address.split(".")
    verb = _VERBS.get(parts[1], "running") if len(parts) in (2, 3) else "running"
    shown = f", status {status}" if status else ""
    return f"still {verb} {address} ({duration_text(elapsed)} elapsed{shown})"


def duration_text(seconds: float) -> str:
    """`45s`, `12m`, `6h 05m`: as coarse as a person reading a long log wants it."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


class LiveProgress:
    """For a terminal: a spinner per running operation, settled in place when it finishes."""

    def __init__(self, stream: TextIO, *, color: bool) -> None:
        console = Console(file=stream, force_terminal=True, no_color=not color, highlight=False)
        spinner = "dots" if console.encoding.startswith("utf") else "line"  # braille needs a Unicode terminal
        self._progress = Progress(
            SpinnerColumn(spinner),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __call__(self, event: str, address: str, detail: Detail) -> None:
        with self._lock:
            if isinstance(detail, str):  # a status: shown beside the address while it runs
                if address in self._tasks:
                    self._progress.update(self._tasks[address], description=f"{address} ({escape(detail)})")
                return
            result = detail
            if result is None:
                self._tasks[address] = self._progress.add_task(address, total=None)
                return
            task = self._tasks.pop(address, None)
            if task is None:  # finished without a start event; not `or`: rich's first TaskID is 0
                task = self._progress.add_task(address, total=None)
            style = _STYLE[result.outcome]
            self._progress.update(
                task, description=f"[{style}]{result.outcome.value}[/] {address}", total=1, completed=1
            )
            self._progress.stop_task(task)

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


def render_summary(results: Sequence[StepResult], stream: TextIO, *, color: bool) -> None:
    console = Console(file=stream, no_color=not color, force_terminal=color, highlight=False, width=160)
    table = Table(title="Apply summary", title_justify="left")
    for column in ("address", "action", "outcome", "duration", "detail"):
        table.add_column(column, overflow="fold")
    for result in results:
        style = _STYLE[result.outcome]
        table.add_row(
            result.address,
            result.action,
            f"[{style}]{result.outcome.value}[/]",
            f"{result.duration:.1f}s",
            result.message,
        )
    console.print(table)


def summary_counts(results: Sequence[StepResult]) -> dict[str, Any]:
    counts = {outcome.value: 0 for outcome in Outcome}
    for result in results:
        counts[result.outcome.value] += 1
    return counts


def render_markdown_summary(
    results: Sequence[StepResult], *, limit: int = MARKDOWN_LIMIT, full_report: str | None = None
) -> str:
    """The apply outcome for the CI step summary (or a comment): the counts line always, every row while they
    fit within `limit` (UTF-8 bytes, as `render.markdown_size`); when they do not, the rows needing a person
    come first and a last line says how many are not shown and where every outcome is."""
    counts = summary_counts(results)
    line = ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "nothing to do"
    head = [f"**Apply: {line}.**", "", "| address | action | outcome | duration | detail |", "|---|---|---|---|---|"]

    def row(r: StepResult) -> str:
        return f"| `{r.address}` | {r.action} | {r.outcome.value} | {r.duration:.1f}s | {r.message.replace('|', '/')} |"

    def more(n: int) -> str:
        where = f"every outcome is in `{full_report}`" if full_report else "`apply --report FILE` keeps every outcome"
        return f"\n*{n} more operation{'s' * (n != 1)} not shown*: {where}."

    rows = [row(r) for r in results]
    if markdown_size("\n".join([*head, *rows])) <= limit:
        return "\n".join([*head, *rows])
    ordered = [row(r) for r in results if not r.ok] + [row(r) for r in results if r.ok]
    room = limit - markdown_size("\n".join(head)) - markdown_size(more(len(results))) - 1
    shown: list[str] = []
    for text in ordered:
        room -= markdown_size(text) + 1
        if room < 0:
            break
        shown.append(text)
    return "\n".join([*head, *shown, more(len(results) - len(shown))])
