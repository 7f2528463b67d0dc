"""Shots longer than a model's clip limit: rendered as overlapping segments and joined.

A video model renders at most `max_frames` frames per clip (81 for Wan 2.1, 49 for
CogVideoX...). A longer shot is split into segments that each obey the family's frame rule
(4n+1, 8n+1) and the limit, and that overlap by a few frames, so the total is exactly the
shot's frame count. Segment i > 0 begins with the overlap: its lead-in is the last frames of
what is joined so far, and the backend continues from them (image-to-video from the first
lead-in frame, or LTX-Video's condition pipeline given all of them), so the new segment
starts where its overlap starts and both versions of the overlap show the same moment.

The join happens in pixel space, never by re-encoding the tail through the VAE (that
accumulates colour drift from segment to segment):

1. colour: the whole incoming segment is corrected towards the outgoing frame it was
   conditioned on (`continuity.match_join`, LAB statistics, no fade). Both frames show the
   same picture by construction, so any visible difference between them is the model's
   drift, never intended content. This is always done for extension joins, whatever the
   request's `colour_match` (which is about cuts between shots) says, and skipped when the
   two frames already agree to within one CIEDE2000 unit;
2. the overlap is crossfaded linearly in float32 and rounded back to uint8.

Each segment has its own slice of the shot's camera rig (the same poses at the same frames)
and the seed `seed + i`. After each segment the take so far is offered as a partial result.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from engine.backends.base import Backend, Capabilities, RenderContext, RenderError, RenderInputs
from studio.camera import rig as camera
from studio.camera.easing import Easing, Keyframe
from studio.camera.rig import AXES, NEUTRAL, CameraRig
from studio.jobs import CameraMode, Event, GenerationRequest, Partial, Stage
from studio.project.files import temp_tag
from studio.segments import Segment, default_overlap, fits_rule, longest_clip, plan_segments

MATCH_THRESHOLD = 1.0  # mean CIEDE2000 under which a join needs no colour correction
_SEED_LIMIT = 2**63

SegmentHook = Callable[[int, int, np.ndarray], None]


# --- planning (the segments themselves: studio.segments) -------------------------------


def can_extend(entry, camera_mode: CameraMode = CameraMode.PROMPT) -> bool:
    """Whether the model (a catalog entry) can continue a clip, so a long shot can extend."""
    if entry.backend == "previz":
        return True
    modes = set(entry.pipelines) | set(entry.companions)
    if camera_mode == CameraMode.GUIDED:
        return "v2v" in modes
    from engine.backends.diffusers import conditions_on_frames

    return "i2v" in modes or conditions_on_frames(entry)


# --- the camera over one segment ----------------------------------------------------------


def slice_rig(rig: CameraRig, total: int, start: int, frames: int) -> CameraRig:
    """The rig of frames [start, start + frames) of a `total`-frame shot.

    Each moving axis gets a linear keyframe at every frame of the slice, so the slice's
    poses are the shot's poses at those frames (the easing is baked in). The shake keeps
    its amplitude and frequency; its jitter restarts from zero at the slice's first frame,
    which is the frame the segment is conditioned on.
    """
    if start < 0 or frames < 1 or start + frames > total:
        raise ValueError(f"frames {start}..{start + frames} are outside a {total}-frame shot")
    values = camera.sample(rig, total)
    times = np.arange(frames, dtype=np.float64) / max(1, frames - 1)
    axes = {}
    for axis in AXES:
        part = values[axis][start : start + frames]
        if np.all(part == part[0]):
            same = float(part[0])
            axes[axis] = () if same == NEUTRAL[axis] else (Keyframe(0.0, same, Easing.LINEAR),)
        else:
            axes[axis] = tuple(
                Keyframe(float(t), float(v), Easing.LINEAR)
                for t, v in zip(times, part, strict=True)
            )
    return replace(rig, **axes)


def segment_request(request: GenerationRequest, segment: Segment) -> GenerationRequest:
    """The request one segment renders: its length, its seed and its slice of the rig."""
    shake = request.camera.shake
    rig = slice_rig(request.camera, request.frames, segment.start, segment.frames)
    if segment.index:
        rig = replace(rig, shake=replace(shake, seed=(shake.seed + segment.index) % _SEED_LIMIT))
    return replace(
        request,
        frames=segment.frames,
        seed=(request.seed + segment.index) % _SEED_LIMIT,
        camera=rig,
    )


def segment_pictures(inputs: RenderInputs, segment: Segment) -> dict:
    """The `RenderInputs` fields of one segment's own pictures: the keyframes inside it past
    its lead-in, at its own frames, and its part of a guided render's guide video."""
    first = segment.start + (segment.overlap if segment.index else 0)
    kept = [
        (frame - segment.start, path)
        for frame, path in zip(inputs.middle_frames, inputs.middle, strict=True)
        if first <= frame < segment.end
    ]
    guide = None if inputs.guide is None else inputs.guide[segment.start : segment.end]
    return {
        "middle": tuple(path for _, path in kept),
        "middle_frames": tuple(frame for frame, _ in kept),
        "guide": guide,
    }


# --- joining ------------------------------------------------------------------------------


def crossfade(outgoing: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    """The overlap blended from all `outgoing` to all `incoming`, in float32, as uint8.

    Frame j of k weighs the incoming frame (j + 1) / (k + 1): neither end repeats a frame
    unblended, so the blend steps evenly from the frame before the overlap to the one after.
    """
    if outgoing.shape != incoming.shape:
        raise ValueError(f"overlaps differ in shape: {outgoing.shape} vs {incoming.shape}")
    count = outgoing.shape[0]
    weight = np.arange(1, count + 1, dtype=np.float32).reshape(-1, 1, 1, 1) / (count + 1)
    blend = outgoing.astype(np.float32) * (1.0 - weight) + incoming.astype(np.float32) * weight
    return np.clip(np.rint(blend), 0, 255).astype(np.uint8)


def match_segment(lead: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    """The incoming segment colour-corrected towards the frame it was conditioned on."""
    from engine.media.continuity import match_join, mean_ciede2000

    if mean_ciede2000(lead, incoming[0]) < MATCH_THRESHOLD:
        return incoming
    return match_join(lead, incoming, method="lab", fade_frames=0)


# --- rendering ----------------------------------------------------------------------------


class SegmentContext:
    """The job's context seen from one segment: progress mapped onto the whole shot and
    labelled "segment i of n"."""

    def __init__(self, ctx: RenderContext, index: int, count: int) -> None:
        self._ctx, self.index, self.count = ctx, index, count
        self.label = f"segment {index + 1} of {count}"

    def progress(self, step: int, total: int, stage: Stage, message: str = "") -> None:
        text = f"{self.label}: {message}" if message else self.label
        self._ctx.progress(self.index * total + step, self.count * total, stage, text)

    def preview(self, step: int, image: np.ndarray) -> None:
        self._ctx.preview(step, image)

    def check_cancelled(self) -> None:
        self._ctx.check_cancelled()

    def log(self, message: str) -> None:
        self._ctx.log(f"{self.label}: {message}")


def needs_extension(request: GenerationRequest, caps: Capabilities) -> bool:
    return caps.max_frames is not None and request.frames > caps.max_frames


def render(
    backend: Backend,
    request: GenerationRequest,
    inputs: RenderInputs,
    ctx: RenderContext,
    on_segment: SegmentHook | None = None,
) -> np.ndarray:
    """The request's frames: one clip, or extension segments past the clip limit."""
    caps = backend.capabilities(request.model_id)
    if not needs_extension(request, caps):
        return backend.generate(request, inputs, ctx)
    return render_extended(backend, request, inputs, ctx, caps, on_segment)


def render_extended(
    backend: Backend,
    request: GenerationRequest,
    inputs: RenderInputs,
    ctx: RenderContext,
    caps: Capabilities | None = None,
    on_segment: SegmentHook | None = None,
) -> np.ndarray:
    """Render `request.frames` frames as overlapping segments and join them.

    `on_segment(index, count, frames)` gets the take so far after each segment.
    """
    caps = caps or backend.capabilities(request.model_id)
    if not needs_extension(request, caps):
        return backend.generate(request, inputs, ctx)
    multiple = caps.frame_multiple
    plan = list(plan_segments(request.frames, caps.max_frames, multiple))
    out: np.ndarray | None = None
    index = 0
    while index < len(plan):
        segment = plan[index]
        if out is None:
            # The end keyframe is the shot's last frame: the last segment's only.
            part_inputs = inputs if len(plan) == 1 else replace(inputs, last_frame=None)
        else:
            lead = out[segment.start : plan[index - 1].end].copy()
            part_inputs = RenderInputs(
                references=inputs.references, loras=inputs.loras, lead_in=lead
            )
        if out is not None and index == len(plan) - 1:
            part_inputs.last_frame = inputs.last_frame
        if len(plan) > 1:
            part_inputs = replace(part_inputs, **segment_pictures(inputs, segment))
        sub = SegmentContext(ctx, index, len(plan))
        frames = np.asarray(backend.generate(segment_request(request, segment), part_inputs, sub))
        ctx.check_cancelled()
        if len(frames) < segment.frames:
            # The backend gave fewer frames (its out-of-memory fallback): plan the rest of the
            # shot with clips of that length.
            plan[index:] = _replan(plan, index, len(frames), request.frames, multiple)
            segment = plan[index]
        frames = frames[: segment.frames]
        if out is None:
            out = np.empty((request.frames, *frames.shape[1:]), np.uint8)
            out[: segment.frames] = frames
        else:
            if frames.shape[1:] != out.shape[1:]:
                raise RenderError(
                    f"segment {index + 1} came back {frames.shape[2]}x{frames.shape[1]}, "
                    f"not {out.shape[2]}x{out.shape[1]}"
                )
            shared = segment.overlap
            frames = match_segment(out[segment.start], frames)
            out[segment.start : segment.start + shared] = crossfade(
                out[segment.start : segment.start + shared], frames[:shared]
            )
            out[segment.start + shared : segment.end] = frames[shared:]
        if on_segment is not None:
            on_segment(index, len(plan), out[: segment.end])
        index += 1
    assert out is not None
    return out


def _replan(plan: list[Segment], index: int, got: int, total: int, multiple: int) -> list[Segment]:
    """Segment `index` delivered only `got` frames: it and the segments after it, again."""
    segment = plan[index]
    if got <= segment.overlap or not fits_rule(got, multiple):
        raise RenderError(f"segment {index + 1} came back with only {got} frames")
    done = replace(segment, frames=got)
    if done.end >= total:
        return [replace(done, frames=total - done.start)]
    overlap = default_overlap(got, multiple)
    start = done.end - overlap
    rest_total = total - start
    if rest_total <= got:
        # One more clip: it starts earlier (a wider overlap) so its length obeys the rule.
        rest_total = longest_clip(rest_total + multiple - 1, multiple)
        start = total - rest_total
    rest = plan_segments(rest_total, got, multiple, overlap if rest_total > got else None)
    first = done.end - start
    return [done] + [
        Segment(
            index + 1 + s.index, start + s.start, s.frames, first if s.index == 0 else s.overlap
        )
        for s in rest
    ]


# --- partial results ------------------------------------------------------------------------


class SegmentFiles:
    """The partial results of one job: temporary mp4s in the take store (named `.render-*`
    so the store's clean-up also finds them), announced as `Partial` events and removed
    when the job ends, whatever the outcome."""

    def __init__(
        self, folder: Path, job_id: str, fps: Fraction, emit: Callable[[Event], None]
    ) -> None:
        self.folder, self.job_id, self.fps, self._emit = Path(folder), job_id, fps, emit
        self.paths: list[Path] = []

    def write(self, index: int, count: int, frames: np.ndarray) -> None:
        from engine.media.video import MediaError, write_video

        self.folder.mkdir(parents=True, exist_ok=True)
        # The pid in the name lets a later run remove it if this process is killed.
        fd, name = tempfile.mkstemp(
            prefix=f".render-{temp_tag()}.{self.job_id}.part{index + 1}.",
            suffix=".mp4",
            dir=self.folder,
        )
        os.close(fd)
        path = Path(name)
        self.paths.append(path)
        try:
            write_video(path, frames, self.fps, crf=20, preset="ultrafast")
        except (MediaError, OSError):
            # A partial result is a courtesy: failing to write one must not stop the render.
            return
        self._emit(Partial(self.job_id, index, count, str(path)))

    def remove(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.unlink()
        self.paths.clear()
