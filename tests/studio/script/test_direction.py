"""Screen directions read from a screenplay's words: light, framing, camera, introductions."""

from __future__ import annotations

import pytest

from studio.camera.rig import CameraRig, preset
from studio.script.direction import (
    aerial_rig,
    framing,
    introductions,
    is_time_of_day,
    lighting,
    named_in,
    suggest_camera,
)


@pytest.mark.parametrize(
    ("time", "words"),
    [
        ("NIGHT", "at night, low light"),
        ("DAY", "daylight"),
        ("DAWN", "at dawn, cold first light"),
        ("LATE AFTERNOON", "afternoon daylight"),
        ("LATER THAT NIGHT", "at night, low light"),
        ("(SUNSET)", "at sunset, low golden light"),
        ("CONTINUOUS", ""),
        ("LATER", ""),
        ("MOMENTS LATER", ""),
        ("A FEW MINUTES LATER", ""),
        ("SAME", ""),
        ("CONT'D", ""),
        ("MOVING", None),
        ("1985", None),
    ],
)
def test_lighting(time, words):
    assert lighting(time) == words
    assert is_time_of_day(time) == (words is not None)


def test_daylight_inside_other_words_is_not_the_time_of_day():
    assert lighting("HOLIDAY CAMP") is None
    assert lighting("KNIGHTS HALL") is None


@pytest.mark.parametrize(
    ("text", "words", "rest"),
    [
        ("CLOSE ON the radio.", "Close-up", "the radio."),
        ("Close on a cup.", "Close-up", "a cup."),
        ("EXTREME CLOSE-UP - her eye.", "Extreme close-up", "her eye."),
        ("INSERT - THE LOGBOOK", "Insert close-up", "THE LOGBOOK"),
        ("MARA'S POV - the boat.", "Point of view shot from Mara", "the boat."),
        ("POV: the door opens.", "Point of view shot", "the door opens."),
        ("AERIAL - the bay.", "Aerial shot, high angle looking down", "the bay."),
        ("Aerial view of the town.", "Aerial shot, high angle looking down", "the town."),
        ("WIDE ON the desert.", "Wide shot", "the desert."),
        ("ANGLE ON Joe.", "Medium shot", "Joe."),
        ("TRACKING WITH Owen as he runs.", "Tracking shot", "Owen as he runs."),
        # Plain words that already say it, or no direction at all: the text stays whole.
        ("Tracking left with the car.", "", "Tracking left with the car."),
        ("A wide smile.", "", "A wide smile."),
        ("She inserts the key.", "", "She inserts the key."),
        # In capitals later on: the framing, the text unchanged.
        ("The boat rocks. CLOSE ON the flare.", "Close-up", "The boat rocks. CLOSE ON the flare."),
    ],
)
def test_framing(text, words, rest):
    assert framing(text) == (words, rest)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("TRACKING - the car.", "truck_right"),
        ("Tracking left with the car.", "truck_left"),
        ("AERIAL - the bay.", "crane_up_tilt_down"),
        ("We PUSH IN on her face.", "dolly_in"),
        ("The camera pushes in.", "dolly_in"),
        ("CLOSE ON the radio.", "dolly_in"),
        ("PULL BACK to reveal the fleet.", "dolly_out"),
        ("WIDE - the harbour.", "zoom_out"),
        ("A wide smile.", "static"),
        ("INSERT - the logbook.", "static"),
        ("The train tracks gleam.", "static"),
    ],
)
def test_camera_moves(text, name):
    assert suggest_camera(text)[0] == name


def test_camera_rigs():
    assert suggest_camera("We PUSH IN on her face.")[1] == preset("dolly_in")
    assert suggest_camera("CLOSE ON the radio.")[1] == preset("dolly_in", 0.3)
    rig = aerial_rig()
    assert rig.pedestal[-1].value > 0 and rig.tilt[-1].value < 0  # rises, looks down
    assert suggest_camera("INSERT - the logbook.")[1] == CameraRig()


def test_introductions():
    text = (
        "MARA, a young coastguard in a red jacket, runs. OWEN (60s) follows. "
        "THE OLD MAN, weathered, mends a net. DR. HALE (40, tired) waits."
    )
    assert introductions(text) == [
        ("MARA", "a young coastguard in a red jacket"),
        ("OWEN", "aged 60s"),
        ("OLD MAN", "weathered"),
        ("DR. HALE", "aged 40, tired"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "BANG! A door slams.",
        "NO, she thinks, not again.",
        "MARA runs.",
        "Mara, a coastguard, runs.",  # not in capitals: already introduced
        "CLOSE ON the radio, static hissing.",
        "MARA'S hands shake.",
    ],
)
def test_no_introduction(text):
    assert introductions(text) == []


def test_named_in():
    names = ["Mara", "Owen", "Old Man", "Sam"]
    assert named_in("OWEN hands MARA'S radio to the OLD MAN.", names) == ["Owen", "Mara", "Old Man"]
    assert named_in("Mara and Owen share tea.", names) == ["Mara", "Owen"]
    assert named_in("The samovar boils; Maradona plays.", names) == []
