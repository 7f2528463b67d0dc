"""The previz of a shot that passes through pictures: its start picture, keyframes inside
the shot and an end picture.

Each picture is what the camera sees at its frame (the start picture at frame 0, a keyframe
at its frame, the end picture at the last frame): a `PrevizRenderer` anchored at that frame
moves it along the rig as the start picture moves, so the end picture is seen from the final
pose. Between two pictures the previz dissolves from the one to the next (smoothstep over
the frames between them), so each keyed frame shows its picture exactly: a static camera
with an end picture ends on it. After the last picture (a shot without an end picture) its
view carries on along the rig.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import cv2
import numpy as np

from engine.backends.base import RenderInputs
from engine.backends.pictures import fit_cover, load_image
from engine.backends.previz import PrevizRenderer
from studio.camera.rig import CameraRig
from studio.jobs import GenerationRequest


def key_pictures(request: GenerationRequest, inputs: RenderInputs) -> list[tuple[int, np.ndarray]]:
    """The pictures inside the clip and the end picture, each at its frame and fitted to
    the request's size, in frame order; the start picture is not among them."""
    width, height, last = request.width, request.height, request.frames - 1
    keys: dict[int, np.ndarray] = {}
    for frame, path in zip(inputs.middle_frames, inputs.middle, strict=True):
        if 0 < frame < last:
            keys[frame] = fit_cover(load_image(path), width, height)
    if inputs.last_frame is not None and last > 0:
        keys[last] = fit_cover(load_image(inputs.last_frame), width, height)
    return sorted(keys.items(), key=lambda item: item[0])


def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


class KeyedPreviz:
    """Renders frame i of a previz through `pictures`: (frame, RGB uint8 picture of the
    output size) pairs, the first at frame 0. Frames can be rendered in any order."""

    def __init__(
        self,
        pictures: Sequence[tuple[int, np.ndarray]],
        rig: CameraRig,
        frames: int,
        fps: float = 24.0,
    ) -> None:
        ordered = sorted(pictures, key=lambda item: item[0])
        if not ordered or ordered[0][0] != 0:
            raise ValueError("a keyed previz starts from a picture at frame 0")
        self.keys = [frame for frame, _ in ordered]
        if len(set(self.keys)) != len(self.keys) or self.keys[-1] >= frames:
            raise ValueError(f"picture frames {self.keys} in a {frames}-frame previz")
        self.renderers = [
            PrevizRenderer(picture, rig, frames, fps, anchor=frame) for frame, picture in ordered
        ]
        self.frames = frames
        self.height, self.width = self.renderers[0].height, self.renderers[0].width
        self._other = np.empty((self.height, self.width, 3), np.uint8)

    def __len__(self) -> int:
        return self.frames

    def weights(self, i: int) -> tuple[int, int, float]:
        """The pictures frame i shows: (index, next index, how much of the next)."""
        at = bisect.bisect_right(self.keys, i) - 1
        if at + 1 >= len(self.keys) or self.keys[at] == i:
            return at, at, 0.0
        start, end = self.keys[at], self.keys[at + 1]
        return at, at + 1, smoothstep((i - start) / (end - start))

    def render(self, i: int, out: np.ndarray | None = None) -> np.ndarray:
        """Frame i as RGB uint8 (h, w, 3), written into `out` when given."""
        if not 0 <= i < self.frames:
            raise IndexError(f"frame {i} of a {self.frames}-frame previz")
        if out is None:
            out = np.empty((self.height, self.width, 3), np.uint8)
        now, after, share = self.weights(i)
        self.renderers[now].render(i, out=out)
        if share > 0.0:
            self.renderers[after].render(i, out=self._other)
            cv2.addWeighted(out, 1.0 - share, self._other, share, 0.0, dst=out)
        return out
