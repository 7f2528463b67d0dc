"""How the camera reached the model, kept with each take.

- A guided render of a diffusion model (camera mode `guided`) follows the shot's previz: it
  is rendered here once, before the model runs, with every picture of the shot (start,
  keyframes inside it, end), so the frames the model is given are the frames the take's
  manifest names (`guide_record`: the SHA-256 of their RGB bytes, their count and size).
  A VACE model takes it as its control video, with its keyframes kept by the mask; the
  other families render video-to-video over it.
- Every take gets `<take>.camera.npz` beside its manifest: the rig's camera matrices and
  Plücker ray maps at the take's size and rate (`studio.camera.rays`), ready for
  camera-conditioned models.

Neither can cost a take: a failure is logged and the take stays as it is.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import replace
from typing import Any

import numpy as np

from engine.backends.base import NullContext, RenderInputs
from studio.camera.rays import camera_arrays
from studio.jobs import CameraMode, GenerationRequest
from studio.project.files import atomic_write
from studio.project.takes import TakeStore

log = logging.getLogger("gallop.engine")


def needs_guide(request: GenerationRequest) -> bool:
    return request.camera_mode == CameraMode.GUIDED and request.backend != "previz"


def with_guide(request: GenerationRequest, inputs: RenderInputs) -> RenderInputs:
    """`inputs` with the guide video a guided diffusion render follows (the previz of the
    request with the same pictures), when it has none yet; as they are otherwise."""
    if not needs_guide(request) or inputs.guide is not None:
        return inputs
    from engine.backends.previz import PrevizBackend

    previz = replace(request, backend="previz", model_id="previz")
    return replace(inputs, guide=PrevizBackend().generate(previz, inputs, NullContext()))


def guide_record(frames: np.ndarray) -> dict[str, Any]:
    """What a take's manifest says of the guide video it followed (RGB uint8 frames)."""
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    return {
        "sha256": hashlib.sha256(frames.data).hexdigest(),
        "frames": int(frames.shape[0]),
        "width": int(frames.shape[2]),
        "height": int(frames.shape[1]),
    }


def camera_file_bytes(request: GenerationRequest) -> bytes:
    """The take's camera file (`studio.camera.rays.camera_arrays`), a compressed .npz."""
    arrays = camera_arrays(
        request.camera, request.frames, request.width, request.height, float(request.fps)
    )
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def record_camera(
    store: TakeStore, request: GenerationRequest, inputs: RenderInputs | None = None
) -> None:
    """Write the stored take's camera file and, for a guided render given its `inputs`, add
    its guide's record to the manifest."""
    try:
        atomic_write(store.camera_path(request.hash), camera_file_bytes(request))
        if needs_guide(request) and inputs is not None and inputs.guide is not None:
            store.record_measures(request.hash, {"guide": guide_record(inputs.guide)})
    except Exception as exc:  # noqa: BLE001 - a take is never lost to its camera file
        log.warning("could not record the camera of take %s: %s", request.hash[:12], exc)
