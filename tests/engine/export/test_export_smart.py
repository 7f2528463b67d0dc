"""Smart render: takes that match the export are copied packet for packet, and only then.

The takes show a moving pattern, so that their packets carry real pictures and a copied
packet cannot equal a new one by chance.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.export.presets import annexb_to_avcc, parameter_sets
from engine.media.sequence import SequenceFrames
from engine.media.video import probe, read_frames
from studio.project.model import Project
from studio.timeline.timeline import Gap, Timeline
from tests.engine.export.export_helpers import (
    FFPROBE,
    H,
    W,
    add_bed,
    add_shot,
    cut,
    decodes_cleanly,
    fade,
    ffprobe_json,
    run,
    video_packets,
)


@pytest.fixture
def project() -> Project:
    return Project(title="Export", width=W, height=H)


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# -- smart render ---------------------------------------------------------------------------


def smart_project(project, folder):
    for name in "abc":
        add_shot(project, folder, name, frames=30, moving=True)
    project.timeline = Timeline(
        Fraction(24),
        (cut("c1", "a", 0, 30), cut("c2", "b", 6, 30), cut("c3", "c", 0, 24, fade(6))),
    )


def test_matching_takes_are_copied_packet_for_packet(project, tmp_path, out):
    smart_project(project, tmp_path)
    add_bed(project, tmp_path, 72)
    result = run(project, tmp_path, out / "f.mp4")
    # c1 is whole GOPs; c2's body starts mid-GOP (6) and c3 follows a crossfade: their
    # first frames up to a keyframe, and the fade, are encoded.
    assert result.frames == 72 and result.copied_frames == 30 + 12 + 12
    assert (result.copied_segments, result.encoded_segments) == (3, 3)
    got = video_packets(result.path)
    takes = {n: video_packets(tmp_path / f"takes/{n}.mp4") for n in "abc"}
    assert len(got) == 72
    assert all(got[i] == takes["a"][i] for i in range(30))
    assert all(got[36 + i] == takes["b"][12 + i] for i in range(12))
    assert all(got[60 + i] == takes["c"][12 + i] for i in range(12))
    assert all(got[i] not in (takes["b"][i - 24], takes["c"][i - 48]) for i in range(48, 54))
    decodes_cleanly(result.path)
    # Copied frames decode to the takes' own pictures; encoded ones to the composed edit.
    frames = read_frames(result.path)
    assert np.array_equal(frames[:30], read_frames(tmp_path / "takes/a.mp4"))
    with SequenceFrames(project, tmp_path) as seq:
        for i in (30, 35, 50, 54, 59):
            diffs = [np.abs(frames[i].astype(int) - seq.frame(j)).mean() for j in (i - 1, i, i + 1)]
            assert diffs[1] < 5 and diffs[1] < min(diffs[0], diffs[2]) / 2, (i, diffs)
    assert probe(result.path).audio_codec == "aac"
    if FFPROBE:
        video = ffprobe_json(result.path)["streams"][0]
        assert (video["codec_name"], video["profile"], video["pix_fmt"]) == (
            "h264",
            "High",
            "yuv420p",
        )
        assert video["r_frame_rate"] == video["avg_frame_rate"] == "24/1"
        assert int(video["nb_frames"]) == 72 and float(video["duration"]) == 3.0


def test_copies_join_new_pictures_and_other_takes_cleanly(project, tmp_path, out):
    for name in "ab":
        add_shot(project, tmp_path, name, frames=30, moving=True)
    project.timeline = Timeline(
        Fraction(24), (Gap("g", 5), cut("c1", "a", 0, 30), cut("c2", "b", 0, 30))
    )
    result = run(project, tmp_path, out / "f.mp4")
    assert result.frames == 65 and result.copied_frames == 60  # only the black gap is new
    got = video_packets(result.path)
    takes = {n: video_packets(tmp_path / f"takes/{n}.mp4") for n in "ab"}
    assert [got[5 + i] for i in range(30)] == [takes["a"][i] for i in range(30)]
    assert [got[35 + i] for i in range(30)] == [takes["b"][i] for i in range(30)]
    frames = read_frames(result.path)
    assert frames[:5].max() < 20  # black
    assert np.array_equal(frames[35:], read_frames(tmp_path / "takes/b.mp4"))
    decodes_cleanly(result.path)


def test_the_new_pictures_share_the_takes_parameter_sets(project, tmp_path, out):
    smart_project(project, tmp_path)
    result = run(project, tmp_path, out / "f.mp4")
    with av.open(str(result.path)) as film, av.open(str(tmp_path / "takes/b.mp4")) as take:
        ours = parameter_sets(film.streams.video[0].codec_context.extradata)
        theirs = parameter_sets(take.streams.video[0].codec_context.extradata)
    assert ours == theirs and ours is not None
    assert annexb_to_avcc(b"\x00\x00\x00\x01\x67\x01\x00\x00\x01\x68\x02") == (
        b"\x00\x00\x00\x02\x67\x01\x00\x00\x00\x02\x68\x02"
    )


@pytest.mark.parametrize(
    "options",
    [
        {"crf": 20},  # a quality was asked for: the takes' settings are not adopted
        {"smart_render": False},
        {"width": 64, "height": 36},  # the takes are scaled
        {"fps": Fraction(25)},  # the edit is retimed
        {"preset": "hevc"},
    ],
    ids=["crf", "off", "scaled", "retimed", "hevc"],
)
def test_nothing_is_copied_when_it_must_not_be(project, tmp_path, out, options):
    smart_project(project, tmp_path)
    preset = options.pop("preset", "web")
    result = run(project, tmp_path, out / "f.mp4", preset, **options)
    assert result.copied_frames == 0 and result.copied_segments == 0
    got = video_packets(result.path)
    take = video_packets(tmp_path / "takes/a.mp4")
    assert not set(got.values()) & set(take.values())
    assert len(read_frames(result.path)) == result.frames


def test_takes_from_other_encoder_settings_are_encoded(project, tmp_path, out):
    add_shot(project, tmp_path, "a", frames=24, moving=True, crf=30, preset="ultrafast")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 24),))
    result = run(project, tmp_path, out / "f.mp4")
    assert result.copied_frames == 0 and result.encoded_segments == 1
