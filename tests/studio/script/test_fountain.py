import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.errors import StudioError
from studio.script.fountain import KINDS, Element, Screenplay, ScriptError, heading_parts, parse

SCRIPT = """\
Title:
    _**BRICK & STEEL**_
    _**FULL RETIRED**_
Credit: Written by
Author: Stu Maschwitz
Draft date: 1/20/2012

# Act One

= The heist goes wrong.

FADE IN:

INT. WAREHOUSE - NIGHT #1#

Rain hammers the *skylight*. [[check the rain]] Close on a gun.
A **second** line.

/* an old
cut scene */
BRICK (V.O.)
(quietly)
We should go.
Now.

STEEL ^
No.

@McCLANE (O.S.) (CONT'D)
Yippee.

CUT TO:

EXT. ROOFTOP - DAY

Wind.

.SNOWY FIELD

!SILENCE.

~Row, row, row your boat

>THE END<

> SMASH CUT

===

[[A standalone
note]]
"""


@pytest.fixture
def play() -> Screenplay:
    return parse(SCRIPT)


def kinds(sp: Screenplay) -> list[str]:
    return [e.kind for e in sp.elements]


def test_title_page(play):
    assert play.title_page == {
        "title": "_**BRICK & STEEL**_\n_**FULL RETIRED**_",
        "credit": "Written by",
        "author": "Stu Maschwitz",
        "draft date": "1/20/2012",
    }


def test_every_kind_in_order(play):
    assert kinds(play) == [
        "section",
        "synopsis",
        "transition",
        "scene_heading",
        "action",
        "note",
        "character",
        "parenthetical",
        "dialogue",
        "character",
        "dialogue",
        "character",
        "dialogue",
        "transition",
        "scene_heading",
        "action",
        "scene_heading",
        "action",
        "lyric",
        "centered",
        "transition",
        "page_break",
        "note",
    ]
    assert set(kinds(play)) == set(KINDS)


def test_element_details(play):
    e = play.elements
    assert e[0] == Element("section", "Act One", 8, depth=1)
    assert e[1].text == "The heist goes wrong."
    assert e[2].text == "FADE IN:"
    assert e[3].text == "INT. WAREHOUSE - NIGHT" and e[3].scene_number == "1"
    assert e[3].line == 14
    assert e[6] == Element("character", "BRICK", 21, extensions=("V.O.",))
    assert e[7].text == "(quietly)"
    assert e[8].text == "We should go.\nNow." and e[8].line == 23
    assert e[9].text == "STEEL" and e[9].dual
    assert e[11].text == "McCLANE" and e[11].forced
    assert e[11].extensions == ("O.S.", "CONT'D")
    assert e[13].text == "CUT TO:"
    assert e[16].text == "SNOWY FIELD" and e[16].forced
    assert e[17].text == "SILENCE." and e[17].forced
    assert e[18].text == "Row, row, row your boat"
    assert e[19].text == "THE END"
    assert e[20].text == "SMASH CUT" and e[20].forced


def test_emphasis_kept_and_inline_note_taken_out(play):
    action = play.elements[4]
    assert action.text == "Rain hammers the *skylight*. Close on a gun.\nA **second** line."
    assert play.elements[5] == Element("note", "check the rain", 16)
    assert play.elements[-1] == Element("note", "A standalone\nnote", 50)


def test_boneyard_removed_with_line_numbers_kept(play):
    assert all("cut scene" not in e.text for e in play.elements)
    sp = parse("Walk.\n\n/* one\ntwo\nthree */\n\nINT. HALL - DAY\n\nRun /* gone */ fast.")
    assert [(e.kind, e.text, e.line) for e in sp.elements] == [
        ("action", "Walk.", 1),
        ("scene_heading", "INT. HALL - DAY", 7),
        ("action", "Run  fast.", 9),
    ]


def test_scenes(play):
    scenes = play.scenes()
    assert [s.heading.text if s.heading else None for s in scenes] == [
        None,
        "INT. WAREHOUSE - NIGHT",
        "EXT. ROOFTOP - DAY",
        "SNOWY FIELD",
    ]
    warehouse = scenes[1]
    assert (warehouse.setting, warehouse.location, warehouse.time) == ("INT.", "WAREHOUSE", "NIGHT")
    assert [c.text for c in warehouse.of_kind("character")] == ["BRICK", "STEEL", "McCLANE"]
    assert [t.text for t in warehouse.of_kind("transition")] == ["CUT TO:"]
    assert scenes[3].location == "SNOWY FIELD" and scenes[3].time == ""
    assert play.characters() == ["BRICK", "STEEL", "McCLANE"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INT. HOUSE - KITCHEN - DAY", ("INT.", "HOUSE - KITCHEN", "DAY")),
        ("EXT. PARK - NIGHT", ("EXT.", "PARK", "NIGHT")),
        ("INT./EXT. CAR - MOVING", ("INT./EXT.", "CAR", "MOVING")),
        ("I/E BOAT", ("I/E", "BOAT", "")),
        ("est. city", ("EST.", "city", "")),
        ("THE MOON", ("", "THE MOON", "")),
    ],
)
def test_heading_parts(text, expected):
    assert heading_parts(text) == expected


@pytest.mark.parametrize(
    "heading", ["INT. A", "EXT. B", "EST. C", "INT./EXT. D", "INT/EXT E", "I/E F", "int. g"]
)
def test_heading_prefixes(heading):
    sp = parse(f"Before.\n\n{heading}\n\nAfter.")
    assert kinds(sp) == ["action", "scene_heading", "action"]


def test_heading_needs_a_blank_line_before():
    sp = parse("He waits.\nINT. HOUSE - DAY")
    assert kinds(sp) == ["action"]


def test_all_caps_without_dialogue_is_action():
    sp = parse("BANG!\n\nA door slams.")
    assert kinds(sp) == ["action", "action"]


@pytest.mark.parametrize(
    "line", ["CLOSE ON MARA", "ANGLE ON THE DOOR", "JOE'S POV", "INSERT - THE LETTER", "POV"]
)
def test_a_camera_direction_over_text_is_action_not_a_cue(line):
    sp = parse(f"Rain.\n\n{line}\nShe grits her teeth.")
    assert [(e.kind, e.text) for e in sp.elements] == [
        ("action", "Rain."),
        ("action", f"{line}\nShe grits her teeth."),
    ]
    forced = parse(f"@{line}\nHello.")
    assert [e.kind for e in forced.elements] == ["character", "dialogue"]


def test_names_that_start_like_directions_are_still_cues():
    sp = parse("CUTTER\nHello.\n\nINSERTO\nHi.\n\nSUPERINTENDENT\nYes.")
    assert [e.text for e in sp.of_kind("character")] == ["CUTTER", "INSERTO", "SUPERINTENDENT"]


def test_transition_needs_all_caps():
    sp = parse("He stops.\n\nCut to:\n\nHe runs.")
    assert kinds(sp) == ["action", "action", "action"]


def test_dialogue_with_blank_continuation_and_lyrics():
    sp = parse("BOB\nFirst.\n  \nSecond.\n~La la\n(beat)\nThird.\n\nAfter.")
    assert [(e.kind, e.text) for e in sp.elements] == [
        ("character", "BOB"),
        ("dialogue", "First.\n\nSecond."),
        ("lyric", "La la"),
        ("parenthetical", "(beat)"),
        ("dialogue", "Third."),
        ("action", "After."),
    ]


def test_no_title_page_when_script_starts_with_a_heading():
    sp = parse("INT. HOUSE - DAY\n\nHi.")
    assert sp.title_page == {}
    assert kinds(sp) == ["scene_heading", "action"]


def test_bytes_and_crlf():
    sp = parse("Title: Café\r\n\r\nEXT. SEA - DAY\r\n\r\nWaves.".encode())
    assert sp.title_page == {"title": "Café"}
    assert [e.line for e in sp.elements] == [3, 5]


def test_section_depth():
    sp = parse("## Part\n\n### Sub")
    assert [(e.text, e.depth) for e in sp.elements] == [("Part", 2), ("Sub", 3)]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "empty"),
        ("   \n\n ", 1, "empty"),
        ("Hi.\n\n/* never\nclosed", 3, "boneyard"),
        ("Hi.\nThere [[ a note\n\nthat never ends", 2, "note"),
        ("Fine\n\nbad \x00 byte", 3, "control"),
        (b"ok\n\xff\xfe\x00", 2, "UTF-8"),
    ],
)
def test_malformed_input(text, line, words):
    with pytest.raises(ScriptError) as info:
        parse(text)
    assert info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"line {line}:")
    assert isinstance(info.value, StudioError)


_PIECES = st.sampled_from(
    [
        "INT. ",
        "EXT. ",
        ".",
        "!",
        "@",
        "^",
        "~",
        "#",
        "=",
        "===",
        ">",
        "<",
        "(",
        ")",
        "[[",
        "]]",
        "/*",
        "*/",
        "CUT TO:",
        "BOB",
        "Title:",
        "   ",
        "\n",
        "\n\n",
        "\r",
        "\t",
        "*",
        "_",
        "\\",
        " - DAY",
        "#1#",
    ]
)
_FOUNTAINISH = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=40).map("".join)


def _parse_or_script_error(text) -> None:
    try:
        sp = parse(text)
    except ScriptError as error:
        assert error.line >= 1
        return
    for element in sp.elements:
        assert element.kind in KINDS
        assert isinstance(element.text, str)
    sp.scenes()
    sp.characters()


@settings(max_examples=300, deadline=None)
@given(_FOUNTAINISH)
def test_fuzz_fountainish_text(text):
    _parse_or_script_error(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_any_text(text):
    _parse_or_script_error(text)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_fuzz_binary(data):
    _parse_or_script_error(data)
