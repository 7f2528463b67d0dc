"""The edit leaves the studio as .otio, FCP 7 XML and CMX 3600 EDL, and reads back the same.

Takes are real small H.264 files and sounds real WAV files, so media URLs, take lengths and
rates are what the exporter probes, not what a test claims.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import opentimelineio as otio
import pytest
import soundfile

from engine.export.interchange import to_otio, write_edit
from engine.media.video import write_video
from studio.camera.rig import CameraRig
from studio.errors import StudioError
from studio.jobs import GenerationRequest
from studio.project.model import AudioMedia, Project, Take
from studio.timeline.timeline import (
    AudioClip,
    AudioTrack,
    Clip,
    Gap,
    Timeline,
    Transition,
    TransitionKind,
)

SIZE = 64
FPS = [Fraction(24), Fraction(24000, 1001)]


def add_shot(project, folder, shot_id, frames=20, fps=None, take=True):
    """A shot titled after its id, with one take file of `frames` frames at `fps`."""
    fps = project.fps if fps is None else fps
    shot = project.new_shot(id=shot_id, title=f"Shot {shot_id.upper()}")
    project.shots.append(shot)
    if take:
        media = f"takes/{shot_id}.mp4"
        (folder / "takes").mkdir(exist_ok=True)
        pictures = np.zeros((frames, SIZE, SIZE, 3), np.uint8)
        write_video(folder / media, pictures, fps, gop=4)
        request = GenerationRequest(
            prompt=f"a lighthouse, shot {shot_id}",
            model_id="previz",
            width=SIZE,
            height=SIZE,
            frames=frames,
            fps=fps,
            seed=1000 + len(project.shots),
            backend="previz",
            camera=CameraRig(),
            guidance=4.5,
        )
        shot.takes.append(Take(request.hash, request, media, "2024-01-01T00:00:00Z"))
        shot.selected_take = request.hash
    return shot


def write_sound(folder, name, seconds=3.0, rate=48000):
    (folder / "media").mkdir(exist_ok=True)
    soundfile.write(folder / "media" / name, np.zeros((int(seconds * rate), 2), np.float32), rate)
    return f"media/{name}"


def cross(frames):
    return Transition(TransitionKind.CROSSFADE, frames)


def dip(kind, frames):
    return Transition(kind, frames)


def build_edit(folder: Path, fps: Fraction) -> Project:
    """Six clips: a crossfade, a gap, a dip to black with handles, a take at 16 fps, a dip
    to white out of a clip that uses its whole take, and two audio tracks."""
    project = Project(title="Lighthouse", fps=fps, width=SIZE, height=SIZE)
    for shot_id in "abcd":
        add_shot(project, folder, shot_id)
    add_shot(project, folder, "e", frames=16, fps=Fraction(16))
    project.audio.append(AudioMedia("bed", "Music bed", write_sound(folder, "bed.wav")))
    effects = write_sound(folder, "waves.wav", seconds=1.0, rate=44100)
    project.timeline = Timeline(
        fps,
        (
            Clip("c1", "a", None, 0, 20),
            Clip("c2", "b", None, 0, 20, cross(5)),
            Gap("g1", 3),
            Clip("c3", "c", None, 2, 18),
            Clip("c4", "d", None, 2, 18, dip(TransitionKind.DIP_BLACK, 4)),
            Clip("c5", "e", None, 0, 24),
            Clip("c6", "a", None, 4, 14, dip(TransitionKind.DIP_WHITE, 6)),
        ),
        (
            AudioTrack(
                "music",
                "Music",
                (
                    AudioClip("m1", "bed", 0, 0, 40, -3.0, 4, 6),
                    AudioClip("m2", "bed", 50, 10, 30),
                ),
            ),
            AudioTrack("fx", "Effects", (AudioClip("x1", effects, 12, 0, 20),), muted=True),
        ),
    )
    return project


@pytest.fixture(params=FPS, ids=["24", "23.976"])
def edit(request, tmp_path):
    folder = tmp_path / "Lighthouse.gallop"
    folder.mkdir()
    return build_edit(folder, request.param), folder


def plain(value):
    """OTIO metadata (AnyDictionary, AnyVector) as plain JSON values."""
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return [plain(v) for v in value]


def frames(time: otio.opentime.RationalTime, fps: Fraction) -> float:
    return time.value_rescaled_to(float(fps))


def video(timeline):
    return timeline.video_tracks()[0]


def items_of(track, kind):
    return [item for item in track if isinstance(item, kind)]


def url_path(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


# -- .otio --------------------------------------------------------------------------------


def test_otio_reads_back_with_the_same_clips_durations_and_manifests(edit, tmp_path):
    project, folder = edit
    fps = project.fps
    path = write_edit(project, folder, tmp_path / "cut.otio")
    back = otio.adapters.read_from_file(str(path))
    assert isinstance(back, otio.schema.Timeline) and back.name == "Lighthouse"
    assert back.global_start_time.value == 0 and back.global_start_time.rate == float(fps)

    track = video(back)
    assert frames(track.duration(), fps) == project.timeline.duration
    assert track.duration().rate == float(fps)
    clips = items_of(track, otio.schema.Clip)
    assert [c.name for c in clips] == ["Shot A", "Shot B", "Shot C", "Shot D", "Shot E", "Shot A"]
    # Clips beside a crossfade give up its halves: 5 frames = 2 before the cut, 3 after.
    ranges = [(frames(c.source_range.start_time, fps), frames(c.duration(), fps)) for c in clips]
    assert ranges == [(0, 17), (2, 18), (2, 16), (2, 16), (0, 24), (4, 10)]
    assert all(float(v).is_integer() for r in ranges for v in r)
    # ... and take exactly the overlapped frames back as handles.
    assert frames(clips[0].visible_range().end_time_exclusive(), fps) == 20
    assert frames(clips[1].visible_range().start_time, fps) == 0
    starts = [frames(track.range_of_child(c).start_time, fps) for c in clips]
    assert starts == [0, 17, 38, 54, 70, 94]

    transitions = items_of(track, otio.schema.Transition)
    shape = [
        (t.name, t.transition_type, frames(t.in_offset, fps), frames(t.out_offset, fps))
        for t in transitions
    ]
    assert shape == [
        ("Cross Dissolve", "SMPTE_Dissolve", 2, 3),
        ("Dip to black", "Custom_Transition", 2, 2),
        ("Dip to white", "Custom_Transition", 3, 3),
    ]
    assert plain(transitions[1].metadata["gallop"])["kind"] == "dip_black"
    assert plain(transitions[2].metadata["gallop"])["colour"] == [255, 255, 255]
    assert len(items_of(track, otio.schema.Gap)) == 1

    for clip, item in zip(clips, project.timeline.clips(), strict=True):
        shot = project.shot(item.shot_id)
        take = shot.current_take
        meta = plain(clip.metadata["gallop"])
        assert meta["shot_id"] == shot.id and meta["shot_title"] == shot.title
        assert meta["take_id"] == take.id == meta["request_hash"] == take.request.hash
        assert meta["manifest"] == take.request.to_dict()
        assert GenerationRequest.from_dict(meta["manifest"]) == take.request
        assert (meta["prompt"], meta["seed"], meta["model"]) == (
            take.request.prompt,
            take.request.seed,
            "previz",
        )
        assert isinstance(meta["camera"], str)
        assert (meta["source_in"], meta["source_out"]) == (item.source_in, item.source_out)
        ref = clip.media_reference
        assert isinstance(ref, otio.schema.ExternalReference)
        assert url_path(ref.target_url) == (folder / take.media).resolve()
        assert url_path(ref.target_url).is_file()
        assert ref.available_range.start_time.value == 0
        take_fps = float(take.request.fps)
        assert ref.available_range.duration.rate == take_fps
        assert ref.available_range.duration.value == take.request.frames

    # The 16 fps take: 24 timeline frames are one second, all 16 of its frames.
    e_clip = clips[4]
    assert e_clip.source_range.duration.to_seconds() == pytest.approx(24 / float(fps))


def test_otio_audio_tracks_place_clips_with_gain_and_fades(edit, tmp_path):
    project, folder = edit
    fps = project.fps
    back = otio.adapters.read_from_file(str(write_edit(project, folder, tmp_path / "c.otio")))
    tracks = back.audio_tracks()
    assert [t.name for t in tracks] == ["Music", "Effects"]
    assert [t.enabled for t in tracks] == [True, False]  # the effects track is muted
    assert plain(tracks[1].metadata["gallop"]) == {"track_id": "fx", "gain_db": 0.0, "muted": True}
    for track, studio in zip(tracks, project.timeline.audio_tracks, strict=True):
        clips = items_of(track, otio.schema.Clip)
        assert len(clips) == len(studio.clips)
        for clip, item in zip(clips, studio.clips, strict=True):
            placed = track.range_of_child(clip)
            assert frames(placed.start_time, fps) == item.start
            assert frames(placed.duration, fps) == item.duration
            assert frames(clip.source_range.start_time, fps) == item.source_in
            meta = plain(clip.metadata["gallop"])
            assert (meta["gain_db"], meta["fade_in"], meta["fade_out"]) == (
                item.gain_db,
                item.fade_in,
                item.fade_out,
            )
            assert url_path(clip.media_reference.target_url).is_file()
    music = items_of(tracks[0], otio.schema.Clip)
    assert music[0].name == "Music bed"
    # The sound's whole length, exact at its own sample rate.
    available = music[0].media_reference.available_range
    assert (available.duration.value, available.duration.rate) == (3 * 48000, 48000)
    assert items_of(tracks[1], otio.schema.Clip)[0].name == "waves.wav"


def test_to_otio_matches_the_file_written(edit, tmp_path):
    project, folder = edit
    built = to_otio(project, folder)
    back = otio.adapters.read_from_file(str(write_edit(project, folder, tmp_path / "c.otio")))
    assert otio.adapters.write_to_string(built) == otio.adapters.write_to_string(back)


# -- FCP 7 XML ----------------------------------------------------------------------------


def test_fcp_xml_is_written_and_reads_back(edit, tmp_path):
    project, folder = edit
    fps = project.fps
    path = write_edit(project, folder, tmp_path / "cut.xml")
    text = path.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>')
    back = otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")
    expected = video(to_otio(project, folder))
    track = video(back)
    assert frames(track.duration(), fps) == project.timeline.duration
    clips = items_of(track, otio.schema.Clip)
    assert [c.name for c in clips] == [c.name for c in items_of(expected, otio.schema.Clip)]
    assert [frames(c.duration(), fps) for c in clips] == [17, 18, 16, 16, 24, 10]
    assert [frames(track.range_of_child(c).start_time, fps) for c in clips] == [
        0,
        17,
        38,
        54,
        70,
        94,
    ]
    # The dip to white leaves a clip that uses its whole take: no frames for the editor's
    # dissolve, so it is a cut there.
    transitions = items_of(track, otio.schema.Transition)
    assert [(t.name, frames(t.in_offset, fps), frames(t.out_offset, fps)) for t in transitions] == [
        ("Cross Dissolve", 2, 3),
        ("Dip to Color Dissolve", 2, 2),
    ]
    assert text.count("<parameterid>dipcolor</parameterid>") == 1
    assert "<effectcategory>Dissolve</effectcategory>" in text
    for clip in clips:
        assert url_path(clip.media_reference.target_url).is_file()
    audio = back.audio_tracks()
    assert len(audio) == 2
    assert [c.name for c in items_of(audio[0], otio.schema.Clip)] == ["Music bed", "Music bed"]
    assert frames(items_of(audio[1], otio.schema.Clip)[0].duration(), fps) == 20


def test_fcp_xml_gives_a_take_at_a_rate_without_timecode_in_timeline_frames(tmp_path):
    project = build_edit(tmp_path, Fraction(24))
    text = write_edit(project, tmp_path, tmp_path / "cut.xml").read_text(encoding="utf-8")
    # 16 fps has no SMPTE timecode: the take is described as 24 frames at 24 fps.
    assert "<timebase>16</timebase>" not in text
    back = otio.adapters.read_from_file(str(tmp_path / "cut.xml"))
    e_clip = items_of(video(back), otio.schema.Clip)[4]
    assert e_clip.media_reference.available_range.duration.to_frames() == 24


# -- CMX 3600 EDL -------------------------------------------------------------------------


def test_edl_is_written_and_reads_back(edit, tmp_path):
    project, folder = edit
    fps = project.fps
    path = write_edit(project, folder, tmp_path / "cut.edl")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("TITLE: Lighthouse")
    for shot_id in "abcde":
        reel = project.shot(shot_id).selected_take[:8].upper()
        assert f"  {reel} V" in text
    back = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=float(fps))
    assert len(back.tracks) == 1  # an EDL holds the video track only
    track = video(back)
    assert frames(track.duration(), fps) == project.timeline.duration
    clips = items_of(track, otio.schema.Clip)
    assert [c.name for c in clips] == ["Shot A", "Shot B", "Shot C", "Shot D", "Shot E", "Shot A"]
    # An EDL dissolve starts at the cut: the outgoing clip ends where it begins.
    assert [frames(c.duration(), fps) for c in clips] == [15, 20, 14, 18, 24, 10]
    starts = [frames(track.range_of_child(c).start_time, fps) for c in clips]
    assert starts == [0, 15, 38, 52, 70, 94]
    dissolves = items_of(track, otio.schema.Transition)
    assert [d.transition_type for d in dissolves] == ["SMPTE_Dissolve"] * 2
    assert [frames(d.out_offset, fps) for d in dissolves] == [5, 4]
    assert [c.metadata["cmx_3600"]["reel"] for c in clips[:2]] == [
        project.shot(s).selected_take[:8].upper() for s in "ab"
    ]


# -- errors and missing media -------------------------------------------------------------


def test_an_unknown_suffix_names_the_supported_formats(edit, tmp_path):
    project, folder = edit
    with pytest.raises(StudioError) as caught:
        write_edit(project, folder, tmp_path / "cut.aaf")
    message = str(caught.value)
    for suffix in (".otio", ".xml", ".edl"):
        assert suffix in message
    assert not (tmp_path / "cut.aaf").exists()


def test_a_clip_without_a_take_is_an_offline_clip_named_after_its_shot(tmp_path):
    project = Project(title="Offline", fps=Fraction(24), width=SIZE, height=SIZE)
    add_shot(project, tmp_path, "a")
    add_shot(project, tmp_path, "b", take=False)
    gone = add_shot(project, tmp_path, "c")
    (tmp_path / gone.current_take.media).unlink()
    project.timeline = Timeline(
        Fraction(24),
        (
            Clip("c1", "a", None, 0, 20),
            Clip("c2", "b", None, 0, 12, cross(4)),
            Clip("c3", "c", None, 0, 10),
        ),
    )
    built = video(to_otio(project, tmp_path))
    clips = items_of(built, otio.schema.Clip)
    assert [type(c.media_reference).__name__ for c in clips] == [
        "ExternalReference",
        "MissingReference",
        "MissingReference",
    ]
    offline = plain(clips[1].metadata["gallop"])
    assert offline["shot_title"] == "Shot B" and offline["take_id"] is None
    assert "has no take yet" in offline["missing"]
    assert plain(clips[1].media_reference.metadata["gallop"]) == {"shot_title": "Shot B"}
    lost = plain(clips[2].metadata["gallop"])
    assert lost["take_id"] == gone.selected_take and "missing" in lost["missing"]
    assert lost["manifest"] == gone.current_take.request.to_dict()
    assert built.duration().to_frames() == project.timeline.duration

    xml = otio.adapters.read_from_file(str(write_edit(project, tmp_path, tmp_path / "o.xml")))
    assert [c.name for c in items_of(video(xml), otio.schema.Clip)] == [
        "Shot A",
        "Shot B",
        "Shot C",
    ]
    assert video(xml).duration().to_frames() == project.timeline.duration

    edl_path = write_edit(project, tmp_path, tmp_path / "o.edl")
    assert "003  AX       V" in edl_path.read_text(encoding="utf-8")
    edl = otio.adapters.read_from_file(str(edl_path), rate=24)
    assert [c.name for c in items_of(video(edl), otio.schema.Clip)] == [
        "Shot A",
        "Shot B",
        "Shot C",
    ]
    assert video(edl).duration().to_frames() == project.timeline.duration


def test_a_rate_without_timecode_is_refused_for_xml_and_edl_only(tmp_path):
    project = Project(title="Wan", fps=Fraction(16), width=SIZE, height=SIZE)
    add_shot(project, tmp_path, "a", frames=16)
    project.timeline = Timeline(Fraction(16), (Clip("c1", "a", None, 0, 16),))
    for name in ("cut.xml", "cut.edl"):
        with pytest.raises(StudioError, match="timecode frame rate"):
            write_edit(project, tmp_path, tmp_path / name)
        assert not (tmp_path / name).exists()
    back = otio.adapters.read_from_file(str(write_edit(project, tmp_path, tmp_path / "c.otio")))
    assert video(back).duration().to_frames() == 16


def test_writing_replaces_the_file_whole_and_reports_an_unwritable_place(tmp_path):
    project = Project(title="Short", width=SIZE, height=SIZE)
    add_shot(project, tmp_path, "a", frames=6)
    project.timeline = Timeline(Fraction(24), (Clip("c1", "a", None, 0, 6),))
    path = tmp_path / "cut.otio"
    path.write_text("old", encoding="utf-8")
    assert write_edit(project, tmp_path, path) == path
    assert json.loads(path.read_text(encoding="utf-8"))["OTIO_SCHEMA"].startswith("Timeline")
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []
    with pytest.raises(StudioError, match="cannot write cut.edl"):
        write_edit(project, tmp_path, tmp_path / "no such folder" / "cut.edl")


def test_an_edl_of_an_empty_timeline_is_refused(tmp_path):
    project = Project(title="Empty")
    with pytest.raises(StudioError, match="no clips"):
        write_edit(project, tmp_path, tmp_path / "cut.edl")
