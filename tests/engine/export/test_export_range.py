"""Exporting part of the edit (its in to out range): exactly those frames, their sound, a
request hashed with its range, and the clips outside the range left alone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.export.job import ExportError, export, export_request
from engine.media.sequence import MissingTakeError, SequenceFrames
from engine.media.video import probe, read_frames
from studio.jobs import ExportRequest
from studio.project.model import Project
from studio.timeline.timeline import Marker, Timeline
from tests.engine.export.export_helpers import (
    RATE,
    H,
    W,
    add_bed,
    add_shot,
    cut,
    decodes_cleanly,
    fade,
    index_of,
    leftovers,
    run,
    video_packets,
)


@pytest.fixture
def project() -> Project:
    return Project(title="Range", width=W, height=H)


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def two_clips(project: Project, folder: Path) -> None:
    for name in "ab":
        add_shot(project, folder, name)
    # a's take frames 0..19 on timeline 0..19, then b's 3..19 on timeline 20..36.
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 20), cut("c2", "b", 3, 20)))


def test_the_range_is_exported_frame_for_frame_with_its_sound(project, tmp_path, out):
    two_clips(project, tmp_path)
    add_bed(project, tmp_path, 37)
    result = run(project, tmp_path, out / "part.mp4", crf=10, range=(10, 30))
    assert result.frames == 20 and result.seconds == pytest.approx(20 / 24)
    info = probe(result.path)
    assert info.frames == 20 and info.audio_codec == "aac"
    with av.open(str(result.path)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert abs(samples - 20 * RATE // 24) <= 1024  # the range's sound, within an AAC frame
    shown = [index_of(frame) for frame in read_frames(result.path)]
    # Timeline frames 10..19 are a's take frames 10..19; 20..29 are b's 3..12.
    assert shown == list(range(10, 20)) + list(range(3, 13))
    decodes_cleanly(result.path)
    assert leftovers(out) == []


def test_a_range_that_starts_inside_a_crossfade_starts_with_the_blend(project, tmp_path, out):
    for name in "ab":
        add_shot(project, tmp_path, name, frames=30)
    project.timeline = Timeline(
        Fraction(24), (cut("c1", "a", 0, 24), cut("c2", "b", 0, 24, fade(8)))
    )  # the fade covers timeline frames 16..23
    result = run(project, tmp_path, out / "part.mp4", crf=5, range=(19, 30))
    frames = read_frames(result.path)
    assert len(frames) == 11
    with SequenceFrames(project, tmp_path) as seq:
        for k in range(11):
            assert np.abs(frames[k].astype(int) - seq.frame(19 + k)).mean() < 3, k


def test_a_range_at_another_rate_lasts_the_range_in_time(project, tmp_path, out):
    two_clips(project, tmp_path)
    result = run(project, tmp_path, out / "part.mp4", fps=Fraction(30), range=(4, 28))
    assert result.frames == 30  # 24 frames at 24 fps are one second: 30 frames at 30
    assert probe(result.path).frames == 30


def test_smart_render_copies_the_whole_gops_inside_the_range(project, tmp_path, out):
    add_shot(project, tmp_path, "a", frames=48, moving=True)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 48),))
    result = run(project, tmp_path, out / "part.mp4", range=(12, 36))
    assert result.frames == 24 and result.copied_frames == 24
    got, take = video_packets(result.path), video_packets(tmp_path / "takes/a.mp4")
    assert [got[i] for i in range(24)] == [take[12 + i] for i in range(24)]
    assert np.array_equal(read_frames(result.path), read_frames(tmp_path / "takes/a.mp4")[12:36])


def test_a_clip_outside_the_range_needs_no_take(project, tmp_path, out):
    add_shot(project, tmp_path, "a")
    add_shot(project, tmp_path, "b", take=False)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 20), cut("c2", "b", 0, 20)))
    with pytest.raises(MissingTakeError):
        export_request(project, tmp_path, out / "all.mp4")
    result = run(project, tmp_path, out / "part.mp4", range=(2, 18))
    assert [index_of(f) for f in read_frames(result.path)] == list(range(2, 18))


def test_the_range_is_part_of_the_request_and_its_hash(project, tmp_path, out):
    two_clips(project, tmp_path)
    whole = export_request(project, tmp_path, out / "f.mp4")
    part = export_request(project, tmp_path, out / "f.mp4", range=(10, 30))
    assert "range" not in whole.to_dict()  # requests without a range keep their hashes
    assert part.to_dict()["range"] == [10, 30] and part.hash != whole.hash
    assert ExportRequest.from_dict(part.to_dict()) == part
    # Markers and marks change nothing of the film: they stay out of the request.
    project.timeline = project.timeline.add_marker(Marker("m", 5, "Cue")).set_marks(10, 30)
    assert export_request(project, tmp_path, out / "f.mp4").hash == whole.hash


def test_a_range_outside_the_edit_is_refused(project, tmp_path, out):
    two_clips(project, tmp_path)
    with pytest.raises(ExportError, match="not a part of the edit"):
        export_request(project, tmp_path, out / "f.mp4", range=(30, 40))
    with pytest.raises(ExportError, match="not a part of the edit"):
        export_request(project, tmp_path, out / "f.mp4", range=(12, 12))
    with pytest.raises(ValueError, match="forwards"):
        ExportRequest(project.timeline, "f.mp4", range=(12, 12))
    request = export_request(project, tmp_path, out / "f.mp4", range=(0, 37))
    shorter = Timeline(Fraction(24), project.timeline.items[:1])
    bad = ExportRequest(**{**vars(request), "timeline": shorter})
    with pytest.raises(ExportError, match="ends after the edit"):
        export(project, tmp_path, bad)
    assert leftovers(out) == []
