"""Tests of the timeline model, its edits, timecode helpers and its JSON form."""

from __future__ import annotations

import copy
import dataclasses
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.errors import EditError, ProjectError
from studio.timeline.timeline import (
    AudioClip,
    AudioTrack,
    Clip,
    Gap,
    Timeline,
    Transition,
    TransitionKind,
    frames_to_seconds,
    nominal_rate,
    parse_timecode,
    seconds_to_frames,
    timecode,
    timeline_from_dict,
    timeline_to_dict,
)

RATES = [Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(24000, 1001)]


def clip(ident: str, frames: int, transition: Transition | None = None, start: int = 0) -> Clip:
    return Clip(ident, f"shot-{ident}", f"take-{ident}", start, start + frames, transition or CUT)


CUT = Transition()


def xf(frames: int) -> Transition:
    return Transition(TransitionKind.CROSSFADE, frames)


def dip(frames: int, white: bool = False) -> Transition:
    kind = TransitionKind.DIP_WHITE if white else TransitionKind.DIP_BLACK
    return Transition(kind, frames)


def starts_by_id(tl: Timeline) -> dict[str, int]:
    return {item.id: start for item, start in zip(tl.items, tl.starts(), strict=True)}


def audio(ident: str, start: int, frames: int, **kw: object) -> AudioClip:
    return AudioClip(ident, "media/music.wav", start, 0, frames, **kw)


# -- timecode ------------------------------------------------------------------------------


@pytest.mark.parametrize("fps", RATES)
def test_timecode_round_trips_at_common_rates(fps: Fraction) -> None:
    rate = nominal_rate(fps)
    for frame in [0, 1, rate - 1, rate, 60 * rate - 1, 3600 * rate, 10 * 3600 * rate + 7]:
        assert parse_timecode(timecode(frame, fps), fps) == frame


@settings(max_examples=200)
@given(frame=st.integers(0, 10**9), fps=st.sampled_from(RATES))
def test_timecode_round_trips_for_any_frame(frame: int, fps: Fraction) -> None:
    text = timecode(frame, fps)
    assert parse_timecode(text, fps) == frame
    hh, mm, ss, ff = text.split(":")
    assert int(mm) < 60 and int(ss) < 60 and int(ff) < nominal_rate(fps)


def test_timecode_uses_the_nominal_rate_for_ntsc_rates() -> None:
    assert nominal_rate(Fraction(24000, 1001)) == 24
    assert nominal_rate(Fraction(30000, 1001)) == 30
    assert timecode(24, Fraction(24000, 1001)) == "00:00:01:00"
    assert timecode(30 * 3600, Fraction(30000, 1001)) == "01:00:00:00"
    assert timecode(24 * 3661 + 5, 24) == "01:01:01:05"
    assert timecode(0, 25) == "00:00:00:00"
    assert timecode(24, 25) == "00:00:00:24"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1:2:3",
        "00:00:00",
        "00:60:00:00",
        "00:00:60:00",
        "00:00:00:24",
        "00;00;00;00",
        "aa:bb:cc:dd",
        "00:00:00:0\u0663",
        "-0:00:00:00",
    ],
)
def test_parse_timecode_refuses_bad_text(text: str) -> None:
    with pytest.raises(EditError):
        parse_timecode(text, 24)


def test_timecode_refuses_negative_frames_and_bad_rates() -> None:
    with pytest.raises(EditError):
        timecode(-1, 24)
    with pytest.raises(EditError):
        timecode(0, 23.976)  # type: ignore[arg-type]
    with pytest.raises(EditError):
        timecode(0, 0)
    with pytest.raises(EditError):
        timecode(1.0, 24)  # type: ignore[arg-type]


def test_frames_and_seconds_are_exact() -> None:
    ntsc = Fraction(24000, 1001)
    assert frames_to_seconds(24, ntsc) == Fraction(1001, 1000)
    assert frames_to_seconds(0, ntsc) == 0
    assert seconds_to_frames(Fraction(1001, 1000), ntsc) == 24
    assert seconds_to_frames(1, 25) == 25
    assert seconds_to_frames(Decimal("0.04"), 25) == 1


def test_seconds_to_frames_rounds_half_to_even() -> None:
    assert seconds_to_frames(Fraction(1, 4), 2) == 0  # 0.5 frames
    assert seconds_to_frames(Fraction(3, 4), 2) == 2  # 1.5 frames
    assert seconds_to_frames(0.76, 2) == 2
    assert seconds_to_frames(0.74, 2) == 1
    with pytest.raises(EditError):
        seconds_to_frames(float("nan"), 24)


@given(frames=st.integers(-(10**7), 10**7), fps=st.sampled_from(RATES))
def test_seconds_round_trip_even_through_floats(frames: int, fps: Fraction) -> None:
    seconds = frames_to_seconds(frames, fps)
    assert seconds_to_frames(seconds, fps) == frames
    assert seconds_to_frames(float(seconds), fps) == frames


# -- the model -----------------------------------------------------------------------------


def test_transition_rules() -> None:
    assert Transition() == Transition(TransitionKind.CUT, 0)
    assert Transition("crossfade", 4).kind is TransitionKind.CROSSFADE  # type: ignore[arg-type]
    with pytest.raises(EditError):
        Transition(TransitionKind.CUT, 3)
    with pytest.raises(EditError):
        Transition(TransitionKind.CROSSFADE, 0)
    with pytest.raises(EditError):
        Transition(TransitionKind.DIP_BLACK, -2)
    with pytest.raises(EditError):
        Transition("wipe", 3)  # type: ignore[arg-type]
    assert xf(10).overlap == 10
    assert (xf(10).outgoing_frames, xf(10).incoming_frames) == (10, 10)
    assert dip(9).overlap == 0
    assert (dip(9).outgoing_frames, dip(9).incoming_frames) == (4, 5)


def test_items_check_their_values() -> None:
    with pytest.raises(EditError):
        Clip("a", "s", "t", 10, 10)
    with pytest.raises(EditError):
        Clip("a", "s", "t", -1, 10)
    with pytest.raises(EditError):
        Clip("", "s", "t", 0, 10)
    with pytest.raises(EditError):
        Clip("a", "s", "t", 0, True)  # type: ignore[arg-type]
    with pytest.raises(EditError):
        Gap("g", 0)
    assert Clip("a", "s", None, 3, 10).duration == 7
    with pytest.raises(EditError):
        AudioClip("m", "/abs/path.wav", 0, 0, 10)
    with pytest.raises(EditError):
        AudioClip("m", "media/../../x.wav", 0, 0, 10)
    with pytest.raises(EditError):
        audio("m", 0, 10, fade_in=6, fade_out=5)
    with pytest.raises(EditError):
        audio("m", 0, 10, gain_db=float("inf"))
    assert audio("m", 5, 10, fade_in=5, fade_out=5).end == 15


def test_items_are_frozen_and_hashable() -> None:
    tl = Timeline(items=(clip("a", 10),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        tl.items = ()  # type: ignore[misc]
    assert hash(tl) == hash(Timeline(items=[clip("a", 10)]))  # lists become tuples


def test_timeline_checks_ids_and_transitions() -> None:
    with pytest.raises(EditError, match="already used"):
        Timeline(items=(clip("a", 10), clip("a", 10)))
    with pytest.raises(EditError, match="already used"):
        Timeline(items=(clip("a", 10),), audio_tracks=(AudioTrack("a", "Music"),))
    with pytest.raises(EditError, match="starts the timeline"):
        Timeline(items=(clip("a", 10, xf(2)),))
    with pytest.raises(EditError, match="follows a gap"):
        Timeline(items=(clip("a", 10), Gap("g", 3), clip("b", 10, dip(2))))
    with pytest.raises(EditError, match="too short"):
        Timeline(items=(clip("a", 10), clip("b", 10, xf(11))))
    with pytest.raises(EditError, match="too short"):
        Timeline(items=(clip("a", 10), clip("b", 10, xf(6)), clip("c", 10, xf(5))))
    with pytest.raises(EditError):
        Timeline(fps=23.976)  # type: ignore[arg-type]
    assert Timeline(fps=25).fps == Fraction(25)


# -- durations, starts, clip_at ------------------------------------------------------------


def test_durations_with_cuts_crossfades_and_dips() -> None:
    assert Timeline().duration == 0
    cuts = Timeline(items=(clip("a", 48), Gap("g", 12), clip("b", 24)))
    assert cuts.duration == 84
    assert cuts.starts() == (0, 48, 60)
    faded = Timeline(items=(clip("a", 48), clip("b", 48, xf(12)), clip("c", 24, xf(6))))
    assert faded.duration == 48 + 48 + 24 - 12 - 6
    assert faded.starts() == (0, 36, 78)
    dipped = Timeline(items=(clip("a", 48), clip("b", 48, dip(12)), clip("c", 24, dip(7, True))))
    assert dipped.duration == 120
    assert dipped.starts() == (0, 48, 96)


def test_duration_seconds_is_exact() -> None:
    tl = Timeline(fps=Fraction(24000, 1001), items=(clip("a", 24), clip("b", 24)))
    assert tl.duration_seconds == Fraction(2002, 1000)


def test_a_crossfade_may_use_a_whole_clip() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(4)), clip("c", 10, xf(6))))
    assert tl.starts() == (0, 6, 10)
    assert tl.duration == 20
    assert tl.clip_at(9)[0] == 1
    assert tl.clip_at(10)[0] == 2


def test_clip_at_first_and_last_frame_of_every_item() -> None:
    tl = Timeline(items=(clip("a", 10), Gap("g", 5), clip("b", 1), clip("c", 7, dip(2))))
    for index, (item, start) in enumerate(zip(tl.items, tl.starts(), strict=True)):
        assert tl.clip_at(start) == (index, item, 0)
        assert tl.clip_at(start + item.duration - 1) == (index, item, item.duration - 1)
    assert tl.clip_at(tl.duration) is None
    assert tl.clip_at(tl.duration + 100) is None
    assert tl.clip_at(-1) is None
    assert Timeline().clip_at(0) is None


def test_clip_at_prefers_the_incoming_clip_inside_a_crossfade() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(4))))
    assert tl.clip_at(5) == (0, tl.items[0], 5)
    assert tl.clip_at(6) == (1, tl.items[1], 0)
    assert tl.clip_at(9) == (1, tl.items[1], 3)
    assert tl.clip_at(15) == (1, tl.items[1], 9)
    assert tl.clip_at(16) is None


def test_lookups() -> None:
    tl = Timeline(items=(clip("a", 10), Gap("g", 5), clip("b", 3)))
    assert [c.id for c in tl.clips()] == ["a", "b"]
    assert tl.index_of("b") == 2
    assert tl.item("g") == Gap("g", 5)
    assert tl.start_of("b") == 15
    with pytest.raises(EditError):
        tl.index_of("zzz")


# -- insert, append, move ------------------------------------------------------------------


def test_insert_and_append() -> None:
    tl = Timeline().append(clip("a", 10)).append(clip("b", 10))
    tl = tl.insert(1, clip("x", 5)).insert(0, Gap("g", 2))
    assert [i.id for i in tl.items] == ["g", "a", "x", "b"]
    assert tl.duration == 27
    with pytest.raises(EditError):
        tl.insert(9, clip("y", 5))
    with pytest.raises(EditError):
        tl.insert(0, clip("a", 5))  # id taken
    with pytest.raises(EditError):
        tl.insert(0, clip("y", 5, xf(2)))  # nothing before it to fade from


def test_insert_refuses_a_transition_that_does_not_fit_and_repairs_the_neighbour() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(4))))
    with pytest.raises(EditError, match="too short"):
        tl.insert(1, clip("x", 3, xf(5)))
    after_gap = tl.insert(1, Gap("g", 3))
    assert after_gap.item("b").transition == CUT
    kept = tl.insert(1, clip("x", 20))
    assert kept.item("b").transition == xf(4)
    reset = tl.insert(1, clip("x", 2))
    assert reset.item("b").transition == CUT


def test_move() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(3)), clip("c", 10), clip("d", 2)))
    moved = tl.move(2, 0)
    assert [i.id for i in moved.items] == ["c", "a", "b", "d"]
    assert moved.item("b").transition == xf(3)  # still after a
    first = tl.move(1, 0)
    assert [i.id for i in first.items] == ["b", "a", "c", "d"]
    assert first.item("b").transition == CUT  # the first clip cannot have a transition
    after_short = tl.move(1, 3)
    assert [i.id for i in after_short.items] == ["a", "c", "d", "b"]
    assert after_short.item("b").transition == CUT  # d is too short for a 3-frame crossfade
    assert tl.move(1, 1) == tl
    with pytest.raises(EditError):
        tl.move(0, 4)
    with pytest.raises(EditError):
        tl.move(-1, 0)


def test_move_keeps_a_transition_that_still_fits_after_its_new_neighbour() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10), clip("c", 10, dip(4))))
    moved = tl.move(2, 1)
    assert [i.id for i in moved.items] == ["a", "c", "b"]
    assert moved.item("c").transition == dip(4)


# -- split ---------------------------------------------------------------------------------


def test_split_halves_cover_the_original_exactly() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 20, xf(4), start=5), clip("c", 10, xf(3))))
    frame = tl.start_of("b") + 9
    out = tl.split(frame, "b2")
    first, second = out.item("b"), out.item("b2")
    assert isinstance(first, Clip) and isinstance(second, Clip)
    assert (first.source_in, first.source_out) == (5, 14)
    assert (second.source_in, second.source_out) == (14, 25)
    assert first.duration + second.duration == 20
    assert first.transition == xf(4)
    assert second.transition == CUT
    assert (second.shot_id, second.take_id) == ("shot-b", "take-b")
    assert out.item("c").transition == xf(3)
    assert out.duration == tl.duration
    assert out.start_of("b2") == frame
    assert out.start_of("c") == tl.start_of("c")


def test_split_refusals() -> None:
    tl = Timeline(items=(clip("a", 10), Gap("g", 4), clip("b", 10), clip("c", 10, xf(4))))
    with pytest.raises(EditError, match="first frame"):
        tl.split(0, "n")
    with pytest.raises(EditError, match="first frame"):
        tl.split(tl.start_of("b"), "n")
    with pytest.raises(EditError, match="gap"):
        tl.split(11, "n")
    with pytest.raises(EditError, match="nothing to split"):
        tl.split(tl.duration, "n")
    with pytest.raises(EditError, match="inside"):
        tl.split(tl.start_of("c") + 2, "n")  # inside the crossfade into c
    with pytest.raises(EditError, match="already used"):
        tl.split(5, "b")
    assert tl.split(tl.start_of("c") + 4, "n").item("n").source_in == 4


# -- trim ----------------------------------------------------------------------------------


def test_ripple_trim_moves_later_items() -> None:
    tl = Timeline(items=(clip("a", 20, start=10), Gap("g", 5), clip("b", 10)))
    shorter = tl.trim("a", source_out=25)
    assert shorter.item("a").duration == 15
    assert shorter.start_of("g") == 15 and shorter.start_of("b") == 20
    assert shorter.duration == tl.duration - 5
    longer = tl.trim("a", source_in=4)
    assert longer.start_of("b") == tl.start_of("b") + 6
    assert [i.id for i in longer.items] == ["a", "g", "b"]


def test_trim_bounds() -> None:
    tl = Timeline(items=(clip("a", 20, start=10),))
    with pytest.raises(EditError, match="before the first frame"):
        tl.trim("a", source_in=-1)
    with pytest.raises(EditError, match="no frames"):
        tl.trim("a", source_in=30)
    with pytest.raises(EditError, match="only 32 frames"):
        tl.trim("a", source_out=33, source_frames=32)
    assert tl.trim("a", source_out=32, source_frames=32).duration == 22
    with pytest.raises(EditError):
        Timeline(items=(clip("a", 5), Gap("g", 1))).trim("g", source_out=3)


def test_non_ripple_trim_out_point_keeps_later_items_in_place() -> None:
    tl = Timeline(items=(clip("a", 20), clip("b", 10), Gap("g", 5), clip("c", 10)))
    before = starts_by_id(tl)

    opened = tl.trim("a", source_out=15, ripple=False)
    assert [type(i).__name__ for i in opened.items] == ["Clip", "Gap", "Clip", "Gap", "Clip"]
    assert opened.items[1].duration == 5
    assert {k: opened.start_of(k) for k in before} == before
    assert opened.duration == tl.duration

    grown = tl.trim("b", source_out=7, ripple=False)
    assert grown.item("g").duration == 8
    shrunk = tl.trim("b", source_out=13, ripple=False)
    assert shrunk.item("g").duration == 2
    absorbed = tl.trim("b", source_out=15, ripple=False)
    assert [i.id for i in absorbed.items] == ["a", "b", "c"]
    for edited in (grown, shrunk, absorbed):
        assert edited.start_of("c") == before["c"]

    with pytest.raises(EditError, match="only 5 frames"):
        tl.trim("b", source_out=16, ripple=False)
    with pytest.raises(EditError, match="overwrite"):
        tl.trim("a", source_out=21, ripple=False)

    last = tl.trim("c", source_out=4, ripple=False)
    assert last.items[-1].id == "c" and last.duration == tl.duration - 6


def test_non_ripple_trim_in_point_keeps_the_picture_in_place() -> None:
    tl = Timeline(items=(clip("a", 20), Gap("g", 5), clip("b", 10, start=10)))
    later = tl.trim("b", source_in=13, ripple=False)
    assert later.item("g").duration == 8
    assert later.start_of("b") - 13 == tl.start_of("b") - 10  # source frames stay put
    assert later.duration == tl.duration
    earlier = tl.trim("b", source_in=5, ripple=False)
    assert [i.id for i in earlier.items] == ["a", "b"]
    assert earlier.start_of("b") == 20
    with pytest.raises(EditError):
        tl.trim("b", source_in=4, ripple=False)

    leading = tl.trim("a", source_in=3, ripple=False)
    assert isinstance(leading.items[0], Gap) and leading.items[0].duration == 3
    assert leading.start_of("b") == tl.start_of("b")
    with pytest.raises(EditError, match="no room"):
        Timeline(items=(clip("a", 20, start=5),)).trim("a", source_in=2, ripple=False)

    both = tl.trim("b", source_in=12, source_out=18, ripple=False)
    assert both.start_of("b") == tl.start_of("b") + 2
    assert both.item("b").duration == 6


def test_non_ripple_trim_refuses_to_open_a_gap_inside_a_transition() -> None:
    tl = Timeline(items=(clip("a", 20), clip("b", 20, xf(5)), clip("c", 20, dip(4))))
    with pytest.raises(EditError, match="crossfade"):
        tl.trim("a", source_out=15, ripple=False)
    with pytest.raises(EditError, match="dip to black"):
        tl.trim("c", source_in=2, ripple=False)
    assert tl.trim("a", source_out=15).duration == tl.duration - 5
    with pytest.raises(EditError, match="too short"):
        tl.trim("b", source_in=14)  # 6 frames left, transitions need 5 + 2
    assert tl.trim("b", source_in=13).item("b").duration == 7


# -- roll ----------------------------------------------------------------------------------


@pytest.mark.parametrize("delta", [-5, -1, 1, 5])
def test_roll_keeps_the_total_duration(delta: int) -> None:
    tl = Timeline(items=(clip("a", 20, start=10), clip("b", 20, xf(4), start=10), clip("c", 9)))
    rolled = tl.roll(1, delta)
    assert rolled.duration == tl.duration
    assert rolled.item("a").duration == 20 + delta
    assert rolled.item("b").duration == 20 - delta
    assert rolled.item("b").source_in == 10 + delta
    assert rolled.start_of("c") == tl.start_of("c")
    assert rolled.item("b").transition == xf(4)


def test_roll_refusals_and_gaps() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, start=3), Gap("g", 4), clip("c", 5)))
    with pytest.raises(EditError, match="empty"):
        tl.roll(1, 10)
    with pytest.raises(EditError, match="before the first frame"):
        tl.roll(1, -4)
    with pytest.raises(EditError, match="only 12 frames"):
        tl.roll(1, 3, source_frames=12)
    with pytest.raises(EditError):
        tl.roll(0, 1)
    with pytest.raises(EditError):
        tl.roll(4, 1)
    into_gap = tl.roll(2, 3)
    assert into_gap.item("g").duration == 1 and into_gap.duration == tl.duration
    with pytest.raises(EditError, match="gap 'g' empty"):
        tl.roll(2, 4)
    assert tl.roll(1, 0) is tl


# -- ripple delete and lift ----------------------------------------------------------------


def test_ripple_delete_closes_the_space() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 6), clip("c", 10)))
    out = tl.ripple_delete("b")
    assert [i.id for i in out.items] == ["a", "c"]
    assert out.duration == 20 and out.start_of("c") == 10
    gaps = Timeline(items=(Gap("g1", 3), clip("a", 10), Gap("g2", 4), clip("b", 5)))
    merged = gaps.ripple_delete("a")
    assert merged.items == (Gap("g1", 7), clip("b", 5))
    closed = gaps.ripple_delete("g2")
    assert closed.start_of("b") == 13


def test_lift_leaves_a_gap_and_keeps_everything_else_in_place() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 6), clip("c", 10)))
    out = tl.lift("b")
    assert [type(i).__name__ for i in out.items] == ["Clip", "Gap", "Clip"]
    assert out.items[1].duration == 6
    assert out.duration == tl.duration and out.start_of("c") == tl.start_of("c")


def test_lift_merges_gaps_and_drops_the_clip_s_crossfades() -> None:
    tl = Timeline(
        items=(
            Gap("g1", 2),
            clip("a", 10),
            clip("b", 12, xf(3)),
            clip("c", 10, xf(4)),
            Gap("g2", 5),
        )
    )
    before = starts_by_id(tl)
    out = tl.lift("b")
    assert out.items[2] == Gap("gap-1", 5)  # 12 frames less the 3 + 4 shared in crossfades
    assert out.item("c").transition == CUT
    assert out.duration == tl.duration
    assert {k: out.start_of(k) for k in ("a", "c", "g1", "g2")} == {
        k: before[k] for k in ("a", "c", "g1", "g2")
    }
    both = tl.lift("a").lift("c")
    assert [i.id for i in both.items] == ["g1", "b", "g2"]  # merged gaps keep their ids
    assert both.items[0].duration == 2 + 10 - 3 and both.items[2].duration == 10 - 4 + 5
    assert both.start_of("b") == tl.start_of("b")
    assert both.duration == tl.duration
    with pytest.raises(EditError, match="gap"):
        tl.lift("g1")


def test_lift_of_a_clip_wholly_inside_crossfades_leaves_no_gap() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(4)), clip("c", 10, xf(6))))
    out = tl.lift("b")
    assert [i.id for i in out.items] == ["a", "c"]
    assert out.duration == tl.duration


# -- transitions ---------------------------------------------------------------------------


def test_set_transition_checks_that_it_fits() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 8), Gap("g", 3), clip("c", 10)))
    assert tl.set_transition("b", xf(8)).duration == tl.duration - 8
    with pytest.raises(EditError, match="only 8 free"):
        tl.set_transition("b", xf(9))
    with pytest.raises(EditError, match="starts the timeline"):
        tl.set_transition("a", xf(2))
    with pytest.raises(EditError, match="follows a gap"):
        tl.set_transition("c", dip(2))
    with pytest.raises(EditError, match="gap, not a clip"):
        tl.set_transition("g", CUT)
    assert tl.set_transition("b", dip(16)).duration == tl.duration  # 8 out, 8 in
    with pytest.raises(EditError, match="only 8 free"):
        tl.set_transition("b", dip(17))
    assert tl.set_transition("b", CUT) == tl


def test_crossfade_must_fit_next_to_the_clip_s_other_transition() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(6)), clip("c", 10)))
    with pytest.raises(EditError, match="clip 'b', which has only 4 free"):
        tl.set_transition("c", xf(5))
    assert tl.set_transition("c", xf(4)).duration == 30 - 10
    assert tl.set_transition("c", dip(9)).duration == 30 - 6  # 4 frames out of b


def test_replace_clip() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(4))))
    new_take = Clip("b", "shot-b", "take-2", 0, 12, xf(4))
    assert tl.replace_clip(new_take).item("b") == new_take
    with pytest.raises(EditError):
        tl.replace_clip(clip("zzz", 10))
    with pytest.raises(EditError, match="too short"):
        tl.replace_clip(Clip("b", "shot-b", "take-2", 0, 3, xf(4)))


def test_edits_leave_the_original_untouched() -> None:
    tl = Timeline(items=(clip("a", 10), clip("b", 10, xf(4)), Gap("g", 2), clip("c", 5)))
    snapshot = copy.deepcopy(tl)
    tl.trim("a", source_out=5)
    tl.split(12, "n")
    tl.lift("b")
    tl.ripple_delete("a")
    tl.move(0, 3)
    tl.roll(1, 2)
    assert tl == snapshot


# -- audio ---------------------------------------------------------------------------------


def test_audio_clips_refuse_overlap() -> None:
    tl = Timeline().add_audio_track(AudioTrack("music", "Music"))
    tl = tl.add_audio_clip("music", audio("m2", 100, 50)).add_audio_clip(
        "music", audio("m1", 0, 100)
    )
    assert [c.id for c in tl.audio_track("music").clips] == ["m1", "m2"]  # sorted by start
    with pytest.raises(EditError, match="overlap audio clip 'm2'"):
        tl.add_audio_clip("music", audio("m3", 149, 10))
    assert (
        tl.add_audio_clip("music", audio("m3", 150, 10)).audio_track("music").clips[-1].id == "m3"
    )
    with pytest.raises(EditError):
        tl.add_audio_clip("music", audio("m1", 500, 10))
    with pytest.raises(EditError):
        tl.add_audio_clip("nope", audio("m9", 500, 10))
    with pytest.raises(EditError, match="starts at frame"):
        AudioTrack("t", "T", (audio("x", 0, 10), audio("y", 5, 10)))


def test_audio_edits() -> None:
    tl = Timeline(items=(clip("a", 10),)).add_audio_track(AudioTrack("vo", "Voice"))
    tl = tl.add_audio_clip("vo", AudioClip("v1", "media/vo.wav", 10, 20, 60, fade_in=5))
    moved = tl.move_audio_clip("vo", "v1", 0)
    assert moved.audio_track("vo").clips[0].start == 0
    with pytest.raises(EditError):
        tl.move_audio_clip("vo", "v1", -1)

    trimmed = tl.trim_audio_clip("vo", "v1", source_in=25)
    head = trimmed.audio_track("vo").clips[0]
    assert (head.start, head.source_in, head.duration) == (15, 25, 35)
    assert tl.trim_audio_clip("vo", "v1", source_in=10).audio_track("vo").clips[0].start == 0
    with pytest.raises(EditError, match="before"):
        tl.trim_audio_clip("vo", "v1", source_in=9)
    with pytest.raises(EditError, match="fades"):
        tl.trim_audio_clip("vo", "v1", source_out=24)
    with pytest.raises(EditError, match="only 50 frames"):
        tl.trim_audio_clip("vo", "v1", source_out=70, source_frames=50)

    louder = dataclasses.replace(tl.audio_track("vo").clips[0], gain_db=6.0)
    assert tl.set_audio_clip("vo", louder).audio_track("vo").clips[0].gain_db == 6.0
    with pytest.raises(EditError):
        tl.set_audio_clip("vo", audio("other", 0, 5))

    assert tl.remove_audio_clip("vo", "v1").audio_track("vo").clips == ()
    muted = tl.replace_audio_track(dataclasses.replace(tl.audio_track("vo"), muted=True))
    assert muted.audio_track("vo").muted
    assert tl.remove_audio_track("vo").audio_tracks == ()
    with pytest.raises(EditError, match="already used"):
        tl.add_audio_track(AudioTrack("a", "Clash with a video clip"))


# -- JSON ----------------------------------------------------------------------------------


def sample() -> Timeline:
    tl = Timeline(
        fps=Fraction(24000, 1001),
        items=(
            clip("a", 48, start=3),
            clip("b", 40, xf(12)),
            Gap("g", 7),
            Clip("c", "shot-c", None, 0, 30),
            clip("d", 20, dip(5, white=True)),
        ),
    )
    music = AudioTrack("music", "Music", (audio("m1", 0, 100, gain_db=-6.5, fade_out=24),), -1.5)
    return tl.add_audio_track(music).add_audio_track(AudioTrack("vo", "", muted=True))


def test_json_round_trip_is_exact() -> None:
    tl = sample()
    data = timeline_to_dict(tl)
    assert data["fps"] == "24000/1001"
    assert timeline_from_dict(json.loads(json.dumps(data))) == tl
    assert timeline_to_dict(timeline_from_dict(data)) == data
    assert timeline_from_dict({}) == Timeline()
    assert timeline_to_dict(Timeline()) == {"fps": 24, "items": [], "audio_tracks": []}


def _bad(data: dict) -> str:
    with pytest.raises(ProjectError) as info:
        timeline_from_dict(data)
    return info.value.path


def test_json_errors_name_the_bad_value() -> None:
    good = timeline_to_dict(sample())

    def edited(change) -> dict:  # type: ignore[no-untyped-def]
        data = copy.deepcopy(good)
        change(data)
        return data

    def set_(keys: tuple, value: object):  # type: ignore[no-untyped-def]
        def change(data: dict) -> None:
            target = data
            for key in keys[:-1]:
                target = target[key]
            target[keys[-1]] = value

        return change

    cases = [
        (set_(("fps",), 0), "$.timeline.fps"),
        (set_(("fps",), "\u00b2"), "$.timeline.fps"),
        (set_(("fps",), "9" * 5000), "$.timeline.fps"),
        (set_(("extra",), 1), "$.timeline.extra"),
        (set_(("items", 0, "type"), "wipe"), "$.timeline.items[0].type"),
        (set_(("items", 0, "bogus"), 1), "$.timeline.items[0].bogus"),
        (set_(("items", 1, "id"), "a"), "$.timeline.items[1].id"),
        (set_(("items", 0, "source_out"), 3), "$.timeline.items[0].source_out"),
        (set_(("items", 0, "source_in"), -1), "$.timeline.items[0].source_in"),
        (set_(("items", 0, "source_in"), 1.5), "$.timeline.items[0].source_in"),
        (set_(("items", 0, "take_id"), 7), "$.timeline.items[0].take_id"),
        (
            set_(("items", 0, "transition"), {"kind": "crossfade", "frames": 2}),
            "$.timeline.items[0].transition.kind",
        ),
        (set_(("items", 1, "transition", "frames"), 41), "$.timeline.items[1].transition.frames"),
        (set_(("items", 1, "transition", "frames"), 0), "$.timeline.items[1].transition.frames"),
        (set_(("items", 1, "transition", "kind"), "wipe"), "$.timeline.items[1].transition.kind"),
        (
            set_(("items", 3, "transition"), {"kind": "dip_black", "frames": 2}),
            "$.timeline.items[3].transition.kind",
        ),
        (set_(("items", 2, "frames"), 0), "$.timeline.items[2].frames"),
        (set_(("audio_tracks", 0, "id"), "a"), "$.timeline.audio_tracks[0].id"),
        (set_(("audio_tracks", 0, "gain_db"), 10**400), "$.timeline.audio_tracks[0].gain_db"),
        (set_(("audio_tracks", 0, "gain_db"), "loud"), "$.timeline.audio_tracks[0].gain_db"),
        (set_(("audio_tracks", 0, "muted"), 0), "$.timeline.audio_tracks[0].muted"),
        (
            set_(("audio_tracks", 0, "clips", 0, "media"), "../x.wav"),
            "$.timeline.audio_tracks[0].clips[0].media",
        ),
        (
            set_(("audio_tracks", 0, "clips", 0, "fade_in"), 90),
            "$.timeline.audio_tracks[0].clips[0].fade_out",
        ),
        (set_(("audio_tracks", 0, "clips", 0, "id"), "vo"), "$.timeline.audio_tracks[1].id"),
        (
            set_(("audio_tracks", 0, "clips", 0, "gain_db"), float("nan")),
            "$.timeline.audio_tracks[0].clips[0].gain_db",
        ),
        (set_(("items",), {}), "$.timeline.items"),
        (set_(("items", 0), []), "$.timeline.items[0]"),
    ]
    for change, path in cases:
        assert _bad(edited(change)) == path, path

    second = dict(good["audio_tracks"][0]["clips"][0], id="m2", start=99)
    overlapping = edited(lambda d: d["audio_tracks"][0]["clips"].append(second))
    assert _bad(overlapping) == "$.timeline.audio_tracks[0].clips[1].start"
    missing = edited(lambda d: d["items"][0].pop("shot_id"))
    assert _bad(missing) == "$.timeline.items[0].shot_id"
    with pytest.raises(ProjectError) as info:
        timeline_from_dict([], "$.jobs[3].timeline")
    assert info.value.path == "$.jobs[3].timeline"


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
    | st.sampled_from(["clip", "gap", "cut", "crossfade", "dip_black", "24000/1001", "a"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "fps",
                    "items",
                    "audio_tracks",
                    "type",
                    "id",
                    "shot_id",
                    "take_id",
                    "source_in",
                    "source_out",
                    "transition",
                    "kind",
                    "frames",
                    "media",
                    "start",
                    "gain_db",
                    "fade_in",
                    "fade_out",
                    "name",
                    "muted",
                    "clips",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_json_raises_only_project_error(data: object) -> None:
    try:
        result = timeline_from_dict(data)
    except ProjectError:
        return
    assert timeline_from_dict(timeline_to_dict(result)) == result


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += _paths(sub, (*prefix, index))
    return found


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_json_raises_only_project_error(data: st.DataObject) -> None:
    doc = timeline_to_dict(sample())
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        replacement = data.draw(JSON | st.integers(-5, 200))
        if not path:
            doc = replacement
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    try:
        result = timeline_from_dict(doc)
    except ProjectError:
        return
    assert timeline_from_dict(timeline_to_dict(result)) == result


# -- random edit sequences -----------------------------------------------------------------


def check_invariants(tl: Timeline) -> None:
    durations = sum(item.duration for item in tl.items)
    overlaps = sum(item.transition.overlap for item in tl.clips())
    assert tl.duration == durations - overlaps
    ids = [item.id for item in tl.items]
    for track in tl.audio_tracks:
        ids.append(track.id)
        ids += [c.id for c in track.clips]
        assert all(a.end <= b.start for a, b in zip(track.clips, track.clips[1:], strict=False))
    assert len(ids) == len(set(ids))
    starts = tl.starts()
    assert list(starts) == sorted(starts) and all(s >= 0 for s in starts)
    for index, (item, start) in enumerate(zip(tl.items, starts, strict=True)):
        if index + 1 == len(starts) or starts[index + 1] > start:
            assert tl.clip_at(start) == (index, item, 0)
    assert tl.clip_at(tl.duration) is None
    assert timeline_from_dict(json.loads(json.dumps(timeline_to_dict(tl)))) == tl


TRANSITIONS = st.one_of(
    st.just(CUT),
    st.builds(Transition, st.sampled_from(list(TransitionKind)[1:]), st.integers(1, 30)),
)


def _apply_random_edit(tl: Timeline, data: st.DataObject, fresh: str) -> Timeline:
    items = tl.items
    ids = [i.id for i in items]
    clip_ids = [c.id for c in tl.clips()]
    op = data.draw(
        st.sampled_from(
            [
                "append",
                "append",
                "insert_gap",
                "move",
                "trim",
                "trim",
                "roll",
                "split",
                "delete",
                "lift",
                "transition",
                "transition",
                "audio",
                "audio_move",
                "audio_trim",
            ]
        )
    )
    frames = st.integers(-5, 80)
    if op == "append":
        start = data.draw(st.integers(0, 20))
        length = data.draw(st.integers(1, 60))
        return tl.append(Clip(fresh, "s", "t", start, start + length, data.draw(TRANSITIONS)))
    if op == "insert_gap":
        index = data.draw(st.integers(0, len(items)))
        return tl.insert(index, Gap(fresh, data.draw(st.integers(1, 30))))
    if op == "move" and items:
        return tl.move(
            data.draw(st.integers(0, len(items) - 1)), data.draw(st.integers(0, len(items) - 1))
        )
    if op == "trim" and clip_ids:
        clip_id = data.draw(st.sampled_from(clip_ids))
        ripple = data.draw(st.booleans())
        source_in = data.draw(st.none() | frames)
        source_out = data.draw(st.none() | frames)
        result = tl.trim(clip_id, source_in=source_in, source_out=source_out, ripple=ripple)
        if not ripple:
            old, new = tl.item(clip_id), result.item(clip_id)
            assert result.start_of(clip_id) - new.source_in == tl.start_of(clip_id) - old.source_in
            # Every other clip stays put; only the gaps beside the clip change.
            now = starts_by_id(result)
            for other in tl.clips():
                if other.id != clip_id:
                    assert now[other.id] == tl.start_of(other.id)
        return result
    if op == "roll" and len(items) > 1:
        result = tl.roll(data.draw(st.integers(1, len(items) - 1)), data.draw(st.integers(-20, 20)))
        assert result.duration == tl.duration
        return result
    if op == "split" and tl.duration:
        result = tl.split(data.draw(st.integers(0, tl.duration)), fresh)
        assert result.duration == tl.duration
        return result
    if op == "delete" and ids:
        return tl.ripple_delete(data.draw(st.sampled_from(ids)))
    if op == "lift" and clip_ids:
        result = tl.lift(data.draw(st.sampled_from(clip_ids)))
        assert result.duration == tl.duration
        return result
    if op == "transition" and clip_ids:
        return tl.set_transition(data.draw(st.sampled_from(clip_ids)), data.draw(TRANSITIONS))
    if op == "audio":
        if not tl.audio_tracks or data.draw(st.booleans()):
            return tl.add_audio_track(AudioTrack(fresh, "Track"))
        track = data.draw(st.sampled_from(tl.audio_tracks))
        return tl.add_audio_clip(
            track.id, audio(fresh, data.draw(st.integers(0, 200)), data.draw(st.integers(1, 60)))
        )
    placed = [(t.id, c.id) for t in tl.audio_tracks for c in t.clips]
    if op == "audio_move" and placed:
        track_id, clip_id = data.draw(st.sampled_from(placed))
        return tl.move_audio_clip(track_id, clip_id, data.draw(st.integers(-2, 200)))
    if op == "audio_trim" and placed:
        track_id, clip_id = data.draw(st.sampled_from(placed))
        return tl.trim_audio_clip(
            track_id,
            clip_id,
            source_in=data.draw(st.none() | frames),
            source_out=data.draw(st.none() | frames),
        )
    return tl


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), fps=st.sampled_from(RATES))
def test_random_edit_sequences_keep_the_invariants(data: st.DataObject, fps: Fraction) -> None:
    lengths = data.draw(st.lists(st.integers(1, 60), min_size=2, max_size=6))
    tl = Timeline(fps=fps, items=[clip(f"c{i}", n) for i, n in enumerate(lengths)])
    for step in range(30):
        before = tl
        snapshot = timeline_to_dict(tl)
        try:
            tl = _apply_random_edit(tl, data, f"n{step}")
        except EditError:
            assert timeline_to_dict(before) == snapshot
            tl = before
        check_invariants(tl)
