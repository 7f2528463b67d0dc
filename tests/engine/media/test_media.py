"""Video files round-trip exactly: every frame comes back, in place, from any read order.

Frames carry their index as a row of black/white blocks, big enough to survive lossy
coding, so each decoded frame can say which frame it is.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.media.video import (
    MediaError,
    VideoReader,
    first_frame,
    last_frame,
    probe,
    read_frames,
    thumbnail,
    write_video,
)

W, H = 96, 64
BITS = 8
RATES = [Fraction(24), Fraction(25), Fraction(24000, 1001)]


def band(h: int) -> int:
    """Height of the index band: even, so 4:2:0 chroma never straddles its edge."""
    return h // 4 * 2


def pattern(i: int, h: int = H, w: int = W, noise: bool = False) -> np.ndarray:
    """Frame `i`: its index in binary across the top half, a drifting gradient below."""
    img = np.empty((h, w, 3), np.uint8)
    top = band(h)
    y, x = np.mgrid[0:h, 0:w]
    phase = 2 * np.pi * (x / (2 * w) + y / (2 * h) + i / 40)
    for c in range(3):
        img[..., c] = (128 + 70 * np.sin(phase + 2.1 * c)).astype(np.uint8)
    if noise:
        # Noise makes packets big and even in size, so cutting a file cuts frames off.
        rng = np.random.default_rng(i)
        img[top:] = rng.integers(0, 256, img[top:].shape, dtype=np.uint8)
    bw = w // BITS
    for b in range(BITS):
        img[:top, b * bw : (b + 1) * bw] = 235 if (i >> b) & 1 else 20
    return img


def index_of(frame: np.ndarray) -> int:
    h, w = frame.shape[:2]
    bw = w // BITS
    value = 0
    for b in range(BITS):
        block = frame[3 : band(h) - 3, b * bw + 2 : (b + 1) * bw - 2]
        if block.mean() > 128:
            value |= 1 << b
    return value


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def clip(n: int, **kwargs) -> np.ndarray:
    return np.stack([pattern(i, **kwargs) for i in range(n)])


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[Fraction, Path]:
    """40-frame clips at each test rate, written once for the module."""
    folder = tmp_path_factory.mktemp("clips")
    frames = clip(40)
    return {
        fps: write_video(folder / f"clip_{fps.numerator}_{fps.denominator}.mp4", frames, fps)
        for fps in RATES
    }


def write_av(path: Path, *, video: bool, audio: bool) -> Path:
    """A file with an AAC track, muxed directly with PyAV (the writer makes video only)."""
    with av.open(str(path), "w") as container:
        vs = container.add_stream("libx264", rate=24) if video else None
        if vs is not None:
            vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        aus = container.add_stream("aac", rate=48000) if audio else None
        if aus is not None:
            aus.layout = "stereo"
        for i in range(12):
            if vs is not None:
                frame = av.VideoFrame.from_ndarray(pattern(i), "rgb24")
                frame.pts = i
                container.mux(vs.encode(frame))
            if aus is not None:
                samples = np.zeros((2, 2000), np.float32)
                af = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, i * 2000
                container.mux(aus.encode(af))
        for stream in (vs, aus):
            if stream is not None:
                container.mux(stream.encode(None))
    return path


# -- round trip ---------------------------------------------------------------------------


def test_round_trip_keeps_every_frame_and_its_pixels(clips):
    original = clip(40)
    decoded = read_frames(clips[Fraction(24)])
    assert decoded.shape == original.shape and decoded.dtype == np.uint8
    assert [index_of(f) for f in decoded] == list(range(40))
    assert psnr(decoded, original) > 35


@pytest.mark.parametrize("fps", RATES, ids=str)
def test_random_access_is_frame_accurate(clips, fps):
    order = list(range(40))
    random.Random(7).shuffle(order)
    with VideoReader(clips[fps]) as reader:
        assert len(reader) == 40
        for i in range(17):  # sequential first, then jumps from the middle of a GOP
            assert index_of(reader.read(i)) == i
        for i in [*order, *reversed(range(40)), 39, 0, 13, 12, 11, 25, 26, 38]:
            assert index_of(reader.read(i)) == i, f"asked for {i}"
        assert index_of(reader.read(-1)) == 39
        assert [index_of(f) for f in reader.frames(30)] == list(range(30, 40))


def test_repeated_read_returns_an_independent_copy(clips):
    with VideoReader(clips[Fraction(25)]) as reader:
        a = reader.read(5)
        a[:] = 0
        assert index_of(reader.read(5)) == 5


def test_out_of_range_reads_raise_index_error(clips):
    with VideoReader(clips[Fraction(24)]) as reader:
        for bad in (40, 1000, -41):
            with pytest.raises(IndexError):
                reader.read(bad)
        with pytest.raises(IndexError):
            list(reader.frames(5, 41))
    with pytest.raises(IndexError):
        read_frames(clips[Fraction(24)], 30, 20)


def test_read_frames_first_last_and_ranges(clips):
    path = clips[Fraction(24000, 1001)]
    assert [index_of(f) for f in read_frames(path, 10, 20)] == list(range(10, 20))
    assert read_frames(path, 7, 7).shape == (0, H, W, 3)
    assert index_of(first_frame(path)) == 0
    assert index_of(last_frame(path)) == 39


# -- probe ------------------------------------------------------------------------------


@pytest.mark.parametrize("fps", RATES, ids=str)
def test_probe_is_exact(clips, fps):
    info = probe(clips[fps])
    assert (info.width, info.height) == (W, H)
    assert info.fps == fps and isinstance(info.fps, Fraction)
    assert info.frames == 40
    assert info.duration == Fraction(40) / fps
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert not info.has_audio and info.audio_codec is None


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")
@pytest.mark.parametrize("fps", RATES, ids=str)
def test_ffprobe_agrees(clips, fps):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams"]
        + ["-show_format", "-print_format", "json", str(clips[fps])],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    stream = data["streams"][0]
    info = probe(clips[fps])
    assert int(stream["nb_frames"]) == info.frames == 40
    assert Fraction(stream["avg_frame_rate"]) == info.fps == fps
    assert (stream["width"], stream["height"]) == (info.width, info.height)
    assert stream["codec_name"] == info.codec
    assert stream["pix_fmt"] == info.pix_fmt
    assert stream["color_space"] == "bt709" and stream["color_range"] == "tv"
    # faststart: the index (moov) comes before the media data, so players start at once.
    with open(clips[fps], "rb") as f:
        head = f.read(4096)
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head


def test_probe_reports_audio_and_metadata(tmp_path):
    info = probe(write_av(tmp_path / "with_audio.mp4", video=True, audio=True))
    assert info.has_audio and info.audio_codec == "aac"
    assert (info.sample_rate, info.channels) == (48000, 2)
    assert info.frames == 12

    tagged = write_video(
        tmp_path / "tagged.mp4", clip(3), Fraction(24), metadata={"gallop.request": "abc123"}
    )
    assert probe(tagged).metadata["gallop.request"] == "abc123"


def test_matroska_frames_are_counted_from_packets(tmp_path):
    path = write_video(tmp_path / "clip.mkv", clip(30), Fraction(25))
    info = probe(path)
    assert (info.frames, info.fps, info.duration) == (30, Fraction(25), Fraction(6, 5))
    with VideoReader(path) as reader:
        for i in [29, 3, 17, 0, 28]:
            assert index_of(reader.read(i)) == i


# -- writer ---------------------------------------------------------------------------


def test_odd_sizes_are_padded_to_even_by_edge_replication(tmp_path):
    frames = clip(6, h=47, w=63)
    path = write_video(tmp_path / "odd.mp4", frames, Fraction(24))
    info = probe(path)
    assert (info.width, info.height) == (64, 48)
    decoded = read_frames(path)
    assert psnr(decoded[:, :47, :63], frames) > 33  # odd block edges cost 4:2:0 a little
    # The added column and row repeat their neighbours instead of being black.
    assert np.abs(decoded[:, :, 63].astype(int) - decoded[:, :, 62]).mean() < 6
    assert np.abs(decoded[:, 47].astype(int) - decoded[:, 46]).mean() < 6


@pytest.mark.parametrize("gop", [12, 5])
def test_keyframes_every_gop_frames(tmp_path, gop):
    fps = Fraction(24000, 1001)
    path = write_video(tmp_path / "gop.mp4", clip(30), fps, gop=gop)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keys = {}
        for packet in container.demux(stream):
            if packet.size:
                index = round(packet.pts * stream.time_base * fps)
                keys[index] = packet.is_keyframe
    assert sorted(keys) == list(range(30))
    assert [i for i, key in keys.items() if key] == list(range(0, 30, gop))


def test_writing_from_a_generator_streams(tmp_path):
    pulled = []

    def frames():
        for i in range(20):
            pulled.append(i)
            yield pattern(i)

    path = write_video(tmp_path / "gen.mp4", frames(), Fraction(24))
    assert pulled == list(range(20))
    assert [index_of(f) for f in read_frames(path)] == list(range(20))


def test_frames_of_a_different_size_mid_stream_leave_no_file(tmp_path):
    def frames():
        yield from (pattern(i) for i in range(5))
        yield pattern(5, h=32, w=48)

    target = tmp_path / "take.mp4"
    with pytest.raises(MediaError, match=r"take\.mp4: frame 5 is 48x32"):
        write_video(target, frames(), Fraction(24))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_an_existing_file(tmp_path):
    target = write_video(tmp_path / "take.mp4", clip(4), Fraction(24))
    before = target.read_bytes()
    with pytest.raises(MediaError, match="take.mp4"):
        write_video(target, [pattern(0), np.zeros((H, W, 3), np.float32)], Fraction(24))
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


def test_an_error_from_the_frame_source_propagates_and_leaves_no_file(tmp_path):
    class Cancelled(Exception):
        pass

    def frames():
        yield pattern(0)
        yield pattern(1)
        raise Cancelled

    with pytest.raises(Cancelled):
        write_video(tmp_path / "take.mp4", frames(), Fraction(24))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("frames", "kwargs"),
    [
        ([], {}),
        (np.zeros((4, H, W), np.uint8), {}),
        (clip(2), {"codec": "no-such-codec"}),
        (clip(2), {"pix_fmt": "no-such-format"}),
    ],
    ids=["empty", "grey", "codec", "pix_fmt"],
)
def test_unwritable_input_raises_media_error_and_leaves_no_file(tmp_path, frames, kwargs):
    with pytest.raises(MediaError, match=r"^out\.mp4: ") as caught:
        write_video(tmp_path / "out.mp4", frames, Fraction(24), **kwargs)
    assert caught.value.path == tmp_path / "out.mp4"
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_raise_value_error(tmp_path):
    with pytest.raises(ValueError):
        write_video(tmp_path / "out.mp4", clip(2), Fraction(0))
    with pytest.raises(ValueError):
        write_video(tmp_path / "out.mp4", clip(2), Fraction(24), gop=0)


# -- thumbnails -------------------------------------------------------------------------


def test_thumbnail_keeps_aspect(clips):
    path = clips[Fraction(24)]
    assert thumbnail(path).shape == (107, 160, 3)  # 64 * 160 / 96 = 106.7
    small = thumbnail(path, index=9, width=48)
    assert small.shape == (32, 48, 3) and small.dtype == np.uint8
    with VideoReader(path) as reader:
        assert np.array_equal(thumbnail(path, index=9, width=W), reader.read(9))
    with pytest.raises(ValueError):
        thumbnail(path, width=0)


# -- damaged input --------------------------------------------------------------------


def make_damaged(kind: str, folder: Path) -> Path:
    path = folder / f"take_{kind}.mp4"
    if kind == "missing":
        return path
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(3).bytes(20_000))
    elif kind == "cut_no_faststart":
        # Without faststart the index sits at the end, so half a file has none.
        good = folder / "good.mkv"
        write_video(good, clip(24, noise=True), Fraction(24))
        with av.open(str(good)) as src, av.open(str(path), "w") as dst:
            out = dst.add_stream_from_template(src.streams.video[0])
            for packet in src.demux(src.streams.video[0]):
                if packet.size:
                    packet.stream = out
                    dst.mux(packet)
        good.unlink()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "audio_only":
        path = write_av(folder / "take_audio_only.m4a", video=False, audio=True)
    elif kind == "wave":
        path = folder / "take_wave.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0\0" * 800)
    elif kind == "folder":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    "kind", ["missing", "empty", "random", "cut_no_faststart", "audio_only", "wave", "folder"]
)
def test_unreadable_files_raise_media_error_naming_the_file(tmp_path, kind):
    path = make_damaged(kind, tmp_path)
    for call in (probe, VideoReader, read_frames, first_frame, last_frame, thumbnail):
        with pytest.raises(MediaError) as caught:
            call(path)
        assert str(caught.value).startswith(f"{path.name}: "), str(caught.value)
        assert caught.value.path == path


@pytest.mark.parametrize(("width", "height"), [(20000, 4), (8200, 8200)])
def test_frames_larger_than_a_take_can_be_are_refused_before_decoding(tmp_path, width, height):
    # FFV1 keeps a flat picture of any size in a few kilobytes.
    path = tmp_path / "huge.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "gray"
        frame = av.VideoFrame(width, height, "gray")
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    for call in (probe, VideoReader, first_frame):
        with pytest.raises(MediaError, match=rf"huge.mkv: its frames of {width}x{height} are"):
            call(path)


def test_truncated_faststart_file_decodes_what_it_can_then_raises(tmp_path):
    path = write_video(tmp_path / "take_01.mp4", clip(48, noise=True), Fraction(24))
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    path.write_bytes(data[: len(data) // 2])

    with VideoReader(path) as reader:
        assert len(reader) == 48  # the index still promises every frame
        decoded = []
        with pytest.raises(MediaError, match=r"^take_01\.mp4: frame \d+ of 48 cannot be"):
            for frame in reader.frames():
                decoded.append(index_of(frame))
        assert 0 < len(decoded) < 48
        assert decoded == list(range(len(decoded)))
        for bad in (47, len(decoded), 47):
            with pytest.raises(MediaError, match="take_01.mp4"):
                reader.read(bad)
        # The readable part stays readable after the failures.
        assert index_of(reader.read(0)) == 0
        assert index_of(reader.read(len(decoded) - 1)) == len(decoded) - 1
    with pytest.raises(MediaError, match="take_01.mp4"):
        last_frame(path)
    with pytest.raises(MediaError, match="take_01.mp4"):
        read_frames(path)


def test_closed_reader_refuses_reads(clips):
    reader = VideoReader(clips[Fraction(24)])
    reader.close()
    reader.close()
    with pytest.raises(ValueError):
        reader.read(0)
