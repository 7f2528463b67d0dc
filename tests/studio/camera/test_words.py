"""Camera words: each model family's prompt guide says the same move in its own words."""

from __future__ import annotations

import pytest

from studio.camera.rig import (
    CameraRig,
    Keyframe,
    Shake,
    describe,
    preset,
    with_axis,
    with_camera_words,
    with_move,
)
from studio.camera.words import VOCABULARIES, Move, join_prompt, phrase, vocabulary

FAMILIES = ("wan", "ltx", "hunyuan", "cogvideox")

# One preset each, at 5 s (an ordinary speed), in every family's words.
SINGLE_MOVES = {
    "static": {
        "wan": "fixed camera",
        "ltx": "The camera remains stationary.",
        "hunyuan": "The camera remains static.",
        "cogvideox": "The camera remains still.",
    },
    "pan_left": {
        "wan": "camera pans left",
        "ltx": "The camera pans to the left.",
        "hunyuan": "The camera pans to the left.",
        "cogvideox": "The camera pans to the left.",
    },
    "pan_right": {
        "wan": "camera pans right",
        "ltx": "The camera pans to the right.",
        "hunyuan": "The camera pans to the right.",
        "cogvideox": "The camera pans to the right.",
    },
    "tilt_up": {
        "wan": "camera tilts up",
        "ltx": "The camera tilts up.",
        "hunyuan": "The camera tilts up.",
        "cogvideox": "The camera tilts up.",
    },
    "tilt_down": {
        "wan": "camera tilts down",
        "ltx": "The camera tilts down.",
        "hunyuan": "The camera tilts down.",
        "cogvideox": "The camera tilts down.",
    },
    "dolly_in": {
        "wan": "camera pushes in",
        "ltx": "The camera dollies in.",
        "hunyuan": "The camera moves forward.",
        "cogvideox": "The camera dollies in.",
    },
    "dolly_out": {
        "wan": "camera pulls out",
        "ltx": "The camera dollies out.",
        "hunyuan": "The camera moves back.",
        "cogvideox": "The camera dollies out.",
    },
    "zoom_in": {
        "wan": "camera zooms in",
        "ltx": "The camera zooms in.",
        "hunyuan": "The camera zooms in.",
        "cogvideox": "The camera zooms in.",
    },
    "zoom_out": {
        "wan": "camera zooms out",
        "ltx": "The camera zooms out.",
        "hunyuan": "The camera zooms out.",
        "cogvideox": "The camera zooms out.",
    },
    "orbit_left": {
        "wan": "camera orbits left around the subject",
        "ltx": "The camera orbits to the left around the subject.",
        "hunyuan": "The camera circles to the left around the subject.",
        "cogvideox": "The camera orbits to the left around the subject.",
    },
    "orbit_right": {
        "wan": "camera orbits right around the subject",
        "ltx": "The camera orbits to the right around the subject.",
        "hunyuan": "The camera circles to the right around the subject.",
        "cogvideox": "The camera orbits to the right around the subject.",
    },
    "crane_up": {
        "wan": "camera moves up",
        "ltx": "The camera moves up.",
        "hunyuan": "The camera moves upward.",
        "cogvideox": "The camera cranes up.",
    },
    "whip_pan": {
        "wan": "whip pan right",
        "ltx": "The camera whip pans to the right.",
        "hunyuan": "The camera swiftly pans to the right.",
        "cogvideox": "The camera whip pans to the right.",
    },
    "handheld": {
        "wan": "handheld camera",
        "ltx": "The camera is handheld.",
        "hunyuan": "The camera is handheld.",
        "cogvideox": "The camera is handheld.",
    },
}


@pytest.mark.parametrize("name", list(SINGLE_MOVES))
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_says_each_move_in_its_words(name: str, family: str) -> None:
    assert describe(preset(name), 5.0, family) == SINGLE_MOVES[name][family]


def test_truck_is_a_tracking_shot_for_wan_and_moves_across_for_ltx() -> None:
    right = with_move(CameraRig(), "truck", 0.0, 1.0)
    left = with_move(CameraRig(), "truck", 0.0, -1.0)
    assert describe(right, 5.0, "wan") == "tracking shot, camera moves right"
    assert describe(left, 5.0, "ltx") == "The camera moves from right to left."
    assert describe(right, 5.0, "ltx") == "The camera moves from left to right."
    assert describe(left, 5.0, "hunyuan") == "The camera moves to the left."
    assert describe(right, 5.0, "cogvideox") == "The camera trucks to the right."


def test_speed_becomes_an_adverb_in_each_family() -> None:
    slow, fast = preset("dolly_in", 0.3), preset("dolly_in")
    assert describe(slow, None) == "slow dolly in"
    assert describe(slow, None, "wan") == "camera slowly pushes in"
    assert describe(slow, None, "ltx") == "The camera slowly dollies in."
    assert describe(slow, None, "hunyuan") == "The camera slowly moves forward."
    assert describe(fast, 1.0, "wan") == "camera quickly pushes in"
    assert describe(fast, 1.0, "cogvideox") == "The camera quickly dollies in."


def test_combinations_list_every_move_dominant_first() -> None:
    rig = with_move(with_move(preset("dolly_in"), "pan", 0.0, -10.0), "tilt", 0.0, 5.0)
    assert describe(rig, 5.0) == "dolly in while panning left and tilting up"
    assert describe(rig, 5.0, "wan") == (
        "camera pushes in, camera slowly pans left, camera slowly tilts up"
    )
    assert describe(rig, 5.0, "ltx") == (
        "The camera dollies in, slowly pans to the left and slowly tilts up."
    )
    assert describe(rig, 5.0, "hunyuan") == (
        "The camera moves forward, slowly pans to the left and slowly tilts up."
    )
    two = with_move(preset("tilt_up", 2.0), "pan", 0.0, 30.0)
    assert describe(two, 5.0, "cogvideox") == "The camera tilts up and pans to the right."


def test_a_handheld_shake_joins_the_moves() -> None:
    rig = CameraRig(shake=Shake(1.0, 1.2), dolly=preset("dolly_in").dolly)
    assert describe(rig, 5.0, "wan") == "camera pushes in, handheld camera"
    assert describe(rig, 5.0, "ltx") == "The camera dollies in. The camera is handheld."
    subtle, strong = CameraRig(shake=Shake(0.2, 1.0)), CameraRig(shake=Shake(5.0, 1.0))
    assert describe(subtle, None, "wan") == "handheld camera, slight shake"
    assert describe(strong, None, "hunyuan") == "The camera is handheld, with a strong shake."


def test_a_move_that_comes_back_says_both_ways() -> None:
    there_and_back = (Keyframe(0.0, 0.0), Keyframe(0.5, 1.0), Keyframe(1.0, 0.0))
    dolly = with_axis(CameraRig(), "dolly", there_and_back)
    crane = with_axis(CameraRig(), "pedestal", there_and_back)
    assert describe(dolly, 5.0, "wan") == "camera pushes in and out"
    assert describe(dolly, 5.0, "hunyuan") == "The camera moves back and forth."
    assert describe(crane, 5.0, "ltx") == "The camera moves up and down."
    assert describe(crane, 5.0) == "crane back and forth"


def test_a_dolly_zoom_keeps_its_name() -> None:
    assert describe(preset("dolly_zoom"), 5.0, "wan") == "dolly zoom"
    assert describe(preset("dolly_zoom"), 5.0, "ltx") == "The camera makes a dolly zoom."


@pytest.mark.parametrize("family", [None, "", "previz", "mochi"])
def test_other_families_keep_the_studio_words(family: str | None) -> None:
    assert vocabulary(family) is None
    for name in SINGLE_MOVES:
        assert describe(preset(name), 5.0, family) == describe(preset(name), 5.0)


def test_every_vocabulary_says_every_move_and_cites_its_guide() -> None:
    kinds = ("pan", "whip_pan", "tilt", "roll", "truck", "pedestal", "dolly", "zoom", "orbit")
    assert set(VOCABULARIES) == set(FAMILIES)
    for family, words in VOCABULARIES.items():
        assert set(words.moves) == {*kinds, "dolly_zoom"}, family
        for sign in (-1, 0, 1):
            for kind in kinds:
                said = phrase([Move(kind, sign, "slow")], None, family)
                assert "{" not in said and "  " not in said and said.strip() == said
        assert words.sources, family
        for source in words.sources:
            assert source.url.startswith("https://") and source.title and len(source.quote) > 20


def test_phrase_refuses_what_is_not_a_move() -> None:
    with pytest.raises(ValueError, match="unknown camera move"):
        phrase([Move("yaw")], None, "wan")
    with pytest.raises(ValueError):
        phrase([Move("pan", 2)], None)
    with pytest.raises(ValueError):
        phrase([Move("pan", 1, "brisk")], None)
    with pytest.raises(ValueError):
        phrase([], "wobbly")


def test_the_prompt_takes_the_words_the_way_the_family_reads() -> None:
    rig = preset("pan_left")
    prompt = "A lighthouse on a rock in a storm."
    assert with_camera_words(prompt, rig, 5.0) == "A lighthouse on a rock in a storm, pan left"
    assert with_camera_words(prompt, rig, 5.0, "wan") == (
        "A lighthouse on a rock in a storm, camera pans left"
    )
    assert with_camera_words(prompt, rig, 5.0, "ltx") == (
        "A lighthouse on a rock in a storm. The camera pans to the left."
    )
    assert with_camera_words("", rig, 5.0, "hunyuan") == "The camera pans to the left."
    # A static camera adds nothing: the prompt may say what the camera does.
    assert with_camera_words(prompt, CameraRig(), 5.0, "wan") == prompt
    # Joining twice adds the words once.
    once = with_camera_words(prompt, rig, 5.0, "ltx")
    assert with_camera_words(once, rig, 5.0, "ltx") == once
    assert join_prompt("a boat", "", "wan") == "a boat"
