"""The player shows exact frames, plays on a clock, loops, shuttles, and plays the edit.

Takes are small real H.264 files added to a copy of the example project; the example's
own shots have no takes, so its sequence plays as slates.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import ui.player.player
from engine.media.sequence import conform
from engine.media.video import VideoReader, write_video
from studio.commands import add_take, set_timeline
from studio.jobs import GenerationRequest
from studio.project.model import Take
from ui.document import Document
from ui.player.audio_output import AudioOutput
from ui.player.player import SILENT_NOTICE, PlayerPanel

FRAMES = 30


class NoSound:
    """An output with no device, whatever the machine running the tests has."""

    available = False
    reason = "there is no audio output device"

    def start(self, *args, **kwargs) -> bool:
        return False

    def stop(self) -> None:
        pass

    def position_seconds(self) -> float:
        return 0.0


class ManualSound(NoSound):
    """A device whose clock the test moves by hand."""

    available = True

    def __init__(self) -> None:
        self.started: list[tuple] = []
        self.position = 0.0

    def start(self, samples, sample_rate, at_sample=0, *, loop=False) -> bool:
        self.started.append((len(samples), sample_rate, at_sample, loop))
        self.position = at_sample / sample_rate
        return True

    def position_seconds(self) -> float:
        return self.position


def frame_picture(i: int) -> np.ndarray:
    y, x = np.mgrid[0:48, 0:64]
    picture = np.empty((48, 64, 3), np.uint8)
    picture[..., 0] = 16 + 7 * i
    picture[..., 1] = (x * 3 + i * 5) % 256
    picture[..., 2] = (y * 4) % 256
    return picture


def add_rendered_take(document: Document, shot) -> Path:
    relative = f"takes/{shot.id}-test.mp4"
    path = document.folder / relative
    path.parent.mkdir(exist_ok=True)
    write_video(path, [frame_picture(i) for i in range(FRAMES)], Fraction(24), gop=6)
    request = GenerationRequest(
        prompt=shot.prompt,
        model_id="previz",
        width=64,
        height=48,
        frames=FRAMES,
        seed=7,
        backend="previz",
    )
    document.push(add_take(shot, Take(request.hash, request, relative, "2024-01-01T00:00:00Z")))
    return path


def make_player(qtbot, document, audio=None) -> PlayerPanel:
    player = PlayerPanel(document, audio=audio or NoSound())
    qtbot.addWidget(player)
    player.resize(640, 420)
    player.show()
    return player


@pytest.fixture
def take(document):
    shot = document.project.shots[0]
    return shot, add_rendered_take(document, shot)


@pytest.fixture
def player(qtbot, document, take):
    player = make_player(qtbot, document)
    yield player
    player.shutdown()


def test_seek_shows_exactly_the_frame_asked_for(player, take):
    shot, path = take
    assert player.objectName() == "player" and player.mode == "take"
    assert player.frame_count == FRAMES and player.fps == 24
    with VideoReader(path) as reader:
        for i in (17, 3, 29, 0, 12, 13):
            player.seek(i)
            assert player.position == i
            assert np.array_equal(player.current_frame(), reader.read(i))
    player.seek(25)
    assert player.transport.timecode_label.text() == "00:00:01:01"
    assert player.transport.frame_label.text().startswith("25")
    player.seek(999)
    assert player.position == FRAMES - 1


def test_step_and_the_scrub_bar_move_one_exact_frame(qtbot, player, take):
    _, path = take
    player.seek(10)
    with qtbot.waitSignal(player.positionChanged) as moved:
        player.step(1)
    assert moved.args == [11] and player.position == 11
    player.step(-1)
    player.step(-1)
    assert player.position == 9
    player.scrub.setValue(21)  # what a drag does on each move
    assert player.position == 21
    with VideoReader(path) as reader:
        assert np.array_equal(player.current_frame(), reader.read(21))
    player.seek(0)
    player.step(-1)
    assert player.position == 0


class ManualWallClock:
    """The player's wall clock (`time.perf_counter`), moved by the test."""

    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


def test_play_advances_and_stops_at_the_end(qtbot, player, monkeypatch):
    wall = ManualWallClock()
    monkeypatch.setattr(ui.player.player, "time", wall)
    player.seek(FRAMES - 1)
    player.play()  # at the end, play starts again from the start
    assert player.playing
    qtbot.waitUntil(lambda: player.position == 0)  # the clock runs from the first frame
    wall.now += 0.5
    qtbot.waitUntil(lambda: player.position == 12)  # 0.5 s at 24 fps
    wall.now += 10.0  # long past the end, however far the reader got: it stops on the last
    qtbot.waitUntil(lambda: not player.playing)
    assert player.position == FRAMES - 1
    player.toggle_play()
    qtbot.waitUntil(lambda: player.position == 0)
    player.toggle_play()
    assert not player.playing and player.position == 0


def test_loop_plays_between_the_marks(qtbot, player):
    player.seek(4)
    player.mark_in()
    player.seek(9)
    player.mark_out()
    assert (player.in_point, player.out_point) == (4, 9)
    assert player.scrub.marks == (4, 9)
    seen: list[int] = []
    player.positionChanged.connect(seen.append)
    player.set_loop(True)
    player.play()
    qtbot.waitUntil(
        lambda: any(b < a for a, b in zip(seen, seen[1:], strict=False)), timeout=10_000
    )
    player.pause()
    assert seen and min(seen) >= 4 and max(seen) <= 9


def test_jkl_shuttle_changes_speed_and_direction(qtbot, player, take):
    player.seek(25)
    rates = []
    for key in (1, 1, 1, 1, -1, -1, 0, -1, 1):
        player.shuttle(key)
        rates.append(player.shuttle_rate)
    assert rates == [1, 2, 4, 4, -1, -2, 0, -1, 1]
    player.pause()
    player.seek(25)
    player.shuttle(-1)
    qtbot.waitUntil(lambda: player.position < 22, timeout=10_000)
    player.shuttle(0)
    assert not player.playing
    with VideoReader(take[1]) as reader:  # reverse play shows exact frames too
        assert np.array_equal(player.current_frame(), reader.read(player.position))
    stopped = player.position
    player.step(0)
    assert player.position == stopped


def test_the_player_follows_the_current_shot_and_new_takes(qtbot, player, document):
    other = document.project.shots[1]
    document.set_current_shot(other.id)
    assert player.frame_count == 0 and "no take" in player.message
    assert not player.transport.play_button.isEnabled()
    add_rendered_take(document, other)  # document.changed: the new take shows
    qtbot.waitUntil(lambda: player.frame_count == FRAMES)  # reloads on the next loop turn
    assert player.current_frame() is not None
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: player.frame_count == 0)


def test_the_sequence_has_the_timelines_frames_and_slates(qtbot, document):
    player = make_player(qtbot, document)
    timeline = document.project.timeline
    player.show_sequence()
    assert player.mode == "sequence" and player.transport.sequence_button.isChecked()
    assert player.frame_count == timeline.duration == 588
    frame = player.current_frame()
    assert frame.shape == (document.project.height, document.project.width, 3)
    assert np.median(frame) == 64  # a grey slate: the example's shots have no takes
    player.seek(204 + 6)  # inside the crossfade between two slates
    assert player.position == 210
    player.transport.take_button.click()
    assert player.mode == "take"
    player.shutdown()


def test_without_a_device_the_sequence_plays_silent_and_says_so_once(qtbot, document):
    player = make_player(qtbot, document)
    player.show_sequence()
    notices: list[str] = []
    player.notice.connect(notices.append)
    player.play()
    qtbot.waitUntil(lambda: player.position > 2, timeout=10_000)
    player.pause()
    player.play()
    player.pause()
    assert notices == [SILENT_NOTICE]
    label = player.transport.notice_label
    assert label.text() == SILENT_NOTICE and label.isVisible()
    player.shutdown()


def test_with_sound_the_picture_follows_the_audio_clock(qtbot, document):
    sound = ManualSound()
    player = make_player(qtbot, document, sound)
    player.show_sequence()
    player.seek(12)
    seen: list[int] = []
    player.positionChanged.connect(seen.append)
    player.play()
    assert sound.started == [(588 * 2000, 48000, 12 * 2000, False)]  # the whole mix, at 0.5 s
    sound.position = 1.0  # the speakers reach 1 s: frame 24
    qtbot.waitUntil(lambda: player.position == 24, timeout=10_000)
    assert max(seen) == 24  # never ahead of the sound
    sound.position = 2.0
    qtbot.waitUntil(lambda: player.position == 48, timeout=10_000)
    player.shuttle(1)  # 2x plays without sound, on the wall clock
    assert len(sound.started) == 1
    player.shutdown()


def test_audio_output_reports_why_it_is_silent_and_fills_its_buffer():
    output = AudioOutput()
    if not output.available:
        assert output.reason and output.start(np.zeros((10, 2), np.float32), 48000) is False
    # The callback's copy, without a device: silence after the end, wrapping when looping.
    output._buffer = np.arange(10, dtype=np.float32).repeat(2).reshape(10, 2)
    output._read, output._loop, output._consumed = 6, False, 0
    out = np.full((8, 2), -1, np.float32)
    output._fill(out, 8)
    assert out[:, 0].tolist() == [6, 7, 8, 9, 0, 0, 0, 0] and output._consumed == 8
    output._read, output._loop = 8, True
    output._fill(out, 5)
    assert out[:5, 0].tolist() == [8, 9, 0, 1, 2]


def test_an_edit_reloads_the_sequence_keeping_place_and_marks(qtbot, document, take):
    player = make_player(qtbot, document)
    player.show_sequence()
    project = document.project
    with VideoReader(take[1]) as reader:  # the first clip shows the new take, pillarboxed
        player.seek(10)
        assert np.array_equal(
            player.current_frame(), conform(reader.read(10), project.width, project.height)
        )
        player.seek(40)  # past the take's 30 frames its last frame holds
        assert np.array_equal(
            player.current_frame(), conform(reader.read(29), project.width, project.height)
        )
    player.seek(50)
    player.mark_in()
    player.seek(300)
    player.mark_out()
    timeline = document.project.timeline
    document.push(set_timeline(project, timeline.trim("clip-storm", source_out=100), "Trim"))
    qtbot.waitUntil(lambda: player.frame_count == timeline.duration - 20)
    assert (player.position, player.in_point, player.out_point) == (300, 50, 300)
    player.shutdown()


def test_the_picture_is_drawn_with_its_aspect_on_black_bars(qtbot, player):
    player.view.resize(400, 100)  # much wider than the 4:3 take: bars left and right
    player.seek(10)
    shot = player.view.grab().toImage()
    rect = player.view.image_rect()
    assert rect.height() == 100 and rect.width() == round(100 * 64 / 48)
    assert shot.pixelColor(5, 50).value() == 0
    assert shot.pixelColor(rect.center()).value() > 0


@pytest.mark.parametrize("width", [340, 420, 640])
def test_the_read_outs_never_overlap_in_a_narrow_player(qtbot, document, width):
    player = make_player(qtbot, document)
    player.show_sequence()
    player.seek(200)
    player.resize(width, 420)
    bar = player.transport
    qtbot.waitUntil(lambda: bar.width() == width and bar.height() >= bar.sizeHint().height())
    assert bar.minimumSizeHint().width() <= 340
    labels = (bar.timecode_label, bar.frame_label)
    rects = [
        label.geometry().translated(label.parentWidget().mapTo(bar, label.pos()) - label.pos())
        for label in labels
    ]
    assert not rects[0].intersects(rects[1])
    widgets = (
        *bar.transport_buttons(),
        bar.loop_button,
        *labels,
        bar.take_button,
        bar.sequence_button,
    )
    for widget in widgets:
        room = widget.rect().width()
        assert widget.width() >= widget.minimumSizeHint().width(), widget.accessibleName()
        assert widget.visibleRegion().boundingRect().width() == room, "cut off by the bar"
    assert bar.two_rows == (width < 500)
    player.shutdown()
