"""Downloads, checks and deletions of models, each in a thread of its own so the window
never waits on the network or the disk; their progress and outcome come back as Qt
signals. `ModelTasks` belongs to the main window, so a download goes on while the
Models window is closed, and stops (keeping what it fetched) when the studio quits.

A download paused keeps its partial files and resumes from them; a cancelled one
deletes what it fetched (or, for a damaged model being repaired, only the partial files).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal

from engine.models.catalog import ModelEntry
from engine.models.download import DownloadControl, DownloadProgress, download
from engine.models.installed import (
    State,
    Stop,
    delete,
    model_status,
    remove_partials,
    verify,
)

EMIT_EVERY_S = 0.05  # progress signals a second, at most ~20 per task


@dataclass(frozen=True)
class VerifyProgress:
    done: int
    total: int
    file: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class ModelTask(QObject):
    """One job on one model in a thread: `kind` is "download", "verify" or "delete"."""

    progress = Signal(object)  # DownloadProgress or VerifyProgress
    finished = Signal(str, str)  # outcome ("done", "paused", "cancelled", "failed"), message

    def __init__(self, kind: str, entry: ModelEntry, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kind, self.entry = kind, entry
        self.control = DownloadControl()
        self.cancelled = False  # a stop that also discards what a download fetched
        self.result: Any = None  # verify: the problems found
        self.last: Any = None  # the last progress
        self._last_emit = -1e18
        self._thread: threading.Thread | None = None
        self._state_before = model_status(entry).state

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, work: Callable[[ModelTask], str]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(work,), name=f"model {self.kind} {self.entry.id}", daemon=True
        )
        self._thread.start()

    def pause(self) -> None:
        self.control.stop()

    def cancel(self) -> None:
        self.cancelled = True
        self.control.stop()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def report(self, event: Any) -> None:
        """From the thread: keep the event, and signal it at most every EMIT_EVERY_S and at
        the end of each file."""
        self.last = event
        now = time.monotonic()
        ends = getattr(event, "file_done", 0) == getattr(event, "file_total", -1)
        if now - self._last_emit >= EMIT_EVERY_S or ends:
            self._last_emit = now
            self._emit(self.progress, event)

    def _emit(self, signal, *args) -> None:
        with suppress(RuntimeError):  # the window went away while the thread ran
            signal.emit(*args)

    def _run(self, work: Callable[[ModelTask], str]) -> None:
        try:
            outcome, message = "done", work(self)
        except Stop:
            outcome, message = ("cancelled", "") if self.cancelled else ("paused", "")
            if self.cancelled:
                try:
                    self._discard()
                except OSError as exc:
                    outcome, message = "failed", f"cannot delete the partial download: {exc}"
        except Exception as exc:  # noqa: BLE001 - every failure reaches the window as text
            outcome, message = "failed", str(exc) or type(exc).__name__
        self._emit(self.finished, outcome, message)

    def _discard(self) -> None:
        """A cancelled download leaves nothing it fetched: the model's folder goes unless
        the model was there before (a repair), whose partial files only go."""
        if self._state_before in (State.DAMAGED, State.INSTALLED):
            remove_partials(self.entry)
        elif model_status(self.entry).deletable:
            delete(self.entry)


class ModelTasks(QObject):
    """The running tasks, one at most per model. `changed(model_id)` after any progress
    or end; `modelsChanged` when a model's files changed (downloaded, deleted), for the
    lists of models to look again."""

    changed = Signal(str)
    finished = Signal(str, str, str)  # model id, outcome, message
    modelsChanged = Signal()  # noqa: N815 - Qt's naming

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks: dict[str, ModelTask] = {}
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop_all)

    def task(self, model_id: str) -> ModelTask | None:
        task = self.tasks.get(model_id)
        return task if task is not None and task.running else None

    def busy(self) -> bool:
        return any(t.running for t in self.tasks.values())

    def _start(self, kind: str, entry: ModelEntry, work) -> ModelTask:
        if self.task(entry.id) is not None:
            raise RuntimeError(f"{entry.name} is busy")
        task = ModelTask(kind, entry, self)
        self.tasks[entry.id] = task
        task.progress.connect(lambda _event, mid=entry.id: self.changed.emit(mid))
        task.finished.connect(lambda outcome, text, t=task: self._ended(t, outcome, text))
        task.start(work)
        self.changed.emit(entry.id)
        return task

    def _reserved(self, model_id: str) -> int:
        """Bytes the other running downloads still need."""
        left = 0
        for other in self.tasks.values():
            if other.entry.id != model_id and other.running and other.kind == "download":
                event = other.last
                if isinstance(event, DownloadProgress):
                    left += event.total - event.done
        return left

    def download(self, entry: ModelEntry, *, accept_licence: bool = False) -> ModelTask:
        reserved = self._reserved(entry.id)

        def work(task: ModelTask) -> str:
            folder = download(
                entry,
                accept_licence=accept_licence,
                on_progress=task.report,
                control=task.control,
                reserved=reserved,
            )
            return f"{entry.name} is ready in {folder}"

        return self._start("download", entry, work)

    def verify(self, entry: ModelEntry) -> ModelTask:
        def work(task: ModelTask) -> str:
            def progress(done: int, total: int, name: str) -> None:
                task.report(VerifyProgress(done, total, name))

            task.result = problems = verify(
                entry, progress=progress, stop=lambda: task.control.stopped
            )
            if problems:
                return f"{entry.name} is damaged: " + "; ".join(problems[:3])
            return f"{entry.name} is whole: every file matches"

        return self._start("verify", entry, work)

    def delete(self, entry: ModelEntry) -> ModelTask:
        def work(task: ModelTask) -> str:
            freed = delete(entry)
            from engine.render.reporter import size_text

            return f"{entry.name} deleted ({size_text(freed)} freed)"

        return self._start("delete", entry, work)

    def discard(self, entry: ModelEntry) -> ModelTask:
        """Delete a paused download's files (Cancel with no download running)."""

        def work(task: ModelTask) -> str:
            task._discard()
            return f"the partial download of {entry.name} was deleted"

        return self._start("delete", entry, work)

    def _ended(self, task: ModelTask, outcome: str, message: str) -> None:
        task.wait()  # it has emitted: only its return is left
        model_id = task.entry.id
        self.changed.emit(model_id)
        self.finished.emit(model_id, outcome, message)
        if task.kind in ("download", "delete") or (task.kind == "verify" and task.result):
            self.modelsChanged.emit()

    def stop_all(self, timeout: float | None = 30.0) -> None:
        """Stop every task (downloads keep what they fetched) and wait for them."""
        tasks = [t for t in self.tasks.values() if t.running]
        for task in tasks:
            task.pause()
        for task in tasks:
            task.wait(timeout)
