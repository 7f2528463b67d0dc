"""The diffusers backend: Wan 2.x, LTX-Video, CogVideoX and HunyuanVideo pipelines.

Models load with `from_pretrained` from a bundled folder or the Hugging Face cache,
safetensors only, offline unless a download was asked for. Device and dtype are chosen in
`load` (CUDA bf16 when present, CPU fp32 otherwise). The camera rig reaches the model
three ways: `prompt` (camera language appended), `keyframe` (image-to-video from the
keyframe with camera language) and `guided` (the previz rendered first is the structure
video of a video-to-video render). An extension segment (`RenderInputs.lead_in`) continues
from the previous segment: image-to-video from its first lead-in frame, or for LTX-Video the
condition pipeline given every lead-in frame. On CUDA out-of-memory the backend steps down
a ladder (VAE tiling, model CPU offload, group offload, fewer frames), reporting each step.
A request's quantization (int8, nf4, a GGUF transformer: `engine.backends.quantize`) loads
the weights quantized; a draft renders the model's draft recipe as its plan wrote it (few
steps, guidance 1, a step-distillation LoRA among its LoRAs) and skips a second stage.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import json
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.backends.base import (
    Capabilities,
    JobCancelled,
    NullContext,
    OutOfMemory,
    RenderContext,
    RenderError,
    RenderInputs,
)
from engine.backends.lora_adapters import LoraState, apply_loras
from engine.backends.pipeline_calls import (
    FRAME_CONDITIONED,
    accepted,
    check_conditioning,
    conditioning,
    df_windows,
    gather,
    keep_accepted,
    model_settings,
    set_guidance,
    upsample_stage,
)
from engine.backends.quantize import load_options
from engine.models.catalog import Catalog, ModelEntry, resolve, resolve_upsampler
from engine.render.preload import quiet_collector
from studio.jobs import CameraMode, GenerationRequest, Profile, Quantization, Stage

DEFAULT_GUIDE_STRENGTH = 0.7
PREVIEW_EVERY = 2  # steps
OOM_LADDER = ("vae_tiling", "model_cpu_offload", "group_offload", "fewer_frames")


@dataclass
class _Loaded:
    entry: ModelEntry
    profile: Profile
    pipes: dict[str, Any]
    device: str
    dtype: Any
    loras: LoraState = field(default_factory=LoraState)  # what the pipelines hold
    quantization: Quantization = Quantization.NONE


def conditions_on_frames(entry: ModelEntry) -> bool:
    """Whether the model's condition pipeline can start a clip from several given frames."""
    return entry.pipelines.get("v2v") in FRAME_CONDITIONED


def is_cuda_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError"


def to_uint8(frames: Any) -> np.ndarray:
    """Pipeline output (np floats in [0, 1], maybe batched) as (t, h, w, 3) uint8."""
    array = np.asarray(frames)
    if array.ndim == 5:
        array = array[0]
    if array.dtype != np.uint8:
        array = np.clip(np.rint(array.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)


def latent_preview(
    latents: Any, family: str, grid: tuple[int, int, int] | None = None
) -> np.ndarray | None:
    """A cheap look at the latents: three channels of the middle frame, stretched to RGB.

    `grid` (latent frames, height, width) unpacks the token sequence of LTX-Video.
    """
    if latents is None:
        return None
    lat = latents[0].detach().float().cpu().numpy()
    if lat.ndim == 2 and grid is not None and lat.shape[0] == grid[0] * grid[1] * grid[2]:
        lat = np.moveaxis(lat.reshape(*grid, lat.shape[1]), -1, 0)
    elif lat.ndim != 4:
        return None
    elif family == "cogvideox":
        # CogVideoX orders latents (frames, channels, h, w); the others (channels, frames, h, w).
        lat = np.moveaxis(lat, 1, 0)
    middle = lat[:3, lat.shape[1] // 2]
    if middle.shape[0] < 3:
        middle = np.repeat(middle[:1], 3, axis=0)
    lo = middle.min(axis=(1, 2), keepdims=True)
    hi = middle.max(axis=(1, 2), keepdims=True)
    rgb = (middle - lo) / np.maximum(hi - lo, 1e-6)
    return (np.moveaxis(rgb, 0, -1) * 255).astype(np.uint8)


class DiffusersBackend:
    name = "diffusers"

    def __init__(self, catalog: Catalog | None = None, *, allow_download: bool = False) -> None:
        self.catalog = catalog or Catalog()
        self.allow_download = allow_download
        self._loaded: _Loaded | None = None

    # -- protocol ------------------------------------------------------------------------
    def capabilities(self, model_id: str) -> Capabilities:
        entry = self.catalog.get(model_id)
        caps = entry.capabilities
        companions = {mode: self.catalog.get(mid) for mode, mid in entry.companions.items()}
        return replace(
            caps,
            image_to_video=caps.image_to_video or "i2v" in companions,
            video_to_video=caps.video_to_video or "v2v" in companions,
        )

    def load(
        self,
        model_id: str,
        ctx: RenderContext,
        profile: Profile = Profile.QUALITY,
        quantization: Quantization = Quantization.NONE,
    ) -> None:
        entry = self.catalog.get(model_id)
        mode = next(iter(entry.pipelines))
        self._ensure(entry, mode, profile, ctx, quantization)

    def unload(self) -> None:
        if self._loaded is None:
            return  # nothing to free (and torch may not even be imported yet)
        self._loaded = None
        gc.collect()
        torch = sys.modules.get("torch")
        with contextlib.suppress(Exception):
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()

    # -- loading -------------------------------------------------------------------------
    def _ensure(
        self,
        entry: ModelEntry,
        mode: str,
        profile: Profile,
        ctx: RenderContext,
        quantization: Quantization = Quantization.NONE,
    ):
        loaded = self._loaded
        if (
            loaded
            and loaded.entry.id == entry.id
            and loaded.profile == profile
            and loaded.quantization == quantization
        ):
            if mode not in loaded.pipes:
                loaded.pipes[mode] = self._derive(loaded, mode, ctx)
            return loaded.pipes[mode]
        self.unload()
        os.environ.setdefault("HF_HUB_OFFLINE", "0" if self.allow_download else "1")
        ctx.progress(0, 1, Stage.LOADING, f"loading {entry.name}")
        with quiet_collector():
            import diffusers
            import torch

            _quiet_libraries()
            folder = resolve(entry, allow_download=self.allow_download)
            cls = getattr(diffusers, entry.pipelines[mode])
            _import_components(folder)
        cuda = torch.cuda.is_available()
        device, dtype = ("cuda", torch.bfloat16) if cuda else ("cpu", torch.float32)
        quantized = "" if quantization == Quantization.NONE else f", {quantization} weights"
        ctx.progress(0, 1, Stage.LOADING, f"loading {entry.name} on {device}{quantized}")
        options = load_options(
            entry, quantization, folder, device, dtype, allow_download=self.allow_download
        )
        try:
            pipe = cls.from_pretrained(
                folder,
                dtype=dtype,
                use_safetensors=True,
                local_files_only=not self.allow_download,
                **options,
            )
        except (OSError, ValueError) as exc:
            raise RenderError(f"cannot load {entry.name} from {folder}: {exc}") from None
        pipe.set_progress_bar_config(disable=True)
        self._loaded = _Loaded(entry, profile, {mode: pipe}, device, dtype)
        self._loaded.quantization = quantization
        if quantized:
            ctx.log(f"{entry.name}: {quantization} quantized weights")
        self._apply_profile(pipe, profile, device, ctx)
        if not (profile == Profile.LOWVRAM and cuda):
            pipe.to(device)
        ctx.progress(1, 1, Stage.LOADING)
        return pipe

    def _derive(self, loaded: _Loaded, mode: str, ctx: RenderContext):
        """Another pipeline class over the components already in memory."""
        import diffusers

        base = next(iter(loaded.pipes.values()))
        cls = getattr(diffusers, loaded.entry.pipelines[mode])
        try:
            pipe = cls.from_pipe(base)
        except (TypeError, ValueError, AttributeError) as exc:
            raise RenderError(
                f"{loaded.entry.name} cannot run {mode} with the loaded parts: {exc}"
            ) from None
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def _apply_profile(self, pipe, profile: Profile, device: str, ctx: RenderContext) -> None:
        transformer = getattr(pipe, "transformer", None)
        if profile == Profile.FAST and transformer is not None:
            with contextlib.suppress(ImportError, AttributeError, ValueError, TypeError):
                from diffusers import FirstBlockCacheConfig

                transformer.enable_cache(FirstBlockCacheConfig(threshold=0.05))
                ctx.log("fast profile: first-block cache on")
            if device == "cuda":
                for backend in ("flash", "_native_cudnn"):
                    try:
                        transformer.set_attention_backend(backend)
                        ctx.log(f"fast profile: {backend} attention")
                        break
                    except Exception:  # noqa: BLE001 - a backend may be missing here
                        continue
                with contextlib.suppress(Exception):
                    transformer.compile_repeated_blocks(fullgraph=True)
                    ctx.log("fast profile: regional torch.compile")
        if profile == Profile.LOWVRAM:
            with contextlib.suppress(AttributeError):
                pipe.vae.enable_tiling()
            if device == "cuda":
                pipe.enable_model_cpu_offload()
                ctx.log("low VRAM profile: VAE tiling and model CPU offload")
            else:
                ctx.log("low VRAM profile: VAE tiling")

    # -- generation ----------------------------------------------------------------------
    def _plan(self, request: GenerationRequest, inputs: RenderInputs) -> tuple[ModelEntry, str]:
        """Which model and pipeline mode serve this request."""
        entry = self.catalog.get(request.model_id)
        leads = inputs.lead_in is not None
        if request.camera_mode == CameraMode.GUIDED:
            mode = "v2v"
        elif leads and conditions_on_frames(entry):
            # The condition pipeline continues from all the lead-in frames, not just one.
            mode = "v2v"
        elif request.camera_mode == CameraMode.KEYFRAME:
            if inputs.keyframe is None and inputs.continuity is None and not leads:
                raise RenderError(
                    "camera mode 'keyframe' needs a keyframe image or a previous shot to continue"
                )
            mode = "i2v"
        elif inputs.continuity is not None or inputs.keyframe is not None or leads:
            mode = "i2v" if self.capabilities(entry.id).image_to_video else "t2v"
        else:
            mode = "t2v"
        if leads and mode == "t2v":
            raise RenderError(
                f"{entry.name} cannot continue a clip: it has no image-to-video pipeline"
            )
        if mode in entry.pipelines:
            return entry, mode
        if mode in entry.companions:
            return self.catalog.get(entry.companions[mode]), mode
        names = {"t2v": "text-to-video", "i2v": "image-to-video", "v2v": "video-to-video"}
        raise RenderError(f"{entry.name} has no {names[mode]} pipeline")

    def generate(
        self, request: GenerationRequest, inputs: RenderInputs, ctx: RenderContext
    ) -> np.ndarray:
        entry, mode = self._plan(request, inputs)
        pipe = self._ensure(entry, mode, request.profile, ctx, request.quantization)
        apply_loras(pipe, entry, request, inputs, self._loaded.loras, ctx)
        kwargs = self._call_kwargs(entry, mode, request, inputs, ctx, pipe)
        frames = request.frames
        ladder = list(OOM_LADDER) if self._loaded and self._loaded.device == "cuda" else []
        second = self._second_stage(entry, mode, request, ctx)
        while True:
            try:
                if second is not None:
                    output = upsample_stage(
                        pipe,
                        second,
                        entry,
                        kwargs,
                        lambda call, label: self._run(pipe, entry, call, request, ctx, label),
                        ctx,
                    )
                else:
                    output = self._run(pipe, entry, kwargs, request, ctx)
                break
            except JobCancelled:
                raise
            except Exception as exc:
                if not is_cuda_oom(exc):
                    raise
                if not ladder:
                    raise OutOfMemory(
                        f"Out of memory rendering {entry.name} at {request.width}x"
                        f"{request.height}, {frames} frames, even with VAE tiling, CPU offload "
                        "and group offload. Choose a smaller size, fewer frames or a smaller "
                        "model."
                    ) from None
                frames = self._step_down(pipe, ladder.pop(0), entry, kwargs, frames, ctx)
        return fit_frames(to_uint8(output), request.width, request.height, ctx)

    def _second_stage(self, entry: ModelEntry, mode: str, request, ctx) -> Path | None:
        """The latent upsampler's folder when this render takes the second stage: the
        quality profile, a model with one, not a guided video-to-video render."""
        if entry.upsampler is None or request.profile != Profile.QUALITY:
            return None
        if mode == "v2v" and request.camera_mode == CameraMode.GUIDED:
            return None
        folder = resolve_upsampler(entry, allow_download=self.allow_download)
        if folder is None:
            ctx.log(f"{entry.name}: latent upsampler not downloaded, one stage only")
        return folder

    def _step_down(self, pipe, step: str, entry, kwargs, frames: int, ctx) -> int:
        import torch

        gc.collect()
        torch.cuda.empty_cache()
        if step == "vae_tiling":
            pipe.vae.enable_tiling()
            ctx.log("out of memory: retrying with VAE tiling")
        elif step == "model_cpu_offload":
            pipe.enable_model_cpu_offload()
            ctx.log("out of memory: retrying with model CPU offload")
        elif step == "group_offload":
            pipe.remove_all_hooks()
            pipe.transformer.enable_group_offload(
                onload_device=torch.device("cuda"),
                offload_device=torch.device("cpu"),
                offload_type="leaf_level",
            )
            ctx.log("out of memory: retrying with group offload")
        elif step == "fewer_frames" and "num_frames" in kwargs:
            frames = entry.snap_frames(max(1, frames * 3 // 4))
            kwargs["num_frames"] = frames
            ctx.log(f"out of memory: retrying with {frames} frames")
        return frames

    def _call_kwargs(
        self,
        entry: ModelEntry,
        mode: str,
        request: GenerationRequest,
        inputs: RenderInputs,
        ctx: RenderContext,
        pipe=None,
    ) -> dict[str, Any]:
        import torch

        kwargs: dict[str, Any] = {
            # As planned: it ends with the camera move in the words of the model's family
            # (`studio.render_plan.model_prompt`), so a take's manifest holds what it read.
            "prompt": request.prompt,
            "height": request.height,
            "width": request.width,
            "num_inference_steps": request.steps or entry.steps,
            "generator": torch.Generator("cpu").manual_seed(request.seed),
            "output_type": "np",
        }
        guidance = request.guidance if request.guidance is not None else entry.guidance
        if guidance is not None:
            kwargs["guidance_scale"] = guidance
        if entry.family != "hunyuan" or request.negative_prompt:
            kwargs["negative_prompt"] = request.negative_prompt or None
        if entry.family == "ltx":
            kwargs["frame_rate"] = int(round(float(request.fps)))
        class_name = entry.pipelines[mode]
        if mode in ("t2v", "i2v") or entry.family == "ltx" or class_name in FRAME_CONDITIONED:
            kwargs["num_frames"] = request.frames
        pictures = gather(entry, mode, request, inputs, lambda: self._previz_guide(request, inputs))
        if inputs.last_frame is not None and pictures.last is None:
            ctx.log(f"{entry.name} cannot end on a given frame: the end keyframe is not used")
        strength = request.strength if request.strength is not None else DEFAULT_GUIDE_STRENGTH
        kwargs.update(conditioning(class_name, request, pictures, strength))
        if pipe is None:
            return kwargs
        kwargs.update(model_settings(pipe, entry, request))
        if "timesteps" in kwargs:
            kwargs["num_inference_steps"] = len(kwargs["timesteps"])
        if "guidance_scale" not in accepted(pipe):
            set_guidance(pipe, kwargs)
        check_conditioning(pipe, entry, kwargs)
        return keep_accepted(pipe, kwargs)

    def _previz_guide(self, request: GenerationRequest, inputs: RenderInputs) -> np.ndarray:
        """The camera move rendered as a previz: the structure the model follows."""
        from engine.backends.previz import PrevizBackend

        previz = replace(request, backend="previz", model_id="previz")
        return PrevizBackend().generate(previz, inputs, NullContext())

    def _run(self, pipe, entry: ModelEntry, kwargs, request, ctx: RenderContext, label=""):
        total = max(1, int(kwargs["num_inference_steps"]))
        if "strength" in kwargs and entry.family != "ltx":
            total = max(1, int(total * kwargs["strength"]))
        windows = df_windows(kwargs)

        grid = None
        if entry.family == "ltx":
            spatial = getattr(pipe, "vae_spatial_compression_ratio", 32)
            temporal = getattr(pipe, "vae_temporal_compression_ratio", 8)
            frames = kwargs.get("num_frames", request.frames)
            grid = (
                (frames - 1) // temporal + 1,
                kwargs["height"] // spatial,
                kwargs["width"] // spatial,
            )
        # Diffusion forcing restarts its step count in each window: progress runs across all.
        done = {"windows": 0, "last": -1}
        decodes = kwargs.get("output_type") != "latent"  # a first stage hands on latents

        def on_step_end(pipeline, step: int, timestep, callback_kwargs: dict) -> dict:
            steps = int(getattr(pipeline, "num_timesteps", 0) or total)
            if step < done["last"]:
                done["windows"] += 1
            done["last"] = step
            ctx.progress(
                done["windows"] * steps + step + 1, windows * steps, Stage.DENOISING, label
            )
            if (step + 1) % PREVIEW_EVERY == 0:
                image = latent_preview(callback_kwargs.get("latents"), entry.family, grid)
                if image is not None:
                    ctx.preview(step + 1, image)
            # Raising here stops the loop before the VAE decode, which is the expensive part.
            ctx.check_cancelled()
            if decodes and done["windows"] + 1 >= windows and step + 1 >= steps:
                ctx.progress(0, 1, Stage.DECODING)
            return callback_kwargs

        ctx.progress(0, total, Stage.ENCODING_PROMPT, label)
        ctx.check_cancelled()
        import torch

        with torch.inference_mode(), _cache_fits(pipe, ctx):
            if "callback_on_step_end" in accepted(pipe):
                result = pipe(
                    **kwargs,
                    callback_on_step_end=on_step_end,
                    callback_on_step_end_tensor_inputs=["latents"],
                )
            else:
                with _step_hook(pipe, on_step_end):
                    result = pipe(**kwargs)
        if decodes:
            ctx.progress(1, 1, Stage.DECODING)
        return result.frames


@contextlib.contextmanager
def _cache_fits(pipe, ctx: RenderContext):
    """The fast profile's first-block cache keeps its state per cache context, which the
    pipeline opens around each branch of guidance; a pipeline class that opens none (Wan's
    video-to-video, which guided renders use) renders with the cache off, and the cache is
    back on for the next pipeline sharing the transformer."""
    transformer = getattr(pipe, "transformer", None)
    config = getattr(transformer, "_cache_config", None)
    if config is None or _opens_cache_contexts(type(pipe)):
        yield
        return
    transformer.disable_cache()
    ctx.log(f"{type(pipe).__name__} keeps no cache context: first-block cache off")
    try:
        yield
    finally:
        transformer.enable_cache(config)


@functools.cache
def _opens_cache_contexts(cls) -> bool:
    """Whether the pipeline class's call opens cache contexts (read from its source once)."""
    import inspect

    try:
        return "cache_context" in inspect.getsource(cls.__call__)
    except (OSError, TypeError):
        return False


@contextlib.contextmanager
def _step_hook(pipe, on_step_end):
    """For a pipeline without `callback_on_step_end` (HunyuanVideo 1.5): the same callback
    after each scheduler step, with the stepped latents; raising in it stops the loop."""
    scheduler = pipe.scheduler
    original = scheduler.step
    count = {"step": 0}

    def step(*args, **kwargs):
        result = original(*args, **kwargs)
        latents = result[0] if isinstance(result, tuple) else result.prev_sample
        on_step_end(pipe, count["step"], None, {"latents": latents})
        count["step"] += 1
        return result

    scheduler.step = step
    try:
        yield
    finally:
        del scheduler.step  # the instance attribute: the class's method shows again


def fit_frames(frames: np.ndarray, width: int, height: int, ctx: RenderContext) -> np.ndarray:
    """Frames at the request's size: a model that picks its own (HunyuanVideo 1.5's image to
    video buckets, the upsampler's doubled size) is scaled and cropped to it."""
    if frames.shape[1:3] == (height, width):
        return frames
    from engine.backends.pictures import fit_cover

    ctx.log(f"scaling {frames.shape[2]}x{frames.shape[1]} frames to {width}x{height}")
    return np.stack([fit_cover(frame, width, height) for frame in frames])


def _import_components(folder) -> None:
    """Imports the classes of the pipeline's parts (text encoder, tokenizer, VAE, ...) as
    its model_index.json names them, so that loading it imports nothing big."""
    try:
        index = json.loads((Path(folder) / "model_index.json").read_text("utf-8"))
    except (OSError, ValueError):
        return
    for value in index.values():
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            library, name = value
            if library in ("diffusers", "transformers"):
                with contextlib.suppress(ImportError, AttributeError):
                    getattr(importlib.import_module(library), name)


def _quiet_libraries() -> None:
    """Loading bars and dtype notes of the libraries would garble the studio's own progress."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for logging in (diffusers_logging, transformers_logging):
        logging.set_verbosity_error()
        logging.disable_progress_bar()
