import pytest

from studio.camera.rig import CameraRig, preset
from studio.project.model import Character, Project
from studio.script.direction import aerial_rig
from studio.script.fountain import ScriptError, parse
from studio.script.plan import (
    plan_prose,
    plan_shots,
    plan_storyboard,
    shot_duration,
    suggest_camera,
)
from studio.timeline.timeline import TransitionKind

SCRIPT = """\
Title: Night Shift

FADE IN:

INT. JOE'S DINER - NIGHT

Close on a coffee cup. Steam rises.

JOE (V.O.)
Another night.

MARY
(tired)
Refill?

JOE (CONT'D)
Sure.

CUT TO:

EXT. CITY - DAWN

An aerial view of the rooftops. [[drone plate]]

Wide on the empty street.

MARY (O.S.)
Joe!
"""


@pytest.fixture
def planned():
    project = Project()
    shots = plan_shots(parse(SCRIPT), project)
    return project, shots


def test_one_shot_per_heading_and_action(planned):
    _, shots = planned
    # No numbers: the storyboard numbers its cards itself.
    assert [s.title for s in shots] == [
        "Joe's Diner",
        "Joe's Diner: A coffee cup. Steam rises.",
        "City",
        "City: An aerial view of the rooftops.",
        "City: The empty street.",
    ]
    assert shots[0].prompt == "Wide shot. Interior, Joe's Diner, at night, low light."
    assert shots[1].prompt == (
        "Close-up. Interior, Joe's Diner, at night, low light. A coffee cup. Steam rises."
    )
    assert shots[3].prompt == (
        "Exterior, City, at dawn, cold first light. An aerial view of the rooftops."
    )


def test_characters_added_once_and_listed_where_they_are_seen(planned):
    project, shots = planned
    assert [c.name for c in project.characters] == ["Joe", "Mary"]
    joe, mary = (c.id for c in project.characters)
    # Joe speaks in voice-over first, then on screen (CONT'D); Mary only off screen later.
    assert shots[1].characters == [mary, joe]
    assert shots[0].characters == [] and shots[3].characters == []
    assert shots[4].characters == []
    assert [d.speaker for d in shots[4].dialogue] == ["Mary"]


def test_existing_characters_are_reused():
    project = Project(characters=[Character(id="c-mary", name="Mary", description="a waitress")])
    shots = plan_shots(parse(SCRIPT), project)
    assert [c.id for c in project.characters][0] == "c-mary"
    assert len(project.characters) == 2
    assert "c-mary" in shots[1].characters
    plan_shots(parse(SCRIPT), project)
    assert len(project.characters) == 2


def test_durations(planned):
    _, shots = planned
    assert shots[0].duration == 3.0
    # Four words in three lines: the lines take longer than the action.
    assert shots[1].duration == pytest.approx(4 / 2.75 + 3 * 0.5, abs=0.01)
    assert shots[3].duration == 2.0  # short action, clamped up
    assert shots[4].duration == 2.0  # "Joe!" is over before the action is


def test_duration_clamped():
    assert shot_duration(0) == 2.0
    assert shot_duration(10_000) == 12.0
    assert shot_duration(100) == 6.0
    assert shot_duration(0, base=3.0) == 3.0


def test_long_action_is_clamped_to_twelve_seconds():
    long = "He runs down the corridor past door after door. " * 10
    shots = plan_shots(parse(f"INT. HALL - DAY\n\n{long}"), Project())
    assert shots[1].duration == 12.0


def test_transitions_and_notes(planned):
    project, shots = planned
    assert "Transition in: FADE IN:" in shots[0].notes  # nothing before it to come from
    assert all("CUT TO:" not in s.notes for s in shots)  # a cut on the timeline instead
    assert "drone plate" in shots[3].notes
    cues = plan_storyboard(parse(SCRIPT), project).transitions
    assert [(c.into, c.kind, c.text) for c in cues] == [(2, TransitionKind.CUT, "CUT TO:")]


def test_cameras(planned):
    _, shots = planned
    assert shots[1].camera == preset("dolly_in", 0.3)
    assert shots[3].camera == aerial_rig()
    assert shots[4].camera == preset("zoom_out", 0.3)
    assert shots[0].camera == CameraRig()  # interior establishing shot holds still
    assert shots[2].camera == preset("zoom_out", 0.3)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("CLOSE ON her hands.", "dolly_in"),
        ("A close-up of the ring.", "dolly_in"),
        ("We pan left across the room.", "pan_left"),
        ("The camera pans to the window.", "pan_right"),
        ("Overhead, the crowd parts.", "crane_up_tilt_down"),
        ("A bird's-eye view of the maze.", "crane_up_tilt_down"),
        ("Aerial: the island.", "crane_up_tilt_down"),
        ("The camera follows her down the hall.", "dolly_in"),
        ("Tracking left with the car.", "truck_left"),
        ("Tracking shot, right, alongside the horse.", "truck_right"),
        ("Wide on the desert.", "zoom_out"),
        ("Establishing: the castle.", "zoom_out"),
        ("JOHN'S POV: the door opens.", "handheld"),
        ("She sits down.", "static"),
        ("He is expanding the panel.", "static"),
    ],
)
def test_suggest_camera(text, name):
    found, rig = suggest_camera(text)
    assert found == name
    assert isinstance(rig, CameraRig)
    if name.startswith("truck"):
        assert rig.truck and rig.truck[-1].value == (-1.0 if name == "truck_left" else 1.0)
    elif name == "static":
        assert rig == CameraRig()


def test_dialogue_before_any_action_and_without_heading():
    project = Project()
    shots = plan_shots(parse("Rain.\n\nANNA\nHello.\n\nBEN\nHi."), project)
    assert len(shots) == 1
    assert shots[0].prompt == "Rain."
    assert shots[0].duration == 2.0
    assert len(shots[0].characters) == 2
    only_dialogue = plan_shots(parse("ANNA\nHello."), Project())
    assert len(only_dialogue) == 1 and only_dialogue[0].prompt == "Anna speaks."


def test_emphasis_removed_from_prompts():
    shots = plan_shots(parse("EXT. SEA - DAY\n\nA *huge* **wave** _hits_."), Project())
    assert shots[1].prompt == "Exterior, Sea, daylight. A huge wave hits."


def test_shots_use_project_defaults():
    project = Project(width=1280, height=720, default_model="other")
    shots = plan_shots(parse(SCRIPT), project)
    assert all((s.width, s.height, s.model_id) == (1280, 720, "other") for s in shots)
    assert len({s.id for s in shots}) == len(shots)
    assert project.shots == []


def test_plan_prose():
    text = (
        "The sun rises over the hills.\n\n"
        "A wide view of the valley, mist everywhere.\n  \n"
        "Close on a farmer's face.\n\n\n"
    )
    shots = plan_prose(text, Project())
    assert [s.title for s in shots][:2] == [
        "The sun rises over the hills.",
        "A wide view of the valley, …",
    ]
    assert [s.prompt for s in shots] == [
        "The sun rises over the hills.",
        "A wide view of the valley, mist everywhere.",
        "Close on a farmer's face.",
    ]
    assert shots[0].camera == CameraRig()
    assert shots[1].camera == preset("zoom_out", 0.3)
    assert shots[2].camera == preset("dolly_in", 0.3)
    assert shots[0].duration == 2.0
    assert shots[1].duration == pytest.approx(0.06 * len(shots[1].prompt))


def test_plan_prose_rejects_empty_and_binary():
    with pytest.raises(ScriptError):
        plan_prose("  \n\n ", Project())
    with pytest.raises(ScriptError):
        plan_prose(b"\x00\x01\xff", Project())
