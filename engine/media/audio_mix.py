"""The edit as sound: load sound files and mix the timeline's audio tracks to stereo.

`load_audio` reads a file, or the part of it an edit plays, as float32 stereo at one
sample rate (soundfile for WAV, FLAC, OGG and MP3, reading only the frames asked for;
PyAV for AAC/M4A and anything soundfile refuses), resampling when the file's rate
differs. The header is read first: a declared sample rate no recording has, or a whole
file too long to hold, is refused before anything is decoded. Decoded parts are kept in
a small cache keyed on the file's size and modification time, so scrubbing and replaying
never decode twice; the arrays it returns are read-only for that reason.

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
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from threading import Lock
from typing import Literal

import av
import numpy as np
import soundfile

from engine.media.video import MediaError
from studio.project.model import Project
from studio.timeline.timeline import AudioClip, Timeline

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


# Sample rates a sound file may declare. Anything outside is not a recording but a
# header made to be decoded: a 200 kB WAV declaring 1 Hz is 55 hours of sound, 38 GB once
# resampled to 48 kHz.
MIN_SOURCE_RATE = 1000
MAX_SOURCE_RATE = 768000
# The most samples (at the mix rate) of a whole file loaded at once: 2**28 stereo float32
# samples are 2 GiB, about 93 minutes at 48 kHz. The mix loads only the part of a file
# the edit plays (`mix_timeline`), as long as the film, so this bounds whole loads only.
MAX_LOAD_SAMPLES = 1 << 28


def _check_rate(path: Path, rate: int) -> int:
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise MediaError(
            path,
            f"declares a sample rate of {rate} Hz; a sound file must have "
            f"{MIN_SOURCE_RATE} to {MAX_SOURCE_RATE} Hz",
        )
    return rate


def _too_long(path: Path, samples: int, sample_rate: int) -> MediaError:
    minutes = samples / sample_rate / 60
    limit = MAX_LOAD_SAMPLES / sample_rate / 60
    return MediaError(
        path, f"is {minutes:.0f} minutes long, more than the {limit:.0f} minutes loaded at once"
    )


def _soundfile_info(path: Path):
    """libsndfile's header of `path`, or None when libsndfile cannot read it (some MP3s,
    odd WAVs): FFmpeg reads those."""
    if path.suffix.lower() not in _SOUNDFILE_SUFFIXES:
        return None
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError, ValueError, TypeError):
        return None
    return info if info.samplerate > 0 and info.frames >= 0 else None


def _span_soundfile(
    path: Path, info, sample_rate: int, start: int, count: int | None
) -> np.ndarray:
    """Samples `start`..`start + count` at `sample_rate` of a file libsndfile reads: only
    the source frames under them are read (a seek, then those frames), then resampled."""
    source_rate = _check_rate(path, int(info.samplerate))
    ratio = Fraction(sample_rate, source_rate)
    total = round(info.frames * ratio)  # the whole file's length at `sample_rate`
    stop = total if count is None else min(total, start + count)
    if count is None and stop - start > MAX_LOAD_SAMPLES:
        raise _too_long(path, stop - start, sample_rate)
    if stop <= start:
        return np.zeros((0, 2), np.float32)
    # The source frames the interpolation reads: one either side of the span.
    first = max(0, math.floor(start / ratio) - 1)
    last = min(info.frames, math.ceil(stop / ratio) + 2)
    data, _ = soundfile.read(str(path), start=first, stop=last, dtype="float32", always_2d=True)
    data = _stereo(data)
    if source_rate == sample_rate:
        return data[start - first : stop - first]
    # The same positions as resampling the whole file, counted from the first frame read.
    positions = np.arange(start, stop, dtype=np.float64) * (source_rate / sample_rate) - first
    known = np.arange(len(data), dtype=np.float64)
    out = np.empty((stop - start, 2), np.float32)
    for c in range(2):
        out[:, c] = np.interp(positions, known, data[:, c])
    return out


@contextmanager
def _audio_stream(path: Path) -> Iterator[tuple[av.container.InputContainer, av.AudioStream]]:
    """`path` opened by FFmpeg with its first audio stream, whose rate is checked; a file
    FFmpeg cannot open, or without sound, raises `MediaError`."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(path, f"not a readable sound file ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise MediaError(path, "has no audio stream")
        stream = container.streams.audio[0]
        _check_rate(path, stream.codec_context.sample_rate or stream.rate or 0)
        yield container, stream


def _span_pyav(path: Path, sample_rate: int, start: int, count: int | None) -> np.ndarray:
    """Samples `start`..`start + count` of the first audio stream, decoded straight to
    float stereo at `sample_rate`; the samples before are decoded and dropped, the
    decoding stops after the span, so only the span is ever held."""
    with _audio_stream(path) as (container, stream):
        if count is None and container.duration:
            declared = round(container.duration / 1_000_000 * sample_rate)  # microseconds
            if declared > MAX_LOAD_SAMPLES:
                raise _too_long(path, declared, sample_rate)
        stop = None if count is None else start + count
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=sample_rate)
        chunks: list[np.ndarray] = []
        position = 0  # samples at `sample_rate` decoded so far

        def keep(frames) -> bool:
            """Keep the part of these frames in the span; False once past its end."""
            nonlocal position
            for out in frames:
                samples = out.to_ndarray().reshape(-1, 2)
                lo, hi = position, position + len(samples)
                position = hi
                end = hi if stop is None else min(hi, stop)
                if end > start and lo < end:
                    chunks.append(samples[max(0, start - lo) : end - lo])
                if stop is not None and position >= stop:
                    return False
                if stop is None and position - start > MAX_LOAD_SAMPLES:
                    raise _too_long(path, position - start, sample_rate)
            return True

        try:
            for frame in container.decode(stream):
                if not keep(resampler.resample(frame)):
                    break
            else:
                keep(resampler.resample(None))
        except av.FFmpegError as exc:
            raise MediaError(path, f"damaged audio data ({exc})") from exc
    if not chunks:
        return np.zeros((0, 2), np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def _decode(path: Path, sample_rate: int, start: int, count: int | None) -> np.ndarray:
    info = _soundfile_info(path)
    if info is not None:
        try:
            span = _span_soundfile(path, info, sample_rate, start, count)
        except (RuntimeError, OSError, ValueError, TypeError):
            pass  # libsndfile read the header but not the data: try FFmpeg
        else:
            return np.ascontiguousarray(span, np.float32)
    return _span_pyav(path, sample_rate, start, count)


def load_audio(
    path: str | os.PathLike[str],
    sample_rate: int = DEFAULT_RATE,
    start: int = 0,
    count: int | None = None,
) -> np.ndarray:
    """A sound file as read-only float32 samples shaped (n, 2) at `sample_rate`: samples
    `start` up to `start + count` of it (default: to its end; fewer where it ends sooner).

    Only that part is decoded (the header is read first: a file declaring an impossible
    sample rate, or longer than `MAX_LOAD_SAMPLES` where the whole is asked for, raises
    `MediaError` naming it before anything is decoded).
    """
    path = Path(path)
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, not {sample_rate}")
    if start < 0 or (count is not None and count < 0):
        raise ValueError(f"cannot load {count} samples from sample {start}")
    try:
        stat = path.stat()
    except OSError:
        raise MediaError(path, "sound file not found") from None
    if path.is_dir():
        raise MediaError(path, "is a folder, not a sound file")
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, sample_rate, start, count)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    samples = _decode(path, sample_rate, start, count)
    samples.flags.writeable = False
    with _cache_lock:
        _cache[key] = samples
        while len(_cache) > _CACHE_FILES:
            _cache.popitem(last=False)
    return samples


def sound_length(path: str | os.PathLike[str], sample_rate: int = DEFAULT_RATE) -> int:
    """How many samples at `sample_rate` a sound file holds, as `load_audio` would give
    them, without holding them: from the header where it says (WAV, FLAC, OGG...), else
    by decoding and counting."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(path, "sound file not found")
    info = _soundfile_info(path)
    if info is not None:
        rate = _check_rate(path, int(info.samplerate))
        return round(info.frames * Fraction(sample_rate, rate))
    with _audio_stream(path) as (container, stream):
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=sample_rate)
        total = 0
        try:
            for frame in container.decode(stream):
                total += sum(out.samples for out in resampler.resample(frame))
            total += sum(out.samples for out in resampler.resample(None))
        except av.FFmpegError as exc:
            raise MediaError(path, f"damaged audio data ({exc})") from exc
    return total


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
    horizon = max(last, to_sample(timeline.duration))
    mix = np.zeros((last - first, 2), np.float32)
    for track in timeline.audio_tracks:
        if track.muted:
            continue
        for clip in track.clips:
            begin, end = to_sample(clip.start), to_sample(clip.end)
            lo, hi = max(begin, first), min(end, last)
            if hi <= lo:
                continue
            # Only the part of the file this clip plays up to the timeline's end is loaded
            # (the same part whatever the window, so a mix in pieces decodes it once): a
            # three-hour file under a 24-second film costs 24 seconds of samples.
            used = min(end, horizon) - begin
            path = audio_path(project, folder, clip.media)
            source = load_audio(path, sample_rate, to_sample(clip.source_in), used)
            take = source[lo - begin : hi - begin]
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
