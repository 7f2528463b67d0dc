"""The player: one take, or the whole edit with its sound, frame-accurate.

Whatever is shown has two frame sources: the GUI thread's, for seeks, steps and scrubbing
while paused, and a `Prefetcher` thread's, which reads ahead into a short queue during
playback so that the GUI thread only paints. Time comes from the audio clock when sound
plays and from a monotonic wall clock otherwise; the prefetcher skips frames it would
deliver late and the painter holds a frame that arrives early, so picture follows the clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.media.audio_mix import mix_timeline
from engine.media.sequence import END, FAILED, Prefetcher, SequenceFrames, TakeFrames, clip_take
from studio.errors import StudioError
from ui.player.audio_output import AudioOutput
from ui.player.player_view import FrameView, ScrubBar, TransportBar

TAKE, SEQUENCE = "take", "sequence"
SAMPLE_RATE = 48000
READ_AHEAD = 12
MAX_SHUTTLE = 4
SILENT_NOTICE = "No audio device: playing without sound"


class PlayerPanel(QWidget):
    """Plays a take (`show_take`) or the whole timeline with its sound (`show_sequence`).

    `audio` replaces the sound output (tests; a chosen device).
    """

    positionChanged = Signal(int)  # noqa: N815 - Qt signal naming
    notice = Signal(str)

    def __init__(
        self, document, parent: QWidget | None = None, *, audio: AudioOutput | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("player")
        self.document = document
        self.audio = audio if audio is not None else AudioOutput()
        self._mode, self._shot_id, self._take_id = TAKE, "", None
        self._key: tuple = ()
        self._factory: Callable[[], Any] | None = None
        self._source: Any = None  # the GUI thread's
        self._play_source: Any = None  # the prefetcher's
        self._count, self._fps, self._position = 0, 24, 0
        self._current: np.ndarray | None = None
        self._in: int | None = None
        self._out: int | None = None
        self._loop, self._rate = False, 0
        self._prefetch: Prefetcher | None = None
        self._pending: tuple | None = None
        self._t0: float | None = None  # wall clock at the first frame shown
        self._audio_origin: float | None = None  # audio clock at the first frame
        self._silent_noticed = False
        self._mix: tuple[tuple, np.ndarray] | None = None
        self._resume_after_drag = self._syncing = False

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)
        self._build()
        self.setFocusPolicy(Qt.StrongFocus)

        document.currentShotChanged.connect(self._current_shot_changed)
        # Reload after the edit's other listeners have run, on a pass of the event loop of
        # its own (`Later`): a take landing then never holds the window up for every panel
        # at once, and input waiting is handled in between.
        for signal in (
            document.timelineChanged,
            document.takesChanged,
            document.shotsChanged,
            document.projectSettingsChanged,
        ):
            signal.connect(self._document_changed)
        self.show_take(document.current_shot_id)

    def _build(self) -> None:
        self.view = FrameView(self)
        self.scrub = ScrubBar(self)
        self.scrub.valueChanged.connect(self._scrubbed)
        self.scrub.sliderPressed.connect(self._drag_started)
        self.scrub.sliderReleased.connect(self._drag_ended)
        bar = self.transport = TransportBar(self)
        bar.start_button.clicked.connect(lambda: self.seek(0))
        bar.back_button.clicked.connect(lambda: self.step(-1))
        bar.play_button.clicked.connect(self.toggle_play)
        bar.forward_button.clicked.connect(lambda: self.step(1))
        bar.end_button.clicked.connect(lambda: self.seek(self._count - 1))
        bar.loop_button.clicked.connect(lambda: self.set_loop(bar.loop_button.isChecked()))
        bar.take_button.clicked.connect(lambda: self.show_take(self.document.current_shot_id))
        bar.sequence_button.clicked.connect(self.show_sequence)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(4)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.scrub)
        layout.addWidget(bar)

    # -- state -------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """ "take" or "sequence"."""
        return self._mode

    @property
    def position(self) -> int:
        return self._position

    @property
    def frame_count(self) -> int:
        return self._count

    @property
    def fps(self):
        return self._fps

    @property
    def playing(self) -> bool:
        return self._rate != 0

    @property
    def shuttle_rate(self) -> int:
        """Frames per frame time: 1, 2, 4 forward, -1, -2, -4 in reverse, 0 paused."""
        return self._rate

    @property
    def loop(self) -> bool:
        return self._loop

    @property
    def in_point(self) -> int | None:
        return self._in

    @property
    def out_point(self) -> int | None:
        return self._out

    @property
    def message(self) -> str:
        """What the display says instead of a picture ("" when it shows a frame)."""
        return self.view.message

    def current_frame(self) -> np.ndarray | None:
        """The frame on screen, as the source gave it (before scaling to the widget)."""
        return self._current

    # -- what is shown -----------------------------------------------------------------
    def show_take(self, shot_id: str, take_id: str | None = None) -> None:
        """A take of a shot (its selected take by default), silent."""
        shot = self.document.project.shot(shot_id) if shot_id else None
        path = self.document.take_path(shot, take_id) if shot is not None else None
        key = (TAKE, shot_id, take_id, str(path))
        if key == self._key:
            return
        keep = self._position if self._mode == TAKE and shot_id == self._shot_id else None
        self._mode, self._shot_id, self._take_id = TAKE, shot_id, take_id
        if shot is None:
            self._load(key, None, "No shot selected.", None)
        elif path is None:
            name = shot.title or shot.id
            self._load(key, None, f"“{name}” has no take yet. Render the shot to play it here.")
        else:
            self._load(key, lambda: TakeFrames(path), "", keep)

    def show_sequence(self) -> None:
        """The whole timeline, with slates for shots not rendered yet, and its sound."""
        key = self._sequence_key()
        if key == self._key:
            return
        keep = self._position if self._mode == SEQUENCE else None
        self._mode = SEQUENCE
        project, folder = self.document.project, self.document.folder
        timeline = project.timeline
        if timeline.duration == 0:
            self._load(key, None, "The timeline is empty. Add shots to it to play the film.")
            return

        def factory() -> SequenceFrames:
            return SequenceFrames(project, folder, timeline, missing="slate")

        self._load(key, factory, "", keep)

    def _sequence_key(self) -> tuple:
        project = self.document.project
        takes = []
        for clip in project.timeline.clips():
            try:
                takes.append(clip_take(project, clip).media)
            except StudioError:
                takes.append(None)
        return (SEQUENCE, project.timeline, tuple(takes), project.width, project.height)

    def _load(self, key: tuple, factory, message: str, keep: int | None = None) -> None:
        """Open what `factory` makes. `keep` is the position when the same thing reloads
        after an edit (the marks stay too); None for something new."""
        self.pause()
        self._close_sources()
        bar = self.transport
        (bar.take_button if self._mode == TAKE else bar.sequence_button).setChecked(True)
        self._key, self._factory = key, factory
        marks = (self._in, self._out) if keep is not None else (None, None)
        self._count, self._position, self._current = 0, 0, None
        self._in = self._out = None
        if factory is not None:
            try:
                self._source = factory()
                self._count, self._fps = len(self._source), self._source.fps
            except StudioError as exc:
                self._source, message = None, str(exc)
        last = self._count - 1
        self.scrub.blockSignals(True)
        self.scrub.setRange(0, max(0, last))
        self.scrub.setPageStep(max(1, round(self._fps)))
        self.scrub.blockSignals(False)
        for w in (self.scrub, *bar.transport_buttons()):
            w.setEnabled(self._count > 0)
        if self._count == 0:
            self.scrub.set_marks(None, None)
            self.view.set_message(message or "Nothing to play.")
            bar.set_time(None, 0, self._fps)
            return
        self._in, self._out = (None if m is None else min(m, last) for m in marks)
        self.scrub.set_marks(self._in, self._out)
        self._position = -1
        self.seek(min(keep or 0, last))

    def _close_sources(self) -> None:
        for source in (self._source, self._play_source):
            if source is not None:
                source.close()
        self._source = self._play_source = None

    def _current_shot_changed(self, shot_id: str) -> None:
        if self._mode == TAKE:
            self.show_take(shot_id)

    def _document_changed(self, *_args) -> None:
        """What plays may have changed: the edit, a shot's takes, the film's size."""
        self.document.later.call(("player", id(self)), self._reload_now, owner=self)

    def _reload_now(self) -> None:
        if self._mode == SEQUENCE:
            self.show_sequence()
        else:
            self.show_take(self._shot_id, self._take_id)

    # -- transport ---------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        self._start(1)

    def pause(self) -> None:
        if self._rate == 0:
            return
        self._halt()
        self._rate = 0
        self.transport.set_playing(0)

    def shuttle(self, direction: int) -> None:
        """J/K/L: -1 reverse (1x, 2x, 4x on repeats), 0 pause, 1 forward likewise."""
        if direction == 0:
            self.pause()
            return
        sign = 1 if direction > 0 else -1
        rate = self._rate * 2 if self._rate * sign > 0 else sign
        self._start(max(-MAX_SHUTTLE, min(MAX_SHUTTLE, rate)))

    def step(self, frames: int) -> None:
        self.pause()
        if self._count:
            self.seek(self._position + frames)

    def seek(self, frame: int) -> None:
        """Show exactly `frame` (clamped); playback, if any, goes on from there."""
        if not self._count:
            return
        frame = max(0, min(int(frame), self._count - 1))
        if self.playing:
            if frame != self._position:  # a view echoing the playhead back changes nothing
                self._start(self._rate, frame)
            return
        if frame == self._position and self._current is not None:
            return
        try:
            picture = self._source.frame(frame)
        except (StudioError, IndexError) as exc:
            self._say(str(exc))
            return
        self._display(frame, picture)

    def set_loop(self, on: bool) -> None:
        self._loop = bool(on)
        self.transport.loop_button.setChecked(self._loop)
        if self.playing:
            self._start(self._rate, self._position)

    def mark_in(self) -> None:
        if self._count:
            self._in = self._position
            if self._out is not None and self._out < self._in:
                self._out = None
            self._marks_changed()

    def mark_out(self) -> None:
        if self._count:
            self._out = self._position
            if self._in is not None and self._in > self._out:
                self._in = None
            self._marks_changed()

    def clear_marks(self) -> None:
        self._in = self._out = None
        self._marks_changed()

    def _marks_changed(self) -> None:
        self.scrub.set_marks(self._in, self._out)
        if self.playing and self._loop:
            self._start(self._rate, self._position)

    def _span(self) -> tuple[int, int]:
        """Frames playback may show: in..out (inclusive) when looping, else all of them."""
        if not self._loop:
            return 0, self._count
        lo = self._in or 0
        return lo, self._count if self._out is None else self._out + 1

    # -- playback ----------------------------------------------------------------------
    def _start(self, rate: int, frame: int | None = None) -> None:
        if not self._count or self._factory is None:
            return
        self._halt()
        frame = self._position if frame is None else frame
        lo, hi = self._span()
        at_end = frame == hi - 1 if rate > 0 else frame == lo
        if not lo <= frame < hi or (at_end and not self._loop):
            frame = lo if rate > 0 else hi - 1  # outside the loop, or at the end: start over
        if self._play_source is None:
            try:
                self._play_source = self._factory()
            except StudioError as exc:
                self._say(str(exc))
                return
        self._rate = rate
        if rate == 1 and self._mode == SEQUENCE:
            self._start_sound(frame, lo, hi)
        self._t0, self._pending = None, None
        self._prefetch = Prefetcher(
            self._play_source,
            frame,
            step=rate,
            span=(lo, hi),
            loop=self._loop,
            clock=self._due_slot,
            depth=READ_AHEAD,
        )
        self._prefetch.start()
        self._timer.start()
        self.transport.set_playing(rate)

    def _halt(self) -> None:
        self._timer.stop()
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            prefetch.stop()
            if prefetch.is_alive():  # stuck in a read: never share its source again
                self._play_source = None
        self._pending = None
        if self._audio_origin is not None:
            self.audio.stop()
            self._audio_origin = None

    def _start_sound(self, frame: int, lo: int, hi: int) -> None:
        if not self.audio.available:
            self._silent()
            return
        project, folder = self.document.project, self.document.folder
        timeline = project.timeline
        key = (timeline.fps, timeline.duration, timeline.audio_tracks, repr(project.audio))
        if self._mix is None or self._mix[0] != key:
            try:
                self._mix = (key, mix_timeline(project, folder, timeline, SAMPLE_RATE))
            except (StudioError, OSError) as exc:
                self._say(f"Playing without sound: {exc}")
                return
        per_frame = SAMPLE_RATE / timeline.fps
        samples, at = self._mix[1], round(frame * per_frame)
        if self._loop:
            base = round(lo * per_frame)
            samples, at = samples[base : round(hi * per_frame)], at - base
        if self.audio.start(samples, SAMPLE_RATE, at, loop=self._loop):
            self._audio_origin = at / SAMPLE_RATE
        else:
            self._silent()

    def _silent(self) -> None:
        if not self._silent_noticed:
            self._silent_noticed = True
            self._say(SILENT_NOTICE)

    def _say(self, text: str) -> None:
        self.transport.show_notice(text)
        self.notice.emit(text)

    def _due_slot(self) -> int:
        """The playback slot due now; the prefetch thread reads it too."""
        if self._audio_origin is not None:
            elapsed = self.audio.position_seconds() - self._audio_origin
        else:
            # The wall clock starts with the first frame, so opening files costs no frames.
            elapsed = 0.0 if self._t0 is None else time.perf_counter() - self._t0
        return math.floor(elapsed * float(self._fps))

    def _next_item(self) -> tuple | None:
        if self._pending is not None:
            item, self._pending = self._pending, None
            return item
        return self._prefetch.get() if self._prefetch is not None else None

    def _tick(self) -> None:
        due = self._due_slot()
        shown: tuple[int, np.ndarray] | None = None
        while (item := self._next_item()) is not None:
            slot, index, payload = item
            if self._t0 is None:
                self._t0 = time.perf_counter()
            if slot > due:
                self._pending = item  # early: hold it until its time
                break
            if index == FAILED:
                self.pause()
                self._say(f"Playback stopped: {payload}")
                return
            if index == END:
                break
            shown = (index, payload)
        if shown is not None:
            self._display(*shown)
        if item is not None and item[1] == END and self._pending is None:
            self.pause()

    def _display(self, index: int, frame: np.ndarray) -> None:
        self._current = frame
        self.view.set_frame(frame)
        moved = index != self._position
        self._position = index
        self._syncing = True
        self.scrub.setValue(index)
        self._syncing = False
        self.transport.set_time(index, self._count, self._fps)
        if moved:
            self.positionChanged.emit(index)

    # -- scrubbing ---------------------------------------------------------------------
    def _scrubbed(self, value: int) -> None:
        if not self._syncing:
            self.seek(value)

    def _drag_started(self) -> None:
        self._resume_after_drag = self.playing
        self.pause()

    def _drag_ended(self) -> None:
        if self._resume_after_drag:
            self._resume_after_drag = False
            self.play()

    # -- keys and life -----------------------------------------------------------------
    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        # The window's shortcuts take these keys first; this serves a player used alone.
        keys = {
            Qt.Key_Space: self.toggle_play,
            Qt.Key_Left: lambda: self.step(-1),
            Qt.Key_Right: lambda: self.step(1),
            Qt.Key_Home: lambda: self.seek(0),
            Qt.Key_End: lambda: self.seek(self._count - 1),
            Qt.Key_J: lambda: self.shuttle(-1),
            Qt.Key_K: lambda: self.shuttle(0),
            Qt.Key_L: lambda: self.shuttle(1),
            Qt.Key_I: self.mark_in,
            Qt.Key_O: self.mark_out,
        }
        action = keys.get(event.key())
        if action is None or event.modifiers() not in (Qt.NoModifier, Qt.KeypadModifier):
            super().keyPressEvent(event)
            return
        action()
        event.accept()

    def shutdown(self) -> None:
        """Stop playback and close the open files (closing the panel does this too)."""
        self.pause()
        self._halt()
        self.audio.stop()
        self._close_sources()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)
