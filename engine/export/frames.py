"""What an export reads: its frames in output order, and its sound, each prepared ahead.

`OutputFrames` is the frame source the export's `Prefetcher` reads on its own thread:
output frame k is the timeline frame nearest in time (`timeline_frame`), composed by
`SequenceFrames` and converted for the writer. A clip shown as it is (its take already at
the export's size and rate, no transition) skips the RGB round trip: its decoded pictures
go to the encoder as they are, which is faster and loses nothing.

The sound is prepared by `engine.export.sound`.
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from engine.media.sequence import CLIP, Segment, SequenceFrames, clip_media
from engine.media.video import MediaError, MediaInfo

# A forward jump up to this many frames decodes on instead of seeking.
_FORWARD_DECODE_LIMIT = 24


def output_frames(timeline_frames: int, timeline_fps: Fraction, fps: Fraction) -> int:
    """Frames of the export: the whole number nearest to the timeline's length."""
    if timeline_frames <= 0:
        return 0
    return max(1, math.floor(timeline_frames * fps / timeline_fps + Fraction(1, 2)))


def timeline_frame(index: int, timeline_fps: Fraction, fps: Fraction, frames: int) -> int:
    """The timeline frame output frame `index` shows: nearest in time, ties to the earlier."""
    if timeline_fps == fps:
        return min(index, frames - 1)
    return min(frames - 1, max(0, math.ceil(index * timeline_fps / fps - Fraction(1, 2))))


class FrameWindow:
    """Timeline frames `first`..`stop` (exclusive) of a `SequenceFrames`, numbered from 0:
    the frame source of an export of part of the edit (its in to out range).

    Frame k is the sequence's frame `first + k`, composed as in the whole edit (a range
    that starts inside a crossfade starts with the blend). `segments()` are the
    sequence's own, cut to the window and moved to its numbering, so smart render copies
    and direct reads place their source frames as they would in the whole film.
    """

    def __init__(self, seq: SequenceFrames, first: int, stop: int) -> None:
        if not 0 <= first < stop <= len(seq):
            raise IndexError(f"frames {first}..{stop} are not all in the edit's 0..{len(seq)}")
        self.seq, self.first, self.stop = seq, first, stop
        self.project, self.folder, self.fps = seq.project, seq.folder, seq.fps
        self.width, self.height = seq.width, seq.height
        self._segments = tuple(
            replace(
                s,
                start=max(s.start, first) - first,
                stop=min(s.stop, stop) - first,
                clip_start=s.clip_start - first,
                outgoing_start=s.outgoing_start - first,
            )
            for s in seq.segments()
            if s.stop > first and s.start < stop
        )

    def __len__(self) -> int:
        return self.stop - self.first

    def segments(self) -> tuple[Segment, ...]:
        return self._segments

    def frame(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} is outside the range's 0..{len(self) - 1}")
        return self.seq.frame(index + self.first)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)


class DirectTake:
    """A take's decoded pictures as they are (no conversion), for forward reading."""

    def __init__(self, path: Path, fps: Fraction) -> None:
        self.path = path
        try:
            self._container = av.open(str(path))
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(path, f"not a readable video ({_reason(exc)})") from exc
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._ticks = 1 / (Fraction(self._stream.time_base) * fps)
        self._start = self._stream.start_time or 0
        self._frames: Iterator[av.VideoFrame] | None = None
        self._next = 0

    def frame(self, index: int) -> av.VideoFrame:
        if self._frames is None or not self._next <= index <= self._next + _FORWARD_DECODE_LIMIT:
            self._seek(index)
        assert self._frames is not None
        for frame in self._frames:
            if frame.pts is None:
                break
            got = round((frame.pts - self._start) / self._ticks)
            if got < index:
                continue
            if got == index and not frame.is_corrupt:
                self._next = index + 1
                return frame
            break
        self._frames = None
        raise MediaError(
            self.path, f"frame {index} cannot be decoded; the file is truncated or damaged"
        )

    def _seek(self, index: int) -> None:
        try:
            self._container.seek(
                self._start + round(index * self._ticks),
                stream=self._stream,
                backward=True,
                any_frame=False,
            )
        except av.FFmpegError as exc:
            raise MediaError(self.path, f"cannot seek to frame {index} ({_reason(exc)})") from exc
        self._frames = self._decode()

    def _decode(self) -> Iterator[av.VideoFrame]:
        ctx = self._stream.codec_context
        try:
            for packet in self._container.demux(self._stream):
                if packet.is_corrupt:
                    break  # damaged: the frames built from whole packets still come out
                yield from ctx.decode(packet)
        except av.FFmpegError:
            pass
        with contextlib.suppress(av.FFmpegError):
            yield from ctx.decode(None)

    def close(self) -> None:
        self._frames = None
        self._container.close()


class OutputFrames:
    """The export's frames in output order, converted for the writer.

    `convert` turns an RGB picture into what the writer encodes. With `direct_format`
    (a YUV pixel format), clips whose take needs no scaling or retiming are read straight
    from the take and only re-laid to that format when it differs. Belongs to one thread.
    """

    def __init__(
        self,
        seq: SequenceFrames,
        frames: int,
        fps: Fraction,
        convert: Callable[[np.ndarray], Any],
        *,
        direct_format: str | None = None,
        takes: dict[Path, MediaInfo] | None = None,
    ) -> None:
        self.seq, self.frames, self.fps, self.convert = seq, frames, fps, convert
        self.direct_format = direct_format
        self._direct: list[tuple[int, int, Path, int]] = []  # (start, stop, take, offset)
        if direct_format and fps == seq.fps:
            size = (seq.width, seq.height)
            for seg in seq.segments():
                if seg.kind != CLIP or seg.clip is None:
                    continue
                path = clip_media(seq.project, seq.folder, seg.clip)
                info = (takes or {}).get(path)
                first, stop = seg.source_range
                if (
                    info is not None
                    and (info.width, info.height) == size
                    and info.fps == seq.fps
                    and info.pix_fmt.startswith("yuv")
                    and stop <= info.frames
                ):
                    self._direct.append((seg.start, seg.stop, path, first - seg.start))
        self._starts = [d[0] for d in self._direct]
        self._readers: dict[Path, DirectTake] = {}
        self._reformatter = VideoReformatter()

    def __len__(self) -> int:
        return self.frames

    def picture(self, index: int) -> np.ndarray:
        """Output frame `index` as an RGB array."""
        return self.seq.frame(timeline_frame(index, self.seq.fps, self.fps, len(self.seq)))

    def direct_frames(self) -> int:
        return sum(stop - start for start, stop, _, _ in self._direct)

    def frame(self, index: int) -> Any:
        at = bisect.bisect_right(self._starts, index) - 1
        if at >= 0 and index < self._direct[at][1]:
            _, _, path, offset = self._direct[at]
            reader = self._readers.get(path)
            if reader is None:
                reader = self._readers[path] = DirectTake(path, self.seq.fps)
            frame = reader.frame(index + offset)
            if frame.format.name != self.direct_format:
                frame = self._reformatter.reformat(frame, format=self.direct_format)
            frame.pict_type = av.video.frame.PictureType.NONE  # the export places keyframes
            return frame
        return self.convert(self.picture(index))

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
