"""The camera panel edits the current shot's rig in undoable gestures and shows the move live."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QStyle, QStyleOptionSlider

from engine.backends.previz import PrevizRenderer, fit_cover
from studio.camera.easing import Easing, Keyframe
from studio.camera.rig import CameraRig, Shake, preset, with_move
from studio.commands import set_field
from ui.camera import camera_previz
from ui.camera.camera_panel import CameraPanel
from ui.camera.camera_previz import probe_rig
from ui.widgets.images import from_qimage


@pytest.fixture
def panel(qtbot, document):
    widget = CameraPanel(document)
    qtbot.addWidget(widget)
    widget.resize(700, 1100)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: not widget.source_pending)
    return widget


def drag(slider, ticks):
    slider.setSliderDown(True)  # emits sliderPressed, as a mouse press on the handle does
    for tick in ticks:
        slider.setValue(tick)
    slider.setSliderDown(False)


def image_of(widget) -> np.ndarray:
    return from_qimage(widget.grab().toImage())


def test_a_slider_drag_is_one_undo_step_that_restores_the_rig_exactly(panel, document):
    shot = document.current_shot
    before = shot.camera
    drag(panel.rows["pan"].slider, [50, 120, 200, 255])
    assert shot.camera.pan[-1].value == pytest.approx(25.5)
    assert shot.camera.pan[0].value == 0.0
    assert shot.camera.pedestal == before.pedestal  # other axes untouched
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == f"Camera pan on {shot.title}"
    document.undo_stack.undo()
    assert shot.camera == before
    assert panel.rows["pan"].slider.value() == 0


def test_two_drags_are_two_undo_steps(panel, document):
    shot = document.current_shot
    before = shot.camera
    drag(panel.rows["dolly"].slider, [10, 40, 80])
    after_first = shot.camera
    drag(panel.rows["dolly"].slider, [100, 150])
    assert document.undo_stack.count() == 2
    assert shot.camera.dolly[-1].value == pytest.approx(1.5)
    document.undo_stack.undo()
    assert shot.camera == after_first
    document.undo_stack.undo()
    assert shot.camera == before


def test_keyboard_steps_on_a_slider_are_separate_steps(qtbot, panel, document):
    slider = panel.rows["tilt"].slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key_Right)
    qtbot.keyClick(slider, Qt.Key_Right)
    assert document.current_shot.camera.tilt[-1].value == pytest.approx(2.0)
    assert document.undo_stack.count() == 2


def test_the_spin_box_and_the_slider_stay_in_sync(qtbot, panel, document):
    row = panel.rows["pan"]
    row.spin.setValue(12.5)
    assert row.slider.value() == 125
    row.slider.setValue(-300)
    assert row.spin.value() == pytest.approx(-30.0)
    zoom = panel.rows["zoom"]
    zoom.spin.setValue(2.0)
    assert zoom.slider.value() == 100  # log scale: one doubling is 100 ticks
    assert document.current_shot.camera.zoom[-1].value == pytest.approx(2.0)


def test_typing_a_number_and_enter_is_one_step(qtbot, panel, document):
    row = panel.rows["orbit"]
    row.spin.setFocus()
    row.spin.selectAll()
    qtbot.keyClicks(row.spin, "45")
    assert document.undo_stack.count() == 0  # nothing until Enter
    qtbot.keyClick(row.spin, Qt.Key_Return)
    assert document.current_shot.camera.orbit[-1].value == pytest.approx(45.0)
    assert row.slider.value() == 450
    assert document.undo_stack.count() == 1
    row.spin.selectAll()
    qtbot.keyClicks(row.spin, "-10")
    qtbot.keyClick(row.spin, Qt.Key_Return)
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert document.current_shot.camera.orbit[-1].value == pytest.approx(45.0)


def test_a_preset_button_sets_the_preset_rig_in_one_step(qtbot, panel, document):
    shot = document.current_shot
    before = shot.camera
    panel.amount.setValue(1.5)
    qtbot.mouseClick(panel.preset_buttons["orbit_left"], Qt.LeftButton)
    assert shot.camera == preset("orbit_left", 1.5)
    assert panel.rows["orbit"].value == pytest.approx(-45.0)
    assert document.undo_stack.count() == 1
    qtbot.mouseClick(panel.reset, Qt.LeftButton)
    assert shot.camera == CameraRig()
    assert "static" in panel.description.text()
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert shot.camera == before


def test_a_preset_that_cannot_work_says_so_and_changes_nothing(qtbot, panel, document):
    before = document.current_shot.camera
    panel.amount.setValue(3.0)  # a dolly zoom that far would reach the subject
    qtbot.mouseClick(panel.preset_buttons["dolly_zoom"], Qt.LeftButton)
    assert panel.error.isVisible() and "Dolly zoom" in panel.error.text()
    assert document.current_shot.camera == before
    assert document.undo_stack.count() == 0


def test_switching_shots_shows_their_values_without_commands(panel, document):
    document.set_current_shot("tower")
    assert panel.rows["orbit"].value == pytest.approx(30.0)
    assert panel.rows["pedestal"].value == 0.0
    assert "orbit right" in panel.description.text()
    document.set_current_shot("storm")
    assert panel.rows["pedestal"].value == pytest.approx(-1.0)
    assert panel.rows["orbit"].value == 0.0
    assert panel.title.text().endswith("Storm at sea")
    document.set_current_shot("keeper")
    assert panel.rows["shake_amplitude"].value == pytest.approx(1.0)
    assert document.undo_stack.count() == 0
    assert document.is_clean


def test_undo_from_elsewhere_updates_the_panel(panel, document):
    shot = document.current_shot
    document.push(set_field(shot, "camera", with_move(shot.camera, "truck", 0.0, 1.25)))
    assert panel.rows["truck"].value == pytest.approx(1.25)
    assert panel.rows["truck"].slider.value() == 125
    document.undo_stack.undo()
    assert panel.rows["truck"].value == 0.0


def test_shake_amount_alone_gives_a_working_shake(panel, document):
    panel.rows["shake_amplitude"].spin.setValue(0.8)
    assert document.current_shot.camera.shake == Shake(0.8, 1.2, 0)
    assert "handheld" in panel.description.text()


def test_the_easing_choice_applies_to_the_axis_keyframes_in_one_step(panel, document):
    shot = document.current_shot  # storm: a pedestal move with ease in-out
    row = panel.rows["pedestal"]
    row.easing.setCurrentIndex(row.easing.findData(Easing.LINEAR.value))
    row.easing.activated.emit(row.easing.currentIndex())
    assert {k.easing for k in shot.camera.pedestal} == {Easing.LINEAR}
    assert document.undo_stack.count() == 1
    row.easing.setCurrentIndex(row.easing.findData(Easing.EASE_IN.value))
    row.easing.activated.emit(row.easing.currentIndex())
    panel.rows["pan"].slider.setValue(-100)  # a new move takes its own row's easing
    assert {k.easing for k in shot.camera.pan} == {Easing.EASE_IN_OUT}
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert {k.easing for k in shot.camera.pedestal} == {Easing.LINEAR}


def _select_curve(panel, axis):
    panel.curve_axis.setCurrentIndex(panel.curve_axis.findData(axis))
    return panel.curve_editor


def test_a_curve_drag_changes_a_keyframe_in_one_undo_step(qtbot, panel, document):
    shot = document.current_shot
    panel.rows["pan"].slider.setValue(300)  # pan 0 -> 30
    before = shot.camera
    editor = _select_curve(panel, "pan")
    start = editor._point(1.0, 30.0).toPoint()
    qtbot.mousePress(editor, Qt.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(editor, start + QPoint(-12 * step, 4 * step))
    qtbot.mouseRelease(editor, Qt.LeftButton, pos=start + QPoint(-60, 20))
    last = shot.camera.pan[-1]
    assert last.t < 1.0 and last.value < 30.0
    assert shot.camera.pan[0] == before.pan[0]
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert shot.camera == before


def test_the_curve_editor_adds_and_removes_keyframes(qtbot, panel, document):
    shot = document.current_shot
    editor = _select_curve(panel, "roll")
    assert shot.camera.roll == ()
    where = editor._point(0.5, 5.0).toPoint()
    qtbot.mouseDClick(editor, Qt.LeftButton, pos=where)
    keys = shot.camera.roll
    assert len(keys) == 2 and keys[0] == Keyframe(0.0, 0.0, keys[0].easing)
    assert keys[1].t == pytest.approx(0.5, abs=0.01)
    assert keys[1].value == pytest.approx(5.0, abs=0.5)
    dot = editor._point(keys[1].t, keys[1].value).toPoint()
    qtbot.mouseClick(editor, Qt.RightButton, pos=dot)
    assert len(shot.camera.roll) == 1
    editor.setFocus()
    editor.selected = 0
    qtbot.keyClick(editor, Qt.Key_Delete)
    assert shot.camera.roll == ()
    assert document.undo_stack.count() == 3
    document.undo_stack.undo()
    assert len(shot.camera.roll) == 1


def test_the_previz_follows_the_pan_slider(panel, document):
    viewport = panel.viewport
    panel.reset.click()
    static = from_qimage(viewport.image())
    assert static.std() > 10  # a picture, not a blank frame
    panel.rows["pan"].slider.setValue(250)
    panned = from_qimage(viewport.image())
    assert panned.shape == static.shape == (185, 320, 3)
    assert panned.std() > 10
    assert np.abs(panned.astype(int) - static).mean() > 10
    # What it shows is the previz itself: the end of the move as the engine renders it.
    shot = document.current_shot
    full = PrevizRenderer(viewport.source, shot.camera, shot.frames, float(shot.fps))
    assert np.array_equal(panned, full.render(shot.frames - 1))


def test_a_probe_frame_equals_the_full_previz_frame():
    source = np.random.default_rng(1).integers(0, 255, (90, 160, 3), dtype=np.uint8)
    rig = preset("whip_pan")
    rig = CameraRig(pan=rig.pan, zoom=preset("zoom_in").zoom, shake=Shake(1.5, 2.0, 3))
    frames, fps = 61, 24.0
    full = PrevizRenderer(source, rig, frames, fps)
    for i in (7, 30, 44):
        t = i / (frames - 1)
        probe = PrevizRenderer(source, probe_rig(rig, t), 2, fps / i)
        assert np.array_equal(probe.render(1), full.render(i))


def test_the_previz_loops_while_visible(qtbot, panel, monkeypatch):
    monkeypatch.setattr(camera_previz, "HOLD_MS", 0)
    viewport = panel.viewport
    assert viewport._timer.isActive()
    seen = set()
    viewport.timeShown.connect(seen.add)
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=5000)
    assert viewport.renderer is not None  # the loop renders through the cached renderer
    panel.play.click()
    assert not viewport._timer.isActive() and not viewport.playing
    panel.play.click()
    panel.hide()
    assert not viewport._timer.isActive()


def test_the_previz_moves_over_the_keyframe_image(qtbot, panel, document):
    shot = document.current_shot
    picture = np.zeros((240, 400, 3), np.uint8)
    picture[:, :200] = (255, 0, 0)
    cv2.imwrite(str(document.folder / "media" / "frame.png"), picture[:, :, ::-1])
    document.push(set_field(shot, "keyframe", "media/frame.png"))
    # The new picture loads on the next turn of the event loop.
    qtbot.waitUntil(lambda: "Over the keyframe" in panel.source_note.text())
    assert np.array_equal(panel.viewport.source, fit_cover(picture, 320, 185))
    document.push(set_field(shot, "keyframe", "media/missing.png"))
    qtbot.waitUntil(lambda: "title card" in panel.source_note.text())
    assert "cannot read" in panel.source_note.text()


def test_the_path_sketch_tells_a_dolly_from_a_truck(panel, document):
    sketch = panel.path_sketch
    panel.reset.click()
    static = image_of(sketch)
    panel.rows["dolly"].slider.setValue(200)
    dolly = image_of(sketch)
    panel.reset.click()
    panel.rows["truck"].slider.setValue(200)
    truck = image_of(sketch)
    assert np.abs(dolly.astype(int) - static).sum() > 0
    assert np.abs(dolly.astype(int) - truck).mean() > 0.5
    centres = sketch._centres  # the truck runs along x, the dolly along z
    assert np.ptp(centres[:, 0]) == pytest.approx(2.0) and np.ptp(centres[:, 1]) == 0.0


def test_the_shot_length_is_the_time_base_of_the_move(panel, document):
    shot = document.current_shot
    panel.duration.setValue(2.0)
    assert shot.duration == 2.0
    assert document.undo_stack.count() == 1
    assert panel.viewport.frames == shot.frames == 48


def test_a_real_mouse_drag_on_a_slider_is_one_step(qtbot, panel, document):
    slider = panel.rows["truck"].slider
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    handle = (
        slider.style()
        .subControlRect(QStyle.CC_Slider, option, QStyle.SC_SliderHandle, slider)
        .center()
    )
    qtbot.mousePress(slider, Qt.LeftButton, pos=handle)
    for step in range(1, 8):
        qtbot.mouseMove(slider, handle + QPoint(10 * step, 0))
    qtbot.mouseRelease(slider, Qt.LeftButton, pos=handle + QPoint(70, 0))
    assert document.current_shot.camera.truck[-1].value > 0.5
    assert document.undo_stack.count() == 1


def test_the_previz_picture_is_read_off_the_gui_thread_and_a_stale_one_never_lands(
    qtbot, panel, document, monkeypatch
):
    """While a slow picture is read the window goes on answering; when the shot changes
    meanwhile, the slow picture is dropped and the newer one shows."""
    import threading

    from ui.camera import camera_panel as module

    release = threading.Event()
    readers: list[threading.Thread] = []
    real = module.read_source

    def slow(ask):
        readers.append(threading.current_thread())
        if "slow" in ask.card_text:
            release.wait(10)
        return real(ask)

    monkeypatch.setattr(module, "read_source", slow)
    first, second = document.project.shots[:2]
    document.push(set_field(first, "prompt", "a slow lighthouse"))
    qtbot.waitUntil(lambda: bool(readers))
    assert panel.source_pending
    ticked: list[bool] = []
    QTimer.singleShot(0, lambda: ticked.append(True))
    qtbot.waitUntil(lambda: bool(ticked))  # the event loop runs while the picture is read
    assert panel.source_pending
    document.set_current_shot(second.id)
    release.set()
    qtbot.waitUntil(lambda: not panel.source_pending)
    assert all(thread is not threading.main_thread() for thread in readers)
    card = module.read_source(panel_ask(panel, second)).picture
    assert np.array_equal(panel.viewport.source, card)  # the second shot's, not the first's


def panel_ask(panel, shot):
    from ui.camera.previz_source import SourceAsk

    _key, width, height = panel._source_key_of(shot)
    return SourceAsk(
        folder=panel.document.folder,
        keyframe=None,
        take=None,
        card_text=shot.prompt or shot.title or "Untitled shot",
        seed=shot.seed,
        keys=(),
        width=width,
        height=height,
    )


def test_a_picture_read_for_the_shot_before_never_shows_under_the_next(qtbot, panel, document):
    """A picture that lands just after the current shot changed (before the new shot's
    own picture was asked for) is not shown: the new shot's is asked for instead."""
    from ui.camera.previz_source import read_source

    first, second = document.project.shots[:2]
    qtbot.waitUntil(lambda: not panel.source_pending)
    key_of_first = panel._source_key_of(first)[0]
    read = read_source(panel_ask(panel, first))
    stale = type(read)(np.zeros_like(read.picture), [], read.note)  # told apart on screen
    document.set_current_shot(second.id)
    shown = panel.viewport.source.copy()
    panel._source_read(key_of_first, stale)
    assert np.array_equal(panel.viewport.source, shown)
    assert panel.source_pending
    qtbot.waitUntil(lambda: not panel.source_pending)
    assert np.array_equal(panel.viewport.source, read_source(panel_ask(panel, second)).picture)
