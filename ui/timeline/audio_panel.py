"""Sound in the edit: importing music and voice-over onto the timeline, and the inspector of
one audio clip (its name, gain, fades, start, its track's mute, and removal).

`import_audio` checks that a file decodes before it enters the project, copies it into the
project's `media/` folder and adds the sound and its clip in one undo step. The inspector
changes the timeline only through `set_timeline` with the timeline's audio edits; a spin or
slider gesture merges into one undo step.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.media.audio_mix import DEFAULT_RATE, sound_length
from studio.commands import InsertItem, set_field, set_timeline
from studio.errors import EditError, StudioError
from studio.project.media import place_media
from studio.project.model import AudioMedia
from studio.timeline.timeline import (
    AudioClip,
    AudioTrack,
    Timeline,
    frames_to_seconds,
    parse_timecode,
    seconds_to_frames,
    timecode,
)
from ui.document import Document
from ui.widgets.theme import warning_colour

SOUND_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aac")
SOUND_FILTER = "Sound files (*.wav *.flac *.mp3 *.ogg *.m4a *.aac);;All files (*)"
GAIN_MIN, GAIN_MAX = -60.0, 12.0
SLIDER_STEPS = 10  # slider positions per dB


# -- import ---------------------------------------------------------------------------------


def _slug(text: str, fallback: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_").lower()[:40]
    return slug or fallback


def _unique(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _timeline_ids(timeline: Timeline) -> set[str]:
    used = {item.id for item in timeline.items}
    for track in timeline.audio_tracks:
        used.add(track.id)
        used.update(clip.id for clip in track.clips)
    return used


def _sound_frames(path: Path, fps: Fraction) -> int:
    """The sound's length in timeline frames; a StudioError saying why it cannot be used."""
    known = path.suffix.lower() in SOUND_SUFFIXES
    try:
        # The length only: from the header where it says, never the whole file held (a
        # three-hour file would take 4 GB decoded).
        samples = sound_length(path)
    except Exception as exc:  # any decoder failure is the file's fault here
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if not path.exists():
            raise StudioError(f"{path.name} cannot be imported: the file does not exist") from None
        if known:
            raise StudioError(
                f"{path.name} cannot be imported: the file is damaged or is not really a "
                f"{path.suffix.lower()[1:].upper()} sound ({reason})"
            ) from None
        raise StudioError(
            f"{path.name} cannot be imported: unsupported sound format (use WAV, FLAC, MP3, "
            f"OGG, M4A or AAC; {reason})"
        ) from None
    if samples == 0:
        raise StudioError(f"{path.name} cannot be imported: it holds no sound")
    return max(1, seconds_to_frames(Fraction(samples, DEFAULT_RATE), fps))


def import_audio(
    document: Document,
    path: str | Path,
    *,
    playhead: int = 0,
    track_name: str = "Music",
    track_id: str | None = None,
) -> str:
    """Bring a sound file into the edit; returns the id of its new audio clip.

    The clip starts at `playhead` and lasts the whole sound (in timeline frames, rounded to
    the nearest), on `track_id` when given, else on a new track named `track_name`. The
    project's sound list and the timeline change in one undo step. A file that does not
    decode, or a clip that would overlap another on the given track, raises StudioError
    and changes nothing.
    """
    path = Path(path)
    project = document.project
    timeline = project.timeline
    place = place_media(document.folder, path)  # a link or a special file is refused first
    frames = _sound_frames(path, timeline.fps)
    used = _timeline_ids(timeline)
    if track_id is not None:
        timeline.audio_track(track_id)  # EditError naming a track that is not there
    relative = place.relative

    media = next((m for m in project.audio if m.path == relative), None)
    insert = None
    if media is None:
        ids = {m.id for m in project.audio}
        media = AudioMedia(_unique(_slug(path.stem, "sound"), ids), path.stem, relative)
        insert = InsertItem(project.audio, len(project.audio), media, text="Import sound")
    clip_id = _unique(f"audio-{_slug(path.stem, 'sound')}", used)
    clip = AudioClip(clip_id, relative, max(0, int(playhead)), 0, frames)
    if track_id is None:
        track_id = _unique(_slug(track_name, "audio"), used | {clip_id})
        timeline = timeline.add_audio_track(AudioTrack(track_id, track_name))
    timeline = timeline.add_audio_clip(track_id, clip)  # EditError where it would overlap

    place.copy()  # only once the edit is known to be possible
    with document.macro(f"Import {path.name}"):
        if insert is not None:
            document.push(insert)
        document.push(set_timeline(project, timeline, f"Import {path.name}"))
    return clip_id


def choose_and_import_audio(
    parent: QWidget | None,
    document: Document,
    playhead: int = 0,
    *,
    track_name: str = "Music",
    track_id: str | None = None,
) -> str | None:
    """Ask for a sound file and import it; errors are shown in a message box. Returns the
    new clip's id, or None when nothing was imported."""
    name, _ = QFileDialog.getOpenFileName(parent, "Import sound", "", SOUND_FILTER)
    if not name:
        return None
    try:
        return import_audio(
            document, Path(name), playhead=playhead, track_name=track_name, track_id=track_id
        )
    except StudioError as exc:
        QMessageBox.warning(parent, "Import sound", str(exc))
        return None


# -- the inspector --------------------------------------------------------------------------


class AudioClipPanel(QWidget):
    """The inspector of one audio clip (`show_clip`); an empty state when none is shown.

    `clipShown(track_id, clip_id)` fires when the inspected clip changes ("" for none);
    `message(text)` carries a refused edit's reason to the status bar as well.
    """

    clipShown = Signal(str, str)  # noqa: N815 - Qt signal naming
    message = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audioClip")
        self.document = document
        self.track_id = ""
        self.clip_id = ""
        self.playhead = 0
        self._gesture = 0
        self._pushing = False

        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._empty_page())
        self.pages.addWidget(self._clip_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.pages)
        document.timelineChanged.connect(self._document_changed)
        document.projectSettingsChanged.connect(self._sync)  # the sounds' names
        document.undo_stack.indexChanged.connect(self._history_moved)
        self._sync()

    # -- building --------------------------------------------------------------------------
    def _empty_page(self) -> QWidget:
        page = QWidget()
        self.empty_label = QLabel(
            "Select a sound clip on the timeline to set its gain and fades, or import music "
            "or a voice-over at the playhead."
        )
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.import_button = QPushButton("Import sound…")
        self.import_button.setToolTip(
            "Add a WAV, FLAC, MP3, OGG, M4A or AAC file on a new track at the playhead"
        )
        self.import_button.clicked.connect(self.import_sound)
        box = QVBoxLayout(page)
        box.addStretch(1)
        box.addWidget(self.empty_label)
        box.addWidget(self.import_button, 0, Qt.AlignHCenter)
        box.addStretch(1)
        return page

    def _clip_page(self) -> QWidget:
        page = QWidget()
        self.name_edit = QLineEdit()
        self.name_edit.setToolTip("The sound's name, shown on its clips in the timeline")
        self.name_edit.editingFinished.connect(self._rename)
        self.source_label = QLabel()
        self.source_label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.track_label = QLabel()
        self.mute_box = QCheckBox("Mute track")
        self.mute_box.setToolTip("Leave this whole track out of playback and export")
        self.mute_box.toggled.connect(self._mute)
        track_row = QHBoxLayout()
        track_row.addWidget(self.track_label, 1)
        track_row.addWidget(self.mute_box)

        self.start_edit = QLineEdit()
        self.start_edit.setToolTip("Where the clip starts on the timeline (HH:MM:SS:FF); Enter")
        self.start_edit.editingFinished.connect(self._move)

        self.gain_slider = QSlider(Qt.Horizontal)
        self.gain_slider.setRange(int(GAIN_MIN * SLIDER_STEPS), int(GAIN_MAX * SLIDER_STEPS))
        self.gain_slider.setPageStep(3 * SLIDER_STEPS)
        self.gain_slider.setToolTip("Clip gain in decibels (0 dB leaves the sound as it is)")
        self.gain_slider.valueChanged.connect(lambda v: self._set_gain(v / SLIDER_STEPS))
        self.gain_slider.sliderReleased.connect(self._end_gesture)
        self.gain_spin = self._spin(GAIN_MIN, GAIN_MAX, 0.5, 1, " dB")
        self.gain_spin.setToolTip("Clip gain in decibels, -60 to +12")
        self.gain_spin.valueChanged.connect(self._set_gain)
        gain_row = QHBoxLayout()
        gain_row.addWidget(self.gain_slider, 1)
        gain_row.addWidget(self.gain_spin)

        self.fade_in_spin = self._spin(0.0, 0.0, 0.1, 2, " s")
        self.fade_in_spin.setToolTip("Fade in from silence over the clip's first seconds")
        self.fade_in_spin.valueChanged.connect(lambda s: self._set_fade("fade_in", s))
        self.fade_out_spin = self._spin(0.0, 0.0, 0.1, 2, " s")
        self.fade_out_spin.setToolTip("Fade out to silence over the clip's last seconds")
        self.fade_out_spin.valueChanged.connect(lambda s: self._set_fade("fade_out", s))

        self.remove_button = QPushButton("Remove clip")
        self.remove_button.setToolTip("Take this clip off its track (the sound file stays)")
        self.remove_button.clicked.connect(self.remove_clip)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet(f"color: {warning_colour(self.palette()).name()}")

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("File", self.source_label)
        form.addRow("Track", track_row)
        form.addRow("Start", self.start_edit)
        form.addRow("Gain", gain_row)
        form.addRow("Fade in", self.fade_in_spin)
        form.addRow("Fade out", self.fade_out_spin)
        box = QVBoxLayout(page)
        box.addLayout(form)
        box.addWidget(self.remove_button, 0, Qt.AlignLeft)
        box.addWidget(self.status)
        box.addStretch(1)
        return page

    def _spin(self, lo: float, hi: float, step: float, decimals: int, suffix: str):
        spin = QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setDecimals(decimals)
        spin.setSuffix(suffix)
        spin.setAccelerated(True)
        # Typing, arrows and wheel turns merge until Enter or focus leaves: one undo step.
        spin.editingFinished.connect(self._end_gesture)
        return spin

    # -- what is shown ---------------------------------------------------------------------
    def show_clip(self, track_id: str, clip_id: str) -> None:
        """Inspect a clip of an audio track ("" and "" for the empty state)."""
        if (track_id, clip_id) != (self.track_id, self.clip_id):
            self._end_gesture()
            self.status.clear()
        self.track_id, self.clip_id = track_id, clip_id
        self._sync()
        self.clipShown.emit(self.track_id, self.clip_id)

    def clear(self) -> None:
        self.show_clip("", "")

    def set_playhead(self, frame: int) -> None:
        """Where an import from the empty state places its clip."""
        self.playhead = max(0, int(frame))

    def found(self) -> tuple[AudioTrack, AudioClip] | None:
        """The inspected track and clip as the timeline holds them now."""
        if not self.clip_id:
            return None
        for track in self.document.project.timeline.audio_tracks:
            if track.id == self.track_id:
                for clip in track.clips:
                    if clip.id == self.clip_id:
                        return track, clip
        return None

    def media(self, clip: AudioClip) -> AudioMedia | None:
        return next((m for m in self.document.project.audio if m.path == clip.media), None)

    def _document_changed(self) -> None:
        self._sync()

    def _history_moved(self, _index: int) -> None:
        if not self._pushing:
            self._end_gesture()  # an undo or another panel's edit ends the gesture

    def _sync(self) -> None:
        hit = self.found()
        if hit is None:
            # The ids stay: an undo that brings the clip back shows it again.
            self.pages.setCurrentIndex(0)
            return
        self.pages.setCurrentIndex(1)
        track, clip = hit
        fps = self.document.project.timeline.fps
        media = self.media(clip)
        name = media.name if media is not None else Path(clip.media).stem
        if not self.name_edit.hasFocus():
            self.name_edit.setText(name)
        self.name_edit.setReadOnly(media is None)
        seconds = float(frames_to_seconds(clip.duration, fps))
        self.source_label.setText(f"{Path(clip.media).name} · {seconds:.2f} s used")
        self.source_label.setToolTip(clip.media)
        self.track_label.setText(track.name or track.id)
        self._quiet(self.mute_box.setChecked, track.muted)
        if not self.start_edit.hasFocus():
            self.start_edit.setText(timecode(clip.start, fps))
        self._quiet(self.gain_spin.setValue, clip.gain_db)
        self._quiet(self.gain_slider.setValue, round(clip.gain_db * SLIDER_STEPS))
        fade_in = float(frames_to_seconds(clip.fade_in, fps))
        fade_out = float(frames_to_seconds(clip.fade_out, fps))
        self._quiet(self.fade_in_spin.setMaximum, seconds - fade_out)
        self._quiet(self.fade_out_spin.setMaximum, seconds - fade_in)
        self._quiet(self.fade_in_spin.setValue, fade_in)
        self._quiet(self.fade_out_spin.setValue, fade_out)

    @staticmethod
    def _quiet(setter, value) -> None:
        widget = setter.__self__
        widget.blockSignals(True)
        try:
            setter(value)
        finally:
            widget.blockSignals(False)

    # -- edits -----------------------------------------------------------------------------
    def _end_gesture(self) -> None:
        self._gesture += 1

    def _apply(self, make, text: str, field: str | None = None) -> bool:
        """Push the timeline `make(track, clip)` returns; `field` merges a gesture's edits."""
        hit = self.found()
        if hit is None:
            return False
        try:
            new = make(*hit)
        except EditError as exc:
            self.status.setText(str(exc))
            self.message.emit(str(exc))
            self._sync()
            return False
        project = self.document.project
        if new == project.timeline:
            return True
        key = ("audio-clip", id(self), self.clip_id, field, self._gesture) if field else None
        self.status.clear()
        self._pushing = True
        try:
            self.document.push(set_timeline(project, new, text, key))
        finally:
            self._pushing = False
        return True

    def _set_gain(self, db: float) -> None:
        db = round(float(db), 2)
        self._quiet(self.gain_spin.setValue, db)
        self._quiet(self.gain_slider.setValue, round(db * SLIDER_STEPS))
        self._apply(
            lambda track, clip: self.document.project.timeline.set_audio_clip(
                track.id, replace(clip, gain_db=db)
            ),
            "Audio clip gain",
            "gain",
        )

    def _set_fade(self, name: str, seconds: float) -> None:
        def make(track: AudioTrack, clip: AudioClip) -> Timeline:
            other = clip.fade_out if name == "fade_in" else clip.fade_in
            fps = self.document.project.timeline.fps
            frames = min(max(0, seconds_to_frames(seconds, fps)), clip.duration - other)
            changed = replace(clip, **{name: frames})
            return self.document.project.timeline.set_audio_clip(track.id, changed)

        self._apply(make, "Audio fade in" if name == "fade_in" else "Audio fade out", name)

    def _move(self) -> None:
        hit = self.found()
        if hit is None or not self.start_edit.isModified():
            return
        self.start_edit.setModified(False)
        fps = self.document.project.timeline.fps
        try:
            start = parse_timecode(self.start_edit.text(), fps)
        except EditError as exc:
            self.status.setText(str(exc))
            self.start_edit.setText(timecode(hit[1].start, fps))
            return
        self._end_gesture()
        self._apply(
            lambda track, clip: self.document.project.timeline.move_audio_clip(
                track.id, clip.id, start
            ),
            "Move audio clip",
        )

    def _mute(self, on: bool) -> None:
        self._end_gesture()
        self._apply(
            lambda track, clip: self.document.project.timeline.replace_audio_track(
                replace(track, muted=on)
            ),
            "Mute track" if on else "Unmute track",
        )

    def _rename(self) -> None:
        hit = self.found()
        if hit is None or not self.name_edit.isModified():
            return
        self.name_edit.setModified(False)
        media = self.media(hit[1])
        name = self.name_edit.text().strip()
        if media is None or not name or name == media.name:
            self._sync()
            return
        self._pushing = True
        try:
            self.document.push(set_field(media, "name", name))
        finally:
            self._pushing = False

    def remove_clip(self) -> bool:
        """Take the inspected clip off its track (one undo step)."""
        self._end_gesture()
        return self._apply(
            lambda track, clip: self.document.project.timeline.remove_audio_clip(track.id, clip.id),
            "Remove audio clip",
        )

    def import_sound(self) -> str | None:
        """Import a chosen file at the playhead on a new Music track and inspect its clip."""
        clip_id = choose_and_import_audio(self, self.document, self.playhead)
        if clip_id:
            for track in self.document.project.timeline.audio_tracks:
                if any(c.id == clip_id for c in track.clips):
                    self.show_clip(track.id, clip_id)
        return clip_id
