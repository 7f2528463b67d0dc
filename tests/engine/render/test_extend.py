"""Shots past the clip limit: segment plans, rig slices, joins, and extended renders in the
engine with the previz and with a tiny Wan model.

Join continuity is measured as the mean absolute difference of neighbouring frames (a
"jump"): the jumps across a join must be no larger than the ordinary jumps of the shot.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backends.base import RenderError, RenderInputs
from engine.backends.previz import PrevizBackend
from engine.media.video import probe
from engine.models.catalog import Catalog
from engine.render.extend import (
    Segment,
    can_extend,
    crossfade,
    default_overlap,
    fits_rule,
    longest_clip,
    plan_segments,
    render_extended,
    segment_request,
    slice_rig,
)
from engine.render.planning import plan_render
from engine.render.worker import Engine
from studio.camera import rig as camera
from studio.camera.easing import Easing
from studio.camera.rig import CameraRig, Shake, preset, with_move
from studio.jobs import (
    CameraMode,
    Cancelled,
    Failed,
    Finished,
    GenerationRequest,
    Partial,
    Progress,
)
from studio.project.io import save_project
from studio.project.model import Project
from tests.strategies import rigs

# --- planning ---------------------------------------------------------------------------


def check_plan(plan: tuple[Segment, ...], total: int, max_frames: int, multiple: int) -> None:
    assert plan[0].start == 0 and plan[0].overlap == 0
    assert plan[-1].end == total
    for i, seg in enumerate(plan):
        assert seg.index == i
        assert 1 <= seg.frames <= max_frames and fits_rule(seg.frames, multiple)
    for before, after in zip(plan, plan[1:], strict=False):
        assert after.start == before.end - after.overlap
        assert 1 <= after.overlap < min(before.frames, after.frames)
        assert before.start < after.start and before.end < after.end


@settings(max_examples=400, deadline=None)
@given(
    multiple=st.sampled_from([1, 4, 8]),
    max_frames=st.integers(3, 300),
    total=st.integers(1, 5000),
)
def test_segments_cover_the_shot_exactly_and_obey_the_rule(multiple, max_frames, total):
    longest = longest_clip(max_frames, multiple)
    if longest < 3:
        return
    if total <= longest and not fits_rule(total, multiple):
        with pytest.raises(ValueError, match="rule"):
            plan_segments(total, max_frames, multiple)
        return
    plan = plan_segments(total, max_frames, multiple)
    check_plan(plan, total, max_frames, multiple)
    if total <= longest:
        assert len(plan) == 1
    else:
        # As few segments as the limit allows (one more at most, for the frame rule).
        k = default_overlap(max_frames, multiple)
        assert len(plan) <= max(2, math.ceil((total - k) / (longest - k))) + 1


@pytest.mark.parametrize(
    ("max_frames", "multiple"), [(81, 4), (121, 4), (129, 4), (49, 4), (257, 8), (17, 4)]
)
def test_real_clip_limits_keep_the_full_overlap_and_even_lengths(max_frames, multiple):
    k = default_overlap(max_frames, multiple)
    for total in range(max_frames + 1, 12 * max_frames, 7):
        plan = plan_segments(total, max_frames, multiple)
        check_plan(plan, total, max_frames, multiple)
        # Overlaps may narrow to half, never more, to save a whole segment.
        assert all((k + 1) // 2 <= s.overlap < k + multiple for s in plan[1:])
        lengths = [s.frames for s in plan]
        assert max(lengths) - min(lengths) <= multiple
        assert len(plan) <= math.ceil((total - k) / (longest_clip(max_frames, multiple) - k))
        for seg, after in zip(plan[1:], plan[2:], strict=False):
            assert seg.overlap + after.overlap < seg.frames  # joins stay apart


def test_overlaps_follow_the_frame_rule_where_they_can():
    assert default_overlap(81, 4) == 9  # Wan: two latent frames and one
    assert default_overlap(257, 8) == 9  # LTX keeps an 8n+1 run of its lead-in
    assert default_overlap(17, 4) == 5
    assert default_overlap(20, 1) == 4  # a quarter of a short clip
    assert default_overlap(9, 8) == 2  # 8n+1 would leave nothing new
    # 200 Wan frames: three even clips; the frame the rule leaves over widens one overlap.
    assert plan_segments(200, 81, 4) == (
        Segment(0, 0, 73, 0),
        Segment(1, 63, 73, 10),
        Segment(2, 127, 73, 9),
    )


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match="rule"):
        plan_segments(10, 81, 4)
    with pytest.raises(ValueError, match="too short"):
        plan_segments(10, 2)
    with pytest.raises(ValueError, match="overlap"):
        plan_segments(100, 20, 1, overlap=20)
    assert plan_segments(81, 81, 4) == (Segment(0, 0, 81, 0),)


# --- the rig over a segment ---------------------------------------------------------------


def pose_arrays(rig: CameraRig, frames: int) -> np.ndarray:
    return np.array(
        [[*np.ravel(p.rotation), *p.translation, p.focal] for p in camera.poses(rig, frames, 24.0)]
    )


@settings(max_examples=60, deadline=None)
@given(rig=rigs(), total=st.integers(3, 120), data=st.data())
def test_a_slice_of_the_rig_has_the_shots_poses_at_its_frames(rig, total, data):
    rig = CameraRig(**{**rig.__dict__, "shake": Shake()})
    start = data.draw(st.integers(0, total - 2))
    frames = data.draw(st.integers(2, total - start))
    part = slice_rig(rig, total, start, frames)
    camera.validate_rig(part)
    expected = pose_arrays(rig, total)[start : start + frames]
    assert np.allclose(pose_arrays(part, frames), expected, rtol=1e-6, atol=1e-6)


def test_segment_requests_slice_the_move_and_step_the_seed():
    rig = with_move(CameraRig(), "pan", 0.0, 60.0, Easing.EASE_IN_OUT)
    rig = with_move(rig, "zoom", 1.0, 2.0, Easing.LINEAR)
    rig = CameraRig(**{**rig.__dict__, "shake": Shake(1.0, 2.0, seed=7)})
    request = GenerationRequest("sea", "previz", 64, 64, 100, seed=5, camera=rig)
    first, second = (
        segment_request(request, Segment(0, 0, 40, 0)),
        segment_request(request, Segment(1, 32, 40, 8)),
    )
    assert (first.frames, first.seed, second.frames, second.seed) == (40, 5, 40, 6)
    assert first.camera.shake.seed == 7 and second.camera.shake.seed == 8
    pans = camera.sample(rig, 100)["pan"]
    assert second.camera.pan[0].value == pytest.approx(pans[32])
    assert second.camera.pan[-1].value == pytest.approx(pans[71])
    assert slice_rig(CameraRig(), 100, 10, 20) == CameraRig()  # nothing moves, nothing added


# --- the crossfade ------------------------------------------------------------------------


def test_the_crossfade_steps_evenly_from_outgoing_to_incoming():
    out = np.zeros((3, 2, 2, 3), np.uint8)
    inc = np.full((3, 2, 2, 3), 200, np.uint8)
    blend = crossfade(out, inc)
    assert blend.dtype == np.uint8
    assert blend[:, 0, 0, 0].tolist() == [50, 100, 150]
    assert np.array_equal(crossfade(inc, inc), inc)
    with pytest.raises(ValueError):
        crossfade(out, inc[:2])


# --- extended renders ---------------------------------------------------------------------


def jumps(frames: np.ndarray) -> np.ndarray:
    """jumps[i]: mean absolute difference between frame i and frame i + 1."""
    return np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))


def join_jumps(frames: np.ndarray, plan) -> tuple[np.ndarray, np.ndarray]:
    """Jumps across each join (from the frame before the overlap to the frame after it)
    and every other jump of the shot."""
    all_jumps = jumps(frames)
    at_join = np.zeros(len(all_jumps), bool)
    for seg in plan[1:]:
        before = plan[seg.index - 1]
        at_join[seg.start - 1 : before.end] = True
    return all_jumps[at_join], all_jumps[~at_join]


def previz_request(frames: int = 50, **kw) -> GenerationRequest:
    base = dict(
        prompt="a lighthouse on a rock",
        model_id="previz",
        backend="previz",
        width=96,
        height=64,
        frames=frames,
        fps=Fraction(24),
        seed=3,
        camera=preset("pan_left"),
    )
    base.update(kw)
    return GenerationRequest(**base)


class PartialProbe:
    """An event sink that checks each partial file while it exists (in the engine thread)."""

    def __init__(self, recorder) -> None:
        self.recorder = recorder
        self.partials: list[tuple[int, int, int, str]] = []
        self.engine: Engine | None = None
        self.cancel_at: int | None = None

    def __call__(self, event) -> None:
        if isinstance(event, Partial):
            frames = probe(event.media).frames
            self.partials.append((event.index, event.count, frames, event.media))
            if self.cancel_at == event.index and self.engine is not None:
                self.engine.cancel(event.job_id)
        self.recorder(event)


@pytest.fixture
def previz_engine(store, recorder):
    sink = PartialProbe(recorder)
    engine = Engine(store, sink, lambda name: PrevizBackend(max_frames=20)).start()
    sink.engine = engine
    yield engine, sink
    engine.shutdown(30)


def leftovers(store) -> list[Path]:
    return sorted(store.folder.glob(".*")) if store.folder.exists() else []


def test_a_long_previz_renders_in_segments_with_continuous_joins(previz_engine, recorder, store):
    engine, sink = previz_engine
    req = previz_request(50)
    plan = plan_segments(50, 20)
    assert len(plan) == 3
    job = engine.submit(req)
    done = recorder.wait_done(job)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    assert probe(store.find(req.hash)).frames == 50
    # One partial per segment, in order, each the take so far.
    assert [(i, n, f) for i, n, f, _ in sink.partials] == [
        (i, 3, s.end) for i, s in enumerate(plan)
    ]
    assert not any(Path(media).exists() for *_, media in sink.partials)
    assert leftovers(store) == []
    messages = [e.message for e in recorder.of(job) if isinstance(e, Progress)]
    for n in (1, 2, 3):
        assert any(m.startswith(f"segment {n} of 3") for m in messages), messages
    # The same frames, without the engine's encode, to measure the joins.
    frames = render_extended(PrevizBackend(max_frames=20), req, RenderInputs(), NullCtx())
    assert frames.shape == (50, 64, 96, 3)
    # The previz continues from the very frame where its overlap starts, so both sides of
    # an overlap show the same view and a join moves like any other pair of frames.
    at_join, ordinary = join_jumps(frames, plan)
    assert at_join.max() <= 1.5 * np.percentile(ordinary, 99)
    assert ordinary.max() > 5  # the camera really moves


def pan_track(frames: np.ndarray) -> np.ndarray:
    """Horizontal image position of each frame relative to the first (phase correlation)."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames]
    shifts = [cv2.phaseCorrelate(a, b)[0][0] for a, b in zip(grey, grey[1:], strict=False)]
    return np.concatenate([[0.0], np.cumsum(shifts)])


def test_the_camera_keeps_its_path_across_joins(tmp_path):
    rng = np.random.default_rng(1)
    texture = rng.integers(0, 255, (24, 40, 3), dtype=np.uint8)
    key = tmp_path / "key.png"
    cv2.imwrite(str(key), cv2.resize(texture, (320, 192), interpolation=cv2.INTER_CUBIC))
    req = previz_request(50, width=160, height=96)
    inputs = RenderInputs(keyframe=key)
    extended = render_extended(PrevizBackend(max_frames=20), req, inputs, NullCtx())
    whole = PrevizBackend().generate(req, inputs, NullCtx())
    assert np.array_equal(extended[:16], whole[:16])  # the first segment, before its overlap
    path = pan_track(whole)
    assert abs(path[-1]) > 60  # a pan of more than a third of the frame
    # Each segment starts from the frame where its overlap starts, with the rig's poses of
    # those frames: the pan follows the unbroken one (starting from the last frame instead
    # would run several pixels ahead).
    assert np.abs(pan_track(extended) - path).max() < 2.5


def test_cancel_between_segments_leaves_nothing(previz_engine, recorder, store):
    engine, sink = previz_engine
    sink.cancel_at = 0
    req = previz_request(50)
    job = engine.submit(req)
    assert isinstance(recorder.wait_done(job), Cancelled)
    assert len(sink.partials) == 1
    assert not store.has(req.hash)
    assert leftovers(store) == []


class FailingSecondSegment(PrevizBackend):
    def __init__(self) -> None:
        super().__init__(max_frames=20)
        self.calls = 0

    def generate(self, request, inputs, ctx):
        self.calls += 1
        if self.calls == 2:
            assert inputs.lead_in is not None and inputs.keyframe is None
            raise RenderError("the model ran dry")
        return super().generate(request, inputs, ctx)


def test_a_failed_segment_fails_the_job_and_leaves_nothing(store, recorder):
    sink = PartialProbe(recorder)
    engine = Engine(store, sink, lambda name: FailingSecondSegment()).start()
    try:
        req = previz_request(50)
        failed = recorder.wait_done(engine.submit(req))
    finally:
        engine.shutdown(30)
    assert isinstance(failed, Failed) and "ran dry" in failed.message
    assert len(sink.partials) == 1
    assert leftovers(store) == [] and not store.has(req.hash)


class ShortSecondSegment(PrevizBackend):
    """Gives the second segment fewer frames, as the out-of-memory fallback does."""

    def __init__(self) -> None:
        super().__init__(max_frames=20)
        self.lengths: list[int] = []

    def generate(self, request, inputs, ctx):
        frames = super().generate(request, inputs, ctx)
        if len(self.lengths) == 1:
            frames = frames[:10]
        self.lengths.append(len(frames))
        return frames


def test_a_short_segment_is_made_up_by_more_segments():
    backend = ShortSecondSegment()
    seen: list[tuple[int, int]] = []
    frames = render_extended(
        backend,
        previz_request(50),
        RenderInputs(),
        NullCtx(),
        on_segment=lambda i, n, f: seen.append((i, n)),
    )
    assert frames.shape[0] == 50
    assert backend.lengths[1] == 10 and max(backend.lengths[2:]) <= 10
    assert seen[0] == (0, 3) and seen[-1][1] == len(backend.lengths) > 3


class NullCtx:
    def progress(self, step, total, stage, message=""):
        pass

    def preview(self, step, image):
        pass

    def check_cancelled(self):
        pass

    def log(self, message):
        pass


# --- planning a long shot -----------------------------------------------------------------


def test_long_shots_keep_their_length_when_the_model_can_continue(tmp_path):
    project = Project(fps=Fraction(16), width=64, height=64)
    project.shots = [project.new_shot(id="a", prompt="sea", duration=2.0)]
    folder = tmp_path / "L.gallop"
    save_project(project, folder)
    shot = project.shots[0]
    plan = plan_render(project, folder, shot, model_id="tiny-wan")
    assert plan.request.frames == 32  # exact: 2 s at 16 fps, over the 17-frame limit
    assert any("3 overlapping segments" in note for note in plan.notes), plan.notes
    shot.duration = 6.0
    clamped = plan_render(project, folder, shot, model_id="wan2.1-t2v-1.3b")
    assert clamped.request.frames == 81  # its clip limit: no image-to-video to continue with
    assert any("cannot continue a clip" in note for note in clamped.notes), clamped.notes
    catalog = Catalog()
    assert not can_extend(catalog.get("wan2.1-t2v-1.3b"))  # no image-to-video to continue
    assert can_extend(catalog.get("wan2.1-t2v-1.3b"), CameraMode.GUIDED)
    assert can_extend(catalog.get("ltx-video")) and can_extend(catalog.get("hunyuanvideo"))
    assert can_extend(catalog.get("previz"))


# --- a tiny Wan model ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def wan():
    from engine.backends.diffusers import DiffusersBackend

    backend = DiffusersBackend()
    yield backend
    backend.unload()


def wan_request(**kw) -> GenerationRequest:
    base = dict(
        prompt="a lighthouse on a rock in a storm",
        model_id="tiny-wan",
        width=32,
        height=32,
        frames=25,
        fps=Fraction(16),
        seed=11,
        steps=2,
    )
    base.update(kw)
    return GenerationRequest(**base)


def test_a_tiny_wan_shot_extends_through_the_engine(wan, store, recorder):
    sink = PartialProbe(recorder)
    engine = Engine(store, sink, lambda name: wan).start()
    try:
        req = wan_request()
        done = recorder.wait_done(engine.submit(req), 300)
    finally:
        engine.shutdown(30)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    assert probe(store.find(req.hash)).frames == 25
    plan = plan_segments(25, 17, 4)
    assert [(i, n, f) for i, n, f, _ in sink.partials] == [
        (i, 2, s.end) for i, s in enumerate(plan)
    ]
    assert leftovers(store) == []


def test_tiny_wan_joins_are_crossfaded(wan):
    req = wan_request()
    plan = plan_segments(25, 17, 4)
    firsts: list[np.ndarray] = []
    frames = render_extended(
        wan, req, RenderInputs(), NullCtx(), on_segment=lambda i, n, f: firsts.append(f.copy())
    )
    assert frames.shape == (25, 32, 32, 3)
    segment_0 = firsts[0]
    assert len(segment_0) == plan[0].frames
    # Random weights give unrelated noise in each segment. Butting the incoming segment's
    # new frames straight onto the outgoing segment would jump between two unrelated
    # pictures; the crossfade walks across in even steps instead.
    hard_cut = jumps(np.stack([segment_0[-1], frames[plan[0].end]]))[0]
    at_join, ordinary = join_jumps(frames, plan)
    assert at_join.max() < 0.75 * hard_cut
    assert at_join.max() <= 1.5 * np.percentile(ordinary, 99)
    # Before the overlap, the first segment is untouched.
    assert np.array_equal(frames[: plan[1].start], segment_0[: plan[1].start])


def test_the_wan_continues_from_the_lead_in(wan, monkeypatch):
    seen = threading.Event()
    original = wan._call_kwargs

    def spy(entry, mode, request, inputs, ctx, pipe=None):
        kwargs = original(entry, mode, request, inputs, ctx, pipe)
        if inputs.lead_in is not None:
            assert mode == "i2v" and kwargs["image"].size == (32, 32)
            assert np.array_equal(np.asarray(kwargs["image"]), inputs.lead_in[0])
            seen.set()
        return kwargs

    monkeypatch.setattr(wan, "_call_kwargs", spy)
    render_extended(wan, wan_request(frames=21), RenderInputs(), NullCtx())
    assert seen.is_set()


def test_ltx_continues_from_every_lead_in_frame(monkeypatch):
    from engine.backends.diffusers import DiffusersBackend

    backend = DiffusersBackend()
    seen: list[dict] = []
    original = backend._call_kwargs

    def spy(entry, mode, request, inputs, ctx, pipe=None):
        kwargs = original(entry, mode, request, inputs, ctx, pipe)
        seen.append(kwargs)
        return kwargs

    monkeypatch.setattr(backend, "_call_kwargs", spy)
    req = GenerationRequest("sea", "tiny-ltx", 32, 32, 17, fps=Fraction(24), seed=1, steps=2)
    lead = np.random.default_rng(0).integers(0, 255, (9, 32, 32, 3), dtype=np.uint8)
    try:
        frames = backend.generate(req, RenderInputs(lead_in=lead), NullCtx())
    finally:
        backend.unload()
    assert frames.shape == (17, 32, 32, 3)
    (condition,) = seen[0]["conditions"]
    assert condition.frame_index == 0 and len(condition.video) == 9
    assert np.array_equal(np.asarray(condition.video[4]), lead[4])
