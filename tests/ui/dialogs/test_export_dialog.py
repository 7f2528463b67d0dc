"""The Export dialog writes the film on a thread with progress, cancels without leaving a
file, names shots without takes before starting, and reports failures naming the shot."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QDesktopServices

import ui.dialogs.export_dialog
from engine.export.job import ExportJob
from engine.media.video import probe
from studio.commands import set_field
from studio.jobs import ExportPreset, Progress, Started
from studio.timeline.timeline import Clip
from ui.bridge import EngineBridge
from ui.dialogs.export_dialog import CANCELLED, CANCELLED_TEXT, DONE, ExportDialog

CLIP_FRAMES = 12  # every shot rendered for half a second at 24 fps


@pytest.fixture
def rendered(qtbot, document):
    """The example with a previz take for every shot and its clips cut to the takes."""
    project = document.project
    for shot in project.shots:
        shot.duration, shot.continue_from_previous = 0.5, False
    bridge = EngineBridge(document)
    try:
        for shot in project.shots:
            bridge.render_shot(shot.id, backend="previz")
        qtbot.waitUntil(lambda: not bridge.busy, timeout=120_000)
    finally:
        bridge.shutdown()
    assert all(shot.current_take is not None for shot in project.shots)
    timeline = project.timeline
    items = tuple(
        replace(item, source_out=item.source_in + CLIP_FRAMES) if isinstance(item, Clip) else item
        for item in timeline.items
    )
    project.timeline = replace(timeline, items=items)
    return document


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def held_export(monkeypatch):
    """`held_export(hold)`: the exports the dialog starts stop after their first event that
    `hold` accepts and wait there until they are cancelled, so that a cancel lands before
    the film is done on any machine."""

    def install(hold):
        class HeldExport(ExportJob):
            def __init__(self, project, folder, request, on_event, **kwargs):
                self.cancelled = threading.Event()
                held = []

                def sink(event):
                    on_event(event)
                    if not held and hold(event):
                        held.append(event)
                        assert self.cancelled.wait(60), "the export was never cancelled"

                super().__init__(project, folder, request, sink, **kwargs)

            def cancel(self):
                self.cancelled.set()
                super().cancel()

        monkeypatch.setattr(ui.dialogs.export_dialog, "ExportJob", HeldExport)

    return install


def mid_film(event) -> bool:
    return isinstance(event, Progress) and event.step > 0


def make_dialog(qtbot, document, settings) -> ExportDialog:
    dialog = ExportDialog(document, settings=settings)
    qtbot.addWidget(dialog)
    return dialog


def test_exports_a_web_mp4_with_its_edit_and_remembers_the_choice(
    qtbot, rendered, settings, out, monkeypatch
):
    dialog = make_dialog(qtbot, rendered, settings)
    dialog.show()
    assert dialog.problem.isHidden() and dialog.export_button.isEnabled()
    dialog.set_preset(ExportPreset.WEB)
    dialog.set_output(out / "Lighthouse.mp4")
    dialog.edit_format.setCurrentIndex(dialog.edit_format.findData(".otio"))
    # Copying pictures from the takes is the engine's business, tested there.
    dialog.smart.setChecked(False)
    frames_seen, finished = [], []
    dialog.progress.valueChanged.connect(frames_seen.append)
    dialog.exportFinished.connect(finished.append)

    assert dialog.start()
    assert not dialog.form.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=120_000)

    film = out / "Lighthouse.mp4"
    assert dialog.state == DONE, dialog.problem.text()
    assert finished == [str(film)]
    expected = rendered.project.timeline.duration
    assert expected == 6 * CLIP_FRAMES - CLIP_FRAMES  # one 12-frame crossfade overlaps
    info = probe(film)
    assert (info.frames, info.width, info.height) == (expected, 832, 480)
    assert info.has_audio  # the sea bed
    assert dialog.progress.value() == expected and max(frames_seen) == expected
    text = dialog.result_label.text()
    assert str(film) in text and f"{expected} frames" in text
    assert "Copied 0 segments from the takes, encoded" in text
    assert (out / "Lighthouse.otio").is_file() and "Lighthouse.otio" in text
    assert dialog.show_folder_button.isVisible() and dialog.form.isEnabled()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url))
    dialog.show_folder_button.click()
    assert [url.toLocalFile() for url in opened] == [str(out)]
    assert [p.name for p in out.iterdir() if ".part" in p.name] == []

    again = make_dialog(qtbot, rendered, settings)
    assert again.current_preset is ExportPreset.WEB
    assert again.output_path().parent == out
    assert again.edit_format.currentData() == ".otio"


def test_cancel_leaves_no_file(qtbot, rendered, settings, out, held_export):
    held_export(mid_film)
    dialog = make_dialog(qtbot, rendered, settings)
    dialog.set_output(out / "Big.mp4")
    dialog.set_size(3840, 2160)
    assert dialog.export_size() == (3840, 2160)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=60_000)
    assert "frame" in dialog.stage.text()
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=120_000)
    assert dialog.state == CANCELLED and dialog.stage.text() == CANCELLED_TEXT
    assert dialog.progress.value() < rendered.project.timeline.duration
    assert list(out.iterdir()) == []
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isVisible()


def test_a_cancel_right_after_start_writes_nothing(qtbot, rendered, settings, out, held_export):
    held_export(lambda event: isinstance(event, Started))  # before its first frame
    dialog = make_dialog(qtbot, rendered, settings)
    dialog.set_output(out / "Film.mp4")
    assert dialog.start()
    dialog.cancel()
    assert dialog.stage.text() == "Cancelling…" and not dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=60_000)
    assert dialog.state == CANCELLED and dialog.stage.text() == CANCELLED_TEXT
    assert list(out.iterdir()) == []


def test_closing_while_exporting_asks_then_cancels(qtbot, rendered, settings, out, held_export):
    held_export(mid_film)
    dialog = make_dialog(qtbot, rendered, settings)
    dialog.show()
    dialog.set_output(out / "Closing.mp4")
    answers = [False, True]
    asked = []

    def confirm() -> bool:
        asked.append(dialog.state)
        return answers.pop(0)

    dialog.confirm_stop = confirm
    assert dialog.start()
    dialog.reject()  # "no": the export goes on
    assert dialog.isVisible() and dialog.exporting
    dialog.reject()  # "yes": cancelled, waited for, closed
    assert not dialog.isVisible() and len(asked) == 2
    assert dialog.job.done and dialog.job.result is None
    assert list(out.iterdir()) == []


def test_shots_without_takes_are_named_before_starting(qtbot, rendered, settings, out):
    keeper = rendered.project.shot("keeper")
    dialog = make_dialog(qtbot, rendered, settings)
    dialog.show()
    dialog.set_output(out / "Film.mp4")
    assert dialog.export_button.isEnabled()

    rendered.push(set_field(keeper, "selected_take", None))  # the dialog follows the edit
    assert dialog.problem.isVisible()
    assert "“The keeper”" in dialog.problem.text() and "Storm" not in dialog.problem.text()
    assert not dialog.export_button.isEnabled()
    assert not dialog.start() and dialog.job is None

    rendered.undo_stack.undo()
    assert dialog.problem.isHidden() and dialog.export_button.isEnabled()


def test_a_project_never_rendered_names_every_shot(qtbot, document, settings):
    dialog = make_dialog(qtbot, document, settings)
    assert not dialog.start() and dialog.job is None
    for shot in document.project.shots:
        assert f"“{shot.title}”" in dialog.problem.text()


def test_an_unreadable_take_is_refused_naming_the_shot(qtbot, rendered, settings, out):
    # The take's file no longer matches what was rendered: refused before any work.
    keeper = rendered.project.shot("keeper")
    rendered.take_path(keeper).write_bytes(b"not a video any more")
    dialog = make_dialog(qtbot, rendered, settings)
    dialog.show()
    dialog.set_output(out / "Film.mp4")
    assert not dialog.start() and dialog.job is None
    assert dialog.problem.isVisible() and "The keeper" in dialog.problem.text()
    assert "damaged" in dialog.problem.text()
    assert list(out.iterdir()) == []


def test_the_output_follows_the_preset_and_bad_choices_are_refused(qtbot, document, settings, out):
    # Choices are checked before takes, so a project without takes is enough here.
    dialog = make_dialog(qtbot, document, settings)
    dialog.set_output(out / "Film.mp4")
    dialog.set_preset(ExportPreset.PRORES)
    assert dialog.output_path() == out / "Film.mov"
    dialog.set_preset(ExportPreset.PNG)
    assert dialog.output_path() == out / "Film"
    dialog.set_preset(ExportPreset.WEBM)
    assert dialog.output_path() == out / "Film.webm"
    dialog.set_preset(ExportPreset.GIF)
    assert dialog.output_path() == out / "Film.gif"
    dialog.set_preset(ExportPreset.WEB)
    dialog.set_size(1280, 720)
    assert dialog.size.currentData() == "1280x720" and not dialog.width_spin.isEnabled()
    dialog.set_size(1001, 600)
    assert dialog.width_spin.isEnabled() and "even width" in dialog.problems()
    dialog.set_size(1280, 720)
    dialog.set_output(out / "missing" / "Film.mp4")
    assert "does not exist" in dialog.problems()
    dialog.set_output(out / "Film.gif")
    assert "web preset writes" in dialog.problems()
    dialog.set_fps(30)
    assert dialog.export_fps() == 30


def test_the_destinations_gallop_export_refuses_are_refused_before_starting(
    qtbot, rendered, settings, out, monkeypatch
):
    dialog = make_dialog(qtbot, rendered, settings)
    dialog.show()
    asked = []
    monkeypatch.setattr(dialog, "confirm_overwrite", lambda path: asked.append(path) or True)
    take = rendered.folder / rendered.project.shots[0].current_take.media
    (out / "Folder.mp4").mkdir()
    (out / "frames").write_bytes(b"a file")
    locked = out / "locked"
    locked.mkdir(mode=0o500)
    refused = [
        # An existing take: replacing it would damage the project.
        (ExportPreset.WEB, take, "inside the project's take folder"),
        (ExportPreset.WEB, out / "Folder.mp4", "is a folder"),
        (ExportPreset.PNG, out / "frames", "is not a folder"),
        (ExportPreset.WEB, locked / "Film.mp4", "cannot write in the folder"),
    ]
    if os.path.exists(os.devnull) and os.devnull != "nul":
        refused.append((ExportPreset.PNG, Path(os.devnull), "not a regular file"))
    for preset, output, reason in refused:
        if output.parent == locked and os.access(locked, os.W_OK):
            continue  # the superuser writes anywhere
        dialog.set_preset(preset)
        dialog.set_output(output)
        assert not dialog.start(), output
        assert dialog.problem.isVisible() and reason in dialog.problem.text(), output
    assert asked == [] and dialog.job is None and dialog.state != DONE
    assert take.stat().st_size > 0
