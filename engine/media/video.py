"""Video file I/O for takes and exports: write H.264 with exact timing, probe, read any frame.

Everything goes through PyAV (the pip build of OpenCV cannot write H.264); OpenCV is used
only to resize thumbnails.

Timing model: a file written here has one frame per `1/fps` with `pts == index` in a stream
time base of `1/fps`. MP4 stores an integer timescale, so the muxer rescales (for 24 fps the
stored time base is 1/12288 and pts step 512; for 24000/1001 it is 1/24000 and step 1001).
Readers therefore never assume `pts == index`: they map `pts` to an index through the
stream's time base and frame rate, which also makes them work on files from other tools.

Seeking model: keyframes every `gop` frames keep scrubbing cheap. A random read seeks back
to the keyframe at or before the target and decodes forward to the exact frame, so B-frame
reordering never returns a neighbour. Reads that move a little forward keep decoding.

Damage model: a file that cannot be opened, has no video, or stops decoding early raises
`MediaError` naming the file; frames that could not be decoded are never replaced by
whatever the decoder made of the damaged bytes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Rational
from pathlib import Path

import av
import cv2
import numpy as np

from engine.tempfiles import TempFile
from studio.errors import StudioError

# Suffixes of the MOV/MP4 muxer, which takes the `movflags` options.
_MOV_SUFFIXES = {".mp4", ".mov", ".m4v"}
# A forward jump up to this many frames decodes on instead of seeking: one GOP of decoding
# costs about as much as a seek plus the decode from the keyframe.
_FORWARD_DECODE_LIMIT = 24
# The largest frames read: a file's header may declare any size, and every frame decoded
# takes width x height x 3 bytes (a 32767x32767 frame, 3 GB).
MAX_PIXELS = 8192 * 8192
MAX_SIDE = 16384
# AVCOL_* value 1 is BT.709 for primaries, transfer and matrix; range 1 is limited ("tv").
_BT709 = 1
_LIMITED_RANGE = 1


class MediaError(StudioError):
    """A media file cannot be read or written. The message starts with the file's name."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path.name}: {message}")


@dataclass(frozen=True)
class MediaInfo:
    """What a video file holds. `frames` and `duration` are exact, not rounded seconds."""

    width: int
    height: int
    fps: Fraction
    frames: int
    duration: Fraction
    codec: str
    pix_fmt: str
    has_audio: bool = False
    audio_codec: str | None = None
    sample_rate: int = 0
    channels: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)


def _reason(exc: BaseException) -> str:
    """The human part of an FFmpeg/OS error, without errno numbers or internal call names."""
    text = getattr(exc, "strerror", None)
    return str(text) if text else str(exc) or type(exc).__name__


def _as_fps(fps: Fraction | int | float) -> Fraction:
    # A float is usually a whole rate or 24000/1001 computed in floating point; both come
    # back exactly with denominators up to 1001.
    exact = isinstance(fps, Rational)
    value = Fraction(fps) if exact else Fraction(fps).limit_denominator(1001)
    if value <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    return value


# ---------------------------------------------------------------------------------------
# Writing


def _codec_options(codec: str, crf: int, preset: str, gop: int) -> dict[str, str]:
    """Encoder options for a fixed GOP: no scene-cut keyframes, so keyframes fall every `gop`."""
    if codec == "libx264":
        return {"crf": str(crf), "preset": preset, "keyint_min": str(gop), "sc_threshold": "0"}
    if codec == "libx265":
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:log-level=error"
        return {"crf": str(crf), "preset": preset, "x265-params": params}
    if codec.startswith("libvpx"):
        # libvpx only honours crf as a constant-quality target when the bitrate is zero.
        return {"crf": str(crf), "b": "0"}
    return {}


def _checked_rgb(frame: object, index: int, path: Path) -> np.ndarray:
    arr = np.asarray(frame)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise MediaError(
            path,
            f"frame {index} is not an RGB uint8 image (shape {arr.shape}, dtype {arr.dtype})",
        )
    return arr


def _pad_even(arr: np.ndarray) -> np.ndarray:
    """Pad an odd width or height by repeating the last column/row (4:2:0 needs even sizes)."""
    h, w = arr.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return arr
    return np.pad(arr, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def write_video(
    path: str | os.PathLike[str],
    frames: np.ndarray | Iterable[np.ndarray],
    fps: Fraction,
    *,
    codec: str = "libx264",
    crf: int = 18,
    preset: str = "medium",
    gop: int = 12,
    pix_fmt: str = "yuv420p",
    metadata: dict[str, str] | None = None,
) -> Path:
    """Encode RGB frames to `path` and return it.

    `frames` is a uint8 array shaped (t, h, w, 3) or any iterable of (h, w, 3) uint8 arrays;
    an iterable is consumed one frame at a time, so a generator never holds the whole clip
    in memory. Every frame must have the size of the first. An odd width or height is
    padded to even by repeating the last column or row, so the file may be one pixel wider
    or taller than the frames. Frame `i` gets pts `i` in a `1/fps` time base; a keyframe
    starts every `gop` frames; colours are stored as BT.709 limited range; MP4/MOV files get
    `+faststart` (index first, so a player can start before the end arrives) and keep
    arbitrary `metadata` keys.

    The file is written under a temporary name beside `path` and renamed at the end, so on
    any failure nothing is left at `path` (an existing file there is kept). Encoder, muxer,
    file system and frame-shape errors (any FFmpeg error, OSError or ValueError) raise
    `MediaError`; any other exception raised by the `frames` iterable itself (a cancellation,
    say) propagates unchanged, after the same clean-up.
    Bad arguments (fps <= 0, gop < 1) raise `ValueError`.
    """
    path = Path(path)
    rate = _as_fps(fps)
    if gop < 1:
        raise ValueError(f"gop must be at least 1, got {gop}")
    if isinstance(frames, np.ndarray) and frames.ndim != 4:
        raise MediaError(path, f"expected frames shaped (t, h, w, 3), got {frames.shape}")

    source = iter(frames)
    first = next(source, None)
    if first is None:
        raise MediaError(path, "no frames to write")
    first = _checked_rgb(first, 0, path)
    height, width = first.shape[:2]

    temp: TempFile | None = None
    container = None
    try:
        options = {}
        if path.suffix.lower() in _MOV_SUFFIXES:
            # use_metadata_tags: store any key, not only the handful MP4 names.
            options["movflags"] = "+faststart+use_metadata_tags"
        # A name of its own, created here (never a planted link's), removed if a kill
        # leaves it behind (see engine.tempfiles).
        temp = TempFile(path)
        container = av.open(temp.url, "w", format=temp.muxer, container_options=options)
        stream = container.add_stream(codec, rate=rate)
        stream.width = width + width % 2
        stream.height = height + height % 2
        stream.pix_fmt = pix_fmt
        stream.time_base = 1 / rate
        ctx = stream.codec_context
        ctx.gop_size = gop
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = _BT709
        ctx.color_range = _LIMITED_RANGE
        stream.options = _codec_options(codec, crf, preset, gop)
        for key, value in (metadata or {}).items():
            container.metadata[str(key)] = str(value)

        index = 0
        arr = first
        while True:
            if arr.shape[:2] != (height, width):
                raise MediaError(
                    path,
                    f"frame {index} is {arr.shape[1]}x{arr.shape[0]}, "
                    f"but the clip is {width}x{height}",
                )
            rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(_pad_even(arr)), "rgb24")
            # Convert here rather than in the encoder so the matrix matches the BT.709 tags.
            yuv = rgb.reformat(format=pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
            yuv.pts = index
            container.mux(stream.encode(yuv))
            nxt = next(source, None)
            if nxt is None:
                break
            index += 1
            arr = _checked_rgb(nxt, index, path)
        container.mux(stream.encode(None))
        container.close()
        container = None
        temp.place()
    except BaseException as exc:
        if container is not None:
            with contextlib.suppress(Exception):
                container.close()
        if temp is not None:
            temp.discard()
        if isinstance(exc, av.FFmpegError | OSError | ValueError):
            raise MediaError(path, f"could not write video ({_reason(exc)})") from exc
        raise
    return path


# ---------------------------------------------------------------------------------------
# Reading


def _open_input(path: Path) -> av.container.InputContainer:
    """Open `path` for reading, with the reasons a director can act on."""
    if not path.exists():
        raise MediaError(path, "file not found")
    if path.is_dir():
        raise MediaError(path, "is a folder, not a video file")
    try:
        container = av.open(str(path), metadata_errors="replace")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(path, f"not a readable video ({_reason(exc)})") from exc
    if not container.streams.video:
        container.close()
        raise MediaError(path, "has no video stream")
    return container


def _count_packets(container: av.container.InputContainer, stream, path: Path) -> int:
    """Count video packets without decoding: exact for containers with no sample table."""
    count = 0
    try:
        for packet in container.demux(stream):
            # The demuxer ends with an empty packet that only flushes; it is not a frame.
            if packet.size:
                count += 1
    except av.FFmpegError as exc:
        raise MediaError(path, f"damaged video data ({_reason(exc)})") from exc
    return count


def _read_info(container: av.container.InputContainer, path: Path) -> MediaInfo:
    stream = container.streams.video[0]
    ctx = stream.codec_context
    # average_rate is what ffprobe calls avg_frame_rate; the others cover files without it.
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate or rate <= 0:
        raise MediaError(path, "has no frame rate")
    fps = Fraction(rate)
    if stream.frames > 0 and "mov" in container.format.name.split(","):
        frames = stream.frames
    else:
        frames = _count_packets(container, stream, path)
    if frames <= 0 or not ctx.width or not ctx.height:
        raise MediaError(path, "has no video frames")
    if max(ctx.width, ctx.height) > MAX_SIDE or ctx.width * ctx.height > MAX_PIXELS:
        # Checked before any frame is decoded: each one would take width x height x 3.
        raise MediaError(
            path,
            f"its frames of {ctx.width}x{ctx.height} are larger than a take can be "
            f"(up to {MAX_PIXELS // 1_000_000} megapixels and {MAX_SIDE} pixels a side)",
        )
    audio = container.streams.audio[0] if container.streams.audio else None
    return MediaInfo(
        width=ctx.width,
        height=ctx.height,
        fps=fps,
        frames=frames,
        duration=frames / fps,
        codec=ctx.name,
        pix_fmt=ctx.pix_fmt or "",
        has_audio=audio is not None,
        audio_codec=audio.codec_context.name if audio else None,
        sample_rate=(audio.codec_context.sample_rate or 0) if audio else 0,
        channels=audio.codec_context.layout.nb_channels if audio else 0,
        metadata=dict(container.metadata),
    )


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Size, rate, exact frame count and duration, codecs and metadata of a video file."""
    path = Path(path)
    container = _open_input(path)
    try:
        return _read_info(container, path)
    finally:
        container.close()


class VideoReader:
    """Frame-accurate random access to one video file; use as a context manager.

    Not thread-safe: give each thread its own reader. `read(i)` returns frame `i` as an RGB
    uint8 array (h, w, 3); negative indices count from the end as in a list.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._container = _open_input(self.path)
        try:
            self.info = _read_info(self._container, self.path)
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"
            time_base = self._stream.time_base
            if not time_base:
                raise MediaError(self.path, "has no time base")
            self._start = self._stream.start_time or 0
            # Ticks of the stream clock per frame: 512 for 24 fps in MP4, 1001 for 23.976.
            self._ticks = 1 / (Fraction(time_base) * self.info.fps)
        except BaseException:
            self._container.close()
            raise
        self._decoder: Generator[av.VideoFrame, None, None] | None = None
        self._next = 0  # index the live decoder delivers next (meaningful only when live)
        self._last: tuple[int, av.VideoFrame] | None = None
        self._damage = ""
        self._closed = False

    # -- context manager -------------------------------------------------------------

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_decoder()
        self._last = None
        self._container.close()

    def __len__(self) -> int:
        return self.info.frames

    # -- public reads ----------------------------------------------------------------

    def read(self, index: int) -> np.ndarray:
        """Frame `index` as RGB uint8. IndexError when out of range; MediaError when damaged."""
        if self._closed:
            raise ValueError("read from a closed VideoReader")
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"frame {index} out of range for {n} frames")
        index %= n
        if self._last is not None and self._last[0] == index:
            return self._last[1].to_ndarray(format="rgb24")
        live = self._decoder is not None
        seeked = not (live and self._next <= index <= self._next + _FORWARD_DECODE_LIMIT)
        if seeked:
            self._seek(index)
        frame, overshot = self._decode_to(index)
        if frame is None and overshot and seeked and index > 0:
            # The seek landed past the target (a bad index in the file): go from the start.
            self._seek(0)
            frame, _ = self._decode_to(index)
        if frame is None:
            detail = f" ({self._damage})" if self._damage else ""
            raise MediaError(
                self.path,
                f"frame {index} of {n} cannot be decoded; the file is truncated or damaged"
                + detail,
            )
        self._last = (index, frame)
        return frame.to_ndarray(format="rgb24")

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Frames `start` up to `stop` (exclusive, default: the end), decoded in one pass."""
        start, stop = self._range(start, stop)
        for index in range(start, stop):
            yield self.read(index)

    # -- internals -------------------------------------------------------------------

    def _range(self, start: int, stop: int | None) -> tuple[int, int]:
        n = len(self)
        stop = n if stop is None else stop
        if not 0 <= start <= stop <= n:
            raise IndexError(f"frame range {start}:{stop} out of range for {n} frames")
        return start, stop

    def _start_pts_of(self, index: int) -> int:
        return self._start + round(index * self._ticks)

    def _index_of(self, frame: av.VideoFrame) -> int:
        if frame.pts is None:
            raise MediaError(self.path, "frames carry no timestamps; cannot seek")
        return round((frame.pts - self._start) / self._ticks)

    def _stop_decoder(self) -> None:
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None

    def _seek(self, index: int) -> None:
        self._stop_decoder()
        self._last = None
        try:
            # Seeking also flushes the decoder, so no frame from before the seek comes out.
            self._container.seek(
                self._start_pts_of(index), stream=self._stream, backward=True, any_frame=False
            )
        except av.FFmpegError as exc:
            raise MediaError(self.path, f"cannot seek to frame {index} ({_reason(exc)})") from exc
        self._damage = ""
        self._decoder = self._decode()

    def _decode(self) -> Generator[av.VideoFrame, None, None]:
        """Decoded frames from the current position; stops cleanly at damage or the end.

        Packets are fed by hand rather than through `container.decode` so that damage can
        be told apart from the end: a truncated packet or a demux/decoder error ends the
        stream after draining the frames the decoder already holds, which were built from
        complete packets only (decode order never refers forward).
        """
        ctx = self._stream.codec_context
        try:
            for packet in self._container.demux(self._stream):
                if packet.is_corrupt:
                    self._damage = "data cut short"
                    break
                yield from ctx.decode(packet)
        except av.FFmpegError as exc:
            self._damage = _reason(exc)
        drained: list[av.VideoFrame] = []
        with contextlib.suppress(av.FFmpegError):
            drained = list(ctx.decode(None))
        yield from drained

    def _decode_to(self, index: int) -> tuple[av.VideoFrame | None, bool]:
        """Decode forward to `index`: (frame, False), or (None, overshot) when it never comes."""
        assert self._decoder is not None
        for frame in self._decoder:
            got = self._index_of(frame)
            if frame.is_corrupt:
                if got < index:
                    continue  # e.g. leading frames of an open GOP, right after a seek
                self._damage = "damaged frame data"
                self._stop_decoder()
                return None, False
            self._next = got + 1
            if got == index:
                return frame, False
            if got > index:
                return None, True
        self._decoder = None
        return None, False


def read_frames(
    path: str | os.PathLike[str], start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Frames `start` up to `stop` (exclusive, default: the end) as one (t, h, w, 3) array."""
    with VideoReader(path) as reader:
        start, stop = reader._range(start, stop)
        info = reader.info
        out = np.empty((stop - start, info.height, info.width, 3), np.uint8)
        for slot, frame in enumerate(reader.frames(start, stop)):
            out[slot] = frame
        return out


def first_frame(path: str | os.PathLike[str]) -> np.ndarray:
    with VideoReader(path) as reader:
        return reader.read(0)


def last_frame(path: str | os.PathLike[str]) -> np.ndarray:
    """The final frame; seeks to the last keyframe, so it costs at most one GOP of decoding."""
    with VideoReader(path) as reader:
        return reader.read(len(reader) - 1)


def thumbnail(path: str | os.PathLike[str], index: int = 0, width: int = 160) -> np.ndarray:
    """Frame `index` scaled to `width` pixels wide, aspect kept (area filter: no aliasing)."""
    if width < 1:
        raise ValueError(f"thumbnail width must be positive, got {width}")
    with VideoReader(path) as reader:
        return scaled_to_width(reader.read(index), width)


def scaled_to_width(frame: np.ndarray, width: int) -> np.ndarray:
    """`frame` scaled to `width` pixels wide, aspect kept (area filter: no aliasing)."""
    h, w = frame.shape[:2]
    height = max(1, round(h * width / w))
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
