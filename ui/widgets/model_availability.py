"""Checks in the background which catalog models are on disk, so the prompt panel can grey
out the ones that cannot render yet without blocking the window."""

from __future__ import annotations

from contextlib import suppress

from PySide6.QtCore import QObject, QRunnable, Signal

from engine.models.catalog import Availability, ModelEntry, locate

# In the window, a model that is not here is one click away (the Models… button).
NOT_DOWNLOADED = "not downloaded: get it from Models…"


class _AvailabilitySignals(QObject):
    done = Signal(object)  # {model id: Availability}


class AvailabilityCheck(QRunnable):
    """Looks for every model on disk (folder sizes walk the weights), so not on the GUI
    thread."""

    def __init__(self, entries: list[ModelEntry]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.entries = entries
        self.signals = _AvailabilitySignals()

    def run(self) -> None:
        found: dict[str, Availability] = {}
        for entry in self.entries:
            try:
                found[entry.id] = where = locate(entry)
                if not where.available and where.reason.startswith("not downloaded"):
                    found[entry.id] = Availability(False, NOT_DOWNLOADED)
            except Exception as error:  # a damaged cache must not hide the other models
                found[entry.id] = Availability(False, f"cannot check: {error}")
        # RuntimeError: the panel closed while the check ran, so nobody is listening.
        with suppress(RuntimeError):
            self.signals.done.emit(found)
