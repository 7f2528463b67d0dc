"""Progress of the headless commands on standard error, and how a time left reads.

On a terminal, `ProgressPrinter` draws with rich one live line per running job (label,
bar, percent, stage, time left): a farm render with several shots at once keeps each
running shot on a line of its own, and a job that ends leaves a line above them. Anywhere
else (a pipe, a log file, a CI job) it writes plain lines without terminal codes: each
job's progress every quarter of a stage, and one line when it ends.

`duration_text` and `eta_text` are the one way a span of time reads, here and in the
window (the render queue, the export dialog, the estimates on a shot).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from studio.jobs import Cancelled, Event, Failed, Finished, Progress, Started

BAR = 24
REFRESH_PER_SECOND = 10  # the live lines


def duration_text(seconds: float) -> str:
    """ "12 s", "5 min", "1.7 h": the unit a person would say."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def eta_text(seconds: float | None) -> str:
    """The time left of a job ("~12 s left"), or "" when it is not known."""
    if seconds is None or seconds < 0:
        return ""
    return f"~{duration_text(seconds)} left"


def size_text(size: float) -> str:
    """A size in bytes as people read it: "512 B", "1.5 MB" (1024 to a step)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def bar(fraction: float, width: int = BAR) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "#" * filled + "-" * (width - filled)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class ProgressPrinter:
    """Turns engine events into progress on `stream`: live rich lines on a terminal (or on
    the given rich `console`), plain lines elsewhere, nothing at all when `quiet`."""

    def __init__(
        self, stream: TextIO | None = None, *, quiet: bool = False, console: Any = None
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.quiet = quiet
        self._labels: dict[int, str] = {}
        self._started: dict[str, float] = {}
        self._last_plain: dict[str, float] = {}
        self._tasks: dict[str, Any] = {}  # job id -> rich task id
        self.live = not quiet and (console is not None or _is_terminal(self.stream))
        self._progress: Any = None
        self._console: Any = console
        if self.live:
            self._build_live()

    @property
    def tty(self) -> bool:
        return self.live

    def _build_live(self) -> None:
        # rich loads only here: the window imports this module for `eta_text`.
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        if self._console is None:
            self._console = Console(file=self.stream, highlight=False)
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=BAR),
            TaskProgressColumn(),
            TextColumn("{task.fields[stage]}", markup=False),
            TextColumn("{task.fields[eta]}", markup=False),
            console=self._console,
            refresh_per_second=REFRESH_PER_SECOND,
            redirect_stdout=False,  # the results come after the progress
            redirect_stderr=True,  # log lines (-v) print above the live lines
        )

    # -- engine callbacks ------------------------------------------------------------------

    def plan(self, index: int, count: int, plan) -> None:
        title = plan.shot.title or plan.shot.id
        if plan.request.seed != plan.shot.seed:
            title = f"{title} (seed {plan.request.seed})"
        label = self._labels[id(plan)] = f"[{index}/{count}] {title}"
        for note in plan.notes:
            self._line(f"{label}: note: {note}")

    def event(self, plan, event: Event) -> None:
        if self.quiet:
            return
        label = self._labels.get(id(plan), plan.shot.title or plan.shot.id)
        job = event.job_id
        if isinstance(event, Started):
            self._started[job] = time.monotonic()
            if self.live:
                self._task(job, label)
                self._progress.refresh()
        elif isinstance(event, Progress) and event.total > 0:
            stage = f"{event.stage.value} {event.step}/{event.total}"
            eta = eta_text(event.eta_seconds)
            if self.live:
                task = self._task(job, label)
                self._progress.update(
                    task, total=event.total, completed=event.step, stage=stage, eta=eta
                )
            elif event.fraction - self._last_plain.get(job, -1.0) >= 0.25 or event.fraction >= 1:
                self._last_plain[job] = event.fraction
                percent = f"{event.fraction * 100:3.0f}%"
                self._line(f"{label} {bar(event.fraction)} {percent} {stage} {eta}".rstrip())
        elif isinstance(event, Finished):
            took = time.monotonic() - self._started.get(job, time.monotonic())
            done = f"{label} done in {took:.1f}s"
            self._end(job, done if self.live else f"{label} {bar(1)} done in {took:.1f}s")
        elif isinstance(event, Failed):
            self._end(job, f"{label} failed: {event.message}")
        elif isinstance(event, Cancelled):
            self._end(job, f"{label} cancelled")

    def close(self) -> None:
        """Stop the live lines (what is still running stays as last drawn)."""
        if self._progress is not None and self._progress.live.is_started:
            self._progress.refresh()
            self._progress.stop()

    # -- drawing ---------------------------------------------------------------------------

    def _task(self, job: str, label: str):
        task = self._tasks.get(job)
        if task is None:
            if not self._progress.live.is_started:
                self._progress.start()
            task = self._tasks[job] = self._progress.add_task(
                label, total=None, stage="starting", eta=""
            )
        return task

    def _end(self, job: str, line: str) -> None:
        task = self._tasks.pop(job, None)
        if task is not None:
            self._progress.remove_task(task)
        self._line(line)
        if self.live and self._progress.live.is_started:
            self._progress.refresh()

    def _line(self, line: str) -> None:
        """A line that stays: above the live lines on a terminal, plain elsewhere."""
        if self.quiet:
            return
        if self.live:
            self._console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()
