"""What each diffusers pipeline class is given besides the prompt: its pictures, its model
card's settings, and a second stage.

The diffusers backend decides the mode (text, image or video to video) and the common
arguments; this module turns the render's inputs into the conditioning each class takes:

- image-to-video classes take `image`, and `last_image` when the model can end on a given
  frame (Wan FLF2V, SkyReels-V2 diffusion forcing);
- `WanVACEPipeline` takes a conditioning `video` and its `mask` (black: keep this frame,
  white: generate it) and `reference_images`: a keyframe is a kept first frame, a keyframe
  inside the shot a kept frame at its place, an end keyframe a kept last one, the previz a
  control video (a guided render: its frames are generated, shaped by it, except the kept
  keyframes), the shot's references and its characters' references from the bible are
  reference images;
- `LTXConditionPipeline` takes `conditions`, each a picture or a run of frames at a frame
  index: the keyframe at 0, keyframes inside the shot at their frames, the end keyframe at
  the last frame, an extension's lead-in;
- a class that takes none of these refuses pictures inside the shot before it renders;
- HunyuanVideo 1.5 has no `guidance_scale`: its guider is replaced by one with the scale;
- `call` settings of the catalog entry go to the call when the class takes them, or to the
  pipeline's configuration when they are one of its settings (Wan 2.2's `boundary_ratio`);
- SkyReels-V2 diffusion forcing renders a clip longer than `base_num_frames` in windows that
  overlap by `overlap_history` frames, so it needs no extension segments;
- HunyuanVideo Framepack (`image` and `last_image`) renders a clip as one section of its
  length (`latent_window_size`), since a section is the unit its frame count comes in.

The optional second stage of LTX-Video 0.9.7 and later (`upsample_stage`) renders at two
thirds of the size, doubles the latents with the latent upsampler and refines them with a
few steps at the doubled size.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.backends.base import RenderContext, RenderError, RenderInputs
from engine.models.catalog import ModelEntry
from studio.jobs import CameraMode, GenerationRequest

# Conditioning arguments: a class that lacks one the render needs is an error, not a
# silently ignored picture.
CONDITIONING = ("image", "last_image", "video", "mask", "reference_images", "conditions")
VACE = "WanVACEPipeline"
LTX_CONDITION = "LTXConditionPipeline"
# The pipelines that continue a clip from several frames rather than from one picture; they
# also take pictures at any frame of the clip (keyframes inside a shot).
FRAME_CONDITIONED = (LTX_CONDITION, VACE)
GREY = 128  # VACE's neutral value for the frames it is to generate


def accepted(pipe) -> set[str]:
    """The keyword arguments the pipeline's `__call__` takes."""
    return set(inspect.signature(type(pipe).__call__).parameters)


def pil(image: np.ndarray, width: int, height: int):
    """An RGB array as a PIL image covering width x height (scaled, centre-cropped)."""
    from PIL import Image

    from engine.backends.pictures import as_rgb_frame, fit_cover

    return Image.fromarray(fit_cover(as_rgb_frame(image), width, height))


def picture(path: Path, width: int, height: int):
    from engine.backends.pictures import load_image

    return pil(load_image(path), width, height)


@dataclass
class Pictures:
    """The render's pictures at the request's size, as PIL images."""

    first: Any = None  # the picture the clip starts from (keyframe, continuity, lead-in)
    last: Any = None  # the picture it ends on (the shot's end keyframe)
    lead: list | None = None  # an extension's lead-in frames
    guide: list | None = None  # the structure video of a guided render
    references: list | None = None  # the shot's reference images
    middle: list | None = None  # (frame, picture): keyframes inside the clip


def gather(
    entry: ModelEntry, mode: str, request: GenerationRequest, inputs: RenderInputs, guide
) -> Pictures:
    """The pictures the mode uses; `guide` makes the previz when a guided render has none."""
    w, h = request.width, request.height
    found = Pictures()
    if mode == "i2v":
        image = inputs.continuity
        if inputs.lead_in is not None:
            image = inputs.lead_in[0]
        found.first = picture(inputs.keyframe, w, h) if inputs.keyframe else pil(image, w, h)
    if inputs.lead_in is not None and mode == "v2v":
        found.lead = [pil(frame, w, h) for frame in inputs.lead_in]
    elif mode == "v2v" and request.camera_mode == CameraMode.GUIDED:
        frames = inputs.guide if inputs.guide is not None else guide()
        found.guide = [pil(frame, w, h) for frame in frames]
        start = inputs.keyframe
        if entry.pipelines.get(mode) == VACE and (start or inputs.continuity is not None):
            # The control video starts on the start picture: VACE keeps it as it is.
            found.first = picture(start, w, h) if start else pil(inputs.continuity, w, h)
    if inputs.last_frame is not None and entry.last_frame:
        found.last = picture(inputs.last_frame, w, h)
    if inputs.references:
        found.references = [picture(path, w, h) for path in inputs.references]
    if inputs.middle:
        found.middle = [
            (frame, picture(path, w, h))
            for frame, path in zip(inputs.middle_frames, inputs.middle, strict=True)
        ]
    return found


def conditioning(
    class_name: str,
    request: GenerationRequest,
    pictures: Pictures,
    strength: float,
) -> dict[str, Any]:
    """The class's conditioning arguments for these pictures."""
    if class_name == VACE:
        return _vace(request, pictures, strength)
    if class_name == LTX_CONDITION:
        return _ltx(request, pictures, strength)
    if pictures.middle:
        frames = ", ".join(str(frame) for frame, _ in pictures.middle)
        raise RenderError(
            f"{class_name} cannot take pictures inside the clip (keyframes at frames {frames}):"
            " render the shot with a VACE or LTX-Video 0.9.8 model, or remove those keyframes"
        )
    kwargs: dict[str, Any] = {}
    if pictures.first is not None:
        kwargs["image"] = pictures.first
    if pictures.last is not None:
        kwargs["last_image"] = pictures.last
    if pictures.guide is not None:
        kwargs.update(video=pictures.guide, strength=strength)
    return kwargs


def _vace(request: GenerationRequest, pictures: Pictures, strength: float) -> dict[str, Any]:
    from PIL import Image

    w, h, n = request.width, request.height, request.frames
    kwargs: dict[str, Any] = {}
    if pictures.references:
        kwargs["reference_images"] = pictures.references
    # Pictures kept at their frames: the start (a guided render's), those inside the clip
    # and the end.
    keys = list(pictures.middle or [])
    if pictures.last is not None:
        keys.append((n - 1, pictures.last))
    black, white = Image.new("L", (w, h), 0), Image.new("L", (w, h), 255)
    if pictures.guide is not None:
        # A control video: every frame is generated, shaped by it, but the keyframes;
        # `strength` scales the control blocks' contribution.
        video = list(pictures.guide[:n])
        kwargs.update(video=video, conditioning_scale=strength)
        if pictures.first is not None:
            keys.insert(0, (0, pictures.first))
        if not keys:
            return kwargs
        mask = [white] * len(video)
    else:
        kept = list(pictures.lead or ([pictures.first] if pictures.first is not None else []))
        if not kept and not keys:
            return kwargs
        grey = Image.new("RGB", (w, h), (GREY, GREY, GREY))
        video = kept[:n] + [grey] * (n - len(kept[:n]))
        mask = [black] * len(kept[:n]) + [white] * (n - len(kept[:n]))
    for frame, image in keys:
        if 0 <= frame < len(video):
            video[frame], mask[frame] = image, black
    kwargs.update(video=video, mask=mask)
    return kwargs


def _ltx(request: GenerationRequest, pictures: Pictures, strength: float) -> dict[str, Any]:
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    if pictures.guide is not None:
        # Video-to-video: `strength` weighs a condition, `denoise_strength` is the v2v one.
        return {"video": pictures.guide, "strength": 1.0, "denoise_strength": strength}
    conditions = []
    if pictures.lead is not None:
        # An extension segment: its first frames are the lead-in, encoded as a condition at
        # frame 0 (the pipeline keeps the longest 8n+1 run of them).
        conditions.append(LTXVideoCondition(video=pictures.lead, frame_index=0, strength=1.0))
    elif pictures.first is not None:
        conditions.append(LTXVideoCondition(image=pictures.first, frame_index=0, strength=1.0))
    for frame, image in pictures.middle or []:
        conditions.append(LTXVideoCondition(image=image, frame_index=frame, strength=1.0))
    if pictures.last is not None:
        last = request.frames - 1
        conditions.append(LTXVideoCondition(image=pictures.last, frame_index=last, strength=1.0))
    return {"conditions": conditions} if conditions else {}


def model_settings(pipe, entry: ModelEntry, request: GenerationRequest) -> dict[str, Any]:
    """The entry's `call` settings the pipeline takes; those that are settings of the
    pipeline itself (not call arguments) are set on it instead."""
    takes = accepted(pipe)
    kwargs: dict[str, Any] = {}
    for name, value in entry.call.items():
        if name in takes:
            kwargs[name] = list(value) if isinstance(value, list) else value
        elif name in getattr(pipe, "config", {}) and pipe.config[name] != value:
            pipe.register_to_config(**{name: value})
    steps = request.steps or entry.steps
    if "timesteps" in kwargs and len(kwargs["timesteps"]) != steps:
        # The published schedule is for its own step count; another count gets the default.
        del kwargs["timesteps"]
    if "latent_window_size" in takes:
        # Framepack renders sections of 4 x latent_window_size frames after the first: a
        # clip is one section as long as the clip (a longer shot extends in segments).
        window = max(1, (request.frames - 1) // 4)
        kwargs.update(latent_window_size=window, num_frames=4 * window - 3)
    if "base_num_frames" in kwargs:
        # Diffusion forcing: windows of `base_num_frames` overlapping by `overlap_history`,
        # only when the clip is longer than one window.
        if request.frames <= kwargs["base_num_frames"]:
            kwargs["base_num_frames"] = request.frames
            kwargs["overlap_history"] = None
        if "fps" in takes:
            kwargs["fps"] = int(round(float(request.fps)))
    return kwargs


def df_windows(kwargs: dict[str, Any], temporal: int = 4) -> int:
    """How many windows diffusion forcing renders a clip in (1 for a short clip)."""
    base, overlap = kwargs.get("base_num_frames"), kwargs.get("overlap_history")
    if not base or not overlap:
        return 1
    frames = (kwargs["num_frames"] - 1) // temporal + 1
    window = (base - 1) // temporal + 1
    shared = (overlap - 1) // temporal + 1
    if frames <= window:
        return 1
    return 2 + (frames - window - 1) // max(1, window - shared)


def set_guidance(pipe, kwargs: dict[str, Any]) -> None:
    """A pipeline with a guider instead of `guidance_scale` gets a guider with the scale."""
    guidance = kwargs.pop("guidance_scale", None)
    guider = getattr(pipe, "guider", None)
    if guidance is None or guider is None or not hasattr(guider, "new"):
        return
    if getattr(guider, "guidance_scale", None) != guidance:
        pipe.guider = guider.new(guidance_scale=guidance)


def check_conditioning(pipe, entry: ModelEntry, kwargs: dict[str, Any]) -> None:
    """RenderError when the pipeline cannot take a picture the render has, or needs one it
    lacks: Wan FLF2V's image branch embeds exactly two pictures, the first and the last."""
    takes = accepted(pipe)
    missing = [name for name in CONDITIONING if name in kwargs and name not in takes]
    if missing:
        raise RenderError(f"{entry.name} ({type(pipe).__name__}) cannot take {', '.join(missing)}")
    config = getattr(getattr(pipe, "transformer", None), "config", None)
    pair = getattr(config, "pos_embed_seq_len", None) and getattr(config, "image_dim", None)
    if pair and "image" in kwargs and "last_image" not in kwargs:
        raise RenderError(
            f"{entry.name} renders from a first to a last frame: give the shot an end "
            "keyframe (it cannot continue a clip from one picture either)"
        )


def keep_accepted(pipe, kwargs: dict[str, Any]) -> dict[str, Any]:
    takes = accepted(pipe)
    return {name: value for name, value in kwargs.items() if name in takes}


# --- LTX-Video's second stage ------------------------------------------------------------


def stage_size(value: int, share: float, multiple: int) -> int:
    """A side of the first stage: `share` of it, down to the latent grid (one cell at least)."""
    return max(multiple, int(value * share) // multiple * multiple)


def upsample_stage(
    pipe,
    upsampler_folder: Path,
    entry: ModelEntry,
    kwargs: dict[str, Any],
    run: Callable[[dict[str, Any], str], Any],
    ctx: RenderContext,
):
    """Render at a fraction of the size, double the latents, refine them: the frames at
    twice the first stage's size (the caller scales them to the request's)."""
    from diffusers import LTXLatentUpsamplePipeline
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    stage = entry.upsampler or {}
    multiple = entry.size_multiple
    share = float(stage.get("downscale", 2 / 3))
    first = dict(kwargs)
    first["width"] = stage_size(kwargs["width"], share, multiple)
    first["height"] = stage_size(kwargs["height"], share, multiple)
    first["output_type"] = "latent"
    ctx.log(
        f"first stage at {first['width']}x{first['height']}, then the latent upsampler to "
        f"{2 * first['width']}x{2 * first['height']}"
    )
    latents = run(first, "")
    model = LTXLatentUpsamplerModel.from_pretrained(
        upsampler_folder, subfolder=stage["subfolder"], dtype=pipe.vae.dtype
    ).to(pipe.vae.device)
    upsample = LTXLatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=model)
    upsample.set_progress_bar_config(disable=True)
    import torch

    with torch.inference_mode():
        doubled = upsample(
            latents=latents,
            adain_factor=float(stage.get("adain_factor", 0.0)),
            tone_map_compression_ratio=float(stage.get("tone_map_compression_ratio", 0.0)),
            output_type="latent",
        ).frames
    refine = dict(kwargs)
    refine.update(
        width=2 * first["width"],
        height=2 * first["height"],
        latents=doubled,
        denoise_strength=float(stage.get("refine_strength", 0.4)),
    )
    schedule = stage.get("refine_timesteps")
    if schedule:
        refine["timesteps"] = list(schedule)
        refine["num_inference_steps"] = len(schedule)
    refine.pop("video", None)  # a guided render's video is never refined this way
    return run(refine, "refining")
