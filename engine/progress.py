"""Text progress bars for headless commands: one line per shot, redrawn in place on a tty."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from studio.jobs import Cancelled, Event, Failed, Finished, Progress, Started

BAR = 24


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"ETA {seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"ETA {seconds // 60}m{seconds % 60:02d}s"
    return f"ETA {seconds}s"


def bar(fraction: float, width: int = BAR) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "#" * filled + "-" * (width - filled)


class ProgressPrinter:
    """Turns engine events into progress lines; plain lines when not on a terminal."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._labels: dict[int, str] = {}
        self._label = ""
        self._last_line = ""
        self._last_plain: dict[str, float] = {}
        self._started: dict[str, float] = {}

    def plan(self, index: int, count: int, plan) -> None:
        title = plan.shot.title or plan.shot.id
        if plan.request.seed != plan.shot.seed:
            title = f"{title} (seed {plan.request.seed})"
        label = self._labels[id(plan)] = f"[{index}/{count}] {title}"
        for note in plan.notes:
            self._write_line(f"{label}: note: {note}")

    def event(self, plan, event: Event) -> None:
        self._label = self._labels.get(id(plan), plan.shot.title or plan.shot.id)
        job = event.job_id
        if isinstance(event, Started):
            self._started[job] = time.monotonic()
            self._draw(f"{self._label} {bar(0)}   0% starting")
        elif isinstance(event, Progress) and event.total > 0:
            stage = f"{event.stage.value} {event.step}/{event.total}"
            line = (
                f"{self._label} {bar(event.fraction)} {event.fraction * 100:3.0f}% "
                f"{stage} {format_eta(event.eta_seconds)}"
            ).rstrip()
            if self.tty:
                self._draw(line)
            elif event.fraction - self._last_plain.get(job, -1.0) >= 0.25 or event.fraction >= 1:
                self._last_plain[job] = event.fraction
                self._write_line(line)
        elif isinstance(event, Finished):
            took = time.monotonic() - self._started.get(job, time.monotonic())
            self._finish(f"{self._label} {bar(1)} done in {took:.1f}s")
        elif isinstance(event, Failed):
            self._finish(f"{self._label} failed: {event.message}")
        elif isinstance(event, Cancelled):
            self._finish(f"{self._label} cancelled")

    def _draw(self, line: str) -> None:
        if self.tty:
            pad = max(0, len(self._last_line) - len(line))
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()
            self._last_line = line

    def _finish(self, line: str) -> None:
        if self.tty:
            self._draw(line)
            self.stream.write("\n")
            self._last_line = ""
        else:
            self._write_line(line)

    def _write_line(self, line: str) -> None:
        if self._last_line:
            self.stream.write("\n")
            self._last_line = ""
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._last_line:
            self.stream.write("\n")
            self._last_line = ""
