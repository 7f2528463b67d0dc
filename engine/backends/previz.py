"""The previz backend: the shot's keyframe warped along the camera rig, in seconds on a CPU.

The source picture is the keyframe image, else the first frame an extension segment must
begin with, else the previous shot's last frame (continuity), else a title card that shows
the prompt over a textured background (`engine.backends.pictures` reads and fits pictures,
`engine.backends.title_card` draws the card). Keyframes inside the shot and an end picture
are each seen from their frame's camera, and the previz dissolves from picture to picture
(`engine.backends.previz_keys`). It is fitted to the request's size (cover and centre
crop) and each frame is the source seen through that frame's camera: the homography of
`studio.camera.rig.homographies`, exact for a picture standing on the plane at the subject
distance in front of frame 0's camera.

Beyond the picture's edges the camera sees a dim studio wall (`engine.backends.surround`
paints it), so a frame never shows an empty border, however far the camera zooms out,
dollies back or turns, and never a copy of the picture or of its text:

- at the picture's edges the wall catches a soft, dark glow of the border's colours,
  averaged and blurred so that no detail survives (no line of the title card's text, even
  the caption along its bottom edge), fading within half the picture's shorter side into
  a neutral grey with faint grid lines and soft patches that show the camera's motion;
- above and below, the wall goes on in the picture's plane; far from the picture its
  patches and the grid's rows fade out, and only the grid's columns run on;
- left and right, the wall stands on the faces of a prism around frame 0's camera: face k
  is the picture plane turned by k times the horizontal field of view about the camera's
  vertical axis. Neighbouring faces meet exactly at the picture's edges, like the walls of
  a room, so a pan of any size (a 90 degree whip pan included) keeps sliding along the
  grid instead of staring at a plane seen edge-on.

A camera outside the prism (dollied far back or through the picture, orbiting around it)
sees the picture plane alone: its front with the picture when in front of it, the bare wall
from behind, and the wall's far colour where a ray misses the plane.

Face 0 is the picture plane itself, so wherever the picture is in view the frame is exactly
`cv2.warpPerspective(source, H_i, ...)` with H_i from the rig.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable

import cv2
import numpy as np

from engine.backends.base import (
    Capabilities,
    OutOfMemory,
    RenderContext,
    RenderError,
    RenderInputs,
)
from engine.backends.pictures import as_rgb_frame, fit_cover, load_image
from engine.backends.surround import surround
from engine.backends.title_card import title_card
from studio.camera import rig as camera
from studio.camera.rig import CameraPose, CameraRig
from studio.jobs import GenerationRequest, Profile, Stage

PREVIEW_EVERY = 10  # frames between two previews
_BOUNDARY_SAMPLES = 9  # points per side of the frame used to find the prism faces in view
_MAX_PIXELS = 16384 * 16384

_Box = tuple[int, int, int, int]
_FLAGS, _BORDER = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE  # the canvases end in a plain wall


class PrevizBackend:
    """Renders the previz: no model, no GPU, deterministic."""

    name = "previz"

    def __init__(self, max_frames: int | None = None) -> None:
        # The previz has no clip limit of its own; one can be set to rehearse (and test) the
        # extension of long shots that diffusion models need.
        self.max_frames = max_frames

    def capabilities(self, model_id: str) -> Capabilities:
        return Capabilities(
            text_to_video=True,
            image_to_video=True,
            video_to_video=False,
            frame_multiple=1,
            max_frames=self.max_frames,
        )

    def load(self, model_id: str, ctx: RenderContext, profile: Profile = Profile.QUALITY) -> None:
        """Nothing to load."""

    def unload(self) -> None:
        """Nothing to free."""

    def generate(
        self, request: GenerationRequest, inputs: RenderInputs, ctx: RenderContext
    ) -> np.ndarray:
        """Frames as RGB uint8 of shape (frames, height, width, 3)."""
        source = source_image(request, inputs)
        fps = float(request.fps)
        from engine.backends.previz_keys import KeyedPreviz, key_pictures  # it imports this

        keys = key_pictures(request, inputs)
        if keys:  # keyframes inside the shot, an end picture: dissolves through them
            renderer = KeyedPreviz([(0, source), *keys], request.camera, request.frames, fps)
        else:
            renderer = PrevizRenderer(source, request.camera, request.frames, fps)
        total = request.frames
        try:
            frames = np.empty((total, request.height, request.width, 3), np.uint8)
        except MemoryError:
            size = f"{total} frames of {request.width}x{request.height}"
            raise OutOfMemory(f"not enough memory for a previz of {size}") from None
        for i in range(total):
            ctx.check_cancelled()
            renderer.render(i, out=frames[i])
            ctx.progress(i + 1, total, Stage.RENDERING)
            if i % PREVIEW_EVERY == 0:
                ctx.preview(i, frames[i].copy())
        return frames


# --- the source picture ---------------------------------------------------------------


def source_image(request: GenerationRequest, inputs: RenderInputs) -> np.ndarray:
    """The picture the previz moves over, fitted to the request: RGB uint8 (h, w, 3).

    The keyframe file when there is one, else the first lead-in frame (an extension segment
    starts where its overlap with the previous segment starts), else the continuity frame,
    else a title card.
    """
    width, height = request.width, request.height
    if inputs.keyframe is not None:
        return fit_cover(load_image(inputs.keyframe), width, height)
    if inputs.lead_in is not None and len(inputs.lead_in):
        return fit_cover(as_rgb_frame(inputs.lead_in[0]), width, height)
    if inputs.continuity is not None:
        return fit_cover(as_rgb_frame(inputs.continuity), width, height)
    try:
        move = camera.describe(request.camera, float(request.duration_seconds))
    except (ValueError, ArithmeticError):
        move = "camera move"
    caption = f"previz: {move}"
    return title_card(request.prompt, width, height, seed=request.seed, caption=caption)


# --- the warp -------------------------------------------------------------------------


def _yaw(angle: float) -> np.ndarray:
    """Rotation by `angle` radians taking z towards x (the camera module's pan)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _shift(x: float, y: float) -> np.ndarray:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def _clip_box(width: int, height: int, keep: Iterable[np.ndarray]) -> _Box | None:
    """Bounding box (x0, y0, x1, y1), a pixel wider all round, of the frame's part where
    every line l has l . (x, y, 1) >= 0; None when that part is empty."""
    polygon = [(0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height))]
    for line in keep:
        clipped = []
        count = len(polygon)
        for j in range(count):
            p, q = polygon[j], polygon[(j + 1) % count]
            sp = line[0] * p[0] + line[1] * p[1] + line[2]
            sq = line[0] * q[0] + line[1] * q[1] + line[2]
            if sp >= 0:
                clipped.append(p)
            if (sp >= 0) != (sq >= 0):
                u = sp / (sp - sq)
                clipped.append((p[0] + u * (q[0] - p[0]), p[1] + u * (q[1] - p[1])))
        polygon = clipped
        if not polygon:
            return None
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    x0, x1 = max(0, math.floor(min(xs)) - 1), min(width, math.ceil(max(xs)) + 2)
    y0, y1 = max(0, math.floor(min(ys)) - 1), min(height, math.ceil(max(ys)) + 2)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _fill_holes(frame: np.ndarray, holes: np.ndarray, colour: np.ndarray) -> None:
    """Paint over the pixels no face reached (the canvas is opaque, these have alpha 0).

    They only occur in degenerate views (a ray exactly parallel to the picture plane, with
    no prism face to catch it): inpainted from their surroundings, or `colour` where there
    are none.
    """
    if holes.all():
        frame[:] = colour
        return
    mask = holes.astype(np.uint8) * 255
    frame[:] = cv2.inpaint(frame, mask, 3, cv2.INPAINT_TELEA)


class PrevizRenderer:
    """Renders frame i of the previz of `source` (RGB uint8, already the output size).

    The picture is what the camera of frame `anchor` sees (frame 0's, a start keyframe,
    by default; the last frame's for an end keyframe): it stands on the plane at the
    subject distance in front of that camera, so that frame shows it exactly.

    Frames can be rendered in any order; each only depends on the arguments and `i`.
    """

    def __init__(
        self,
        source: np.ndarray,
        rig: CameraRig,
        frames: int,
        fps: float = 24.0,
        depth: float | None = None,
        anchor: int = 0,
    ) -> None:
        if not 0 <= anchor < max(1, frames):
            raise ValueError(f"anchor frame {anchor} of a {frames}-frame previz")
        if source.ndim != 3 or source.shape[2] != 3 or source.dtype != np.uint8:
            raise ValueError(f"source must be RGB uint8 (h, w, 3), got {source.shape}")
        self.height, self.width = source.shape[:2]
        if self.width * self.height > _MAX_PIXELS:
            raise RenderError(f"a {self.width}x{self.height} previz is too large")
        self.frames = frames
        self.source = np.ascontiguousarray(source)
        w, h = self.width, self.height
        self.depth = float(rig.subject_distance if depth is None else depth)
        self.poses = camera.poses(rig, frames, fps)
        self.anchor = anchor
        first = self.poses[anchor]
        if anchor == 0:
            self.homographies = camera.homographies(rig, frames, w, h, depth=self.depth, fps=fps)
        else:
            self.homographies = np.stack(
                [camera.homography(first, pose, w, h, self.depth) for pose in self.poses]
            )
        self._identity = np.all(np.abs(self.homographies - np.eye(3)) <= 1e-12, axis=(1, 2))
        self._r0 = first.rotation_matrix
        self._c0 = first.centre
        # Horizontal field of view of frame 0: the angular width of one prism face.
        self.face_angle = 2.0 * math.atan(0.5 / first.focal)
        # As many faces each side as fit in a half turn without overlapping at the back.
        reach = max(0, math.floor(math.pi / self.face_angle - 0.5 + 1e-9))
        self._faces = np.arange(-reach, reach + 1)
        self._normals = np.stack([self._r0 @ _yaw(k * self.face_angle)[:, 2] for k in self._faces])
        self._views = self._faces_in_view()
        self._face_poses: dict[int, CameraPose] = {}
        # The picture on an enlarged canvas with the wall around it, in RGBA: OpenCV's
        # 4-channel warp is the fastest, and lookups past the margins stay cheap. Its left
        # and right margins are faces -1 and 1; the bare wall, made when first seen, is
        # the faces beyond them and the picture plane's back.
        self._surround = surround(self.source)
        self._far = self._surround.far
        self._far_pixel = np.append(self._far, 255).astype(np.uint8).view(np.uint32)[0]
        self._to_canvas = _shift(-w, -h)
        self._buffer = np.empty((h, w, 4), np.uint8)
        # One RGBA pixel is one uint32, so masked copies move whole pixels.
        self._pixels = self._buffer.view(np.uint32)[:, :, 0]
        self._columns = np.arange(w, dtype=np.float32)
        self._rows = np.arange(h, dtype=np.float32)

    def __len__(self) -> int:
        return self.frames

    def _canvas_of(self, face: int, back: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The canvas showing face `face` (or the picture plane's back) and the map from
        its pixels to the face's picture pixels."""
        if not back and abs(face) <= 1:
            return self._surround.picture, _shift(-(1 + face) * self.width, -self.height)
        return self._surround.wall, self._to_canvas

    def _face_homography(self, face: int, i: int) -> np.ndarray:
        """Face `face`'s picture pixels to frame i's pixels."""
        if face == 0:
            return self.homographies[i]
        pose = self._face_poses.get(face)
        if pose is None:
            rotation = (self._r0 @ _yaw(face * self.face_angle)).tolist()
            pose = CameraPose(
                rotation=tuple(tuple(row) for row in rotation),
                translation=tuple(self._c0.tolist()),
                focal=self.poses[self.anchor].focal,
            )
            self._face_poses[face] = pose
        return camera.homography(pose, self.poses[i], self.width, self.height, self.depth)

    def _faces_in_view(self) -> list[tuple[int, int, int] | None]:
        """Per frame: the lowest and highest prism face in view and the face at the centre;
        None for a frame whose camera is not inside the prism (it sees the picture plane
        alone).

        The faces seen are found by casting rays through points on the frame's border (the
        extremes of a ray's bearing over a rectangle lie on its corners).
        """
        w, h, n = self.width, self.height, _BOUNDARY_SAMPLES
        along_x, along_y = np.linspace(0.5, w - 0.5, n), np.linspace(0.5, h - 0.5, n)
        xs = np.concatenate([along_x, along_x, np.full(n, 0.5), np.full(n, w - 0.5), [w / 2]])
        ys = np.concatenate([np.full(n, 0.5), np.full(n, h - 0.5), along_y, along_y, [h / 2]])
        views: list[tuple[int, int, int] | None] = []
        for start in range(0, self.frames, 512):
            chunk = self.poses[start : start + 512]
            focal = np.array([pose.focal for pose in chunk])[:, None] * w
            rays = np.stack(
                [(xs - w / 2) / focal, (ys - h / 2) / focal, np.ones_like(focal * xs)], axis=1
            )
            rotations = np.stack([pose.rotation_matrix for pose in chunk])
            rays = rotations @ rays  # (frames, 3, samples) in world coordinates
            offsets = np.stack([pose.centre for pose in chunk]) - self._c0
            distance = self.depth - offsets @ self._normals.T  # (frames, faces)
            facing = np.einsum("fk,nks->nfs", self._normals, rays)
            with np.errstate(divide="ignore", invalid="ignore"):
                reach = np.where(facing > 1e-12, distance[:, :, None] / facing, np.inf)
            inside = np.all(distance > 1e-9 * self.depth, axis=1)
            inside &= np.all(np.isfinite(reach.min(axis=1)), axis=1)
            hits = self._faces[np.argmin(reach, axis=1)]  # (frames, samples)
            for ok, hit in zip(inside.tolist(), hits, strict=True):
                views.append((int(hit.min()), int(hit.max()), int(hit[-1])) if ok else None)
        return views

    def _edge_line(self, i: int, edge: int) -> np.ndarray:
        """Line coefficients (a, b, c) in frame i's pixels, positive on the far side of the
        edge between faces `edge` and `edge + 1`, scaled so that they measure pixels."""
        pose = self.poses[i]
        reach = self.depth / math.cos(0.5 * self.face_angle)
        corner = self._c0 + self._r0 @ (_yaw((edge + 0.5) * self.face_angle)[:, 2] * reach)
        far = self._c0 + self._r0 @ (_yaw((edge + 1) * self.face_angle)[:, 2] * self.depth)
        normal = np.cross(corner - pose.centre, self._r0[:, 1])
        if normal @ (far - pose.centre) < 0:
            normal = -normal
        k_inv = np.linalg.inv(pose.intrinsics(self.width, self.height))
        line = k_inv.T @ (pose.rotation_matrix.T @ normal)
        return line / max(math.hypot(line[0], line[1]), 1e-300)

    def _warp(
        self, face: int, i: int, box: _Box, into_buffer: bool = True, back: bool = False
    ) -> np.ndarray:
        """Face `face` (or with `back`, the picture plane's back) as frame i sees it, over
        `box` (x0, y0, x1, y1) of the frame: written into the frame buffer, or returned
        (RGBA) when `into_buffer` is false."""
        x0, y0, x1, y1 = box
        size = (x1 - x0, y1 - y0)
        canvas, to_canvas = self._canvas_of(face, back)
        matrix = _shift(-x0, -y0) @ self._face_homography(face, i) @ to_canvas
        whole = into_buffer and size == (self.width, self.height)
        dst = self._buffer if whole else None
        if abs(matrix[2, 0]) < 1e-12 and abs(matrix[2, 1]) < 1e-12:
            # Dolly, zoom, roll, truck, pedestal: an affine map, which warps faster.
            part = cv2.warpAffine(
                canvas, matrix[:2] / matrix[2, 2], size, dst=dst, flags=_FLAGS, borderMode=_BORDER
            )
        else:
            part = cv2.warpPerspective(
                canvas, matrix, size, dst=dst, flags=_FLAGS, borderMode=_BORDER
            )
        if whole:
            return part
        if into_buffer:
            self._pixels[y0:y1, x0:x1] = part.view(np.uint32)[:, :, 0]
        return part

    def _plane_alone(self, i: int) -> None:
        """Frame i into the buffer, for a camera outside the prism: the picture plane's front
        (picture and wall) when the camera is in front of it, its back (the bare wall) when
        behind, and the wall's far colour wherever a ray misses the plane (it would meet it
        behind the camera)."""
        w, h = self.width, self.height
        pose = self.poses[i]
        normal = self._r0[:, 2]
        distance = self.depth - float((pose.centre - self._c0) @ normal)
        # A ray meets the plane in front of the camera where its bearing towards the plane
        # has the sign of the camera's distance to it: a line across the frame.
        k_inv = np.linalg.inv(pose.intrinsics(w, h))
        line = math.copysign(1.0, distance) * (k_inv.T @ (pose.rotation_matrix.T @ normal))
        line = line / max(math.hypot(line[0], line[1]), 1e-300)
        corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [0.0, h, 1.0], [w, h, 1.0]])
        reached = corners @ line
        back, edge_on = distance < 0, abs(distance) <= 1e-9 * self.depth
        if not edge_on and bool((reached > 0).all()):
            self._warp(0, i, (0, 0, w, h), back=back)
            return
        self._pixels.fill(self._far_pixel)
        box = None if edge_on else _clip_box(w, h, [line])
        if box is None:
            return
        x0, y0, x1, y1 = box
        part = self._warp(0, i, box, into_buffer=False, back=back)
        a, b, c = line.astype(np.float32)
        side = (a * self._columns[x0:x1])[None, :] + (b * self._rows[y0:y1] + c)[:, None]
        np.copyto(self._pixels[y0:y1, x0:x1], part.view(np.uint32)[:, :, 0], where=side > 0)

    def _has_holes(self) -> bool:
        """Whether a buffer pixel is transparent (the canvas is opaque everywhere)."""
        if sys.byteorder == "little":  # alpha is the top byte of each pixel's uint32
            return int(self._pixels.min()) < 255 << 24
        return int(self._buffer[:, :, 3].min()) < 255

    def render(self, i: int, out: np.ndarray | None = None) -> np.ndarray:
        """Frame i as RGB uint8 (h, w, 3), written into `out` when given."""
        if not 0 <= i < self.frames:
            raise IndexError(f"frame {i} of a {self.frames}-frame previz")
        w, h = self.width, self.height
        if out is None:
            out = np.empty((h, w, 3), np.uint8)
        if self._identity[i]:
            np.copyto(out, self.source)
            return out
        view = self._views[i]
        if view is None:
            self._plane_alone(i)
            cv2.cvtColor(self._buffer, cv2.COLOR_RGBA2RGB, dst=out)
            return out
        low, high, main = view
        if low == high:
            self._warp(main, i, (0, 0, w, h))
        else:
            # Each face fills the box around its part of the frame: the face at the centre
            # first, then the faces beside it, nearest first, each over the part of its box
            # beyond its edge with the face before it. Boxes keep the lookups on the canvas.
            self._buffer.fill(0)  # whatever no face covers is a hole, never a stale pixel
            edges = {edge: self._edge_line(i, edge) for edge in range(low, high)}
            for face in [main, *range(main - 1, low - 1, -1), *range(main + 1, high + 1)]:
                keep = []
                if face > low:
                    keep.append(edges[face - 1])
                if face < high:
                    keep.append(-edges[face])
                box = _clip_box(w, h, keep)
                if box is None:
                    continue
                if face == main:
                    self._warp(face, i, box)
                    continue
                x0, y0, x1, y1 = box
                part = self._warp(face, i, box, into_buffer=False)
                a, b, c = (edges[face] if face < main else edges[face - 1]).astype(np.float32)
                side = (a * self._columns[x0:x1])[None, :] + (b * self._rows[y0:y1] + c)[:, None]
                inside = side <= 0 if face < main else side > 0
                np.copyto(self._pixels[y0:y1, x0:x1], part.view(np.uint32)[:, :, 0], where=inside)
        cv2.cvtColor(self._buffer, cv2.COLOR_RGBA2RGB, dst=out)
        if self._has_holes():
            _fill_holes(out, self._buffer[:, :, 3] == 0, self._far)
        return out


def render_previz(source: np.ndarray, rig: CameraRig, frames: int, fps: float = 24.0) -> np.ndarray:
    """All frames of the previz of `source` along `rig`: RGB uint8 (frames, h, w, 3)."""
    renderer = PrevizRenderer(source, rig, frames, fps)
    out = np.empty((frames, renderer.height, renderer.width, 3), np.uint8)
    for i in range(frames):
        renderer.render(i, out=out[i])
    return out
