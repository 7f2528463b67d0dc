"""Smart render: which pictures of an export are copied from the takes, and their packets.

A clip shown whole (no transition, no scaling, no retiming) whose take is H.264 with
exactly the parameter sets (SPS and PPS) of the export's encoder is copied packet for
packet instead of decoded and encoded again. Copying works in whole closed GOPs: a run of
packets from an IDR keyframe up to the next keyframe decodes on its own. A clip that starts
or ends inside a GOP has those few frames encoded, in a fresh encoder session that also
starts on an IDR, so the stream alternates freely between copied and new GOPs. Transitions,
gaps and clips that need scaling or retiming are encoded.

Identical parameter sets are the condition for one stream to hold both kinds of picture:
the export's encoder is opened first and its SPS and PPS compared with each take's. The
takes come from one writer (`engine.render.worker`) with one set of settings, so when the export
encodes with those settings every matching take is eligible.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from engine.export.presets import avcc_length_size, has_idr, parameter_sets
from engine.media.sequence import CLIP, Segment
from engine.media.video import MediaError
from studio.timeline.timeline import Clip


@dataclass(frozen=True)
class TakeStream:
    """What smart render needs to know of a take's video stream, read without decoding.

    `gops` are the closed GOPs as display ranges (start, stop): each begins with an IDR
    packet and its packets, up to the next keyframe in decode order, show exactly those
    frames. `delay` is the reordering depth: how many frames decoding runs ahead of display.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int
    param_sets: tuple[bytes, ...] | None
    delay: int
    gops: tuple[tuple[int, int], ...]


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)


def _open_for_packets(path: Path, decode: bool = False) -> av.container.InputContainer:
    """`path` opened to read packets. Opening decodes a few frames to learn the stream's
    details; where the caller knows them (`decode` False) that is skipped, which makes
    opening several times faster."""
    try:
        if not decode:
            with contextlib.suppress(ValueError):  # no streams before probing (not MP4)
                return av.open(str(path), stream_options=[{"skip_frame": "all"}] * 8)
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(path, f"not a readable video ({_reason(exc)})") from exc


def scan_take(path: str | os.PathLike[str], pix_fmt: str | None = None) -> TakeStream | None:
    """The GOP layout of an H.264 take in MP4/MOV; None when it is anything else.

    `pix_fmt`, where known (`engine.media.video.probe`), saves decoding to learn it. A damaged
    file (unreadable packets, a truncated packet) raises `MediaError`.
    """
    path = Path(path)
    container = _open_for_packets(path, decode=pix_fmt is None)
    with container:
        if not container.streams.video or "mov" not in container.format.name.split(","):
            return None
        stream = container.streams.video[0]
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        pix_fmt = pix_fmt or ctx.pix_fmt
        if ctx.name != "h264" or pix_fmt != "yuv420p" or not rate or not stream.time_base:
            return None
        if avcc_length_size(ctx.extradata) != 4:
            return None
        fps = Fraction(rate)
        ticks = 1 / (Fraction(stream.time_base) * fps)
        start = stream.start_time or 0
        order: list[tuple[int, bool]] = []  # (display index, starts a clean GOP) per packet
        try:
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                if packet.is_corrupt or packet.pts is None:
                    raise MediaError(path, "damaged video data (a packet is cut short)")
                index = round((packet.pts - start) / ticks)
                order.append((index, packet.is_keyframe and has_idr(bytes(packet))))
        except av.FFmpegError as exc:
            raise MediaError(path, f"damaged video data ({_reason(exc)})") from exc
        param_sets = parameter_sets(ctx.extradata)
        width, height = ctx.width, ctx.height
    frames = len(order)
    delay = max((j - index for j, (index, _) in enumerate(order)), default=0)
    return TakeStream(path, width, height, fps, frames, param_sets, max(0, delay), _gops(order))


def _gops(order: list[tuple[int, bool]]) -> tuple[tuple[int, int], ...]:
    """Closed GOPs: decode-order runs from a clean keyframe showing a contiguous range."""
    starts = [j for j, (_, clean) in enumerate(order) if clean]
    gops = []
    for n, begin in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(order)
        shown = sorted(index for index, _ in order[begin:end])
        first = order[begin][0]
        if shown == list(range(first, first + len(shown))):
            gops.append((first, first + len(shown)))
    return tuple(gops)


@dataclass(frozen=True)
class EncodeRun:
    """Output frames `start`..`stop` composed and encoded."""

    start: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class CopyRun:
    """Output frames `start`..`stop` copied from take frames `source_start`.. of `take`."""

    start: int
    stop: int
    take: TakeStream
    source_start: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


Run = EncodeRun | CopyRun


def copy_range(take: TakeStream, first: int, stop: int) -> tuple[int, int] | None:
    """The whole GOPs of `take` inside its frames `first`..`stop`, or None."""
    inside = [g for g in take.gops if first <= g[0] and g[1] <= min(stop, take.frames)]
    if not inside:
        return None
    # GOPs tile the take, so the ones inside a range are consecutive.
    return inside[0][0], inside[-1][1]


def plan_runs(
    segments: tuple[Segment, ...],
    take_of: Callable[[Clip], TakeStream | None],
    param_sets: tuple[bytes, ...] | None,
    width: int,
    height: int,
    fps: Fraction,
) -> list[Run]:
    """Runs tiling the export (timeline frames = output frames): copies where allowed."""
    runs: list[Run] = []

    def encode(start: int, stop: int) -> None:
        if stop <= start:
            return
        if runs and isinstance(runs[-1], EncodeRun) and runs[-1].stop == start:
            runs[-1] = EncodeRun(runs[-1].start, stop)  # one encoder session for both
        else:
            runs.append(EncodeRun(start, stop))

    for seg in segments:
        take = take_of(seg.clip) if seg.kind == CLIP and seg.clip is not None else None
        eligible = (
            take is not None
            and param_sets is not None
            and take.param_sets == param_sets
            and (take.width, take.height) == (width, height)
            and take.fps == fps
        )
        span = copy_range(take, *seg.source_range) if eligible and take else None
        if span is None or take is None:
            encode(seg.start, seg.stop)
            continue
        first = seg.source_range[0]
        start, stop = seg.start + span[0] - first, seg.start + span[1] - first
        encode(seg.start, start)
        runs.append(CopyRun(start, stop, take, span[0]))
        encode(stop, seg.stop)
    return runs


def take_packets(run: CopyRun) -> Iterator[tuple[int, av.Packet]]:
    """The packets of `run` in decode order, each with the output frame it shows."""
    take = run.take
    offset = run.start - run.source_start
    last = run.source_start + run.frames
    with _open_for_packets(take.path) as container:
        stream = container.streams.video[0]
        ticks = 1 / (Fraction(stream.time_base) * take.fps)
        start = stream.start_time or 0
        try:
            target = start + round(run.source_start * ticks)
            container.seek(target, stream=stream, backward=True, any_frame=False)
            begun = False
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                if packet.is_corrupt or packet.pts is None:
                    raise MediaError(take.path, "damaged video data (a packet is cut short)")
                index = round((packet.pts - start) / ticks)
                if not begun:
                    if not (packet.is_keyframe and index == run.source_start):
                        continue  # the seek landed on an earlier keyframe
                    begun = True
                elif packet.is_keyframe and index >= last:
                    return
                if not run.source_start <= index < last:
                    raise MediaError(take.path, "changed while exporting (GOPs moved)")
                yield index + offset, packet
        except av.FFmpegError as exc:
            raise MediaError(take.path, f"damaged video data ({_reason(exc)})") from exc
    if not begun:
        raise MediaError(take.path, f"frame {run.source_start} is no longer a keyframe")
