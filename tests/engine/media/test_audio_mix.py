"""The timeline's sound: exact lengths, gains in decibels, fades from silence, any file type."""

from __future__ import annotations

import struct
import tracemalloc
from fractions import Fraction

import av
import numpy as np
import pytest
import soundfile

from engine.media.audio_mix import load_audio, mix_timeline, sound_length
from engine.media.video import MediaError
from studio.project.model import AudioMedia, Project
from studio.timeline.timeline import AudioClip, AudioTrack, Gap, Timeline

RATE = 48000


def constant_wav(folder, name="tone.wav", value=0.5, seconds=2.0, rate=RATE, channels=2):
    path = folder / "media" / name
    path.parent.mkdir(exist_ok=True)
    data = np.full((round(seconds * rate), channels), value, np.float32)
    soundfile.write(path, data, rate, subtype="FLOAT")
    return f"media/{name}"


def edit(clips, frames=48, fps=Fraction(24), muted=False, track_gain=0.0):
    track = AudioTrack("t1", "Music", tuple(clips), track_gain, muted)
    return Timeline(fps, (Gap("g", frames),), (track,))


@pytest.fixture
def project():
    return Project(title="Sound")


def test_the_mix_lasts_exactly_the_timeline(project, tmp_path):
    media = constant_wav(tmp_path)
    timeline = edit([AudioClip("a", media, 0, 0, 40)], frames=100, fps=Fraction(24000, 1001))
    mix = mix_timeline(project, tmp_path, timeline)
    assert mix.dtype == np.float32 and mix.shape == (200200, 2)  # 100 * 48000 * 1001 / 24000
    # Mixes of neighbouring frame ranges join exactly.
    parts = [mix_timeline(project, tmp_path, timeline, RATE, s, 7) for s in range(0, 98, 7)]
    parts.append(mix_timeline(project, tmp_path, timeline, RATE, 98))
    assert np.array_equal(np.concatenate(parts), mix)
    # The clip sounds for its 40 frames and stops; the gap after it is silent.
    end = round(40 * RATE * Fraction(1001, 24000))
    assert np.allclose(mix[:end], 0.5) and not mix[end:].any()


def test_gain_of_minus_six_decibels_halves_the_amplitude(project, tmp_path):
    media = constant_wav(tmp_path)
    mix = mix_timeline(project, tmp_path, edit([AudioClip("a", media, 0, 0, 48, gain_db=-6.02)]))
    assert np.allclose(mix, 0.25, atol=1e-3)
    track_gain = edit([AudioClip("a", media, 0, 0, 48)], track_gain=-6.02)
    assert np.allclose(mix_timeline(project, tmp_path, track_gain), 0.25, atol=1e-3)
    loud = edit([AudioClip("a", media, 0, 0, 48, gain_db=12.0)])
    assert mix_timeline(project, tmp_path, loud).max() == 1.0  # clipped, not wrapped


def test_fades_ramp_from_and_to_silence(project, tmp_path):
    media = constant_wav(tmp_path, value=0.8)
    clip = AudioClip("a", media, 4, 0, 40, fade_in=12, fade_out=6)
    mix = mix_timeline(project, tmp_path, edit([clip]))[:, 0]
    begin, fade_in, end, fade_out = 4 * 2000, 12 * 2000, 44 * 2000, 6 * 2000
    assert not mix[:begin].any() and mix[begin] == 0.0
    ramp = mix[begin : begin + fade_in]
    assert np.all(np.diff(ramp) > 0) and ramp[fade_in // 2] == pytest.approx(0.4, abs=1e-3)
    assert mix[begin + fade_in] == pytest.approx(0.8)
    tail = mix[end - fade_out : end]
    assert np.all(np.diff(tail) < 0) and tail[-1] == 0.0
    # Mixed a few frames at a time, the fades land on the same samples.
    whole = mix_timeline(project, tmp_path, edit([clip]))
    parts = [mix_timeline(project, tmp_path, edit([clip]), RATE, s, 5) for s in range(0, 45, 5)]
    parts.append(mix_timeline(project, tmp_path, edit([clip]), RATE, 45))
    assert np.array_equal(np.concatenate(parts), whole)
    power = mix_timeline(project, tmp_path, edit([clip]), curve="equal_power")[:, 0]
    assert power[begin] == 0.0 and power[begin + fade_in // 2] == pytest.approx(
        0.8 * np.sqrt(0.5), abs=1e-3
    )


def test_source_in_offsets_and_muted_tracks(project, tmp_path):
    path = tmp_path / "media" / "ramp.wav"
    path.parent.mkdir()
    ramp = np.linspace(0, 0.9, RATE, dtype=np.float32)  # 1 s: the value says the time
    soundfile.write(path, np.stack([ramp, ramp], 1), RATE, subtype="FLOAT")
    clip = AudioClip("a", "media/ramp.wav", 6, 12, 20)  # source 0.5 s placed at 0.25 s
    mix = mix_timeline(project, tmp_path, edit([clip]))
    assert mix[6 * 2000, 0] == pytest.approx(ramp[12 * 2000])
    assert not mix[6 * 2000 - 1].any() and not mix[20 * 2000 :].any()
    assert not mix_timeline(project, tmp_path, edit([clip], muted=True)).any()


def test_clips_name_project_sounds_by_id(project, tmp_path):
    media = constant_wav(tmp_path, "bed.wav", 0.3)
    project.audio.append(AudioMedia("bed", "Bed", media))
    mix = mix_timeline(project, tmp_path, edit([AudioClip("a", "bed", 0, 0, 48)]))
    assert np.allclose(mix, 0.3)


def test_wav_and_ogg_load_back_as_stereo_at_the_mix_rate(tmp_path):
    t = np.arange(44100) / 44100
    sine = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    soundfile.write(tmp_path / "mono.wav", sine, 44100)
    soundfile.write(tmp_path / "mono.ogg", sine, 44100, format="OGG", subtype="VORBIS")
    for name in ("mono.wav", "mono.ogg"):
        samples = load_audio(tmp_path / name)
        assert samples.dtype == np.float32 and samples.shape[1] == 2
        assert abs(len(samples) - RATE) <= 1  # one second, resampled to 48 kHz
        assert np.array_equal(samples[:, 0], samples[:, 1])
        rms = float(np.sqrt(np.mean(samples[1000:-1000, 0] ** 2)))
        assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.03)
    again = load_audio(tmp_path / "mono.wav")
    assert again is load_audio(tmp_path / "mono.wav") and not again.flags.writeable


def test_files_soundfile_cannot_read_go_through_ffmpeg(tmp_path):
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100, layout="stereo")
        tone = (0.3 * np.sin(np.arange(44100) / 44100 * 2 * np.pi * 300)).astype(np.float32)
        planar = np.stack([tone, tone])
        for start in range(0, 44100, 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, start : start + 1024]), "fltp", "stereo"
            )
            frame.sample_rate = 44100
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    samples = load_audio(path)
    assert samples.shape[1] == 2 and abs(len(samples) - RATE) < 2048
    assert 0.15 < float(np.abs(samples).max()) < 0.4


def test_a_missing_sound_file_is_named(project, tmp_path):
    with pytest.raises(MediaError, match="gone.wav"):
        mix_timeline(project, tmp_path, edit([AudioClip("a", "media/gone.wav", 0, 0, 10)]))


# --- files made to be decoded: the header is read first, only the part played is decoded


def wav_declaring(path, rate: int, samples: int) -> None:
    """A 16-bit mono WAV of silence whose header declares `rate` samples a second."""
    data = bytes(2 * samples)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def long_silence(path, minutes: int, rate: int = 8000) -> None:
    """A FLAC of silence: a few kilobytes a minute, 11.5 MB a minute once decoded."""
    block = np.zeros(rate * 60, np.int16)
    with soundfile.SoundFile(path, "w", rate, 1, subtype="PCM_16", format="FLAC") as out:
        for _ in range(minutes):
            out.write(block)


def peak_bytes(work) -> int:
    """The most memory Python and numpy held at once while `work` ran."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("rate", [1, 999, 10_000_000])
def test_a_sample_rate_no_recording_has_is_refused_before_decoding(project, tmp_path, rate):
    path = tmp_path / "media" / "tiny.wav"
    path.parent.mkdir()
    wav_declaring(path, rate, 1000)  # at 1 Hz: 17 minutes, 384 MB at 48 kHz
    clip = AudioClip("a", "media/tiny.wav", 0, 0, 48)
    with pytest.raises(MediaError, match=rf"tiny.wav: declares a sample rate of {rate} Hz"):
        mix_timeline(project, tmp_path, edit([clip]))
    with pytest.raises(MediaError, match="1000 to 768000 Hz"):
        load_audio(path)
    with pytest.raises(MediaError, match="tiny.wav"):
        sound_length(path)


def test_only_the_part_of_a_long_file_the_edit_plays_is_decoded(project, tmp_path):
    path = tmp_path / "media" / "hour.flac"
    path.parent.mkdir()
    long_silence(path, 60)  # 1.4 GB once decoded whole at 48 kHz
    assert path.stat().st_size < 200_000
    # Two seconds from the middle of the hour, mixed a second at a time as export does.
    clip = AudioClip("a", "media/hour.flac", 0, 24 * 1800, 24 * 1802)
    timeline = edit([clip])
    parts: list[np.ndarray] = []

    def mix_by_seconds() -> None:
        parts.extend(mix_timeline(project, tmp_path, timeline, RATE, s, 24) for s in (0, 24))

    peak = peak_bytes(mix_by_seconds)
    assert peak < 32 << 20, f"{peak / 2**20:.0f} MiB"
    assert sum(len(p) for p in parts) == 2 * RATE and not np.concatenate(parts).any()
    assert sound_length(path) == 3600 * RATE  # from the header, nothing decoded


def test_a_part_is_the_same_samples_as_the_whole_file_resampled(tmp_path):
    path = tmp_path / "ramp.wav"
    ramp = np.linspace(-0.9, 0.9, 44100, dtype=np.float32)
    soundfile.write(path, np.stack([ramp, -ramp], 1), 44100, subtype="FLOAT")
    whole = load_audio(path)
    assert len(whole) == RATE == sound_length(path)
    for start, count in ((0, 10), (12_345, 2000), (RATE - 50, 200)):
        part = load_audio(path, RATE, start, count)
        assert np.allclose(part, whole[start : start + count], atol=1e-6)
    m4a = tmp_path / "voice.m4a"
    with av.open(str(m4a), "w") as container:
        stream = container.add_stream("aac", rate=RATE, layout="stereo")
        tone = (0.3 * np.sin(np.arange(RATE) / RATE * 2 * np.pi * 300)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), "fltp", "stereo")
        frame.sample_rate, frame.pts = RATE, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    whole = load_audio(m4a)
    assert sound_length(m4a) == len(whole)
    assert np.array_equal(load_audio(m4a, RATE, 5000, 3000), whole[5000:8000])


def test_a_whole_file_too_long_to_hold_is_refused(tmp_path, monkeypatch):
    import engine.media.audio_mix as audio_mix

    path = tmp_path / "hour.flac"
    long_silence(path, 3)
    monkeypatch.setattr(audio_mix, "MAX_LOAD_SAMPLES", 60 * RATE)  # a minute
    with pytest.raises(MediaError, match="hour.flac: is 3 minutes long, more than the 1"):
        load_audio(path)
    assert len(load_audio(path, RATE, 0, 2 * RATE)) == 2 * RATE  # a part of it loads
