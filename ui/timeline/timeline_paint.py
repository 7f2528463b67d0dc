"""Drawing the timeline: the timecode ruler, the video track of clips and transitions, the
audio tracks with their waveforms, and the playhead, for the visible frames only.

`TimelineLayout` turns a timeline into arrays once per edit, so a paint finds the visible
items by binary search instead of walking every clip; `WaveformCache` reads each sound
file's peak envelope once, off the GUI thread. `paint_timeline` draws one frame of a
`TimelineView` (which supplies the geometry: pixels per frame, scroll, bands).
"""

from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QPolygonF

from studio.project.model import Project, Shot
from studio.timeline.timecode import nominal_rate
from studio.timeline.timeline import AudioClip, AudioTrack, Clip, Timeline, TransitionKind

RULER_H, VIDEO_H, AUDIO_H, GAP = 24, 72, 48, 4
LEFT = 8  # frame 0 sits a little in from the left border
TITLE_H = 16  # the title band at the top of a clip; thumbnails fill the rest
PEAK_RATE = 200  # waveform envelope bins per second of sound
DENSE_PX = 4.0  # below this average width per item, the track is drawn coalesced
EDGE_PX = 6  # how close to a clip's edge a press grabs the edge


class AudioLane:
    """An audio track's clips as arrays, so a paint handles all visible clips at once."""

    def __init__(self, track: AudioTrack) -> None:
        self.track = track
        clips = track.clips
        self.starts = np.array([c.start for c in clips], np.int64)
        self.ends = np.array([c.end for c in clips], np.int64)
        self.offsets = np.array([c.source_in - c.start for c in clips], np.float64)
        self.gains = np.array([10 ** (c.gain_db / 20) for c in clips], np.float64)
        self.fade_in = np.array([c.fade_in for c in clips], np.float64)
        self.fade_out = np.array([c.fade_out for c in clips], np.float64)
        self.media = sorted({c.media for c in clips})
        number = {media: k for k, media in enumerate(self.media)}
        self.media_index = np.array([number[c.media] for c in clips], np.int64)

    def visible(self, first: float, last: float) -> tuple[int, int]:
        j0 = int(np.searchsorted(self.ends, first, side="right"))
        return j0, max(j0, int(np.searchsorted(self.starts, last, side="left")))


class TimelineLayout:
    """Where each item of a timeline starts and ends, as arrays for binary search."""

    def __init__(self, timeline: Timeline, project: Project) -> None:
        self.timeline = timeline
        self.items = timeline.items
        n = len(self.items)
        self.starts = np.fromiter(timeline.starts(), np.int64, n)
        durations = np.fromiter((item.duration for item in self.items), np.int64, n)
        # Ends never decrease (a crossfade overlaps at most the incoming clip's length),
        # so both arrays are sorted and searchsorted finds the visible range.
        self.ends = self.starts + durations
        self.is_clip = np.fromiter((isinstance(item, Clip) for item in self.items), bool, n)
        self.index = {item.id: i for i, item in enumerate(self.items)}
        self._first_clips: dict[str, int] | None = None  # made on first use
        self.duration = timeline.duration
        self.audio = [AudioLane(track) for track in timeline.audio_tracks]
        self.refresh_shots(project)

    def first_clip(self, shot_id: str) -> int | None:
        """The index of the shot's first clip on the timeline, or None."""
        if self._first_clips is None:
            firsts: dict[str, int] = {}
            for i in range(len(self.items) - 1, -1, -1):
                item = self.items[i]
                if isinstance(item, Clip):
                    firsts[item.shot_id] = i
            self._first_clips = firsts
        return self._first_clips.get(shot_id)

    def refresh_shots(self, project: Project) -> None:
        """Shot titles and colours change without the timeline changing."""
        self.shots: dict[str, Shot] = {shot.id: shot for shot in project.shots}
        self.shot_order = {shot.id: i for i, shot in enumerate(project.shots)}
        self.media_names = {media.path: media.name for media in project.audio}
        self._colours: dict[str, tuple[QColor, QColor]] = {}

    def colours(self, shot_id: str) -> tuple[QColor, QColor]:
        """A shot's clip colour (golden-angle hues in storyboard order, mid-dark for either
        theme) and the text colour that reads on it."""
        pair = self._colours.get(shot_id)
        if pair is None:
            order = self.shot_order.get(shot_id)
            hue = (order * 137.5 if order is not None else zlib.crc32(shot_id.encode())) % 360
            fill = QColor.fromHsv(int(hue), 110, 150)
            ink = QColor(20, 20, 20) if fill.lightnessF() > 0.6 else QColor(245, 245, 245)
            pair = self._colours[shot_id] = (fill, ink)
        return pair

    def visible(self, first: float, last: float) -> tuple[int, int]:
        """The index range [i0, i1) of items showing any frame between `first` and `last`."""
        i0 = int(np.searchsorted(self.ends, first, side="right"))
        i1 = int(np.searchsorted(self.starts, last, side="left"))
        return i0, max(i0, i1)

    def item_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Every item's start and end frame, with the index of the item it belongs to."""
        n = len(self.items)
        owners = np.concatenate([np.arange(n), np.arange(n)])
        return np.concatenate([self.starts, self.ends]), owners

    def audio_edges(self) -> np.ndarray:
        parts = [np.concatenate([lane.starts, lane.ends]) for lane in self.audio]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def transition_span(self, i: int) -> tuple[int, int] | None:
        """The frames a non-cut transition into items[i] covers, or None for a cut."""
        item = self.items[i]
        if not isinstance(item, Clip) or item.transition.kind is TransitionKind.CUT:
            return None
        t, start = item.transition, int(self.starts[i])
        if t.kind is TransitionKind.CROSSFADE:
            return start, start + t.frames
        return start - t.outgoing_frames, start + t.incoming_frames


class TimelineGeometry:
    """Where things are on screen, for a widget with `layout_`, `ppf` (pixels per frame)
    and `scroll` (pixels): the view paints and hit-tests with the same arithmetic."""

    layout_: TimelineLayout
    ppf: float
    scroll: float

    def content_height(self, tracks: int | None = None) -> int:
        n = len(self.layout_.audio) if tracks is None else tracks
        return RULER_H + GAP + VIDEO_H + n * (GAP + AUDIO_H) + GAP

    def video_top(self) -> int:
        return RULER_H + GAP

    def audio_top(self, track: int) -> int:
        return RULER_H + GAP + VIDEO_H + GAP + track * (AUDIO_H + GAP)

    def x_of_frame(self, frame):
        """The x of a frame boundary (works on numpy arrays too)."""
        return LEFT + frame * self.ppf - self.scroll

    def frame_at(self, x: float) -> int:
        """The frame whose span holds pixel column x."""
        return int(np.floor((x - LEFT + self.scroll) / self.ppf))

    def clip_rect(self, item_id: str) -> QRectF:
        i = self.layout_.index[item_id]
        x0, x1 = self.x_of_frame(self.layout_.starts[i]), self.x_of_frame(self.layout_.ends[i])
        return QRectF(x0, self.video_top(), x1 - x0, VIDEO_H)

    def handle_rect_at(self, i: int) -> QRectF:
        span = self.layout_.transition_span(i)
        x = self.x_of_frame(span[1]) if span else 0.0
        return QRectF(x - 5, self.video_top() + VIDEO_H / 2 - 4, 10, 20)

    def handle_rect(self, clip_id: str) -> QRectF:
        return self.handle_rect_at(self.layout_.index[clip_id])

    def hit(self, x: float, y: float) -> tuple[str, int] | None:
        """What a press at (x, y) grabs on the video track: ("transition"|"left"|"right"|
        "body", item index), or None."""
        top = self.video_top()
        if not top <= y < top + VIDEO_H or not self.layout_.items:
            return None
        lay = self.layout_
        i0, i1 = lay.visible(self.frame_at(x - EDGE_PX) - 1, self.frame_at(x + EDGE_PX) + 2)
        for i in range(i0, min(i1 + 1, len(lay.items))):
            if lay.transition_span(i) and self.handle_rect_at(i).adjusted(-2, 0, 2, 0).contains(
                x, y
            ):
                return "transition", i
        best: tuple[float, str, int] | None = None
        for i in range(i0, i1):
            if not lay.is_clip[i]:
                continue
            x0, x1 = self.x_of_frame(lay.starts[i]), self.x_of_frame(lay.ends[i])
            if x1 - x0 < 3 * EDGE_PX:
                continue  # too narrow to tell an edge from the body: it moves
            for side, distance in (("left", x - x0), ("right", x1 - x)):
                if -1 <= distance <= EDGE_PX and (best is None or distance < best[0]):
                    best = (distance, side, i)
        if best is not None:
            return best[1], best[2]
        frame = (x - LEFT + self.scroll) / self.ppf
        i = int(np.searchsorted(lay.starts, frame, side="right")) - 1
        if 0 <= i < len(lay.items) and frame < lay.ends[i]:
            return "body", i
        return None

    def slot_at(self, x: float) -> int:
        """Where a moved item would land: the index it would be inserted before."""
        lay = self.layout_
        frame = (x - LEFT + self.scroll) / self.ppf
        i = int(np.searchsorted(lay.starts, frame, side="right")) - 1
        if i < 0:
            return 0
        if i >= len(lay.items) or frame >= lay.ends[-1]:
            return len(lay.items)
        return i if frame < (lay.starts[i] + lay.ends[i]) / 2 else i + 1


# -- waveforms -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Peaks:
    """The loudest sample (0..1, all channels) in each bin of `rate` bins per second."""

    values: np.ndarray
    rate: float


def read_peaks(path: str | Path, rate: int = PEAK_RATE) -> Peaks:
    """Read a sound file block by block and keep one peak per bin."""
    info = soundfile.info(str(path))
    hop = max(1, info.samplerate // rate)
    chunks = []
    for block in soundfile.blocks(str(path), blocksize=hop * 4096, dtype="float32", always_2d=True):
        mono = np.abs(block).max(axis=1)
        pad = (-len(mono)) % hop
        if pad:
            mono = np.concatenate([mono, np.zeros(pad, np.float32)])
        chunks.append(mono.reshape(-1, hop).max(axis=1))
    values = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return Peaks(np.clip(values, 0.0, 1.0), info.samplerate / hop)


class _Signals(QObject):
    done = Signal(object, object)  # key, Peaks or None


class _ReadPeaks(QRunnable):
    def __init__(self, key: tuple[str, float], signals: _Signals) -> None:
        super().__init__()
        self.key, self.signals = key, signals

    def run(self) -> None:
        try:
            peaks = read_peaks(self.key[0])
        except (OSError, ValueError, soundfile.SoundFileError):
            peaks = None
        with contextlib.suppress(RuntimeError):  # the window closed while reading
            self.signals.done.emit(self.key, peaks)


class WaveformCache(QObject):
    """`get(path)` returns the file's `Peaks`, None while reading, or `FAILED`; `ready`
    fires with the path when a read lands."""

    ready = Signal(str)
    FAILED = Peaks(np.zeros(0, np.float32), 1.0)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._peaks: dict[tuple[str, float], Peaks] = {}
        self._pending: set[tuple[str, float]] = set()
        self._signals = _Signals()
        self._signals.done.connect(self._done)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)

    def get(self, path: Path) -> Peaks | None:
        try:
            key = (str(path), path.stat().st_mtime)
        except OSError:
            return self.FAILED
        if key in self._peaks:
            return self._peaks[key]
        if key not in self._pending:
            self._pending.add(key)
            self.pool.start(_ReadPeaks(key, self._signals))
        return None

    def _done(self, key: tuple[str, float], peaks: Peaks | None) -> None:
        self._pending.discard(key)
        self._peaks[key] = peaks if peaks is not None else self.FAILED
        self.ready.emit(key[0])

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until queued reads finish (tests, shutdown)."""
        return self.pool.waitForDone(msecs)


# -- painting ------------------------------------------------------------------------------


def ruler_steps(rate: int) -> list[int]:
    """Tick spacings in frames: whole frames, then round timecode seconds and minutes."""
    frames = [s for s in (1, 2, 5, 10) if s < rate]
    seconds = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000)
    return frames + [s * rate for s in seconds]


def column_image(
    colours: np.ndarray,
    height: int,
    rows_mask: np.ndarray | None = None,
    fill: np.ndarray | None = None,
) -> QImage:
    """An opaque image `colours.size` wide: each column one colour (0xffRRGGBB), and where
    `rows_mask` (height x width) is set, `fill`'s colour for that column instead. Opaque
    images blit without blending, which is what makes drawing them cheap."""
    width = colours.size
    image = QImage(width, height, QImage.Format_RGB32)
    stride = image.bytesPerLine() // 4
    pixels = np.frombuffer(image.bits(), np.uint32).reshape(height, stride)[:, :width]
    np.copyto(pixels, colours.astype(np.uint32)[None, :])
    if rows_mask is not None:
        np.copyto(pixels, fill.astype(np.uint32)[None, :], where=rows_mask)
    return image


def paint_ruler(p: QPainter, view, layout: TimelineLayout, width: int) -> None:
    pal = view.palette()
    fps = layout.timeline.fps
    steps = ruler_steps(nominal_rate(fps))
    label_w = view.label(" 00:00:00:00 ").size().width() + 8
    major = next((s for s in steps if s * view.ppf >= label_w), steps[-1])
    minor = next((s for s in steps if major % s == 0 and s * view.ppf >= 6), major)
    first, last = max(0, view.frame_at(0)), view.frame_at(width) + 1
    # The ticks as one image: each column holds a major tick, a minor one or nothing.
    frames = np.arange(first - first % minor, last + 1, minor)
    columns = np.floor(view.x_of_frame(frames)).astype(np.int64)
    inside = (columns >= 0) & (columns < width)
    frames, columns = frames[inside], columns[inside]
    tops = np.full(width, RULER_H, np.float64)
    tops[columns] = np.where(frames % major == 0, RULER_H * 0.45, RULER_H * 0.7)
    mask = np.arange(RULER_H)[:, None] >= tops[None, :]
    tick = np.full(width, pal.color(QPalette.Mid).rgba(), np.uint32)
    back = np.full(width, pal.color(QPalette.Window).darker(115).rgba(), np.uint32)
    p.drawImage(QPointF(0, 0), column_image(back, RULER_H, mask, tick))
    p.setPen(pal.color(QPalette.WindowText))
    y = RULER_H * 0.45 - p.fontMetrics().ascent()
    for frame in range(first - first % major, last + 1, major):
        p.drawStaticText(QPointF(view.x_of_frame(frame) + 3, y), view.timecode_label(frame))


def paint_video(p: QPainter, view, layout: TimelineLayout, width: int) -> int:
    """Draw the video track; returns how many items the paint looked at."""
    pal = view.palette()
    top = view.video_top()
    p.fillRect(QRectF(0, top, width, VIDEO_H), pal.color(QPalette.Base))
    i0, i1 = layout.visible(view.frame_at(-2), view.frame_at(width + 2) + 1)
    if i1 - i0 > width / DENSE_PX:
        _paint_dense(p, view, layout, i0, i1, width)
    else:
        for i in range(i0, i1):
            if layout.is_clip[i]:
                _paint_clip(p, view, layout, i, width)
        # A transition of the item just past the range can reach back into view.
        for i in range(i0, min(i1 + 1, len(layout.items))):
            _paint_transition(p, view, layout, i)
    selected = layout.index.get(view.selected_id)
    if selected is not None and i0 <= selected < i1:
        x0 = max(-2.0, view.x_of_frame(layout.starts[selected]))
        x1 = min(width + 2.0, view.x_of_frame(layout.ends[selected]))
        p.setPen(QPen(pal.color(QPalette.Highlight), 2))
        p.setBrush(Qt.NoBrush)
        p.drawRect(QRectF(x0, top + 1, max(2.0, x1 - x0), VIDEO_H - 2))
    return i1 - i0


def _paint_dense(p: QPainter, view, layout: TimelineLayout, i0: int, i1: int, width: int) -> None:
    """Clips a few pixels wide or less, coalesced: covered columns take a clip colour, a
    column where a clip starts a darker one; one image for the whole track."""
    clips = layout.is_clip[i0:i1]
    x0 = np.clip(np.floor(view.x_of_frame(layout.starts[i0:i1][clips])), 0, width).astype(int)
    x1 = np.clip(np.ceil(view.x_of_frame(layout.ends[i0:i1][clips])), 0, width).astype(int)
    cover = np.bincount(x0, minlength=width + 1) - np.bincount(x1, minlength=width + 1)
    fill = QColor.fromHsv(215, 70, 140)  # a neutral clip colour, mid-dark in any theme
    back = np.uint32(view.palette().color(QPalette.Base).rgba())
    colours = np.where(np.cumsum(cover)[:width] > 0, np.uint32(fill.rgba()), back)
    starts = x0[x0 < width]
    colours[starts] = np.uint32(fill.darker(170).rgba())
    p.drawImage(QPointF(0, view.video_top() + 2), column_image(colours, VIDEO_H - 4))


def _paint_clip(p: QPainter, view, layout: TimelineLayout, i: int, width: int) -> None:
    item = layout.items[i]
    top = view.video_top()
    x0, x1 = view.x_of_frame(layout.starts[i]), view.x_of_frame(layout.ends[i])
    # Clamp to the view so a clip zoomed to millions of pixels still draws cheaply.
    left, right = max(x0, -2.0), min(x1, width + 2.0)
    fill, ink = layout.colours(item.shot_id)
    rect = QRectF(left, top + 2, max(1.0, right - left), VIDEO_H - 4)
    p.fillRect(rect, fill)
    if x1 - x0 < 6:
        return
    path = view.take_path_of(item)
    if path is not None and x1 - x0 > 24:
        _paint_thumbnails(p, view, item, layout.shots.get(item.shot_id), path, x0, left, right)
    p.setPen(fill.darker(160))
    p.setBrush(Qt.NoBrush)
    p.drawRect(rect)
    if x1 - x0 > 20:
        shot = layout.shots.get(item.shot_id)
        title = (shot.title or shot.id) if shot else item.shot_id
        text_left = max(x0, 0.0) + 4
        y = top + 2 + (TITLE_H - p.fontMetrics().height()) / 2
        p.setPen(ink)
        p.drawStaticText(QPointF(text_left, y), view.label(title, int(right - text_left - 4)))


def _paint_thumbnails(p, view, clip: Clip, shot, path, x0: float, left: float, right: float):
    """A strip of frames of the take along the clip, only the slots in view."""
    cache = view.thumbnails
    if cache is None:
        return
    top = view.video_top() + 2 + TITLE_H
    height = VIDEO_H - 4 - TITLE_H - 2
    aspect = (shot.width / shot.height) if shot and shot.height else 16 / 9
    slot = max(16, round(height * aspect))
    for k in range(max(0, int((left - x0) // slot)), int((right - x0) // slot) + 1):
        sx = x0 + k * slot
        # The frame under the middle of the slot, on a coarse grid so zooming reuses decodes.
        frame = min(clip.source_out - 1, clip.source_in + int((k * slot + slot / 2) / view.ppf))
        image = cache.get(path, frame - frame % 4, slot)
        if image is None or image.isNull():
            continue
        target = QRectF(sx, top, slot, height).intersected(QRectF(left, top, right - left, height))
        if not target.isEmpty():
            source = QRectF(target.x() - sx, 0, target.width(), min(height, image.height()))
            p.drawImage(target, image, source)


def _paint_transition(p: QPainter, view, layout: TimelineLayout, i: int) -> None:
    span = layout.transition_span(i)
    if span is None:
        return
    top, pal = view.video_top(), view.palette()
    xa, xb = view.x_of_frame(span[0]), view.x_of_frame(span[1])
    ink = QColor(pal.color(QPalette.WindowText))
    fill = QColor(ink)
    fill.setAlpha(70)
    y0, y1 = top + 2 + TITLE_H, top + VIDEO_H - 2
    if xb - xa >= 4:
        # The bowtie: the outgoing picture narrows while the incoming one widens.
        bowtie = QPolygonF([QPointF(xa, y0), QPointF(xb, y1), QPointF(xb, y0), QPointF(xa, y1)])
        p.setPen(QPen(ink, 1))
        p.setBrush(fill)
        p.drawPolygon(bowtie)
    p.setPen(QPen(pal.color(QPalette.Base), 1))
    p.setBrush(pal.color(QPalette.Highlight) if view.hover_handle == i else ink)
    p.drawRoundedRect(view.handle_rect_at(i), 2, 2)


def paint_audio(p: QPainter, view, layout: TimelineLayout, width: int) -> None:
    pal = view.palette()
    for t, lane in enumerate(layout.audio):
        top = view.audio_top(t)
        p.fillRect(QRectF(0, top, width, AUDIO_H), pal.color(QPalette.Base))
        j0, j1 = lane.visible(view.frame_at(-2), view.frame_at(width + 2) + 1)
        if j1 > j0:
            _paint_lane(p, view, layout, lane, j0, j1, top, width)
        name = lane.track.name or lane.track.id
        if lane.track.muted:
            name += " (muted)"
        text = view.label(name)
        size = text.size()
        p.fillRect(
            QRectF(2, top + AUDIO_H - 3 - size.height(), size.width() + 8, size.height()),
            pal.color(QPalette.Window),
        )
        p.setPen(pal.color(QPalette.WindowText))
        p.drawStaticText(QPointF(6, top + AUDIO_H - 3 - size.height()), text)


def _paint_lane(p, view, layout, lane: AudioLane, j0: int, j1: int, top: int, width: int):
    """The visible clips of one audio track: clip boxes and waveforms as one image, then
    fades and labels on the clips wide enough to show them."""
    height = AUDIO_H - 4
    base = QColor.fromHsv(200, 40 if lane.track.muted else 110, 110)
    wave = base.lighter(170)
    columns = np.arange(width, dtype=np.float64)
    f_lo = (columns - LEFT + view.scroll) / view.ppf  # the frame at each column's left edge
    f_mid = f_lo + 0.5 / view.ppf
    j = np.minimum(np.searchsorted(lane.ends, f_mid, side="right"), lane.ends.size - 1)
    covered = (lane.starts[j] <= f_mid) & (f_mid < lane.ends[j])
    amp = np.zeros(width)
    fps = float(layout.timeline.fps)
    for m, media in enumerate(lane.media):
        sel = covered & (lane.media_index[j] == m)
        peaks = view.waveforms.get(view.document.media_path(media)) if sel.any() else None
        if peaks is None or peaks.values.size == 0:
            continue
        jj = j[sel]
        # Bins each column spans in the media of the clip under it; reduceat takes the max
        # of each [lo, hi) pair (the single bin lo when zoomed in past one bin a column).
        values = np.append(peaks.values, np.float32(0))  # index n: past the sound's end
        n = peaks.values.size
        lo_s = (f_lo[sel] + lane.offsets[jj]) / fps * peaks.rate
        lo = np.clip(np.floor(lo_s), 0, n).astype(np.int64)
        hi = np.clip(np.ceil(lo_s + peaks.rate / fps / view.ppf), 0, n).astype(np.int64)
        pairs = np.empty(2 * lo.size, np.int64)
        pairs[0::2], pairs[1::2] = lo, np.maximum(hi, lo)
        level = np.maximum.reduceat(values, pairs)[0::2].astype(np.float64)
        local = f_mid[sel] - lane.starts[jj]
        length = lane.ends[jj] - lane.starts[jj]
        envelope = np.ones_like(local)
        fade_in, fade_out = lane.fade_in[jj], lane.fade_out[jj]
        envelope = np.where(
            fade_in > 0, np.minimum(envelope, local / np.maximum(fade_in, 1)), envelope
        )
        envelope = np.where(
            fade_out > 0, np.minimum(envelope, (length - local) / np.maximum(fade_out, 1)), envelope
        )
        amp[sel] = np.clip(level * lane.gains[jj] * np.clip(envelope, 0, 1), 0, 1)
    back = np.uint32(view.palette().color(QPalette.Base).rgba())
    colours = np.where(covered, np.uint32(base.rgba()), back)
    first = view.x_of_frame(lane.starts[j0:j1])
    edge_columns = np.floor(first[(first >= 0) & (first < width)]).astype(np.int64)
    colours[edge_columns] = np.uint32(base.darker(160).rgba())
    half = np.where(covered, amp * (height / 2 - 2) + 0.5, -1.0)
    rows = np.abs(np.arange(height)[:, None] + 0.5 - height / 2)
    fill = np.where(colours == np.uint32(base.rgba()), np.uint32(wave.rgba()), colours)
    p.drawImage(QPointF(0, top + 2), column_image(colours, height, rows <= half, fill))
    if j1 - j0 > width / 30:
        return  # too many clips to label
    pen = QPen(view.palette().color(QPalette.WindowText), 1)
    for k in range(j0, j1):
        _decorate_audio_clip(p, view, layout, lane.track.clips[k], top, width, base, pen)


def _decorate_audio_clip(p, view, layout, clip: AudioClip, top, width, base: QColor, pen):
    x0, x1 = view.x_of_frame(clip.start), view.x_of_frame(clip.end)
    y0, y1 = top + 2, top + AUDIO_H - 2
    p.setPen(pen)
    if clip.fade_in:
        p.drawLine(QLineF(x0, y1, view.x_of_frame(clip.start + clip.fade_in), y0))
    if clip.fade_out:
        p.drawLine(QLineF(view.x_of_frame(clip.end - clip.fade_out), y0, x1, y1))
    left, right = max(x0, 0.0) + 4, min(x1, float(width)) - 4
    if right - left > 24:
        label = layout.media_names.get(clip.media, Path(clip.media).name)
        peaks = view.waveforms.get(view.document.media_path(clip.media))
        if peaks is view.waveforms.FAILED:
            label += "  (cannot read the sound file)"
        elif clip.gain_db:
            label += f"  {clip.gain_db:+g} dB"
        p.setPen(QColor(245, 245, 245))  # on the mid-dark clip colour in either theme
        p.drawStaticText(QPointF(left, y0), view.label(label, int(right - left)))


def paint_timeline(p: QPainter, view, layout: TimelineLayout, width: int, height: int) -> int:
    """Everything but the playhead; returns how many video items the paint looked at."""
    p.fillRect(QRectF(0, 0, width, height), view.palette().color(QPalette.Window))
    paint_ruler(p, view, layout, width)
    count = paint_video(p, view, layout, width)
    paint_audio(p, view, layout, width)
    if view.drop_x is not None:
        p.setPen(QPen(view.palette().color(QPalette.Highlight), 3))
        p.drawLine(QLineF(view.drop_x, view.video_top(), view.drop_x, view.video_top() + VIDEO_H))
    return count


def paint_playhead(p: QPainter, view, width: int, height: int) -> None:
    x = view.x_of_frame(view.playhead)
    if -6 <= x <= width + 6:
        colour = QColor(220, 60, 50)  # the playhead is red in every theme
        p.setPen(QPen(colour, 1))
        p.drawLine(QLineF(x, 0, x, height))
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 8)]))
