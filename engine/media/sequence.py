"""The edit as pictures: any frame of the timeline, composed from the takes of its clips.

`SequenceFrames` is a frame source for the whole edit at the timeline's rate, for the
player and for export. Each clip shows its take (the clip's own `take_id`, else its shot's
selected take), conformed to the output size by scaling and letterboxing or pillarboxing,
never by stretching; crossfades blend the two clips, dips go through black or white, gaps
are black.

Source positions of a clip (`source_in`, `source_out`) count frames at the timeline's
rate. A take rendered at another rate is mapped by time: timeline-rate position `p` shows
the take frame nearest to `p / timeline_fps` seconds. A take shorter than its clip holds
its last frame.

Decoding is sequential where playback is: each take file keeps one open `VideoReader`
(a few, least recently used first out), whose forward reads continue decoding instead of
seeking. A source is not thread-safe; give each thread its own.

`segments()` cuts the edit into pieces (a clip on its own, a transition, a gap), each with
its timeline frame range, so that export can copy the untouched pieces and encode the rest.
"""

from __future__ import annotations

import bisect
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from engine.media.continuity import JoinMatch
from engine.media.video import MediaError, VideoReader
from studio.errors import StudioError
from studio.project.model import Project, Take
from studio.project.takes import TakeDamagedError, TakeStoreError, verify_take_file
from studio.timeline.timeline import Clip, Gap, Timeline, Transition, TransitionKind

CLIP = "clip"
TRANSITION = "transition"
GAP = "gap"

SLATE_GREY = 64
JOIN_FADE_FRAMES = 8  # a matched join eases back to the clip's own colour over these
# Markers in a Prefetcher's queue where a frame index would be.
END, FAILED = "end", "failed"
_DIP_COLOUR = {TransitionKind.DIP_BLACK: 0, TransitionKind.DIP_WHITE: 255}


class MissingTakeError(StudioError):
    """A clip has no take to show: its shot was never rendered, or the take's file is gone."""

    def __init__(self, shot_id: str, title: str, message: str) -> None:
        super().__init__(message)
        self.shot_id = shot_id
        self.title = title


@dataclass(frozen=True)
class Segment:
    """A piece of the edit over timeline frames `start`..`stop` (exclusive).

    `kind` is "clip" (one clip alone on screen), "transition" (from `outgoing` into
    `clip`) or "gap". `clip_start` and `outgoing_start` are the timeline frames where those
    clips begin, which places their source frames.
    """

    kind: str
    start: int
    stop: int
    clip: Clip | None = None
    clip_start: int = 0
    outgoing: Clip | None = None
    outgoing_start: int = 0
    transition: Transition | None = None

    @property
    def frames(self) -> int:
        return self.stop - self.start

    @property
    def source_range(self) -> tuple[int, int]:
        """For a clip segment, the clip's source positions it shows (timeline rate)."""
        if self.kind != CLIP or self.clip is None:
            raise ValueError(f"a {self.kind} segment has no single source range")
        offset = self.clip.source_in - self.clip_start
        return self.start + offset, self.stop + offset


def timeline_segments(timeline: Timeline) -> tuple[Segment, ...]:
    """The edit cut into clip, transition and gap segments that tile 0..duration."""
    items, starts = timeline.items, timeline.starts()
    pieces: list[Segment] = []
    for i, item in enumerate(items):
        start = starts[i]
        if isinstance(item, Gap):
            pieces.append(Segment(GAP, start, start + item.duration))
            continue
        t = item.transition
        if t.kind is not TransitionKind.CUT:
            prev = items[i - 1]
            assert isinstance(prev, Clip)  # the timeline allows transitions only between clips
            begin = start - (t.outgoing_frames - t.overlap)
            stop = start + t.incoming_frames
            pieces.append(Segment(TRANSITION, begin, stop, item, start, prev, starts[i - 1], t))
        after = items[i + 1] if i + 1 < len(items) else None
        tail = after.transition.outgoing_frames if isinstance(after, Clip) else 0
        body = (start + t.incoming_frames, start + item.duration - tail)
        if body[1] > body[0]:
            pieces.append(Segment(CLIP, body[0], body[1], item, start))
    return tuple(pieces)


def clip_take(project: Project, clip: Clip) -> Take:
    """The take a clip shows; `MissingTakeError` naming the shot when there is none."""
    shot = project.shot(clip.shot_id)
    if shot is None:
        raise MissingTakeError(
            clip.shot_id,
            clip.shot_id,
            f"clip {clip.id!r} uses shot {clip.shot_id!r}, which is not in the project",
        )
    name = shot.title or shot.id
    take = shot.take(clip.take_id) if clip.take_id else shot.current_take
    if take is None:
        if clip.take_id:
            message = f"shot {name!r} no longer has the take that clip {clip.id!r} uses"
        else:
            message = f"shot {name!r} has no take yet; render it first"
        raise MissingTakeError(shot.id, name, message)
    return take


def clip_media(
    project: Project, folder: str | os.PathLike[str], clip: Clip, *, verify: bool = False
) -> Path:
    """The take file a clip shows; `MissingTakeError` when it has none or the file is gone,
    and with `verify` (an export) when the file is not the one rendered for the take (cut
    short or swapped: its size or SHA-256 differs from the take's manifest)."""
    take = clip_take(project, clip)
    path = Path(folder) / take.media
    shot = project.shot(clip.shot_id)
    name = (shot.title or shot.id) if shot else clip.shot_id
    if not path.is_file():
        raise MissingTakeError(
            clip.shot_id, name, f"the take file of shot {name!r} is missing ({take.media})"
        )
    if verify:
        try:
            return verify_take_file(folder, take.id, take.media)
        except TakeDamagedError as exc:
            # Not a dead end: `gallop render` (or Render in the window) treats a damaged
            # take as missing and replaces it.
            raise MissingTakeError(
                clip.shot_id,
                name,
                f"the take of shot {name!r} is damaged ({exc.reason}): render the shot again",
            ) from exc
        except TakeStoreError as exc:
            raise MissingTakeError(clip.shot_id, name, str(exc)) from exc
    return path


def conform(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """`frame` scaled to fit `width` x `height` with its aspect kept, on black bars."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    scale = min(width / w, height / h)
    size = (max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale))))
    # Area averaging does not alias when shrinking; it degrades to bilinear when enlarging.
    scaled = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if size == (width, height):
        return scaled
    out = np.zeros((height, width, 3), np.uint8)
    x, y = (width - size[0]) // 2, (height - size[1]) // 2
    out[y : y + size[1], x : x + size[0]] = scaled
    return out


def slate(width: int, height: int, title: str, detail: str = "") -> np.ndarray:
    """A grey card with a shot's title, standing in for a take that does not exist yet."""
    card = np.full((height, width, 3), SLATE_GREY, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    lines = [(title or "Untitled shot", 1.0), (detail, 0.6)] if detail else [(title, 1.0)]
    base = max(0.3, width / 900)
    y = height // 2 - (20 if detail else 0)
    for text, size in lines:
        scale = base * size
        thickness = max(1, round(2 * scale))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
        if tw > width * 0.9:  # long titles shrink to fit rather than run off the card
            scale *= width * 0.9 / tw
            (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
        cv2.putText(
            card,
            text,
            ((width - tw) // 2, y + th // 2),
            font,
            scale,
            (220, 220, 220),
            thickness,
            cv2.LINE_AA,
        )
        y += int(th * 2.2) + 4
    return card


class TakeFrames:
    """A frame source for one take file: `len()`, `fps`, `frame(i)` at the file's own size."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._reader = VideoReader(self.path)
        info = self._reader.info
        self.fps: Fraction = info.fps
        self.width, self.height = info.width, info.height

    def __len__(self) -> int:
        return len(self._reader)

    def frame(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} is outside 0..{len(self) - 1}")
        return self._reader.read(index)

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> TakeFrames:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SequenceFrames:
    """Frames of the whole edit at the timeline's rate and a fixed output size.

    `missing="error"` (export) raises `MissingTakeError` for a clip without a take or
    whose file is gone; `missing="slate"` (preview) shows a grey slate with the shot's
    title instead, and also for a take file that cannot be read.
    """

    def __init__(
        self,
        project: Project,
        folder: str | os.PathLike[str],
        timeline: Timeline | None = None,
        width: int | None = None,
        height: int | None = None,
        *,
        missing: Literal["error", "slate"] = "error",
        open_files: int = 4,
    ) -> None:
        if missing not in ("error", "slate"):
            raise ValueError(f"missing must be 'error' or 'slate', not {missing!r}")
        self.project = project
        self.folder = Path(folder)
        self.timeline = project.timeline if timeline is None else timeline
        self.fps: Fraction = self.timeline.fps
        self.width = int(width or project.width)
        self.height = int(height or project.height)
        self.missing = missing
        self._segments = timeline_segments(self.timeline)
        self._starts = [s.start for s in self._segments]
        self._open_files = max(1, open_files)
        self._readers: OrderedDict[Path, VideoReader] = OrderedDict()
        self._unreadable: dict[Path, str] = {}
        self._cards: dict[tuple[str, str], np.ndarray] = {}
        self._black = np.zeros((self.height, self.width, 3), np.uint8)
        self._black.flags.writeable = False
        # Clips that match their colour to the clip before them, and their fitted joins.
        items = self.timeline.items
        self._before: dict[str, Clip] = {
            item.id: items[i - 1]
            for i, item in enumerate(items)
            if isinstance(item, Clip) and item.match_colour and i and isinstance(items[i - 1], Clip)
        }
        self._joins: dict[str, JoinMatch | None] = {}

    def __len__(self) -> int:
        return self.timeline.duration

    def segments(self) -> tuple[Segment, ...]:
        return self._segments

    def check(self) -> None:
        """Raise `MissingTakeError` for the first clip that has no take file to show."""
        for clip in self.timeline.clips():
            clip_media(self.project, self.folder, clip)

    def frame(self, index: int) -> np.ndarray:
        """Timeline frame `index` as an (height, width, 3) uint8 RGB array."""
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise TypeError(f"a frame index must be an integer, not {index!r}")
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} is outside the edit's 0..{len(self) - 1}")
        seg = self._segments[bisect.bisect_right(self._starts, index) - 1]
        if seg.kind == GAP:
            return self._black.copy()
        assert seg.clip is not None
        if seg.kind == CLIP:
            picture = self._clip_frame(seg.clip, seg.clip_start, index)
            # Slates are shared and read-only; decoded frames are fresh arrays already.
            return picture if picture.flags.writeable else picture.copy()
        t = seg.transition
        assert t is not None and seg.outgoing is not None
        if t.kind is TransitionKind.CROSSFADE:
            # Weights (k + 1) / (N + 1) never repeat either clip's own frame inside the fade.
            w = (index - seg.start + 1) / (seg.frames + 1)
            a = self._clip_frame(seg.outgoing, seg.outgoing_start, index)
            b = self._clip_frame(seg.clip, seg.clip_start, index)
            return cv2.addWeighted(a, 1.0 - w, b, w, 0.0)
        colour = _DIP_COLOUR[t.kind]
        if index < seg.clip_start:
            # The outgoing clip goes towards the colour; the incoming one starts fully in it.
            shown = seg.clip_start - seg.start
            amount = (index - seg.start + 1) / (shown + 1)
            picture = self._clip_frame(seg.outgoing, seg.outgoing_start, index)
        else:
            amount = 1.0 - (index - seg.clip_start) / (seg.stop - seg.clip_start)
            picture = self._clip_frame(seg.clip, seg.clip_start, index)
        return cv2.addWeighted(picture, 1.0 - amount, picture, 0.0, colour * amount)

    # -- internals -------------------------------------------------------------------

    def _clip_frame(self, clip: Clip, clip_start: int, index: int) -> np.ndarray:
        try:
            path = clip_media(self.project, self.folder, clip)
            reader = self._reader(path)
        except (MissingTakeError, MediaError) as exc:
            if self.missing == "error":
                raise
            return self._card(clip, exc)
        position = clip.source_in + index - clip_start
        try:
            picture = reader.read(self._take_index(reader, position))
        except MediaError as exc:
            if self.missing == "error":
                raise
            self._drop(path, str(exc))
            return self._card(clip, exc)
        picture = conform(picture, self.width, self.height)
        if clip.id in self._before:
            join = self._join(clip)
            if join is not None:
                picture = join.apply(picture, position - clip.source_in)
        return picture

    def matches_colour(self, clip: Clip, position: int) -> bool:
        """Whether frame `position` (from the clip's source_in) is colour-corrected."""
        return clip.id in self._before and position < JOIN_FADE_FRAMES

    def _join(self, clip: Clip) -> JoinMatch | None:
        """The colour correction of the cut into `clip`, fitted between the last frame of
        the clip before and this clip's first frame (None when either cannot be read)."""
        if clip.id not in self._joins:
            before = self._before[clip.id]
            try:
                last = self._source_frame(before, before.source_out - 1)
                first = self._source_frame(clip, clip.source_in)
            except (MissingTakeError, MediaError):
                self._joins[clip.id] = None
            else:
                self._joins[clip.id] = JoinMatch(last, first, fade_frames=JOIN_FADE_FRAMES)
        return self._joins[clip.id]

    def _source_frame(self, clip: Clip, position: int) -> np.ndarray:
        reader = self._reader(clip_media(self.project, self.folder, clip))
        return conform(reader.read(self._take_index(reader, position)), self.width, self.height)

    def _take_index(self, reader: VideoReader, position: int) -> int:
        """The take frame shown at timeline-rate `position` into the clip: mapped by time
        when the take has another rate; a take shorter than its clip holds its last frame."""
        take_fps = reader.info.fps
        frame = position if take_fps == self.fps else round(position * take_fps / self.fps)
        return min(frame, len(reader) - 1)

    def _reader(self, path: Path) -> VideoReader:
        reader = self._readers.get(path)
        if reader is not None:
            self._readers.move_to_end(path)
            return reader
        if path in self._unreadable:
            raise MediaError(path, self._unreadable[path])
        try:
            reader = VideoReader(path)
        except MediaError as exc:
            self._unreadable[path] = exc.message
            raise
        self._readers[path] = reader
        while len(self._readers) > self._open_files:
            _, old = self._readers.popitem(last=False)
            old.close()
        return reader

    def _drop(self, path: Path, message: str) -> None:
        reader = self._readers.pop(path, None)
        if reader is not None:
            reader.close()
        self._unreadable[path] = message

    def _card(self, clip: Clip, exc: Exception) -> np.ndarray:
        shot = self.project.shot(clip.shot_id)
        title = (shot.title or shot.id) if shot else clip.shot_id
        detail = "no take yet" if isinstance(exc, MissingTakeError) else "take cannot be read"
        key = (title, detail)
        card = self._cards.get(key)
        if card is None:
            card = slate(self.width, self.height, title, detail)
            card.flags.writeable = False
            self._cards[key] = card
        return card

    def close(self) -> None:
        while self._readers:
            _, reader = self._readers.popitem()
            reader.close()

    def __enter__(self) -> SequenceFrames:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Prefetcher(threading.Thread):
    """Reads a frame source ahead on its own thread into a bounded queue.

    Items are `(slot, index, frame)`: `slot` counts from 0 and never wraps, `index` is the
    frame read. After the last frame comes `(slot, END, None)`; a read error ends the run
    with `(slot, FAILED, exception)`. `step` is the stride (negative reads backwards, in
    forward chunks so that each frame does not cost a seek), `span` the frames allowed
    (lo, hi), which `loop` wraps inside. `clock`, when given, returns the slot due now:
    slots already past are skipped without reading, so a reader slower than the clock
    drops frames instead of falling behind; a run that is not looping still ends on its
    last frame, so that playback stops there however late the reader is. The source
    belongs to this thread until `stop()` returns.
    """

    reverse_chunk = 12

    def __init__(
        self,
        source: Any,
        first: int = 0,
        *,
        step: int = 1,
        span: tuple[int, int] | None = None,
        loop: bool = False,
        clock: Callable[[], int] | None = None,
        depth: int = 12,
    ) -> None:
        super().__init__(name="frame-prefetch", daemon=True)
        if step == 0:
            raise ValueError("a prefetch step cannot be 0")
        self.source, self.first, self.step, self.loop = source, first, step, loop
        self.span = (0, len(source)) if span is None else span
        self.clock = clock
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self.halt = threading.Event()
        self._chunk: dict[int, np.ndarray] = {}

    def get(self, timeout: float | None = None) -> tuple | None:
        """The next item, or None when none is ready (within `timeout` seconds)."""
        try:
            return self.queue.get(timeout=timeout) if timeout else self.queue.get_nowait()
        except queue.Empty:
            return None

    def stop(self, timeout: float = 5.0) -> None:
        self.halt.set()
        if self.is_alive():
            self.join(timeout)

    def advance(self, index: int, slots: int) -> int | None:
        """The index `slots` steps on, wrapped when looping; None past the end."""
        lo, hi = self.span
        nxt = index + self.step * slots
        if lo <= nxt < hi:
            return nxt
        return lo + (nxt - lo) % (hi - lo) if self.loop else None

    def run(self) -> None:
        slot, index = 0, self.first
        try:
            while not self.halt.is_set():
                behind = self.clock() - slot if self.clock is not None else 0
                if behind > 1:
                    nxt = self.advance(index, behind)
                    if nxt is None:  # past the end: the run still ends on its last frame
                        behind = self._steps_to_end(index)
                        nxt = index + self.step * behind
                    slot, index = slot + behind, nxt
                if not self._put((slot, index, self._read(index))):
                    return
                slot += 1
                nxt = self.advance(index, 1)
                if nxt is None:
                    self._put((slot, END, None))
                    return
                index = nxt
        except Exception as exc:  # a damaged file mid-read: the consumer decides what to say
            self._put((slot, FAILED, exc))

    def _steps_to_end(self, index: int) -> int:
        """Steps from `index` to the last frame of the span it reaches (not looping)."""
        lo, hi = self.span
        return (hi - 1 - index) // self.step if self.step > 0 else (index - lo) // -self.step

    def _put(self, item: tuple) -> bool:
        while not self.halt.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, index: int) -> np.ndarray:
        if self.step > 0:
            return self.source.frame(index)
        frame = self._chunk.pop(index, None)
        if frame is None:
            stop = max(self.span[0] - 1, index - self.reverse_chunk)
            self._chunk = {j: self.source.frame(j) for j in sorted(range(index, stop, self.step))}
            frame = self._chunk.pop(index)
        return frame
