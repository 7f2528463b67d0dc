"""Where export frames go: a video file (with its sound), a GIF, or a folder of PNGs.

A writer gets `convert`ed frames (the conversion runs on the prefetch thread, so it
overlaps with encoding; decoded YUV pictures in `direct_format` need none), one `encode`
call per output frame in order between `begin_run` and `end_run`, `copy` calls for
smart-rendered GOPs, sound packets (encoded by `engine.export.sound` with the preset's
codec) for `mux_audio` as the film advances, then `finish` or `abort`. Every
writer writes to the temporary path it is given; the caller renames it into place.

Timing: video timestamps count output frames (time base 1/fps, duration 1 each), audio
timestamps count samples, so both stay exact whatever the container stores.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.filter
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from engine.export.presets import (
    BT709,
    LIMITED_RANGE,
    H264Settings,
    PresetSpec,
    annexb_to_avcc,
    h264_encoder,
)
from engine.export.smart import CopyRun, TakeStream, take_packets
from studio.errors import StudioError

# Frames the GIF palette is computed from, spread evenly over the film.
PALETTE_SAMPLES = 48


def yuv_converter(pix_fmt: str) -> Callable[[np.ndarray], av.VideoFrame]:
    """RGB frames to `pix_fmt` with the BT.709 matrix the files are tagged with.

    One scaler serves every frame: setting one up per frame costs more than the scaling.
    """
    reformatter = VideoReformatter()

    def convert(rgb: np.ndarray) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), "rgb24")
        return reformatter.reformat(
            frame, format=pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG"
        )

    return convert


def rgb_frame(rgb: np.ndarray) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), "rgb24")


class VideoFileWriter:
    """An MP4, MOV or WebM file: one video stream, and an audio stream when asked.

    With `smart` (a take whose stream the export copies from), the video stream takes the
    take's codec parameters, each encoded run is a fresh libx264 session with `settings`
    (whose parameter sets equal the take's), and decode timestamps are renumbered across
    runs so that they rise by one frame per packet, `delay` frames behind the first picture.
    """

    def __init__(
        self,
        path: Path,
        spec: PresetSpec,
        width: int,
        height: int,
        fps: Fraction,
        *,
        crf: int | None = None,
        settings: H264Settings | None = None,
        sample_rate: int | None = None,
        smart: TakeStream | None = None,
        delay: int = 0,
        muxer: str | None = None,
    ) -> None:
        self.spec, self.width, self.height, self.fps = spec, width, height, fps
        self.time_base = 1 / fps
        self.settings = settings
        self.convert = yuv_converter(spec.pix_fmt)
        self.direct_format = spec.pix_fmt  # decoded YUV pictures can go in as they are
        self._smart = smart is not None
        self._delay = delay
        self._decoded = 0  # video packets muxed: the next decode timestamp is this - delay
        self._encoder: Any = None
        self._offset = 0
        self.container = av.open(
            str(path), "w", format=muxer, container_options=dict(spec.container_options)
        )
        try:
            if smart is not None:
                with av.open(str(smart.path)) as take:
                    template = take.streams.video[0]
                    self.video = self.container.add_stream_from_template(template)
                self.video.time_base = self.time_base
            else:
                self.video = self._own_stream(crf)
            self.audio = None
            if sample_rate:
                assert spec.audio_codec is not None
                self.audio = self.container.add_stream(spec.audio_codec, rate=sample_rate)
                self.audio.layout = "stereo"
                if spec.audio_bit_rate:
                    self.audio.bit_rate = spec.audio_bit_rate
                self.audio.time_base = Fraction(1, sample_rate)
                # Opened now: the sound is encoded on another thread while this one muxes.
                self.audio.codec_context.open()
        except BaseException:
            self.container.close()
            raise

    def _own_stream(self, crf: int | None):
        spec = self.spec
        stream = self.container.add_stream(spec.video_codec, rate=self.fps)
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, spec.pix_fmt
        stream.time_base = self.time_base
        ctx = stream.codec_context
        ctx.time_base = self.time_base
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = BT709
        ctx.color_range = LIMITED_RANGE
        ctx.thread_type = "AUTO"
        ctx.thread_count = 0
        if spec.codec_tag:
            ctx.codec_tag = spec.codec_tag
        if self.settings is not None:
            ctx.gop_size = self.settings.gop
            stream.options = self.settings.options()
        else:
            gop = spec.gop(self.fps)
            if gop:
                ctx.gop_size = gop
            stream.options = spec.video_options(crf, self.fps)
        return stream

    # -- video ---------------------------------------------------------------------------

    def begin_run(self, start: int) -> None:
        """Output frames from `start` on are encoded (a new encoder session when smart)."""
        if self._smart:
            assert self.settings is not None
            self._encoder = h264_encoder(self.settings, self.width, self.height, self.fps)
            self._offset = start

    def encode(self, index: int, frame: av.VideoFrame) -> None:
        frame.time_base = self.time_base
        if not self._smart:
            frame.pts = index
            self._mux_encoded(self.video.encode(frame))
            return
        frame.pts = index - self._offset
        self._mux_session(self._encoder.encode(frame))

    def end_run(self) -> None:
        if self._smart and self._encoder is not None:
            self._mux_session(self._encoder.encode(None))
            self._encoder = None

    def copy(self, run: CopyRun) -> Iterator[int]:
        """Mux the take's packets of `run` unchanged; yields after each one."""
        for index, packet in take_packets(run):
            packet.time_base = self.time_base
            packet.pts = index
            self._mux_video(packet)
            yield index

    def _mux_encoded(self, packets) -> None:
        for packet in packets:
            packet.duration = round(1 / (packet.time_base * self.fps))
            self.container.mux(packet)

    def _mux_session(self, packets) -> None:
        # The encoder writes Annex B; MP4 with the take's `avcC` wants length prefixes.
        for got in packets:
            packet = av.Packet(annexb_to_avcc(bytes(got)))
            packet.time_base = self.time_base
            packet.pts = got.pts + self._offset
            packet.is_keyframe = got.is_keyframe
            self._mux_video(packet)

    def _mux_video(self, packet: av.Packet) -> None:
        packet.dts = self._decoded - self._delay
        if packet.pts < packet.dts:
            raise StudioError(
                "the takes and the new pictures reorder frames differently, so they cannot "
                "share one stream; export again with smart render off"
            )
        self._decoded += 1
        packet.duration = 1
        packet.stream = self.video
        self.container.mux(packet)

    # -- audio ---------------------------------------------------------------------------

    def mux_audio(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            packet.stream = self.audio
        self.container.mux(packets)

    # -- end -----------------------------------------------------------------------------

    def finish(self) -> None:
        if self._smart:
            self.end_run()
        else:
            self._mux_encoded(self.video.encode(None))
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


class GifWriter:
    """An animated GIF whose 256 colours are chosen from frames of the whole film.

    FFmpeg's palettegen makes the palette from sampled frames before the first frame is
    written (`prepare`); paletteuse maps every frame to it with error-diffusion dithering.
    """

    def __init__(
        self,
        path: Path | str,
        spec: PresetSpec,
        width: int,
        height: int,
        fps: Fraction,
        *,
        muxer: str | None = None,
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.time_base = 1 / fps
        self.convert = rgb_frame
        self.direct_format = None
        self.audio = None
        self.container = av.open(str(path), "w", format=muxer)
        try:
            self.video = self.container.add_stream("gif", rate=fps)
            self.video.width, self.video.height, self.video.pix_fmt = width, height, "pal8"
            self.video.time_base = self.time_base
        except BaseException:
            self.container.close()
            raise
        self._graph: av.filter.Graph | None = None

    def prepare(self, samples: list[np.ndarray]) -> None:
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=self.width, height=self.height, format="rgb24", time_base=self.time_base
        )
        palettegen = graph.add("palettegen", "max_colors=256:stats_mode=full")
        sink = graph.add("buffersink")
        source.link_to(palettegen)
        palettegen.link_to(sink)
        graph.configure()
        for i, picture in enumerate(samples):
            frame = rgb_frame(picture)
            frame.pts = i
            source.push(frame)
        source.push(None)
        palette = sink.pull()

        graph = av.filter.Graph()
        frames = graph.add_buffer(
            width=self.width, height=self.height, format="rgb24", time_base=self.time_base
        )
        colours = graph.add_buffer(
            width=palette.width,
            height=palette.height,
            format=palette.format.name,
            time_base=self.time_base,
        )
        paletteuse = graph.add("paletteuse", "dither=sierra2_4a")
        out = graph.add("buffersink")
        frames.link_to(paletteuse, 0, 0)
        colours.link_to(paletteuse, 0, 1)
        paletteuse.link_to(out)
        graph.configure()
        palette.pts = 0
        colours.push(palette)
        colours.push(None)  # one palette for the whole film
        self._graph, self._input, self._output = graph, frames, out

    def begin_run(self, start: int) -> None:
        pass

    def end_run(self) -> None:
        pass

    def encode(self, index: int, frame: av.VideoFrame) -> None:
        assert self._graph is not None, "prepare() the palette first"
        frame.pts = index
        self._input.push(frame)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                mapped = self._output.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            for packet in self.video.encode(mapped):
                packet.duration = 1
                self.container.mux(packet)

    def copy(self, run: CopyRun) -> Iterator[int]:
        raise AssertionError("a GIF is never smart-rendered")

    def finish(self) -> None:
        if self._graph is not None:
            self._input.push(None)
            self._drain()
        for packet in self.video.encode(None):
            packet.duration = 1
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


def png_bytes(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise StudioError("could not encode a PNG frame")
    return data.tobytes()


class PngWriter:
    """A folder of `name_00000.png`, `name_00001.png`, ... one RGB PNG per output frame.

    `folder` is new and empty (made by `engine.tempfiles.temp_folder`); each frame is a
    new file in it, created exclusively, so nothing found there is written through.
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self.convert = png_bytes  # compression runs on the prefetch thread
        self.direct_format = None
        self.audio = None
        folder.mkdir(parents=True, exist_ok=True)

    def begin_run(self, start: int) -> None:
        pass

    def end_run(self) -> None:
        pass

    def encode(self, index: int, data: bytes) -> None:
        path = self.folder / png_name(self.name, index)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o644)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)

    def copy(self, run: CopyRun) -> Iterator[int]:
        raise AssertionError("a PNG sequence is never smart-rendered")

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def png_name(name: str, index: int) -> str:
    return f"{name}_{index:05d}.png"
