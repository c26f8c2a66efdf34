"""What a person sees while apply runs: a live display on a TTY (rich), one line per start/finish in CI,
and the final table of every operation with its outcome and duration."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, TextIO

from rich.console import Console
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


class LineProgress:
    """For CI logs: one line when an operation starts and one when it finishes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: str, address: str, result: StepResult | None) -> None:
        with self._lock:
            if result is None:
                print(f"start    {address}", file=self._stream, flush=True)
            else:
                detail = f": {result.message}" if result.message and not result.ok else ""
                print(
                    f"{result.outcome.value:<8} {address} ({result.duration:.1f}s){detail}",
                    file=self._stream,
                    flush=True,
                )

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


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

    def __call__(self, event: str, address: str, result: StepResult | None) -> None:
        with self._lock:
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
