"""Markers and in/out points: edits, checks, and a JSON that old projects still read."""

from __future__ import annotations

import pytest

from studio.errors import EditError, ProjectError
from studio.timeline.timeline import (
    Clip,
    Marker,
    MarkerColour,
    Timeline,
    timeline_from_dict,
    timeline_to_dict,
)


def edit(frames: int = 100) -> Timeline:
    return Timeline(items=(Clip("a", "a", None, 0, frames),))


def test_markers_are_added_kept_in_frame_order_renamed_and_removed():
    tl = edit().add_marker(Marker("m1", 50, "Beat")).add_marker(Marker("m2", 10))
    assert [m.id for m in tl.markers] == ["m2", "m1"]
    assert tl.fresh_marker_id() == "marker-1"
    renamed = tl.replace_marker(Marker("m1", 50, "Drop", MarkerColour.RED))
    assert renamed.marker("m1").name == "Drop" and renamed.marker("m1").colour == "red"
    assert [m.id for m in renamed.remove_marker("m2").markers] == ["m1"]
    assert tl.marker_after(10).id == "m1" and tl.marker_after(50) is None
    assert tl.marker_before(50).id == "m2" and tl.marker_before(10) is None


def test_bad_markers_are_refused_and_change_nothing():
    tl = edit().add_marker(Marker("m", 5))
    with pytest.raises(EditError, match="already has a marker"):
        tl.add_marker(Marker("m", 9))
    with pytest.raises(EditError, match="no marker"):
        tl.remove_marker("nope")
    with pytest.raises(EditError):
        Marker("x", -1)
    with pytest.raises(EditError, match="one line"):
        Marker("x", 1, "two\nlines")
    with pytest.raises(EditError, match="colour"):
        Marker("x", 1, "", "mauve")
    assert [m.id for m in tl.markers] == ["m"]


def test_in_and_out_points_mark_a_range_within_the_edit():
    tl = edit(100)
    assert tl.marked_range() is None
    assert tl.set_mark_in(20).marked_range() == (20, 100)
    assert tl.set_mark_out(30).marked_range() == (0, 30)
    both = tl.set_mark_in(20).set_mark_out(60)
    assert both.marked_range() == (20, 60)
    assert tl.set_marks(20, 500).marked_range() == (20, 100)  # the out point past the end
    assert tl.set_marks(150, None).marked_range() is None  # nothing of the edit is marked
    # An in point at or after the out point clears the out point, and the other way round.
    assert both.set_mark_in(70).marked_range() == (70, 100)
    assert both.set_mark_out(10).marked_range() == (0, 10)
    with pytest.raises(EditError, match="after the in point"):
        tl.set_marks(50, 50)
    assert tl.set_marks(None, None) == tl


def test_markers_and_marks_round_trip_and_old_timelines_read_without_them():
    tl = edit().add_marker(Marker("m", 12, "Cue", MarkerColour.GREEN)).set_marks(4, 40)
    data = timeline_to_dict(tl)
    assert data["markers"] == [{"id": "m", "frame": 12, "name": "Cue", "colour": "green"}]
    assert (data["mark_in"], data["mark_out"]) == (4, 40)
    assert timeline_from_dict(data) == tl
    plain = timeline_to_dict(edit())
    assert not {"markers", "mark_in", "mark_out"} & set(plain)  # old files stay as they were
    assert timeline_from_dict(plain).markers == ()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.update(mark_in=50, mark_out=10), "$.timeline.mark_out"),
        (lambda d: d.update(mark_in=-3), "$.timeline.mark_in"),
        (lambda d: d["markers"][0].update(colour="mauve"), "$.timeline.markers[0].colour"),
        (lambda d: d["markers"].append(dict(d["markers"][0])), "$.timeline.markers[1].id"),
    ],
)
def test_damaged_markers_name_the_bad_value(change, where):
    data = timeline_to_dict(edit().add_marker(Marker("m", 12, "Cue")))
    change(data)
    with pytest.raises(ProjectError) as info:
        timeline_from_dict(data)
    assert where in str(info.value)
