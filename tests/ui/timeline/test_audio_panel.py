"""Sound enters the edit in one undo step with its exact length; the audio clip inspector
edits gain, fades, start, mute and name through the undo stack, a gesture at a time."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from studio.errors import StudioError
from ui.timeline.audio_panel import AudioClipPanel, choose_and_import_audio, import_audio


def tone(seconds: float, rate: int, channels: int = 2) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


def write_m4a(path: Path, seconds: float, rate: int = 48000) -> Path:
    """AAC in an MP4 (.m4a) container, encoded through PyAV."""
    samples = tone(seconds, rate).T.copy()  # planar (channels, n)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        for start in range(0, samples.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                samples[:, start : start + 1024], format="fltp", layout="stereo"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def sound_file(folder: Path, kind: str) -> tuple[Path, int]:
    """A sound file of `kind` and its expected length in frames at 24 fps."""
    if kind == "wav":
        # 49 100 samples at 48 kHz are 24.55 frames: the nearest frame is 25, not 24.
        path = folder / "voice.wav"
        soundfile.write(path, np.zeros((49_100, 2), np.float32) + 0.1, 48000)
        return path, 25
    if kind == "flac":
        path = folder / "drums.flac"
        soundfile.write(path, tone(1.5, 44100, channels=1), 44100)
        return path, 36
    if kind == "ogg":
        path = folder / "rain.ogg"
        soundfile.write(path, tone(2.5, 22050), 22050, format="OGG", subtype="VORBIS")
        return path, 60
    path = write_m4a(folder / "theme.m4a", 2.0)
    return path, 48


@pytest.mark.parametrize("kind", ["wav", "flac", "ogg", "m4a"])
def test_an_import_adds_sound_and_clip_in_one_undo_step(document, tmp_path, kind):
    source, frames = sound_file(tmp_path, kind)
    project = document.project
    sounds, timeline = list(project.audio), project.timeline
    steps = document.undo_stack.count()

    clip_id = import_audio(document, source, playhead=30, track_name="Voice")

    assert document.undo_stack.count() == steps + 1
    media = project.audio[-1]
    assert len(project.audio) == len(sounds) + 1 and media.name == source.stem
    copied = document.folder / media.path
    assert media.path.startswith("media/") and copied.read_bytes() == source.read_bytes()
    track = project.timeline.audio_tracks[-1]
    assert track.name == "Voice" and len(project.timeline.audio_tracks) == 2
    (clip,) = track.clips
    assert clip.id == clip_id and clip.media == media.path and clip.start == 30
    if kind == "m4a":  # AAC frames may add or drop a few milliseconds at the ends
        assert abs(clip.duration - frames) <= 1
    else:
        assert clip.duration == frames

    document.undo_stack.undo()
    assert project.audio == sounds and project.timeline == timeline
    document.undo_stack.redo()
    assert project.audio[-1] is media and project.timeline.audio_tracks[-1] == track


def test_an_identical_file_is_reused_and_a_clip_lands_on_a_given_track(document, tmp_path):
    source, frames = sound_file(tmp_path, "wav")
    first = import_audio(document, source)
    project = document.project
    count = len(project.audio)
    bed_end = project.timeline.audio_track("music").clips[0].end

    second = import_audio(document, source, playhead=bed_end, track_id="music")

    assert len(project.audio) == count  # the same file, the same sound
    assert sorted(p.name for p in (document.folder / "media").iterdir()) == [
        "sea_bed.ogg",
        "voice.wav",
    ]
    music = project.timeline.audio_track("music")
    assert [c.id for c in music.clips] == ["bed", second] and second != first
    assert music.clips[1].start == bed_end and music.clips[1].duration == frames

    # The same name with other content gets a new name.
    soundfile.write(source, np.zeros((4800, 2), np.float32), 48000)
    import_audio(document, source)
    assert project.audio[-1].path == "media/voice-2.wav"


def test_a_refused_import_changes_nothing(document, tmp_path):
    project = document.project
    sounds, timeline = list(project.audio), project.timeline
    steps = document.undo_stack.count()
    media = sorted((document.folder / "media").iterdir())

    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really a sound at all" * 20)
    with pytest.raises(StudioError, match="broken.wav cannot be imported: the file is damaged"):
        import_audio(document, broken)
    notes = tmp_path / "notes.txt"
    notes.write_text("a script, not a sound")
    with pytest.raises(StudioError, match="unsupported sound format"):
        import_audio(document, notes)
    source, _ = sound_file(tmp_path, "wav")
    with pytest.raises(StudioError, match="overlap"):
        import_audio(document, source, playhead=10, track_id="music")

    assert project.audio == sounds and project.timeline is timeline
    assert document.undo_stack.count() == steps
    assert sorted((document.folder / "media").iterdir()) == media


def test_choose_and_import_reports_errors_in_a_message_box(qtbot, document, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"OggS" + bytes(300))
    shown = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(broken), ""))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    assert choose_and_import_audio(None, document) is None
    assert len(shown) == 1 and "broken.ogg" in shown[0]

    source, _ = sound_file(tmp_path, "flac")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(source), ""))
    panel = AudioClipPanel(document)
    qtbot.addWidget(panel)
    panel.set_playhead(12)
    clip_id = panel.import_sound()
    assert clip_id and panel.clip_id == clip_id and panel.pages.currentIndex() == 1
    assert document.project.timeline.audio_tracks[-1].clips[0].start == 12
    assert len(shown) == 1


@pytest.fixture
def panel(qtbot, document):
    panel = AudioClipPanel(document)
    qtbot.addWidget(panel)
    panel.show_clip("music", "bed")
    return panel


def bed(document):
    return document.project.timeline.audio_track("music").clips[0]


def test_the_panel_shows_the_clip_or_an_empty_state(qtbot, document):
    panel = AudioClipPanel(document)
    qtbot.addWidget(panel)
    assert panel.pages.currentIndex() == 0
    with qtbot.waitSignal(panel.clipShown) as shown:
        panel.show_clip("music", "bed")
    assert shown.args == ["music", "bed"]
    assert panel.pages.currentIndex() == 1
    assert panel.name_edit.text() == "Sea bed"
    assert panel.gain_spin.value() == -6.0 and panel.gain_slider.value() == -60
    assert panel.fade_in_spin.value() == 1.0 and panel.fade_out_spin.value() == 2.0
    assert panel.start_edit.text() == "00:00:00:00"
    assert not panel.mute_box.isChecked()
    panel.clear()
    assert panel.pages.currentIndex() == 0


def test_a_gain_gesture_is_one_undo_step(panel, document):
    steps = document.undo_stack.count()
    for db in (-7.0, -8.5, -9.0):
        panel.gain_spin.setValue(db)
    assert bed(document).gain_db == -9.0 and panel.gain_slider.value() == -90
    assert document.undo_stack.count() == steps + 1
    panel.gain_spin.editingFinished.emit()

    panel.gain_slider.setValue(-30)  # a slider drag: its own step
    panel.gain_slider.setValue(-20)
    panel.gain_slider.sliderReleased.emit()
    assert bed(document).gain_db == -2.0 and panel.gain_spin.value() == -2.0
    assert document.undo_stack.count() == steps + 2

    document.undo_stack.undo()
    assert bed(document).gain_db == -9.0 and panel.gain_spin.value() == -9.0
    document.undo_stack.undo()
    assert bed(document).gain_db == -6.0 and panel.gain_spin.value() == -6.0


def test_fades_are_edited_in_seconds_and_undone_one_gesture_at_a_time(panel, document):
    steps = document.undo_stack.count()
    panel.fade_in_spin.setValue(1.5)
    panel.fade_in_spin.setValue(2.0)
    panel.fade_in_spin.editingFinished.emit()
    panel.fade_out_spin.setValue(3.0)
    clip = bed(document)
    assert (clip.fade_in, clip.fade_out) == (48, 72)
    assert document.undo_stack.count() == steps + 2

    document.undo_stack.undo()
    assert (bed(document).fade_in, bed(document).fade_out) == (48, 48)
    assert panel.fade_out_spin.value() == 2.0
    document.undo_stack.undo()
    assert (bed(document).fade_in, bed(document).fade_out) == (24, 48)
    assert panel.fade_in_spin.value() == 1.0
    # A fade can never be longer than what the other fade leaves of the clip.
    assert panel.fade_in_spin.maximum() == pytest.approx(588 / 24 - 2.0)


def test_start_mute_name_and_remove(panel, document, tmp_path):
    panel.start_edit.setText("00:00:01:00")
    panel.start_edit.setModified(True)
    panel.start_edit.editingFinished.emit()
    assert bed(document).start == 24

    panel.mute_box.setChecked(True)
    assert document.project.timeline.audio_track("music").muted

    panel.name_edit.setText("Storm bed")
    panel.name_edit.setModified(True)
    panel.name_edit.editingFinished.emit()
    assert document.project.audio[0].name == "Storm bed"

    panel.start_edit.setText("00:00:01:99")
    panel.start_edit.setModified(True)
    panel.start_edit.editingFinished.emit()
    assert "frames must be below 24" in panel.status.text()
    assert panel.start_edit.text() == "00:00:01:00" and bed(document).start == 24

    steps = document.undo_stack.count()
    assert panel.remove_clip()
    assert document.project.timeline.audio_track("music").clips == ()
    assert panel.pages.currentIndex() == 0
    document.undo_stack.undo()
    assert panel.pages.currentIndex() == 1 and bed(document).start == 24
    assert document.undo_stack.count() == steps + 1
    for _ in range(3):
        document.undo_stack.undo()
    assert document.project.audio[0].name == "Sea bed"
    assert not document.project.timeline.audio_track("music").muted
    assert bed(document).start == 0


def test_a_refused_move_is_explained(panel, document, tmp_path):
    source, _ = sound_file(tmp_path, "wav")
    bed_end = bed(document).end
    import_audio(document, source, playhead=bed_end + 10, track_id="music")
    timeline = document.project.timeline
    panel.start_edit.setText("00:00:01:00")
    panel.start_edit.setModified(True)
    panel.start_edit.editingFinished.emit()
    assert "overlap" in panel.status.text()
    assert document.project.timeline is timeline
