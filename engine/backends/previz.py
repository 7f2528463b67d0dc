"""The previz backend: the shot's keyframe warped along the camera rig, in seconds on a CPU.

The source picture is the keyframe image, else the previous shot's last frame (continuity),
else a title card that shows the prompt over a textured background. It is fitted to the
request's size (cover and centre crop) and each frame is the source seen through that frame's
camera: the homography of `studio.camera.homographies`, exact for a picture standing on the
plane at the subject distance in front of frame 0's camera.

Beyond the picture's edges the world goes on as mirror images, so a frame never shows an
empty border, however far the camera zooms out, dollies back or turns:

- above and below, the picture is mirrored across its edge on the same plane;
- left and right, the mirror images stand on the faces of a prism around frame 0's camera:
  face k is the picture plane turned by k times the horizontal field of view about the
  camera's vertical axis, odd faces mirrored. Neighbouring faces meet exactly at the
  picture's edges, so a pan of any size (a 90 degree whip pan included) keeps sliding
  through real texture instead of staring at a plane seen edge-on.

Face 0 is the picture plane itself, so wherever the picture is in view the frame is exactly
`cv2.warpPerspective(source, H_i, ...)` with H_i from the rig.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path

import cv2
import numpy as np

from engine.backends.base import Capabilities, RenderContext, RenderError, RenderInputs
from studio import camera
from studio.camera import CameraPose, CameraRig
from studio.jobs import GenerationRequest, Stage

PREVIEW_EVERY = 10  # frames between two previews
_BOUNDARY_SAMPLES = 9  # points per side of the frame used to find the prism faces in view
_MAX_PIXELS = 16384 * 16384


class PrevizBackend:
    """Renders the previz: no model, no GPU, deterministic."""

    name = "previz"

    def capabilities(self, model_id: str) -> Capabilities:
        return Capabilities(
            text_to_video=True, image_to_video=True, video_to_video=False, frame_multiple=1
        )

    def load(self, model_id: str, ctx: RenderContext) -> None:
        """Nothing to load."""

    def unload(self) -> None:
        """Nothing to free."""

    def generate(
        self, request: GenerationRequest, inputs: RenderInputs, ctx: RenderContext
    ) -> np.ndarray:
        """Frames as RGB uint8 of shape (frames, height, width, 3)."""
        source = source_image(request, inputs)
        renderer = PrevizRenderer(source, request.camera, request.frames, float(request.fps))
        frames = np.empty((request.frames, request.height, request.width, 3), np.uint8)
        total = request.frames
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

    The keyframe file when there is one, else the continuity frame, else a title card.
    """
    width, height = request.width, request.height
    if inputs.keyframe is not None:
        return fit_cover(load_image(inputs.keyframe), width, height)
    if inputs.continuity is not None:
        return fit_cover(as_rgb_frame(inputs.continuity), width, height)
    caption = f"previz: {camera.describe(request.camera, float(request.duration_seconds))}"
    return title_card(request.prompt, width, height, seed=request.seed, caption=caption)


def load_image(path: str | PathLike[str]) -> np.ndarray:
    """An image file as RGB uint8 (h, w, 3); RenderError naming the file if it is unreadable."""
    file = Path(path)
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise RenderError(f"cannot read the keyframe image {file}: {reason}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None or image.size == 0:
        raise RenderError(f"cannot read the keyframe image {file}: not an image OpenCV can decode")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def as_rgb_frame(frame: np.ndarray) -> np.ndarray:
    """A continuity frame as RGB uint8 (h, w, 3); of a stack of frames, the last one."""
    image = np.asarray(frame)
    if image.ndim == 4:
        if image.shape[0] == 0:
            raise RenderError("the continuity frames are empty")
        image = image[-1]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] * image.shape[1] == 0:
        raise RenderError(f"the continuity frame has shape {image.shape}, expected (h, w, 3)")
    image = image[:, :, :3]
    if image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating):
            image = np.nan_to_num(image.astype(np.float32)) * 255.0 + 0.5
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def fit_cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale `image` to cover width x height and crop the centre: RGB uint8 (h, w, 3)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"size must be positive, got {width}x{height}")
    src_h, src_w = image.shape[:2]
    # The largest centred window of the target's aspect ratio, then one resize.
    if src_w * height > width * src_h:
        crop_w = min(src_w, max(1, round(src_h * width / height)))
        x0 = (src_w - crop_w) // 2
        window = image[:, x0 : x0 + crop_w]
    else:
        crop_h = min(src_h, max(1, round(src_w * height / width)))
        y0 = (src_h - crop_h) // 2
        window = image[y0 : y0 + crop_h]
    if window.shape[:2] == (height, width):
        return np.ascontiguousarray(window)
    shrinking = window.shape[1] > width and window.shape[0] > height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(window, (width, height), interpolation=interpolation)


# --- the title card -------------------------------------------------------------------

_FONT = cv2.FONT_HERSHEY_DUPLEX
_PUNCTUATION = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "}
)


def _ascii(text: str) -> str:
    """The text in the characters the Hershey fonts draw; others become '?'."""
    plain = unicodedata.normalize("NFKD", text.translate(_PUNCTUATION))
    out = []
    for char in plain:
        if unicodedata.combining(char):
            continue
        if char in "\t\n\r":
            out.append(" ")
        else:
            out.append(char if " " <= char <= "~" else "?")
    return "".join(out)


def _text_width(text: str, scale: float, thickness: int) -> int:
    return cv2.getTextSize(text, _FONT, scale, thickness)[0][0]


def _wrap(words: Sequence[str], scale: float, thickness: int, max_width: int) -> list[str]:
    """Greedy word wrap; a word wider than a line is split between characters."""
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if _text_width(candidate, scale, thickness) <= max_width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and _text_width(line + char, scale, thickness) > max_width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def _layout(text: str, max_width: int, max_height: int) -> tuple[list[str], float, int, int]:
    """Lines, font scale, thickness and line step of the largest text that fits the box."""
    words = text.split() or ["untitled shot"]
    (_, cap), base = cv2.getTextSize("Ag", _FONT, 1.0, 1)
    scale = max(0.3, min(3.0, max_height / (3.0 * (cap + base))))
    while True:
        thickness = max(1, round(scale * 1.6))
        lines = _wrap(words, scale, thickness, max_width)
        step = math.ceil((cap + base) * scale * 1.25) + thickness
        if len(lines) * step <= max_height or scale <= 0.3:
            break
        scale = max(0.3, scale * 0.9)
    fit = max(1, max_height // step)
    if len(lines) > fit:
        lines = lines[:fit]
        last = lines[-1]
        while last and _text_width(last + "...", scale, thickness) > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "..."
    return lines, scale, thickness, step


def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A textured, non-uniform backdrop: gradient sky, horizon, perspective floor grid."""
    hue = float(rng.uniform(0.0, 180.0))
    top = _hsv_colour(hue, 120, 215)
    bottom = _hsv_colour((hue + 25.0) % 180.0, 150, 95)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    card = (1.0 - t) * top + t * bottom
    # A gentle horizontal variation as well, so that no row is uniform.
    s = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :, None]
    card = card + 18.0 * s * np.array([1.0, -0.4, -1.0], np.float32)
    horizon = round(height * float(rng.uniform(0.5, 0.6)))
    vanish_x = width * float(rng.uniform(0.35, 0.65))
    floor = _hsv_colour((hue + 90.0) % 180.0, 90, 120)
    card[horizon:] = 0.55 * card[horizon:] + 0.45 * floor
    image = np.clip(card, 0, 255).astype(np.uint8)
    unit = max(width, height)
    line = (225, 225, 235)
    thick = max(1, round(unit / 600))
    aa = cv2.LINE_AA
    # Floor grid: rays from the vanishing point, rungs closing up towards the horizon.
    for k in range(-12, 13):
        x_bottom = vanish_x + k * width / 7.0
        cv2.line(image, _pt(vanish_x, horizon), _pt(x_bottom, height), line, thick, aa)
    for k in range(1, 14):
        y = horizon + (height - horizon) * (k / 13.0) ** 2
        cv2.line(image, _pt(0, y), _pt(width, y), line, thick, aa)
    cv2.line(image, _pt(0, horizon), _pt(width, horizon), (250, 245, 230), thick + 1, aa)
    return image


def _hsv_colour(hue: float, saturation: float, value: float) -> np.ndarray:
    pixel = np.array([[[hue, saturation, value]]], np.uint8)
    return cv2.cvtColor(pixel, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _pt(x: float, y: float) -> tuple[int, int]:
    return round(x), round(y)


def _shapes(image: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Deterministic discs, boxes and triangles, half transparent, with outlines."""
    height, width = image.shape[:2]
    unit = min(width, height)
    layer = image.copy()
    outlines = []
    for _ in range(count):
        kind = int(rng.integers(0, 3))
        cx, cy = rng.uniform(0.0, width), rng.uniform(0.0, height)
        size = unit * float(rng.uniform(0.05, 0.16))
        colour = tuple(int(c) for c in _hsv_colour(float(rng.uniform(0, 180)), 170, 230))
        if kind == 0:
            cv2.circle(layer, _pt(cx, cy), round(size), colour, -1, cv2.LINE_AA)
            outlines.append(("circle", (_pt(cx, cy), round(size))))
        else:
            sides = 4 if kind == 1 else 3
            turn = float(rng.uniform(0.0, 2.0 * math.pi))
            corners = [
                _pt(
                    cx + size * math.cos(turn + 2 * math.pi * j / sides),
                    cy + size * math.sin(turn + 2 * math.pi * j / sides),
                )
                for j in range(sides)
            ]
            polygon = np.array(corners, np.int32).reshape(-1, 1, 2)
            cv2.fillPoly(layer, [polygon], colour, cv2.LINE_AA)
            outlines.append(("poly", polygon))
    cv2.addWeighted(layer, 0.6, image, 0.4, 0.0, dst=image)
    thick = max(1, round(unit / 300))
    for kind, shape in outlines:
        if kind == "circle":
            centre, radius = shape
            cv2.circle(image, centre, radius, (245, 245, 245), thick, cv2.LINE_AA)
        else:
            cv2.polylines(image, [shape], True, (245, 245, 245), thick, cv2.LINE_AA)


def _grain(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fine, soft grain so that every patch has texture to track."""
    height, width = image.shape[:2]
    noise = rng.normal(0.0, 1.0, (height, width)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.2)
    noise *= 10.0 / max(float(noise.std()), 1e-6)
    out = image.astype(np.float32) + noise[:, :, None]
    return np.clip(out, 0, 255).astype(np.uint8)


def title_card(
    prompt: str, width: int, height: int, seed: int = 0, caption: str = ""
) -> np.ndarray:
    """The prompt, word-wrapped and sized to fit, over a textured backdrop seeded by `seed`.

    RGB uint8 (height, width, 3). The backdrop (gradient, horizon, floor grid, shapes, grain)
    gives the previz visible, measurable motion when there is no keyframe.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"size must be positive, got {width}x{height}")
    rng = np.random.default_rng(int(seed))
    image = _background(width, height, rng)
    _shapes(image, rng, count=9)
    image = _grain(image, rng)

    box_w, box_h = int(width * 0.84), int(height * 0.56)
    lines, scale, thickness, step = _layout(_ascii(prompt.strip()), box_w, box_h)
    block_h = step * len(lines)
    top = (height - block_h) // 2
    widths = [_text_width(line, scale, thickness) for line in lines]
    pad = max(4, step // 3)
    panel = (
        _pt((width - max(widths)) / 2 - pad, top - pad),
        _pt((width + max(widths)) / 2 + pad, top + block_h + pad // 2),
    )
    shade = image.copy()
    cv2.rectangle(shade, panel[0], panel[1], (24, 26, 34), -1)
    cv2.addWeighted(shade, 0.5, image, 0.5, 0.0, dst=image)
    (_, cap), _ = cv2.getTextSize("A", _FONT, scale, thickness)
    for k, (line, line_w) in enumerate(zip(lines, widths, strict=True)):
        origin = _pt((width - line_w) / 2, top + k * step + cap + (step - cap) // 3)
        cv2.putText(image, line, origin, _FONT, scale, (28, 28, 36), thickness + 2, cv2.LINE_AA)
        cv2.putText(image, line, origin, _FONT, scale, (250, 248, 240), thickness, cv2.LINE_AA)

    note = _ascii(caption.strip())
    if note:
        small = max(0.3, min(scale * 0.5, height / 600))
        small_t = max(1, round(small * 1.5))
        while small > 0.3 and _text_width(note, small, small_t) > width * 0.9:
            small *= 0.9
        note_w = _text_width(note, small, small_t)
        origin = _pt((width - note_w) / 2, height - max(6, height * 0.05))
        cv2.putText(image, note, origin, _FONT, small, (28, 28, 36), small_t + 2, cv2.LINE_AA)
        cv2.putText(image, note, origin, _FONT, small, (240, 240, 240), small_t, cv2.LINE_AA)
    return image


# --- the warp -------------------------------------------------------------------------


def _yaw(angle: float) -> np.ndarray:
    """Rotation by `angle` radians taking z towards x (the camera module's pan)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _shift(x: float, y: float) -> np.ndarray:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def _clip_x_range(width: int, height: int, keep: Iterable[np.ndarray]) -> tuple[int, int] | None:
    """Column range of the frame's part where every line l has l . (x, y, 1) >= 0."""
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
    xs = [p[0] for p in polygon]
    x0, x1 = max(0, math.floor(min(xs)) - 1), min(width, math.ceil(max(xs)) + 2)
    return (x0, x1) if x1 > x0 else None


class PrevizRenderer:
    """Renders frame i of the previz of `source` (RGB uint8, already the output size).

    Frames can be rendered in any order; the result only depends on the arguments.
    """

    def __init__(
        self,
        source: np.ndarray,
        rig: CameraRig,
        frames: int,
        fps: float = 24.0,
        depth: float | None = None,
    ) -> None:
        if source.ndim != 3 or source.shape[2] != 3 or source.dtype != np.uint8:
            raise ValueError(f"source must be RGB uint8 (h, w, 3), got {source.shape}")
        self.height, self.width = source.shape[:2]
        if self.width * self.height > _MAX_PIXELS:
            raise RenderError(f"a {self.width}x{self.height} previz is too large")
        self.frames = frames
        self.source = np.ascontiguousarray(source)
        w, h = self.width, self.height
        self.depth = float(rig.subject_distance if depth is None else depth)
        self.homographies = camera.homographies(rig, frames, w, h, depth=self.depth, fps=fps)
        self.poses = camera.poses(rig, frames, fps)
        first = self.poses[0]
        self._r0 = first.rotation_matrix
        self._c0 = first.centre
        # Horizontal field of view of frame 0: the angular width of one prism face.
        self.face_angle = 2.0 * math.atan(0.5 / first.focal)
        reach = max(1, round(math.pi / self.face_angle))
        self._faces = np.arange(-reach, reach + 1)
        self._normals = np.stack(
            [self._r0 @ _yaw(k * self.face_angle) @ np.array([0.0, 0.0, 1.0]) for k in self._faces]
        )
        # The picture on an enlarged canvas (mirrored margins), RGBA: OpenCV's 4-channel
        # warp is the fastest, and the margins keep the border lookups cheap and clean.
        self._pad = (w, h)
        rgba = cv2.cvtColor(self.source, cv2.COLOR_RGB2RGBA)
        self._canvas = [cv2.copyMakeBorder(rgba, h, h, w, w, cv2.BORDER_REFLECT_101), None]
        self._to_canvas = _shift(-w, -h)
        self._buffer = np.empty((h, w, 4), np.uint8)
        self._pixels = self._buffer.view(np.uint32)[:, :, 0]
        self._columns = np.arange(w, dtype=np.float32)
        self._rows = np.arange(h, dtype=np.float32)

    def __len__(self) -> int:
        return self.frames

    def _canvas_of(self, face: int) -> np.ndarray:
        if face % 2 == 0:
            return self._canvas[0]
        if self._canvas[1] is None:
            self._canvas[1] = cv2.flip(self._canvas[0], 1)
        return self._canvas[1]

    def _face_pose(self, face: int) -> CameraPose:
        rotation = self._r0 @ _yaw(face * self.face_angle)
        return CameraPose(
            rotation=tuple(tuple(float(v) for v in row) for row in rotation),
            translation=tuple(float(v) for v in self._c0),
            focal=self.poses[0].focal,
        )

    def _face_homography(self, face: int, i: int) -> np.ndarray:
        if face == 0:
            return self.homographies[i]
        pose = self._face_pose(face)
        return camera.homography(pose, self.poses[i], self.width, self.height, self.depth)

    def _faces_in_view(self, i: int) -> tuple[int, int] | None:
        """The lowest and highest prism face frame i sees; None if the prism does not
        enclose the camera (then the picture plane alone is used)."""
        pose = self.poses[i]
        w, h = self.width, self.height
        offset = pose.centre - self._c0
        distance = self.depth - self._normals @ offset
        if np.any(distance <= 1e-9 * self.depth):
            return None
        n = _BOUNDARY_SAMPLES
        along_x = np.linspace(0.5, w - 0.5, n)
        along_y = np.linspace(0.5, h - 0.5, n)
        xs = np.concatenate([along_x, along_x, np.full(n, 0.5), np.full(n, w - 0.5)])
        ys = np.concatenate([np.full(n, 0.5), np.full(n, h - 0.5), along_y, along_y])
        pixels = np.stack([xs, ys, np.ones_like(xs)])
        rays = pose.rotation_matrix @ np.linalg.solve(pose.intrinsics(w, h), pixels)
        facing = self._normals @ rays
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = np.where(facing > 1e-12, distance[:, None] / facing, np.inf)
        if not np.all(np.isfinite(reach.min(axis=0))):
            return None
        hit = self._faces[np.argmin(reach, axis=0)]
        return int(hit.min()), int(hit.max())

    def _edge_line(self, i: int, edge: int) -> np.ndarray:
        """Line coefficients (a, b, c) in frame i's pixels, positive on the far side of the
        edge between faces `edge` and `edge + 1`, scaled so that they measure pixels."""
        pose = self.poses[i]
        half = 0.5 * self.face_angle
        reach = self.depth / math.cos(half)
        up = self._r0[:, 1]
        corner = self._c0 + self._r0 @ _yaw((edge + 0.5) * self.face_angle) @ [0.0, 0.0, reach]
        far = self._c0 + self._r0 @ _yaw((edge + 1) * self.face_angle) @ [0.0, 0.0, self.depth]
        normal = np.cross(corner - pose.centre, up)
        if normal @ (far - pose.centre) < 0:
            normal = -normal
        k_inv = np.linalg.inv(pose.intrinsics(self.width, self.height))
        line = k_inv.T @ (pose.rotation_matrix.T @ normal)
        return line / max(math.hypot(line[0], line[1]), 1e-300)

    def render(self, i: int, out: np.ndarray | None = None) -> np.ndarray:
        """Frame i as RGB uint8 (h, w, 3), written into `out` when given."""
        if not 0 <= i < self.frames:
            raise IndexError(f"frame {i} of a {self.frames}-frame previz")
        w, h = self.width, self.height
        if out is None:
            out = np.empty((h, w, 3), np.uint8)
        if np.allclose(self.homographies[i], np.eye(3), rtol=0.0, atol=1e-12):
            np.copyto(out, self.source)
            return out
        faces = self._faces_in_view(i)
        low, high = (0, 0) if faces is None else faces
        buffer = self._buffer
        flags, border = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE
        if low == high:
            matrix = self._face_homography(low, i) @ self._to_canvas
            cv2.warpPerspective(
                self._canvas_of(low), matrix, (w, h), dst=buffer, flags=flags, borderMode=border
            )
        else:
            edges = {e: self._edge_line(i, e) for e in range(low, high)}
            for face in range(low, high + 1):
                keep = []
                if face > low:
                    keep.append(edges[face - 1])
                if face < high:
                    keep.append(-edges[face])
                columns = _clip_x_range(w, h, keep)
                if columns is None:
                    continue
                x0, x1 = columns
                matrix = _shift(-x0, 0.0) @ self._face_homography(face, i) @ self._to_canvas
                part = cv2.warpPerspective(
                    self._canvas_of(face), matrix, (x1 - x0, h), flags=flags, borderMode=border
                )
                # One RGBA pixel is one uint32: the masked copy works on whole pixels.
                pixels = part.view(np.uint32)[:, :, 0]
                if face == low:
                    self._pixels[:, x0:x1] = pixels
                    continue
                a, b, c = edges[face - 1].astype(np.float32)
                beyond = (a * self._columns[x0:x1])[None, :] + (b * self._rows + c)[:, None] > 0
                np.copyto(self._pixels[:, x0:x1], pixels, where=beyond)
        cv2.cvtColor(buffer, cv2.COLOR_RGBA2RGB, dst=out)
        return out


def render_previz(source: np.ndarray, rig: CameraRig, frames: int, fps: float = 24.0) -> np.ndarray:
    """All frames of the previz of `source` along `rig`: RGB uint8 (frames, h, w, 3)."""
    renderer = PrevizRenderer(source, rig, frames, fps)
    out = np.empty((frames, renderer.height, renderer.width, 3), np.uint8)
    for i in range(frames):
        renderer.render(i, out=out[i])
    return out
