"""A realistic screenplay planned into a storyboard: titles, light, the cast and their
descriptions, dialogue, title cards, transitions and camera directions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from studio.camera.rig import CameraRig, preset
from studio.project.model import Character, Dialogue, Project, shot_from_dict, shot_to_dict
from studio.script.direction import aerial_rig
from studio.script.fountain import ScriptError, parse
from studio.script.plan import (
    MAX_SPEECH_SECONDS,
    MIN_SECONDS,
    TITLE_CARD_MODEL,
    Storyboard,
    plan_storyboard,
    setting_phrase,
    speech_seconds,
)
from studio.timeline.timeline import TransitionKind
from tests.studio.script.test_fountain import _FOUNTAINISH

COASTGUARD = Path(__file__).resolve().parents[2] / "data" / "coastguard.fountain"


@pytest.fixture
def project() -> Project:
    return Project(default_model="wan-2.1-t2v-1.3b")


@pytest.fixture
def board(project) -> Storyboard:
    return plan_storyboard(parse(COASTGUARD.read_bytes()), project)


def shot(board: Storyboard, title: str):
    return next(s for s in board.shots if s.title.startswith(title))


def names(project: Project, ids: list[str]) -> list[str]:
    return [project.character(i).name for i in ids]


def test_titles_carry_no_number_for_the_card_to_repeat(board):
    titles = [s.title for s in board.shots]
    assert titles[:3] == [
        "Cliff Top",
        "Cliff Top: Wind tears at the gorse. A …",
        "Cliff Top: Mara, a young coastguard in a …",
    ]
    assert not [t for t in titles if t[:1].isdigit()]


def test_time_of_day_becomes_light_and_continuity_words_are_dropped(board):
    prompts = [s.prompt for s in board.shots]
    assert shot(board, "Cliff Top").prompt == "Wide shot. Exterior, Cliff Top, at night, low light."
    # CONTINUOUS and MOMENTS LATER keep the night of the scene before, and never show.
    assert shot(board, "Cliff Path").prompt == (
        "Wide shot. Exterior, Cliff Path, at night, low light."
    )
    assert shot(board, "Coastguard Hut").prompt.endswith("Coastguard Hut, at night, low light.")
    assert shot(board, "Open Sea").prompt.endswith("Open Sea, at dawn, cold first light.")
    assert shot(board, "Harbour Cafe").prompt == "Wide shot. Interior, Harbour Cafe, daylight."
    for word in ("CONTINUOUS", "continuous", "MOMENTS", "moments later", "NIGHT", "DAWN"):
        assert not [p for p in prompts if word in p]


@pytest.mark.parametrize(
    ("heading", "phrase"),
    [
        ("EXT. BEACH - NIGHT", "Exterior, Beach, at night, low light"),
        ("INT. HOUSE - KITCHEN - LATER", "Interior, House - Kitchen"),
        ("INT. HOUSE - KITCHEN - SAME", "Interior, House - Kitchen"),
        ("EXT. PIER - LATER THAT NIGHT", "Exterior, Pier, at night, low light"),
        ("EXT. FIELD - DAY - CONTINUOUS", "Exterior, Field, daylight"),
        ("INT. BARN - MAGIC HOUR", "Interior, Barn, golden hour light"),
        ("INT./EXT. CAR - MOVING", "Interior and exterior, Car, moving"),
    ],
)
def test_setting_phrases(heading, phrase):
    element = parse(f"{heading}\n\nAction.").elements[0]
    assert setting_phrase(element) == phrase


def test_continuity_inherits_the_light_of_the_scene_before():
    board = plan_storyboard(parse("EXT. A - DUSK\n\nGo.\n\nEXT. B - LATER\n\nStop."), Project())
    assert board.shots[2].prompt == "Wide shot. Exterior, B, at dusk, fading light."


def test_an_introduction_describes_the_character_in_the_bible(board, project):
    cast = {c.name: c.description for c in project.characters}
    assert cast["Mara"] == "a young coastguard in a red jacket"
    assert cast["Owen"] == "grey beard and oilskins, aged 60s"
    assert list(cast) == ["Mara", "Owen", "Radio"]  # first appearance first


def test_an_introduction_never_overwrites_a_bible_description():
    project = Project(characters=[Character(id="c-mara", name="Mara", description="captain")])
    plan_storyboard(parse(COASTGUARD.read_bytes()), project)
    assert project.character("c-mara").description == "captain"
    assert [c.name for c in project.characters].count("Mara") == 1


def test_characters_named_in_the_action_are_linked_to_the_shot(board, project):
    assert names(project, shot(board, "Cliff Path: Owen").characters) == ["Owen", "Mara"]
    assert names(project, shot(board, "Harbour Cafe: Mara and Owen").characters) == [
        "Mara",
        "Owen",
    ]
    # A point of view is the character's own: Mara is named, so she is listed.
    assert names(project, shot(board, "Open Sea: A child").characters) == ["Mara"]
    # The action says it in names, not in capitals.
    assert shot(board, "Cliff Path: Owen").prompt == (
        "Tracking shot. Exterior, Cliff Path, at night, low light. Owen (60s), grey beard "
        "and oilskins, as he stumbles down the path after Mara."
    )


def test_dialogue_is_kept_on_the_shot_it_is_heard_over(board, project):
    edge = shot(board, "Cliff Top: Mara")
    assert edge.dialogue == (
        Dialogue("Mara", "There. A flare, two miles out.", "breathless"),
        Dialogue("Owen", "Mara! Wait for me!", extension="O.S."),
    )
    assert names(project, edge.characters) == ["Mara"]  # Owen is off screen
    radio = shot(board, "Coastguard Hut: The radio")
    assert [(d.speaker, d.parenthetical, d.extension) for d in radio.dialogue] == [
        ("Mara", "into the radio", ""),
        ("Radio", "", "V.O."),
    ]
    assert "Radio" not in names(project, radio.characters)


def test_dialogue_sets_the_length_of_its_shot(board):
    radio = shot(board, "Coastguard Hut: The radio")
    words = 10 + 5
    assert radio.duration == pytest.approx(words / 2.75 + 2 * 0.5, abs=0.01)
    assert radio.duration > 0.06 * len("CLOSE ON the radio. Static hisses.")
    # Short lines never shorten what the action needs.
    edge = shot(board, "Cliff Top: Mara")
    action = "MARA, a young coastguard in a red jacket, runs to the edge and raises her binoculars."
    assert edge.duration == pytest.approx(0.06 * len(action), abs=0.01)


def test_a_long_speech_is_capped_and_the_notes_say_so():
    speech = "We hold the line until the boats are home. " * 20
    board = plan_storyboard(parse(f"INT. HALL - DAY\n\nKEEPER\n{speech}"), Project())
    planned = board.shots[0]
    assert speech_seconds(planned.dialogue) > MAX_SPEECH_SECONDS
    assert planned.duration == MAX_SPEECH_SECONDS
    assert "split it" in planned.notes


def test_lyrics_are_sung_dialogue():
    board = plan_storyboard(parse("INT. PUB - NIGHT\n\nNELL\n~Oh the sea\n"), Project())
    assert board.shots[0].dialogue == (Dialogue("Nell", "Oh the sea", "singing"),)


def test_centred_text_becomes_a_title_card_shot(board):
    cards = [s for s in board.shots if "Title card" in s.notes]
    assert [(c.title, c.prompt) for c in cards] == [
        ("Three Days Later", "THREE DAYS LATER"),
        ("The End", "THE END"),
    ]
    assert all(c.model_id == TITLE_CARD_MODEL for c in cards)
    assert all(c.camera == CameraRig() and not c.characters for c in cards)
    others = [s for s in board.shots if s not in cards]
    assert {s.model_id for s in others} == {"wan-2.1-t2v-1.3b"}


def test_transitions_stand_between_the_shots_they_join(board):
    found = [(board.shots[c.into].title, c.kind, c.text) for c in board.transitions]
    assert found == [
        ("Coastguard Hut", TransitionKind.CROSSFADE, "DISSOLVE TO:"),
        ("Open Sea", TransitionKind.CUT, "SMASH CUT TO:"),
        ("Three Days Later", TransitionKind.DIP_BLACK, "FADE OUT."),
        ("The End", TransitionKind.CUT, "CUT TO:"),
    ]
    dissolve = board.transitions[0].transition(24)
    assert (dissolve.kind, dissolve.frames) == (TransitionKind.CROSSFADE, 12)
    fade = board.transitions[2].transition(25)
    assert (fade.kind, fade.frames) == (TransitionKind.DIP_BLACK, 25)
    assert board.transitions[1].transition(24).frames == 0
    assert "Transition in: FADE IN:" in board.shots[0].notes


def test_a_fade_out_with_nothing_after_it_is_noted():
    board = plan_storyboard(parse("EXT. SEA - DAY\n\nWaves.\n\nFADE OUT."), Project())
    assert board.transitions == []
    assert "Transition out: FADE OUT." in board.shots[-1].notes


def test_a_cut_then_a_dissolve_is_one_dissolve():
    text = "EXT. A - DAY\n\nGo.\n\nCUT TO:\n\nDISSOLVE TO:\n\nEXT. B - DAY\n\nStop."
    board = plan_storyboard(parse(text), Project())
    assert [(c.into, c.kind) for c in board.transitions] == [(2, TransitionKind.CROSSFADE)]


def test_camera_directions_set_the_rig_and_the_framing(board):
    radio = shot(board, "Coastguard Hut: The radio")
    assert radio.prompt.startswith("Close-up. Interior, Coastguard Hut")
    assert radio.camera == preset("dolly_in", 0.3)
    insert = shot(board, "Coastguard Hut: The logbook")
    assert insert.prompt.startswith("Insert close-up.") and insert.prompt.endswith("The logbook.")
    aerial = shot(board, "Open Sea: The lifeboat")
    assert aerial.prompt.startswith("Aerial shot, high angle looking down.")
    assert aerial.camera == aerial_rig() and aerial.camera.pedestal and aerial.camera.tilt
    assert aerial.camera.tilt[-1].value < 0  # looks down
    pov = shot(board, "Open Sea: A child")
    assert pov.prompt.startswith("Point of view shot from Mara.")
    assert pov.camera == preset("handheld")
    push = shot(board, "Open Sea: We push in")
    assert push.camera == preset("dolly_in")
    assert "PUSH IN" not in push.prompt
    tracking = shot(board, "Cliff Path: Owen")
    assert tracking.camera.truck and tracking.camera.truck[-1].value == 1.0
    assert "Camera: truck right" in tracking.notes
    jargon = ("CLOSE ON", "POV", "INSERT", "AERIAL", "TRACKING")
    assert not [s.prompt for s in board.shots for word in jargon if word in s.prompt]


@settings(max_examples=200, deadline=None)
@given(_FOUNTAINISH)
def test_any_screenplay_plans_into_valid_shots(text):
    try:
        screenplay = parse(text)
    except ScriptError:
        return
    project = Project()
    board = plan_storyboard(screenplay, project)
    ids = {c.id for c in project.characters}
    for planned in board.shots:
        assert MIN_SECONDS <= planned.duration <= MAX_SPEECH_SECONDS
        assert set(planned.characters) <= ids
        assert not re.match(r"^\d+\.", planned.title)
        assert all(d.speaker.strip() and d.line.strip() for d in planned.dialogue)
        shot_from_dict(shot_to_dict(planned), "$")  # what the project file would read back
    assert all(0 < c.into < len(board.shots) for c in board.transitions)


def test_a_camera_line_over_the_action_frames_it():
    project = Project()
    text = "INT. HUT - NIGHT\n\nMARA (30s) waits.\n\nCLOSE ON MARA\nShe grits her teeth."
    board = plan_storyboard(parse(text), project)
    close = board.shots[-1]
    assert close.prompt == (
        "Close-up. Interior, Hut, at night, low light. Mara. She grits her teeth."
    )
    assert close.camera == preset("dolly_in", 0.3)
    assert names(project, close.characters) == ["Mara"]
