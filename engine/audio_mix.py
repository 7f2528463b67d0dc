"""The edit as sound: load sound files and mix the timeline's audio tracks to stereo.

`load_audio` reads a file as float32 stereo at one sample rate (soundfile for WAV, FLAC,
OGG and MP3; PyAV for AAC/M4A and anything soundfile refuses), resampling when the file's
rate differs. Decoded files are kept in a small cache keyed on the file's size and
modification time, so scrubbing and replaying never decode twice; the arrays it returns
are read-only for that reason.

`mix_timeline` places every audio clip at its timeline frame with its clip and track gain
and its fades, sums the tracks and clips the result to [-1, 1]. Frame `f` starts at sample
`round(f * sample_rate / fps)`, computed exactly, so a mix of `frames` frames from frame 0
is exactly `round(frames * sample_rate / fps)` samples long and mixes of neighbouring frame
ranges join without a gap or an overlap.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from threading import Lock
from typing import Literal

import av
import numpy as np
import soundfile

from engine.media import MediaError
from studio.model import Project
from studio.timeline import AudioClip, Timeline

DEFAULT_RATE = 48000
# Decoded files kept in memory: a music bed and a few effects or voice-over takes.
_CACHE_FILES = 4
_SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif"}

_cache: OrderedDict[tuple[str, int, int, int], np.ndarray] = OrderedDict()
_cache_lock = Lock()


def _stereo(samples: np.ndarray) -> np.ndarray:
    """(n, channels) to (n, 2): mono is doubled, extra channels (surround) are dropped."""
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.shape[1] == 1:
        return np.repeat(samples, 2, axis=1)
    return samples[:, :2]


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """(n, channels) float samples at another rate, by linear interpolation."""
    if source_rate == target_rate or len(samples) == 0:
        return samples
    count = round(len(samples) * Fraction(target_rate, source_rate))
    positions = np.arange(count, dtype=np.float64) * (source_rate / target_rate)
    known = np.arange(len(samples), dtype=np.float64)
    out = np.empty((count, samples.shape[1]), np.float32)
    for c in range(samples.shape[1]):
        out[:, c] = np.interp(positions, known, samples[:, c])
    return out


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return data, int(rate)


def _read_pyav(path: Path, sample_rate: int) -> np.ndarray:
    """Decode the first audio stream straight to float stereo at `sample_rate`."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(path, f"not a readable sound file ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise MediaError(path, "has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=sample_rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, 2))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1, 2))
        except av.FFmpegError as exc:
            raise MediaError(path, f"damaged audio data ({exc})") from exc
    if not chunks:
        return np.zeros((0, 2), np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def _decode(path: Path, sample_rate: int) -> np.ndarray:
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        try:
            data, rate = _read_soundfile(path)
        except (RuntimeError, OSError, ValueError, TypeError):
            pass  # libsndfile refuses some encodings (MP3 in old builds, odd WAVs): try FFmpeg
        else:
            return np.ascontiguousarray(resample(_stereo(data), rate, sample_rate), np.float32)
    return _read_pyav(path, sample_rate)


def load_audio(path: str | os.PathLike[str], sample_rate: int = DEFAULT_RATE) -> np.ndarray:
    """A sound file as read-only float32 samples shaped (n, 2) at `sample_rate`."""
    path = Path(path)
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, not {sample_rate}")
    try:
        stat = path.stat()
    except OSError:
        raise MediaError(path, "sound file not found") from None
    if path.is_dir():
        raise MediaError(path, "is a folder, not a sound file")
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, sample_rate)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    samples = _decode(path, sample_rate)
    samples.flags.writeable = False
    with _cache_lock:
        _cache[key] = samples
        while len(_cache) > _CACHE_FILES:
            _cache.popitem(last=False)
    return samples


def audio_path(project: Project, folder: str | os.PathLike[str], media: str) -> Path:
    """The file an audio clip plays: `media` names a project sound by id, or is a path."""
    for sound in project.audio:
        if sound.id == media:
            return Path(folder) / sound.path
    return Path(folder) / media


def _ramp(length: int, curve: str) -> np.ndarray:
    """Gain rising from exactly 0 over `length` samples (the last sample short of 1)."""
    linear = np.arange(length, dtype=np.float32) / np.float32(max(length, 1))
    if curve == "equal_power":
        return np.sin(linear * np.float32(math.pi / 2))
    return linear


def _envelope(
    clip: AudioClip, length: int, start: int, stop: int, to_sample, curve: str
) -> np.ndarray | None:
    """The fade gain of samples `start`..`stop` of a clip `length` samples long; None where
    no fade reaches them."""
    fade_in, fade_out = to_sample(clip.fade_in), to_sample(clip.fade_out)
    rise, fall = min(fade_in, length), min(fade_out, length)
    in_rise, in_fall = start < rise, stop > length - fall
    if not (rise and in_rise) and not (fall and in_fall):
        return None
    gain = np.ones(stop - start, np.float32)
    if rise and in_rise:
        top = min(stop, rise)
        gain[: top - start] *= _ramp(fade_in, curve)[start:top]
    if fall and in_fall:
        # The mirrored ramp falls to exactly 0 on the clip's last sample.
        begin = length - fall
        first = max(start, begin)
        ramp = _ramp(fade_out, curve)[::-1][fade_out - fall :]
        gain[first - start :] *= ramp[first - begin : stop - begin]
    return gain


def mix_timeline(
    project: Project,
    folder: str | os.PathLike[str],
    timeline: Timeline | None = None,
    sample_rate: int = DEFAULT_RATE,
    start_frame: int = 0,
    frames: int | None = None,
    *,
    curve: Literal["linear", "equal_power"] = "linear",
) -> np.ndarray:
    """The timeline's audio from `start_frame` for `frames` frames as float32 (n, 2).

    `frames` defaults to the rest of the timeline. Muted tracks are left out; a sound file
    that is missing or unreadable raises `MediaError` naming it.
    """
    timeline = project.timeline if timeline is None else timeline
    if curve not in ("linear", "equal_power"):
        raise ValueError(f"curve must be 'linear' or 'equal_power', not {curve!r}")
    if frames is None:
        frames = max(0, timeline.duration - start_frame)
    if start_frame < 0 or frames < 0:
        raise ValueError(f"cannot mix {frames} frames from frame {start_frame}")
    per_frame = Fraction(sample_rate) / timeline.fps

    def to_sample(frame: int) -> int:
        return round(frame * per_frame)

    first, last = to_sample(start_frame), to_sample(start_frame + frames)
    mix = np.zeros((last - first, 2), np.float32)
    for track in timeline.audio_tracks:
        if track.muted:
            continue
        for clip in track.clips:
            begin, end = to_sample(clip.start), to_sample(clip.end)
            lo, hi = max(begin, first), min(end, last)
            if hi <= lo:
                continue
            source = load_audio(audio_path(project, folder, clip.media), sample_rate)
            offset = to_sample(clip.source_in) - begin  # source sample = timeline sample + offset
            take = source[max(0, lo + offset) : max(0, hi + offset)]
            gain = np.float32(10 ** ((clip.gain_db + track.gain_db) / 20))
            at = lo - begin
            envelope = _envelope(clip, end - begin, at, at + len(take), to_sample, curve)
            target = mix[lo - first : lo - first + len(take)]
            if envelope is None:
                target += take * gain
            else:
                target += take * (envelope[:, None] * gain)
    np.clip(mix, -1.0, 1.0, out=mix)
    return mix
