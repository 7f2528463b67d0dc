"""Easing curves, keyframe interpolation, keyframe validation and smooth noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.camera.easing import (
    Easing,
    Keyframe,
    axis_value,
    axis_values,
    check_keyframes,
    check_number,
    curve_motion,
    ease,
    ease_array,
    frame_times,
    smooth_noise,
)
from studio.errors import ProjectError

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@pytest.mark.parametrize("easing", list(Easing))
def test_endpoints_are_exact(easing: Easing) -> None:
    assert ease(easing, 0.0) == 0.0
    assert ease(easing, 1.0) == 1.0
    assert type(ease(easing, 0.5)) is float


@pytest.mark.parametrize("easing", list(Easing))
def test_monotone_on_a_dense_grid(easing: Easing) -> None:
    u = np.linspace(0.0, 1.0, 100_001)
    values = ease_array(easing, u)
    assert np.all(np.diff(values) >= 0.0)
    assert values.min() == 0.0 and values.max() == 1.0


@given(easing=st.sampled_from(list(Easing)), a=unit, b=unit)
def test_monotone_for_any_pair(easing: Easing, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert 0.0 <= ease(easing, low) <= ease(easing, high) <= 1.0


@given(a=st.floats(min_value=0.49, max_value=0.51))
def test_ease_in_out_is_monotone_across_its_join(a: float) -> None:
    b = math.nextafter(a, 1.0)
    assert ease(Easing.EASE_IN_OUT, a) <= ease(Easing.EASE_IN_OUT, b)


def test_shapes() -> None:
    assert ease(Easing.LINEAR, 0.25) == 0.25
    assert ease(Easing.EASE_IN_OUT, 0.5) == 0.5
    assert ease(Easing.EASE_IN, 0.5) < 0.5 < ease(Easing.EASE_OUT, 0.5)
    assert ease(Easing.EASE_IN_OUT, 0.25) == pytest.approx(1.0 - ease(Easing.EASE_IN_OUT, 0.75))
    assert ease("linear", 0.3) == 0.3


def test_hold_is_a_step() -> None:
    assert ease(Easing.HOLD, 0.0) == 0.0
    assert ease(Easing.HOLD, 0.999999) == 0.0
    assert ease(Easing.HOLD, 1.0) == 1.0


def test_out_of_range_is_clamped_and_nan_refused() -> None:
    assert ease(Easing.EASE_IN, -2.0) == 0.0
    assert ease(Easing.EASE_OUT, 3.0) == 1.0
    with pytest.raises(ValueError):
        ease(Easing.LINEAR, math.nan)
    with pytest.raises(ValueError):
        ease("bounce", 0.5)


def test_empty_axis_is_neutral_and_one_keyframe_is_constant() -> None:
    assert axis_value((), 0.3) == 0.0
    assert axis_value((), 0.3, log=True) == 1.0
    assert axis_value((Keyframe(0.5, 7.0),), 0.0) == 7.0
    assert axis_value((Keyframe(0.5, 7.0),), 1.0) == 7.0
    assert axis_value((Keyframe(0.5, 2.5),), 0.9, log=True) == 2.5


def test_values_hold_outside_the_keyframes() -> None:
    keys = (Keyframe(0.2, 1.0, Easing.LINEAR), Keyframe(0.6, 3.0))
    assert axis_value(keys, 0.0) == 1.0
    assert axis_value(keys, 0.4) == pytest.approx(2.0)
    assert axis_value(keys, 1.0) == 3.0


def test_easing_belongs_to_the_segment_that_starts_at_the_keyframe() -> None:
    keys = (
        Keyframe(0.0, 0.0, Easing.HOLD),
        Keyframe(0.5, 10.0, Easing.LINEAR),
        Keyframe(1.0, 20.0, Easing.EASE_IN),
    )
    assert axis_value(keys, 0.49) == 0.0
    assert axis_value(keys, 0.5) == 10.0
    assert axis_value(keys, 0.75) == pytest.approx(15.0)


def test_zoom_interpolates_geometrically() -> None:
    keys = (Keyframe(0.0, 1.0, Easing.LINEAR), Keyframe(1.0, 4.0))
    assert axis_value(keys, 0.5, log=True) == pytest.approx(2.0, rel=1e-12)
    assert axis_value(keys, 0.25, log=True) == pytest.approx(math.sqrt(2.0), rel=1e-12)
    assert axis_value(keys, 0.5) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        axis_value((Keyframe(0.0, 0.0), Keyframe(1.0, 2.0)), 0.5, log=True)


@given(
    times=st.lists(unit, min_size=2, max_size=6, unique=True).map(sorted),
    values=st.lists(st.floats(0.01, 100.0), min_size=6, max_size=6),
    easings=st.lists(st.sampled_from(list(Easing)), min_size=6, max_size=6),
    log=st.booleans(),
)
def test_keyframe_values_are_hit_exactly(
    times: list[float], values: list[float], easings: list[Easing], log: bool
) -> None:
    keys = tuple(Keyframe(t, v, e) for t, v, e in zip(times, values, easings, strict=False))
    for key in keys:
        assert axis_value(keys, key.t, log=log) == key.value
    ts = np.linspace(0.0, 1.0, 57)
    got = axis_values(keys, ts, log=log)
    assert np.all(got >= min(values[: len(keys)]) * (1 - 1e-12))
    assert np.all(got <= max(values[: len(keys)]) * (1 + 1e-12))
    assert [axis_value(keys, float(t), log=log) for t in ts] == got.tolist()


def test_frame_times() -> None:
    assert frame_times(1).tolist() == [0.0]
    assert frame_times(5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    for bad in (0, -3, 2.0, True):
        with pytest.raises(ValueError):
            frame_times(bad)  # type: ignore[arg-type]


def test_check_number_turns_huge_integers_into_project_errors() -> None:
    assert check_number(3, "$.x") == 3.0
    with pytest.raises(ProjectError) as info:
        check_number(10**400, "$.x")
    assert info.value.path == "$.x"


@pytest.mark.parametrize(
    ("keys", "path"),
    [
        ([Keyframe(0.0, 1.0)], "$.a"),
        ((Keyframe(0.0, 1.0), "x"), "$.a[1]"),
        ((Keyframe(-0.1, 1.0),), "$.a[0].t"),
        ((Keyframe(0.5, 1.0), Keyframe(0.5, 2.0)), "$.a[1].t"),
        ((Keyframe(0.5, 1.0), Keyframe(0.4, 2.0)), "$.a[1].t"),
        ((Keyframe(0.0, math.inf),), "$.a[0].value"),
        ((Keyframe(0.0, 11.0),), "$.a[0].value"),
        ((Keyframe(0.0, 1.0, "bounce"),), "$.a[0].easing"),  # type: ignore[arg-type]
        ((Keyframe("0", 1.0),), "$.a[0].t"),  # type: ignore[arg-type]
    ],
)
def test_check_keyframes_names_the_bad_value(keys: object, path: str) -> None:
    with pytest.raises(ProjectError) as info:
        check_keyframes(keys, "$.a", -10.0, 10.0)
    assert info.value.path == path


def test_curve_motion() -> None:
    keys = (Keyframe(0.0, 0.0), Keyframe(0.5, 10.0), Keyframe(1.0, 4.0))
    motion = curve_motion(keys)
    assert (motion.net, motion.travel, motion.peak_rate) == (4.0, 16.0, 20.0)
    assert curve_motion(keys[:1]).travel == 0.0
    zoom = curve_motion((Keyframe(0.0, 1.0), Keyframe(1.0, 4.0)), log=True)
    assert zoom.net == pytest.approx(math.log(4.0))


def test_smooth_noise_is_deterministic_smooth_and_bounded() -> None:
    seconds = np.arange(480) / 24.0
    a = smooth_noise(7, 1.5, seconds, channels=3)
    assert a.shape == (3, 480)
    assert np.array_equal(a, smooth_noise(7, 1.5, seconds, channels=3))
    assert not np.array_equal(a, smooth_noise(8, 1.5, seconds, channels=3))
    assert np.all(a[:, 0] == 0.0)
    assert np.abs(a).max() <= 1.0
    assert np.abs(a).max() > 0.2
    # Smooth: at 24 fps a 1.5 Hz curve covers well under half its range in one frame.
    assert np.abs(np.diff(a, axis=1)).max() < 0.5
    assert not np.allclose(a[0], a[1])
    assert smooth_noise(1, 0.0, seconds).max() == 0.0
    assert smooth_noise(1, 1.0, np.zeros(0)).shape == (1, 0)
