"""The export's sound: AAC encoded in segments on several threads joins without a seam."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from engine.export.sound import (
    POST_ROLL,
    PRE_ROLL,
    AudioFeed,
    AudioWorker,
    SoundFormat,
    SoundSegment,
    encode_span,
)
from studio.project.model import AudioMedia, Project
from studio.timeline.timeline import AudioClip, AudioTrack, Gap, Timeline

RATE = 48000
FPS = Fraction(24)
AAC = SoundFormat("aac", RATE, 192_000)
SEGMENT = 64  # encoder frames: 1.4 s, so a few seconds cross several joins


def music(seconds: float) -> np.ndarray:
    """A chord with sharp plucks: the plucks make the encoder switch to short windows."""
    t = np.arange(round(seconds * RATE)) / RATE
    chord = sum(0.08 * np.sin(2 * np.pi * f * t) for f in (220, 277, 330, 440))
    pluck = np.zeros_like(t)
    for start in range(0, len(t), int(0.23 * RATE)):  # off the segment grid on purpose
        n = min(4000, len(t) - start)
        pluck[start : start + n] = np.exp(-np.arange(n) / 300) * np.sin(
            2 * np.pi * 1500 * np.arange(n) / RATE
        )
    mono = chord + 0.4 * pluck
    return np.stack([mono, np.roll(mono, 37)], 1).astype(np.float32)


def feed_of(tmp_path: Path, sound: np.ndarray) -> AudioFeed:
    folder = tmp_path / "Film.gallop"
    (folder / "media").mkdir(parents=True)
    soundfile.write(folder / "media/music.wav", sound, RATE, subtype="FLOAT")
    frames = int(len(sound) * FPS / RATE)
    project = Project(title="Film", width=64, height=36, fps=FPS)
    project.audio.append(AudioMedia("music", "Music", "media/music.wav"))
    track = AudioTrack("t", "Music", (AudioClip("a", "music", 0, 0, frames),))
    timeline = Timeline(FPS, (Gap("g", frames),), (track,))
    return AudioFeed(project, folder, timeline, RATE, round(frames * Fraction(RATE) / FPS))


def encoded(feed: AudioFeed, **kw) -> tuple[list[av.Packet], AudioWorker]:
    worker = AudioWorker(feed, AAC, **kw)
    worker.start()
    try:
        return worker.rest(), worker
    finally:
        worker.stop()


def decoded(tmp_path: Path, packets: list[av.Packet], name: str) -> np.ndarray:
    """The packets muxed into an .m4a and read back: samples (n, 2) from film sample 0."""
    path = tmp_path / name
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=RATE)
        stream.layout, stream.bit_rate = "stereo", AAC.bit_rate
        stream.time_base = Fraction(1, RATE)
        stream.codec_context.open()
        for packet in packets:
            packet.stream = stream
            out.mux(packet)
    with av.open(str(path)) as film:
        return np.concatenate([f.to_ndarray() for f in film.decode(audio=0)], 1).T


def test_segments_join_without_a_seam(tmp_path):
    sound = music(7.0)
    feed = feed_of(tmp_path, sound)
    packets, worker = encoded(feed, workers=2, segment_frames=SEGMENT)
    assert worker.split() and len(worker.joins) >= 4
    pts = [p.pts for p in packets]
    assert pts[0] == -1024 and all(b - a == 1024 for a, b in zip(pts, pts[1:], strict=False))
    assert pts[-1] + 1024 >= feed.total

    serial, one = encoded(feed_of(tmp_path / "serial", sound), workers=1)
    assert not one.split() and one.joins == []
    ours = decoded(tmp_path, packets, "split.m4a")[: len(sound)] - sound
    theirs = decoded(tmp_path, serial, "serial.m4a")[: len(sound)] - sound

    def rms(x):
        return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))

    # As close to the mix as one encoder all the way; no join is worse than the worst
    # stretch of the single pass.
    assert rms(ours) < 1.1 * rms(theirs)
    worst = max(rms(theirs[i : i + 1024]) for i in range(0, len(sound) - 1024, 1024))
    for join in worker.joins:
        assert rms(ours[join - 1024 : join + 2048]) <= 1.5 * worst + 1e-4


def test_opus_and_a_single_core_encode_in_one_pass(tmp_path):
    feed = feed_of(tmp_path, music(1.0))
    worker = AudioWorker(feed, SoundFormat("libopus", RATE, 128_000), workers=4)
    assert not worker.split()
    assert not AudioWorker(feed, AAC, workers=1).split()
    assert AudioWorker(feed, AAC, workers=2).split()


def segment(sound: np.ndarray, start: int, stop: int) -> SoundSegment:
    first, last = max(0, start - PRE_ROLL * 1024), min(len(sound), stop + POST_ROLL * 1024)
    samples = sound[first:last]
    return SoundSegment(start, stop, first, samples, encode_span(AAC, samples, first))


def checker(tmp_path: Path) -> AudioWorker:
    worker = AudioWorker(feed_of(tmp_path, music(0.5)), AAC, workers=2)
    probe = AAC.encoder()
    worker._size, worker._extradata = probe.frame_size, probe.extradata
    return worker


def test_a_join_where_the_encoders_chose_different_windows_moves_on(tmp_path):
    t = np.arange(2 * RATE) / RATE
    chord = sum(0.08 * np.sin(2 * np.pi * f * t) for f in (220, 277, 330, 440))
    sound = np.stack([chord, chord], 1).astype(np.float32)
    boundary = 41 * 1024
    after = segment(sound, boundary, len(sound))
    before = segment(sound, 0, boundary)
    worker = checker(tmp_path)
    error, reference = worker.join_error(before, after, boundary)
    assert error <= 2 * reference + 1e-4 and worker._join(before, after) == boundary

    # The first encoder hears a click a frame past the boundary (its post-roll): it
    # prepares for short windows where the second, which never hears it, stays long, and
    # the transforms' overlap no longer cancels across that join. Each encoding alone
    # decodes the frame well.
    clicked = sound.copy()
    n = 800
    burst = 0.8 * np.exp(-np.arange(n) / 100) * np.sin(2 * np.pi * 3000 * np.arange(n) / RATE)
    clicked[boundary + 1024 : boundary + 1024 + n] += burst[:, None]
    first = before.first
    last = first + len(before.samples)
    wary = SoundSegment(
        0, boundary, first, before.samples, encode_span(AAC, clicked[first:last], first)
    )
    error, reference = worker.join_error(wary, after, boundary)
    assert error > 4 * reference
    assert worker._join(wary, after) > boundary


@pytest.mark.parametrize("workers", [1, 2])
def test_cancelling_stops_the_encoders(tmp_path, workers):
    feed = feed_of(tmp_path, music(6.0))
    worker = AudioWorker(feed, AAC, workers=workers, segment_frames=SEGMENT, depth=2)
    worker.start()
    worker.stop()
    assert not worker.is_alive()
    assert feed.done < feed.total
