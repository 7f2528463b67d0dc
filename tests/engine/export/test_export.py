"""Export writes the edit exactly: timing, transitions, presets, sound, errors, cancel.

Takes are real H.264 files written as the engine writes them, most showing a flat grey of
level 16 + 7 * i on frame i, so that a decoded frame says which take frame it is
(`tests.engine.export.export_helpers`). Smart render has its own file, `test_export_smart.py`.
"""

from __future__ import annotations

import json
import threading
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from engine.backends.base import JobCancelled
from engine.export.job import (
    ExportError,
    ExportJob,
    export,
    export_request,
    output_frames,
    timeline_frame,
)
from engine.export.presets import SPECS
from engine.media.audio_mix import mix_timeline
from engine.media.sequence import MissingTakeError
from engine.media.video import MediaError, probe, read_frames
from studio.jobs import (
    Cancelled,
    ExportPreset,
    ExportRequest,
    Failed,
    Finished,
    Progress,
    Queued,
    Stage,
    Started,
    canonical_json,
)
from studio.project.model import Project
from studio.timeline.timeline import AudioClip, AudioTrack, Timeline, Transition, TransitionKind
from tests.engine.export.export_helpers import (
    FFPROBE,
    RATE,
    H,
    W,
    add_bed,
    add_shot,
    cut,
    decode_all,
    decodes_cleanly,
    fade,
    ffprobe_json,
    index_of,
    leftovers,
    run,
)


@pytest.fixture
def project() -> Project:
    return Project(title="Export", width=W, height=H)


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# -- timing and probing ---------------------------------------------------------------------


def test_a_web_export_probes_right_with_pyav_and_ffprobe(project, tmp_path, out):
    for name in "ab":
        add_shot(project, tmp_path, name)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 20), cut("c2", "b", 3, 20)))
    add_bed(project, tmp_path, 37, fade_in=6, fade_out=6)
    result = run(project, tmp_path, out / "film.mp4", crf=23)
    assert result.frames == 37 and result.seconds == pytest.approx(37 / 24)
    info = probe(result.path)
    assert (info.frames, info.fps, info.codec, info.pix_fmt) == (37, 24, "h264", "yuv420p")
    assert (info.width, info.height) == (W, H)
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", RATE, 2)
    assert len(read_frames(result.path)) == 37
    data = result.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: the index comes first
    assert leftovers(out) == []
    if FFPROBE is None:
        pytest.skip("ffprobe is not installed")
    streams = {s["codec_type"]: s for s in ffprobe_json(result.path)["streams"]}
    video, audio = streams["video"], streams["audio"]
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (W, H)
    assert video["r_frame_rate"] == video["avg_frame_rate"] == "24/1"
    assert int(video["nb_frames"]) == 37
    assert abs(float(video["duration"]) - 37 / 24) < 0.5 / 24  # to the frame
    assert audio["codec_name"] == "aac" and int(audio["sample_rate"]) == RATE
    assert audio["channels"] == 2
    assert abs(float(audio["duration"]) - 37 / 24) < 1024 / RATE  # within one AAC frame
    decodes_cleanly(result.path)


@pytest.mark.parametrize(
    "preset, name, codec, pix_fmt, audio",
    [
        ("web", "f.mp4", "h264", "yuv420p", "aac"),
        ("hevc", "f.mp4", "hevc", "yuv420p10le", "aac"),
        ("prores", "f.mov", "prores", "yuv422p10le", "pcm_s24le"),
        ("webm", "f.webm", "vp9", "yuv420p", "opus"),
        ("gif", "f.gif", "gif", None, None),
    ],
)
def test_every_video_preset_writes_a_valid_file(
    project, tmp_path, out, preset, name, codec, pix_fmt, audio
):
    add_shot(project, tmp_path, "a", frames=12, size=(64, 64))
    project.width = project.height = 64
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 10),))
    add_bed(project, tmp_path, 10)
    result = run(project, tmp_path, out / name, preset)
    assert result.path == out / name and result.frames == 10
    info = probe(result.path)
    assert (info.codec, info.width, info.height) == (codec, 64, 64)
    # A GIF stores delays in hundredths of a second (4, 4, 5, ...), not a rate.
    assert info.fps == 24 or preset == "gif"
    frames = decode_all(result.path)
    assert len(frames) == 10
    if pix_fmt:
        assert info.pix_fmt == pix_fmt
    assert info.audio_codec == audio
    if preset == "hevc":
        with av.open(str(result.path)) as container:
            assert container.streams.video[0].codec_context.codec_tag == "hvc1"
    assert abs(index_of(frames[9]) - 9) <= 1  # 256 colours still tell the greys apart
    assert leftovers(out) == []
    if FFPROBE:
        described = ffprobe_json(result.path)
        assert described["streams"][0]["codec_name"] == codec
        assert abs(float(described["format"]["duration"]) - 10 / 24) < 0.011
        decodes_cleanly(result.path)


def test_a_png_sequence_is_a_folder_of_exact_frames(project, tmp_path, out):
    add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 4, 10),))
    add_bed(project, tmp_path, 6)  # no sound goes with pictures
    target = out / "frames"
    result = run(project, tmp_path, target, "png")
    names = sorted(p.name for p in target.iterdir())
    assert names == [f"frames_{i:05d}.png" for i in range(6)] and result.frames == 6
    first = cv2.imread(str(target / names[0]))
    assert first.shape == (H, W, 3) and abs(index_of(first) - 4) == 0
    # Exporting again replaces the earlier sequence; any other folder is left alone.
    run(project, tmp_path, target, "png")
    (out / "notes").mkdir()
    (out / "notes" / "todo.txt").write_text("keep")
    with pytest.raises(ExportError, match="not an earlier PNG export"):
        run(project, tmp_path, out / "notes", "png")
    assert (out / "notes" / "todo.txt").read_text() == "keep"
    with pytest.raises(ExportError, match="folder"):
        run(project, tmp_path, out / "x.png", "png")
    assert leftovers(out) == []


def test_rate_conversion_keeps_exact_timing(project, tmp_path, out):
    add_shot(project, tmp_path, "a", frames=24)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 24),))
    add_bed(project, tmp_path, 24)
    result = run(project, tmp_path, out / "f.mov", "prores", fps=Fraction(30))
    assert result.frames == 30 and result.seconds == 1.0
    info = probe(result.path)
    assert info.frames == 30 and info.fps == 30 and info.duration == 1
    shown = [index_of(f) for f in read_frames(result.path)]
    assert shown == [timeline_frame(k, Fraction(24), Fraction(30), 24) for k in range(30)]
    assert shown[:6] == [0, 1, 2, 2, 3, 4]  # nearest in time: k * 24 / 30
    with av.open(str(result.path)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
    assert samples == RATE  # exactly one second of sound (PCM has no padding)
    ntsc = run(project, tmp_path, out / "g.mov", "prores", fps=Fraction(30000, 1001))
    assert ntsc.frames == 30 and probe(ntsc.path).fps == Fraction(30000, 1001)


def test_rate_conversion_rounds_to_the_nearest_frame_count():
    assert output_frames(24, Fraction(24), Fraction(30)) == 30
    assert output_frames(10, Fraction(24), Fraction(30)) == 13  # 12.5 rounds up
    assert output_frames(1, Fraction(24), Fraction(12)) == 1  # never empty
    # Doubling the rate shows every frame twice, starting with frame 0 twice.
    assert [timeline_frame(k, Fraction(24), Fraction(48), 3) for k in range(6)] == [
        0,
        0,
        1,
        1,
        2,
        2,
    ]


# -- pictures -------------------------------------------------------------------------------


def test_trims_land_on_exact_frames(project, tmp_path, out):
    add_shot(project, tmp_path, "a", frames=30)
    add_shot(project, tmp_path, "b", frames=30)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 5, 17), cut("c2", "b", 13, 20)))
    for smart in (True, False):
        result = run(project, tmp_path, out / "f.mp4", smart_render=smart)
        shown = [index_of(f) for f in read_frames(result.path)]
        assert shown == list(range(5, 17)) + list(range(13, 20)), smart


def test_a_crossfade_middle_frame_is_the_blend_of_its_sources(project, tmp_path, out):
    add_shot(project, tmp_path, "a", level=200)
    add_shot(project, tmp_path, "b", level=40)
    project.timeline = Timeline(
        Fraction(24), (cut("c1", "a", 0, 12), cut("c2", "b", 0, 12, fade(5)))
    )
    result = run(project, tmp_path, out / "f.mp4")
    levels = [float(f.mean()) for f in read_frames(result.path)]
    assert len(levels) == 19
    assert abs(levels[9] - (200 + 40) / 2) < 2  # the fade's middle frame, weight 3/6
    assert abs(levels[6] - 200) < 2 and abs(levels[12] - 40) < 2
    fading = levels[7:12]
    assert all(a > b + 10 for a, b in zip(fading, fading[1:], strict=False))


def test_a_dip_reaches_black(project, tmp_path, out):
    add_shot(project, tmp_path, "a", level=200)
    add_shot(project, tmp_path, "b", level=120)
    dip = Transition(TransitionKind.DIP_BLACK, 8)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 12), cut("c2", "b", 0, 12, dip)))
    result = run(project, tmp_path, out / "f.webm", "webm")
    frames = read_frames(result.path)
    assert float(frames[12].mean()) < 3  # the incoming clip's first frame is black
    assert abs(float(frames[7].mean()) - 200) < 4 and abs(float(frames[16].mean()) - 120) < 4


def test_takes_are_letterboxed_to_the_export_size(project, tmp_path, out):
    add_shot(project, tmp_path, "wide", size=(64, 32), level=180)
    project.timeline = Timeline(Fraction(24), (cut("c1", "wide", 0, 4),))
    result = run(project, tmp_path, out / "f.mp4", width=64, height=64)
    frame = read_frames(result.path)[0]
    assert frame.shape == (64, 64, 3)
    assert frame[:12].max() < 24 and frame[52:].max() < 24  # bars
    assert abs(float(frame[20:44].mean()) - 180) < 3


# -- errors, cancel and the job -------------------------------------------------------------


def test_a_shot_without_a_take_is_named(project, tmp_path, out):
    add_shot(project, tmp_path, "a")
    add_shot(project, tmp_path, "b", take=False)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 4), cut("c2", "b", 0, 4)))
    with pytest.raises(MissingTakeError, match="Shot b.*no take") as caught:
        export_request(project, tmp_path, out / "f.mp4")
    assert caught.value.shot_id == "b"
    # A request made earlier fails the same way once the take is gone.
    request = ExportRequest(project.timeline, str(out / "f.mp4"), width=W, height=H)
    with pytest.raises(MissingTakeError, match="Shot b"):
        export(project, tmp_path, request)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
@pytest.mark.parametrize("smart", [True, False])
def test_a_corrupt_take_names_the_shot_and_leaves_no_file(project, tmp_path, out, damage, smart):
    add_shot(project, tmp_path, "a")
    shot = add_shot(project, tmp_path, "b", frames=48, moving=True)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 6), cut("c2", "b", 0, 48)))
    media = tmp_path / shot.current_take.media
    data = media.read_bytes()
    media.write_bytes(b"\x00" * 64 + data[64:200] if damage == "garbage" else data[:-6000])
    (out / "f.mp4").write_bytes(b"an older film")
    with pytest.raises(ExportError, match="shot 'Shot b'") as caught:
        run(project, tmp_path, out / "f.mp4", smart_render=smart)
    assert caught.value.shot_id == "b"
    assert (out / "f.mp4").read_bytes() == b"an older film"  # the old film is kept
    assert leftovers(out) == []


def events_of(job_events, kind):
    return [e for e in job_events if isinstance(e, kind)]


def test_the_export_job_reports_progress_and_its_result(project, tmp_path, out):
    add_shot(project, tmp_path, "a", frames=30)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 30),))
    events = []
    request = export_request(project, tmp_path, out / "f.mp4", crf=20)
    job = ExportJob(project, tmp_path, request, events.append, job_id="job1")
    assert isinstance(events[0], Queued)
    result = job.start().wait(60)
    assert job.done and result is not None and result.path.is_file()
    assert [type(e) for e in events[:2]] == [Queued, Started]
    assert isinstance(events[-1], Finished) and events[-1].result == result
    steps = events_of(events, Progress)
    assert steps and all(e.stage is Stage.EXPORTING and e.total == 30 for e in steps)
    assert [e.step for e in steps] == sorted(e.step for e in steps) and steps[-1].step == 30
    assert all(e.job_id == "job1" for e in events)


def test_cancel_leaves_no_file(project, tmp_path, out):
    add_shot(project, tmp_path, "a", frames=48, moving=True)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 48),))
    add_bed(project, tmp_path, 48)
    events = []
    request = export_request(project, tmp_path, out / "f.mp4", crf=20)
    holder: dict[str, ExportJob] = {}

    def sink(event):
        events.append(event)
        if isinstance(event, Progress) and event.step >= 3:
            holder["job"].cancel()

    holder["job"] = job = ExportJob(project, tmp_path, request, sink)
    assert job.start().wait(60) is None
    assert isinstance(events[-1], Cancelled)
    assert max(e.step for e in events_of(events, Progress)) < 48
    assert list(out.iterdir()) == []
    # Cancelled before it starts: nothing runs.
    early = threading.Event()
    early.set()
    with pytest.raises(JobCancelled):
        export(project, tmp_path, request, cancel=early)
    assert list(out.iterdir()) == []


def test_a_failed_job_names_the_shot(project, tmp_path, out):
    shot = add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 6),))
    request = export_request(project, tmp_path, out / "f.mp4")
    (tmp_path / shot.current_take.media).write_bytes(b"not a video at all")
    events = []
    job = ExportJob(project, tmp_path, request, events.append)
    assert job.start().wait(60) is None
    assert isinstance(events[-1], Failed) and "Shot a" in events[-1].message
    assert "Shot a" in (job.error or "")
    assert list(out.iterdir()) == []


def test_requests_check_their_output_and_size(project, tmp_path, out):
    add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 6),))
    with pytest.raises(ExportError, match=r"\.gif"):
        run(project, tmp_path, out / "f.mp4", "gif")
    with pytest.raises(ExportError, match="even"):
        run(project, tmp_path, out / "f.mp4", width=65, height=36)
    with pytest.raises(ExportError, match="does not exist"):
        run(project, tmp_path, out / "missing" / "f.mp4")
    (out / "taken.mp4").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        run(project, tmp_path, out / "taken.mp4")
    (out / "taken.mp4").rmdir()
    assert list(out.iterdir()) == []


def test_export_requests_pin_takes_and_round_trip(project, tmp_path, out):
    shot = add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 6),))
    request = export_request(project, tmp_path, out / "f.webm", "webm", crf=30)
    assert request.timeline.clips()[0].take_id == shot.selected_take
    assert request.take_media == ((shot.selected_take, shot.current_take.media),)
    assert (request.width, request.height, request.fps) == (W, H, 24)
    back = ExportRequest.from_dict(json.loads(canonical_json(request.to_dict())))
    assert back == request and back.crf == 30 and back.smart_render
    plain = ExportRequest(Timeline(), "x.mp4")
    assert "crf" not in plain.to_dict() and "smart_render" not in plain.to_dict()
    with pytest.raises(ValueError):
        ExportRequest(Timeline(), "x.mp4", crf=99)
    assert SPECS[ExportPreset.PRORES].suffixes == (".mov",)


def test_the_sound_is_every_track_mixed_sample_for_sample(project, tmp_path, out):
    add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 24),))
    add_bed(project, tmp_path, 24, fade_in=6, fade_out=12, gain_db=-6.0)
    voice = AudioTrack("voice", "Voice", (AudioClip("v1", "bed", 12, 0, 6, fade_in=3),))
    timeline = project.timeline
    project.timeline = Timeline(timeline.fps, timeline.items, (*timeline.audio_tracks, voice))
    result = run(project, tmp_path, out / "f.mov", "prores")
    with av.open(str(result.path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.sample_rate == RATE
        sound = np.concatenate([f.to_ndarray().reshape(-1, 2) for f in container.decode(stream)])
    expected = mix_timeline(project, tmp_path)
    assert sound.shape == expected.shape == (RATE, 2)
    assert np.abs(sound / 2**31 - expected).max() < 1e-5  # 24-bit PCM in 32-bit samples
    assert sound[0].max() == 0 and expected[: RATE // 4].max() < 0.25  # the fade in


def test_a_missing_sound_file_stops_the_export_before_it_starts(project, tmp_path, out):
    add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 6),))
    add_bed(project, tmp_path, 6)
    (tmp_path / "media/bed.wav").unlink()
    with pytest.raises(MediaError, match="bed.wav: sound file not found"):
        run(project, tmp_path, out / "f.mp4")
    assert list(out.iterdir()) == []
    assert run(project, tmp_path, out / "f.gif", "gif").frames == 6  # a GIF has no sound
