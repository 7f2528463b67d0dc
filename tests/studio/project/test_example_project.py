"""The bundled example project loads, validates and round-trips byte for byte."""

from __future__ import annotations

from pathlib import Path

from studio.camera.rig import describe, is_static
from studio.project.io import encode_project, load_project

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"


def test_example_loads_and_round_trips_unchanged():
    project = load_project(EXAMPLE)
    assert encode_project(project) == (EXAMPLE / "project.json").read_bytes()


def test_example_is_a_short_film_with_varied_moves_and_an_audio_bed():
    project = load_project(EXAMPLE)
    assert 5 <= len(project.shots) <= 6
    moves = {describe(s.camera) for s in project.shots}
    assert len(moves) == len(project.shots)
    assert not any(is_static(s.camera) for s in project.shots)
    assert [c.shot_id for c in project.timeline.clips()] == [s.id for s in project.shots]
    (track,) = project.timeline.audio_tracks
    (bed,) = track.clips
    assert (EXAMPLE / bed.media).stat().st_size > 10_000
    assert bed.duration == project.timeline.duration
    assert project.characters and project.styles
