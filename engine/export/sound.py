"""The export's sound: the timeline's mix, encoded on threads of its own.

`AudioFeed` mixes the timeline (`engine.media.audio_mix`) in order. `AudioWorker` encodes it
into a bounded queue of packets that the export muxes as the picture reaches them, so that
sound costs no time on the picture's path.

AAC is the slow part of a stream-copied export: FFmpeg's encoder runs at about 20x
realtime on one core. The worker therefore cuts the film into segments and encodes them at
once on several threads, each in a fresh encoder that starts a little early (`PRE_ROLL`)
and runs a little past its end (`POST_ROLL`). AAC-LC frames decode independently apart
from the overlap of neighbouring transforms, and an encoder that has seen the same sound
for a while decides its windows as the other one does, so packets from the two encoders
join: the first encoder's up to a frame boundary, the second's from there. Before each
join the worker decodes both ways across it and keeps the first boundary where the joined
sound is as close to the mix as either encoder alone. Other codecs (Opus, PCM) carry more
state from frame to frame and are encoded in one pass.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from engine.media.audio_mix import mix_timeline
from studio.timeline.timeline import Timeline

# Codecs whose packets from separate encoders can follow one another (see above).
SPLIT_CODECS = frozenset({"aac"})
# Encoder frames per segment (at most; fewer when that spreads a short film over every
# worker), and the frames encoded before and after it. The encoder's rate control settles
# on its quantizer within the pre-roll: with a shorter one, the first frames of a segment
# can be noisier than those of one encoder running through.
SEGMENT_FRAMES = 512
MIN_SEGMENT_FRAMES = 128
PRE_ROLL = 48
POST_ROLL = 4
# Packets decoded before the frame that is compared at a join.
_JOIN_CONTEXT = 3


class AudioFeed:
    """The timeline's mix in order, exactly `total` samples, mixed a second at a time;
    with `span` (start, stop), the mix of those timeline frames only (an in to out export)."""

    def __init__(
        self,
        project,
        folder: str | os.PathLike[str],
        timeline: Timeline,
        rate: int,
        total: int,
        span: tuple[int, int] | None = None,
    ) -> None:
        self.project, self.folder, self.timeline, self.rate = project, folder, timeline, rate
        self.total = total
        self.done = 0
        self._mixed, self._stop = span if span is not None else (0, timeline.duration)
        self._chunk = max(1, round(timeline.fps))
        self._pending = np.zeros((0, 2), np.float32)

    def until(self, sample: int) -> tuple[np.ndarray, int]:
        """The samples from where the last call stopped up to `sample`, and their start."""
        sample = min(sample, self.total)
        start = self.done
        parts = [self._pending]
        have = len(self._pending)
        while start + have < sample:
            remaining = self._stop - self._mixed
            if remaining > 0:
                frames = min(self._chunk, remaining)
                more = mix_timeline(
                    self.project, self.folder, self.timeline, self.rate, self._mixed, frames
                )
                self._mixed += frames
            else:  # the film is a little longer than the timeline after a rate change
                more = np.zeros((sample - start - have, 2), np.float32)
            parts.append(more)
            have += len(more)
        pending = np.concatenate(parts) if len(parts) > 1 else self._pending
        count = max(0, sample - start)
        out, self._pending = pending[:count], pending[count:]
        self.done = start + count
        return out, start


@dataclass(frozen=True)
class SoundFormat:
    """How the sound is encoded: the codec, its sample rate and bit rate (0: its default)."""

    codec: str
    rate: int
    bit_rate: int = 0

    def encoder(self) -> av.CodecContext:
        ctx = av.CodecContext.create(self.codec, "w")
        ctx.sample_rate = self.rate
        ctx.layout = "stereo"
        ctx.format = ctx.codec.audio_formats[0].name
        if self.bit_rate:
            ctx.bit_rate = self.bit_rate
        ctx.time_base = Fraction(1, self.rate)
        ctx.open()
        return ctx

    def frame(self, samples: np.ndarray, start: int) -> av.AudioFrame:
        """Float stereo samples (n, 2) starting at sample `start` as a frame to encode."""
        planar = np.ascontiguousarray(samples.T, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="stereo")
        frame.sample_rate = self.rate
        frame.time_base = Fraction(1, self.rate)
        frame.pts = start
        return frame


def encode_span(fmt: SoundFormat, samples: np.ndarray, start: int) -> list[av.Packet]:
    """`samples` (from sample `start` of the film) through a fresh encoder, flushed."""
    encoder = fmt.encoder()
    packets = list(encoder.encode(fmt.frame(samples, start))) if len(samples) else []
    packets += encoder.encode(None)
    return packets


@dataclass
class SoundSegment:
    start: int  # the film samples this segment stands for
    stop: int
    first: int  # the first sample its encoder was given (`start` less the pre-roll)
    samples: np.ndarray  # what its encoder was given, from `first`
    packets: list[av.Packet]


def _span(packets: list[av.Packet], first: int, last: int) -> list[av.Packet]:
    return [p for p in packets if p.pts is not None and first <= p.pts <= last]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


_END = object()


class AudioWorker(threading.Thread):
    """Mixes and encodes the sound on threads of its own into a bounded queue of packets.

    Packets come out in order with `pts` counting samples. The export takes them with
    `ready(until)` as the picture advances and `rest()` at the end; a mixing or encoding
    error is raised there. `workers` is how many segments are encoded at once (default:
    one per core); AAC with more than one worker is encoded in segments.
    """

    def __init__(
        self,
        feed: AudioFeed,
        fmt: SoundFormat,
        *,
        workers: int | None = None,
        segment_frames: int | None = None,
        depth: int = 64,
    ) -> None:
        super().__init__(name="export-audio", daemon=True)
        self.feed, self.fmt = feed, fmt
        self.workers = max(1, workers if workers is not None else os.cpu_count() or 1)
        self.segment_frames = segment_frames
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.halt = threading.Event()
        self.joins: list[int] = []  # where packets of two encoders meet, in samples
        self._held: Any = None
        self._reached = 0  # the start of the last packet handed out, in samples
        self._error: BaseException | None = None

    def split(self) -> bool:
        return self.fmt.codec in SPLIT_CODECS and self.workers > 1

    def run(self) -> None:
        try:
            if self.split():
                self._run_segments()
            else:
                self._run_serial()
        except BaseException as exc:
            self._error = exc
        self._put(_END)

    def _run_serial(self) -> None:
        feed, encoder = self.feed, self.fmt.encoder()
        while feed.done < feed.total and not self.halt.is_set():
            samples, start = feed.until(feed.done + feed.rate)
            if len(samples):
                for packet in encoder.encode(self.fmt.frame(samples, start)):
                    self._put(packet)
        for packet in encoder.encode(None):
            self._put(packet)

    def _run_segments(self) -> None:
        feed, fmt = self.feed, self.fmt
        probe = fmt.encoder()
        self._size, self._extradata = probe.frame_size or 1024, probe.extradata
        pre, post = PRE_ROLL * self._size, POST_ROLL * self._size
        mixed = np.zeros((0, 2), np.float32)  # the mix from sample `base` on
        base = 0
        running: deque[tuple[Future, int, int, int, np.ndarray]] = deque()
        previous: SoundSegment | None = None
        emitted = -(2**62)  # packets before this sample have been handed on
        with ThreadPoolExecutor(self.workers, thread_name_prefix="export-aac") as pool:
            try:
                for start, stop in self.bounds(feed.total, self._size):
                    if self.halt.is_set():
                        return
                    first, last = max(0, start - pre), min(feed.total, stop + post)
                    more, _ = feed.until(last)
                    mixed = np.concatenate([mixed, more]) if len(mixed) else more
                    samples = mixed[first - base : last - base]
                    running.append(
                        (pool.submit(encode_span, fmt, samples, first), start, stop, first, samples)
                    )
                    keep = min(feed.total, stop) - pre  # the next segment starts there
                    if keep > base:
                        mixed, base = mixed[keep - base :], keep
                    while len(running) > self.workers:
                        previous, emitted = self._emit(running.popleft(), previous, emitted)
                while running:
                    if self.halt.is_set():
                        return
                    previous, emitted = self._emit(running.popleft(), previous, emitted)
                if previous is not None:
                    for packet in previous.packets:
                        if packet.pts is None or packet.pts >= emitted:
                            self._put(packet)
            finally:
                for future, *_ in running:
                    future.cancel()

    def bounds(self, total: int, size: int) -> list[tuple[int, int]]:
        """The segments (start, stop) of `total` samples, on boundaries of `size`-sample
        frames. Every encoder but the first also encodes the pre-roll, so the first segment
        is that much longer: the first few, encoded at once, take about as long."""
        frames = -(-total // size)
        each = self.segment_frames or min(
            SEGMENT_FRAMES, max(MIN_SEGMENT_FRAMES, -(-(frames - PRE_ROLL) // self.workers))
        )
        edges = [0]
        edge = each + PRE_ROLL
        while edge < frames:
            edges.append(edge)
            edge += each
        edges.append(frames)
        return [(a * size, min(total, b * size)) for a, b in zip(edges, edges[1:], strict=False)]

    def _emit(self, job, previous: SoundSegment | None, emitted: int) -> tuple[SoundSegment, int]:
        """Hands on `previous`'s packets up to where `job`'s segment takes over."""
        future, start, stop, first, samples = job
        segment = SoundSegment(start, stop, first, samples, future.result())
        if previous is None:
            return segment, emitted
        join = self._join(previous, segment)
        self.joins.append(join)
        for packet in previous.packets:
            if packet.pts is not None and emitted <= packet.pts < join:
                self._put(packet)
        return segment, join

    def _join(self, before: SoundSegment, after: SoundSegment) -> int:
        """The first frame boundary from `after.start` on where the two encodings meet as
        well as either stands alone; failing that, the one where they meet best."""
        size, best, best_ratio = self._size, after.start, float("inf")
        # `before` was encoded POST_ROLL frames past its end, and each of its packets needs
        # the next frame's sound: a join can move up to POST_ROLL - 2 frames on.
        for join in range(after.start, after.start + (POST_ROLL - 1) * size, size):
            errors = self.join_error(before, after, join)
            if errors is None:
                break
            error, reference = errors
            if error <= 2 * reference + 1e-4:
                return join
            ratio = error / max(reference, 1e-9)
            if ratio < best_ratio:
                best, best_ratio = join, ratio
        return best

    def join_error(
        self, before: SoundSegment, after: SoundSegment, join: int
    ) -> tuple[float, float] | None:
        """The RMS error against the mix of the frame at `join` decoded across the join, and
        the larger of the two errors decoded from either encoder alone (None: no such frame).
        """
        size = self._size
        wanted = after.samples[join - after.first : join - after.first + size]
        if len(wanted) < size:
            return None
        lead = join - _JOIN_CONTEXT * size
        joined = self._decode_at(
            _span(before.packets, lead, join - size) + _span(after.packets, join, join), join
        )
        alone = [self._decode_at(_span(s.packets, lead, join), join) for s in (before, after)]
        if joined is None or alone[0] is None or alone[1] is None:
            return None
        reference = max(_rms(alone[0] - wanted), _rms(alone[1] - wanted))
        return _rms(joined - wanted), reference

    def _decode_at(self, packets: list[av.Packet], pts: int) -> np.ndarray | None:
        """The decoded samples (n, 2) of the packet at `pts`, the last of `packets`."""
        if not packets or packets[-1].pts != pts:
            return None
        decoder = av.CodecContext.create(self.fmt.codec, "r")
        decoder.extradata = self._extradata
        decoder.sample_rate = self.fmt.rate
        decoder.layout = "stereo"
        frames = []
        for packet in packets:
            frames += decoder.decode(av.Packet(bytes(packet)))
        if not frames:
            return None
        return frames[-1].to_ndarray().T.astype(np.float32)

    def _put(self, item: Any) -> None:
        while not self.halt.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _next(self, wait: Callable[[], None] | None) -> Any:
        """The next item; with `wait`, blocks (calling `wait` between polls) until one comes."""
        if self._held is not None:
            item, self._held = self._held, None
            return item
        while True:
            try:
                return self.queue.get(timeout=0.1) if wait else self.queue.get_nowait()
            except queue.Empty:
                if wait is None:
                    return None
                wait()

    def ready(
        self, until: int, *, behind: int | None = None, wait: Callable[[], None] | None = None
    ) -> list:
        """Encoded packets that start before sample `until`.

        Returns at once with what is there, unless the sound is more than `behind` samples
        back: then it waits for the worker (calling `wait`, which may raise to cancel).
        """
        out = []
        while True:
            lagging = behind is not None and self._reached < until - behind
            item = self._next(wait if lagging else None)
            if item is None:
                return out
            if item is _END:
                self._held = _END
                if self._error is not None:
                    raise self._error
                return out
            if item.pts is not None and item.pts >= until:
                self._held = item
                return out
            if item.pts is not None:
                self._reached = item.pts
            out.append(item)

    def rest(self, wait: Callable[[], None] | None = None) -> list:
        """Every packet still to come; waits for the worker to finish."""
        out = []
        while True:
            item = self._next(wait or (lambda: None))
            if item is _END:
                self._held = _END
                if self._error is not None:
                    raise self._error
                return out
            out.append(item)

    def stop(self) -> None:
        self.halt.set()
        if self.is_alive():
            self.join(5)
