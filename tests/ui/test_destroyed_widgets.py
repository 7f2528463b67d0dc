"""A panel, a dialog or the take compare window destroyed with work still to come (a piece
queued on the document's `Later`, a thumbnail decoding, a playback timer, an export's
events) never hears of it: the work is dropped and nothing raises."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QTimer
from PySide6.QtWidgets import QWidget

import ui.dialogs.export_dialog as export_dialog_module
import ui.takes.take_compare as take_compare_module
from engine.media.video import write_video
from studio.commands import add_take
from studio.jobs import GenerationRequest, Progress, Stage
from studio.project.model import Take
from ui.camera.camera_panel import CameraPanel
from ui.dialogs.export_dialog import ExportDialog
from ui.takes.takes_panel import TakesPanel
from ui.widgets.thumbnails import ThumbnailCache


def destroy(widget: QWidget) -> None:
    """Close and delete `widget` as the window does, before any other event is handled."""
    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(widget, QEvent.DeferredDelete)
    assert not shiboken6.isValid(widget)


def add_take_file(document, shot, seed: int) -> Take:
    relative = f"takes/{shot.id}-{seed}.mp4"
    path = document.folder / relative
    path.parent.mkdir(exist_ok=True)
    pictures = [np.full((48, 64, 3), 20 * i + seed, np.uint8) for i in range(8)]
    write_video(path, pictures, Fraction(24))
    request = GenerationRequest(
        prompt=shot.prompt, model_id="previz", width=64, height=48, frames=8, seed=seed
    )
    take = Take(request.hash, request, relative, "2024-01-01T00:00:00Z")
    document.push(add_take(shot, take))
    return take


def later_has_run(qtbot, document) -> None:
    """Run the event loop until a piece queued now has run: the ones before it are done."""
    ran: list[bool] = []
    document.later.call("after", lambda: ran.append(True))
    qtbot.waitUntil(lambda: bool(ran))


def test_a_camera_panel_destroyed_with_its_previz_source_queued(qtbot, document):
    panel = CameraPanel(document)
    panel.show()
    qtbot.waitUntil(lambda: not panel.source_pending)
    document.set_current_shot(document.project.shots[1].id)
    assert panel.source_pending  # the new shot's picture is read on a later pass
    destroy(panel)
    later_has_run(qtbot, document)
    document.later.flush()


def test_a_takes_panel_destroyed_while_its_thumbnails_decode(qtbot, document):
    """The window's thumbnail cache and document outlive the panel and keep announcing."""
    thumbnails = ThumbnailCache()
    shot = document.current_shot
    add_take_file(document, shot, seed=1)
    panel = TakesPanel(document, thumbnails=thumbnails)
    panel.show()
    assert panel.list.count() == 1
    path = document.take_path(shot)
    assert thumbnails.get(path, 0, 160) is None  # the panel's picture is on its way
    destroy(panel)
    landed: list[str] = []
    thumbnails.ready.connect(landed.append)
    thumbnails.wait()
    qtbot.waitUntil(lambda: str(path) in landed)
    document.set_current_shot(document.project.shots[1].id)
    add_take_file(document, document.current_shot, seed=2)


def test_the_compare_window_destroyed_with_its_panel_stops_and_closes_its_takes(
    qtbot, document, monkeypatch
):
    opened: list[take_compare_module.VideoReader] = []
    closed: list[take_compare_module.VideoReader] = []

    class Reader(take_compare_module.VideoReader):
        def __init__(self, path) -> None:
            super().__init__(path)
            opened.append(self)

        def close(self) -> None:
            if self not in closed:
                closed.append(self)
            super().close()

    monkeypatch.setattr(take_compare_module, "VideoReader", Reader)
    shot = document.current_shot
    first, second = add_take_file(document, shot, 1), add_take_file(document, shot, 2)
    panel = TakesPanel(document)
    panel.show()
    panel.select_takes([first.id, second.id])
    dialog = panel.compare()
    assert dialog is not None and len(opened) == 2
    dialog.view.play()
    qtbot.waitUntil(lambda: dialog.view.frame >= 2)  # playing, on the view's timer
    destroy(panel)  # the window closes with the compare window still open
    assert not shiboken6.isValid(dialog)
    assert sorted(map(id, closed)) == sorted(map(id, opened))
    fired: list[bool] = []
    QTimer.singleShot(100, lambda: fired.append(True))  # several frames of the take's rate
    qtbot.waitUntil(lambda: bool(fired))


class FakeExportJob:
    """Stands for `engine.export.job.ExportJob`: the test sends its events, from a thread."""

    jobs: list[FakeExportJob] = []

    def __init__(self, project, folder, request, on_event) -> None:
        self.id = "export-1"
        self.on_event = on_event
        self.cancelled = False
        FakeExportJob.jobs.append(self)

    def start(self) -> FakeExportJob:
        return self

    def cancel(self) -> None:
        self.cancelled = True

    def wait(self, timeout: float | None = None) -> None:
        return None


def test_an_export_dialog_destroyed_during_its_export(qtbot, document, tmp_path, monkeypatch):
    for seed, shot in enumerate(document.project.shots):
        add_take_file(document, shot, seed)
    monkeypatch.setattr(export_dialog_module, "ExportJob", FakeExportJob)
    FakeExportJob.jobs = []
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    dialog = ExportDialog(document, settings=settings)
    dialog.set_output(tmp_path / "Lighthouse.mp4")
    assert dialog.start(), dialog.problem.text()
    (job,) = FakeExportJob.jobs
    destroy(dialog)
    assert job.cancelled  # nobody is left to see the film

    errors: list[BaseException] = []

    def export_thread() -> None:
        try:
            job.on_event(Progress(job.id, 1, 10, Stage.EXPORTING, None))
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    thread = threading.Thread(target=export_thread)
    thread.start()
    thread.join()
    assert errors == []
    fired: list[bool] = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired))


@pytest.fixture(autouse=True)
def _no_work_left(document):
    yield
    document.later.flush()
