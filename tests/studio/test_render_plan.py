"""The pure planner: a shot, its project and a model's rules give one request, with the
files it names seen only through the resolver."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.camera.rig import describe, preset
from studio.jobs import CameraMode, Profile
from studio.project.model import Character, Project, Take
from studio.render_plan import (
    ModelRules,
    PlanError,
    bible_prompt,
    model_prompt,
    plan_shot,
    request_changes,
)
from studio.segments import plan_segments

WAN = ModelRules(
    id="wan",
    name="Wan",
    backend="diffusers",
    fps=Fraction(16),
    frame_multiple=4,
    size_multiple=16,
    max_frames=81,
    steps=30,
    guidance=5.0,
    extends=frozenset({CameraMode.PROMPT, CameraMode.KEYFRAME}),
)
PREVIZ = ModelRules(id="previz", name="Previz", backend="previz", fps=Fraction(24), size_multiple=2)


class Files:
    """Hashes named by the test; remembers what was asked."""

    def __init__(self, **hashes: str) -> None:
        self.hashes = hashes
        self.asked: list[str] = []

    def file_hash(self, relative_path: str) -> str:
        self.asked.append(relative_path)
        return self.hashes[relative_path]

    def continuity_source(self, take: Take) -> str:
        self.asked.append(take.media)
        return take.id


def project(**shot_fields) -> Project:
    p = Project(fps=Fraction(24), width=100, height=70)
    p.shots = [
        p.new_shot(id="a", prompt="first", duration=1.0),
        p.new_shot(**{"id": "b", "prompt": "second.", "duration": 1.0, **shot_fields}),
    ]
    return p


def test_size_and_frames_snap_to_the_rules_with_notes():
    p = project()
    plan = plan_shot(p, p.shots[0], WAN, Files())
    r = plan.request
    assert (r.width, r.height, r.frames, r.fps) == (96, 64, 17, 16)
    assert (r.model_id, r.backend, r.steps, r.guidance) == ("wan", "diffusers", 30, 5.0)
    assert "size 100x70 -> 96x64 for Wan" in plan.notes
    assert "16 frames -> 17 (4n+1 rule of Wan)" in plan.notes
    previz = plan_shot(p, p.shots[0], PREVIZ, Files()).request
    assert (previz.frames, previz.fps, previz.steps) == (24, 24, None)


def test_a_long_shot_extends_where_the_model_can_and_stops_where_it_cannot():
    p = project(duration=10.0)
    shot = p.shots[1]
    plan = plan_shot(p, shot, WAN, Files())
    assert plan.request.frames == 160
    count = len(plan_segments(160, 81, 4))
    assert f"rendered as {count} overlapping segments" in plan.notes[-1]
    shot.camera_mode = CameraMode.GUIDED  # not in WAN.extends
    clamped = plan_shot(p, shot, WAN, Files())
    assert clamped.request.frames == 81
    assert "Wan cannot continue a clip, so the shot stops at 81" in clamped.notes


def test_files_come_from_the_resolver_and_land_in_the_request():
    p = project(keyframe="media/key.png", references=["media/r1.png", "media/r2.png"])
    files = Files(**{"media/key.png": "k", "media/r1.png": "r1", "media/r2.png": "r2"})
    plan = plan_shot(p, p.shots[1], WAN, files)
    assert plan.request.keyframe_hash == "k"
    assert plan.request.reference_hashes == ("r1", "r2")
    assert plan.keyframe == "media/key.png"
    assert files.asked == ["media/key.png", "media/r1.png", "media/r2.png"]
    other = Files(**{"media/key.png": "k2", "media/r1.png": "r1", "media/r2.png": "r2"})
    assert plan_shot(p, p.shots[1], WAN, other).request.hash != plan.request.hash


def test_a_character_picture_starts_an_unchained_shot_and_the_bible_joins_the_prompt():
    p = project(characters=["c"])
    p.characters = [Character(id="c", name="Ana", description="a keeper", references=["c.png"])]
    plan = plan_shot(p, p.shots[1], WAN, Files(**{"c.png": "c"}))
    assert plan.keyframe == "c.png" and plan.request.keyframe_hash == "c"
    assert plan.request.prompt == bible_prompt(p, p.shots[1]) == "second. Ana: a keeper"


@pytest.mark.parametrize(
    ("family", "said"),
    [
        ("wan", "second, camera pans left"),
        ("ltx", "second. The camera pans to the left."),
        ("hunyuan", "second. The camera pans to the left."),
        ("cogvideox", "second. The camera pans to the left."),
        ("", "second, pan left"),  # a family with no vocabulary: the studio's own words
    ],
)
def test_a_diffusion_prompt_ends_with_the_camera_in_its_family_words(family, said):
    p = project(camera=preset("pan_left"), duration=5.0)
    shot = p.shots[1]
    rules = replace(WAN, family=family)
    request = plan_shot(p, shot, rules, Files()).request
    assert request.prompt == said == model_prompt(p, shot, rules)
    assert describe(shot.camera, float(request.duration_seconds), family) in request.prompt
    # The words are part of what the take is: another family is another request.
    other = replace(WAN, family="ltx" if family == "wan" else "wan")
    assert plan_shot(p, shot, other, Files()).request.hash != request.hash


def test_the_previz_and_a_static_camera_read_no_camera_words():
    p = project(camera=preset("dolly_in"))
    shot = p.shots[1]
    assert plan_shot(p, shot, PREVIZ, Files()).request.prompt == "second"
    assert model_prompt(p, shot, replace(PREVIZ, family="previz")) == bible_prompt(p, shot)
    still = project()
    static = plan_shot(still, still.shots[1], replace(WAN, family="wan"), Files())
    assert static.request.prompt == "second"


def test_a_chained_shot_needs_its_upstream_take_and_carries_its_id():
    p = project(continue_from_previous=True)
    with pytest.raises(PlanError, match="which has no take yet"):
        plan_shot(p, p.shots[1], WAN, Files())
    upstream = plan_shot(p, p.shots[0], WAN, Files()).request
    take = Take(upstream.hash, upstream, "takes/a.mp4", "2026-01-01T00:00:00+00:00")
    p.shots[0].takes, p.shots[0].selected_take = [take], take.id
    files = Files()
    plan = plan_shot(p, p.shots[1], WAN, files)
    assert plan.request.continuity_source == take.id and plan.continuity == take
    assert plan.request.colour_match
    assert files.asked == ["takes/a.mp4"]
    first = project()
    first.shots[0].continue_from_previous = True
    assert (
        "first shot: nothing to continue from"
        in plan_shot(first, first.shots[0], WAN, Files()).notes
    )


def test_the_profile_given_wins_over_the_shot():
    p = project()
    assert plan_shot(p, p.shots[0], WAN, Files(), Profile.FAST).request.profile == Profile.FAST


@given(
    frames=st.integers(1, 400),
    multiple=st.sampled_from([1, 4, 8]),
    limit=st.one_of(st.none(), st.integers(1, 300)),
)
def test_snapped_frames_obey_the_rule_and_the_limit(frames, multiple, limit):
    rules = ModelRules("m", "M", "diffusers", Fraction(16), multiple, 16, limit)
    got = rules.snap_frames(frames)
    assert got >= 1
    if limit is not None:
        assert got <= limit
    if multiple > 1 and (limit is None or limit > multiple):
        assert (got - 1) % multiple == 0


@given(width=st.integers(1, 4000), height=st.integers(1, 4000), m=st.sampled_from([2, 16, 32]))
def test_snapped_sizes_are_on_the_grid(width, height, m):
    w, h = ModelRules("m", "M", "previz", Fraction(24), size_multiple=m).snap_size(width, height)
    assert w % m == 0 and h % m == 0 and w >= m and h >= m
    assert abs(w - width) <= m and abs(h - height) <= m


def test_the_changes_between_a_take_and_the_plan_are_said_in_words():
    p = project(seed=5)
    shot = p.shots[0]
    take_request = plan_shot(p, shot, PREVIZ, Files()).request
    assert request_changes(take_request, take_request) == ()
    shot.prompt, shot.seed, shot.width = "a storm", 6, 200
    now = plan_shot(p, shot, PREVIZ, Files()).request
    assert request_changes(take_request, now) == (
        "prompt changed since the take",
        "seed differs (take 0, shot 6)",
        "size differs (take 100x70, now 200x70)",
    )


def test_a_chained_shot_whose_upstream_picked_another_take_says_so():
    p = project(continue_from_previous=True)
    first = Take("1" * 64, plan_shot(p, p.shots[0], PREVIZ, Files()).request, "takes/1.mp4", "")
    other = Take("2" * 64, first.request, "takes/2.mp4", "")
    p.shots[0].takes, p.shots[0].selected_take = [first, other], first.id
    before = plan_shot(p, p.shots[1], PREVIZ, Files()).request
    p.shots[0].selected_take = other.id
    after = plan_shot(p, p.shots[1], PREVIZ, Files()).request
    assert request_changes(before, after) == ("upstream shot changed",)
