"""The previz backend: the shot's keyframe warped along the camera rig, in seconds on a CPU.

The source picture is the keyframe image, else the first frame an extension segment must
begin with, else the previous shot's last frame (continuity), else a title card that shows
the prompt over a textured background. It is fitted to the request's size (cover and centre
crop) and each frame is the source seen through that frame's camera: the homography of
`studio.camera.rig.homographies`, exact for a picture standing on the plane at the subject
distance in front of frame 0's camera.

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
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path

import cv2
import numpy as np

from engine.backends.base import (
    Capabilities,
    OutOfMemory,
    RenderContext,
    RenderError,
    RenderInputs,
)
from studio.camera import rig as camera
from studio.camera.rig import CameraPose, CameraRig
from studio.jobs import GenerationRequest, Profile, Stage

PREVIEW_EVERY = 10  # frames between two previews
_BOUNDARY_SAMPLES = 9  # points per side of the frame used to find the prism faces in view
_MAX_PIXELS = 16384 * 16384

_Box = tuple[int, int, int, int]
_FLAGS, _BORDER = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE  # the canvas has mirrored margins


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
        renderer = PrevizRenderer(source, request.camera, request.frames, float(request.fps))
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


# A keyframe is scaled to the shot's size, so a larger picture adds nothing but memory:
# a 3 MB PNG declaring 32767x32767 takes 3 GB once decoded. The size is read from the
# header, before anything is decoded.
MAX_IMAGE_PIXELS = 8192 * 8192
MAX_IMAGE_SIDE = 16384
MAX_IMAGE_BYTES = 256 << 20  # the file itself is read whole into memory


# Formats OpenCV decodes, each known by the same signature at the file's start as PIL
# knows it by, so both read the size checked here. Others are decoded by PIL itself.
_OPENCV_FORMATS = {"PNG", "JPEG", "WEBP", "BMP", "TIFF", "PPM"}


def image_size(path: str | PathLike[str]) -> tuple[int, int]:
    """(width, height) of an image file from its header alone (PIL opens lazily);
    RenderError naming the file when it is no image, or larger than the limits."""
    return _header(Path(path))[:2]


def _header(file: Path) -> tuple[int, int, str]:
    from PIL import Image, UnidentifiedImageError

    kind = ""
    try:
        with Image.open(file) as image:
            width, height = image.size
            kind = image.format or ""
    except Image.DecompressionBombError as error:
        # PIL's own limit, far above ours: refused below, with the count PIL names.
        width = height = None
        pixels = re.search(r"\((\d+) pixels\)", str(error))
    except (UnidentifiedImageError, SyntaxError, ValueError) as error:
        raise RenderError(
            f"cannot read the keyframe image {file}: not an image file ({error})"
        ) from None
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise RenderError(f"cannot read the keyframe image {file}: {reason}") from None
    if (
        width is None
        or height is None
        or max(width, height) > MAX_IMAGE_SIDE
        or width * height > MAX_IMAGE_PIXELS
    ):
        if width is not None:
            size = f"{width}x{height}"
        else:
            size = f"{pixels[1]} pixels" if pixels else "beyond PIL's own limit"
        raise RenderError(
            f"the keyframe image {file} is too large ({size}); keyframes may have up to "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels and {MAX_IMAGE_SIDE} pixels a side"
        )
    return width, height, kind


def load_image(path: str | PathLike[str]) -> np.ndarray:
    """An image file as RGB uint8 (h, w, 3); RenderError naming the file if it is unreadable
    or too large (checked from its header, before it is decoded: see `image_size`)."""
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise RenderError(f"cannot read the keyframe image {file}: {reason}") from None
    if size > MAX_IMAGE_BYTES:
        raise RenderError(
            f"the keyframe image {file} is too large ({size / 2**20:.0f} MB; keyframes may "
            f"have up to {MAX_IMAGE_BYTES >> 20} MB)"
        )
    if size == 0:
        raise RenderError(f"cannot read the keyframe image {file}: the file is empty")
    _, _, kind = _header(file)
    if kind not in _OPENCV_FORMATS:
        return _pil_rgb(file)
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise RenderError(f"cannot read the keyframe image {file}: {reason}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None or image.size == 0:
        raise RenderError(f"cannot read the keyframe image {file}: not an image OpenCV can decode")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _pil_rgb(file: Path) -> np.ndarray:
    """A format OpenCV does not read (GIF, TGA...) decoded by PIL, whose header was checked."""
    from PIL import Image, ImageOps

    try:
        with Image.open(file) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB")).copy()
    except (OSError, ValueError, SyntaxError) as error:
        raise RenderError(f"cannot read the keyframe image {file}: {error}") from None


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
    joined = " ".join(words)
    while True:
        thickness = max(1, round(scale * 1.6))
        step = math.ceil((cap + base) * scale * 1.25) + thickness
        # A cheap lower bound on the wrapped line count (breaks drop at most a space per
        # word) skips scales that cannot fit without wrapping word by word.
        least = math.ceil(0.85 * _text_width(joined, scale, thickness) / max(1, max_width))
        if least * step > max_height and scale > 0.3:
            scale = max(0.3, scale * 0.9)
            continue
        lines = _wrap(words, scale, thickness, max_width)
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
    # Sky from top to bottom, warmer on one side than the other so that no row is uniform.
    tint = np.array([18.0, -7.0, -18.0], np.float32)
    corners = np.stack([[top - tint, top + tint], [bottom - tint, bottom + tint]])
    corners = np.clip(corners, 0, 255).astype(np.uint8)
    image = cv2.resize(corners, (width, height), interpolation=cv2.INTER_LINEAR)
    horizon = round(height * float(rng.uniform(0.5, 0.6)))
    vanish_x = width * float(rng.uniform(0.35, 0.65))
    floor = _hsv_colour((hue + 90.0) % 180.0, 90, 120)
    ground = image[horizon:]
    flat = np.empty_like(ground)
    flat[:] = floor.astype(np.uint8)
    cv2.addWeighted(ground, 0.55, flat, 0.45, 0.0, dst=ground)
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
    noise = rng.standard_normal(((height + 1) // 2, (width + 1) // 2), dtype=np.float32)
    noise = cv2.resize(noise, (width, height), interpolation=cv2.INTER_LINEAR) * 12.0
    return cv2.add(image, cv2.merge([noise, noise, noise]), dtype=cv2.CV_8U)


def _put_outlined(
    image: np.ndarray,
    placed: Sequence[tuple[str, tuple[int, int]]],
    scale: float,
    thickness: int,
    colour: tuple[int, int, int],
) -> None:
    """Anti-aliased text with a dark outline, for legibility over any background."""
    fill = np.zeros(image.shape[:2], np.uint8)
    for text, origin in placed:
        cv2.putText(fill, text, origin, _FONT, scale, 255, thickness, cv2.LINE_AA)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * thickness + 1,) * 2)
    outline = cv2.dilate(fill, kernel)
    x, y, w, h = cv2.boundingRect(outline)
    if w == 0 or h == 0:
        return
    region = image[y : y + h, x : x + w].astype(np.float32)
    for mask, ink in ((outline, (28, 28, 36)), (fill, colour)):
        alpha = mask[y : y + h, x : x + w, None].astype(np.float32) / 255.0
        region += alpha * (np.array(ink, np.float32) - region)
    image[y : y + h, x : x + w] = np.clip(region + 0.5, 0, 255).astype(np.uint8)


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
    (x0, y0), (x1, y1) = panel
    region = image[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    if region.size:
        shade = np.empty_like(region)
        shade[:] = (24, 26, 34)
        region[:] = cv2.addWeighted(region, 0.5, shade, 0.5, 0.0)
    (_, cap), _ = cv2.getTextSize("A", _FONT, scale, thickness)
    placed = [
        (line, _pt((width - line_w) / 2, top + k * step + cap + (step - cap) // 3))
        for k, (line, line_w) in enumerate(zip(lines, widths, strict=True))
    ]
    _put_outlined(image, placed, scale, thickness, (250, 248, 240))

    note = _ascii(caption.strip())
    if note:
        small = max(0.3, min(scale * 0.5, height / 600))
        small_t = max(1, round(small * 1.5))
        while small > 0.3 and _text_width(note, small, small_t) > width * 0.9:
            small *= 0.9
        note_w = _text_width(note, small, small_t)
        origin = _pt((width - note_w) / 2, height - max(6, height * 0.05))
        _put_outlined(image, [(note, origin)], small, small_t, (240, 240, 240))
    return image


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


def _fill_holes(frame: np.ndarray, holes: np.ndarray, source: np.ndarray) -> None:
    """Paint over the pixels no face reached (the canvas is opaque, these have alpha 0).

    They only occur in degenerate views (a ray exactly parallel to the picture plane, with
    no prism face to catch it): inpainted from their surroundings, or the source's mean
    colour where there are none.
    """
    if holes.all():
        frame[:] = np.asarray(cv2.mean(source)[:3]).round().astype(np.uint8)
        return
    mask = holes.astype(np.uint8) * 255
    frame[:] = cv2.inpaint(frame, mask, 3, cv2.INPAINT_TELEA)


class PrevizRenderer:
    """Renders frame i of the previz of `source` (RGB uint8, already the output size).

    Frames can be rendered in any order; each only depends on the arguments and `i`.
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
        self._identity = np.all(np.abs(self.homographies - np.eye(3)) <= 1e-12, axis=(1, 2))
        first = self.poses[0]
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
        # The picture on an enlarged canvas with mirrored margins, in RGBA: OpenCV's
        # 4-channel warp is the fastest, and lookups past the margins stay cheap.
        rgba = cv2.cvtColor(self.source, cv2.COLOR_RGB2RGBA)
        self._canvas = [cv2.copyMakeBorder(rgba, h, h, w, w, cv2.BORDER_REFLECT_101), None]
        self._to_canvas = _shift(-w, -h)
        self._buffer = np.empty((h, w, 4), np.uint8)
        # One RGBA pixel is one uint32, so masked copies move whole pixels.
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
                focal=self.poses[0].focal,
            )
            self._face_poses[face] = pose
        return camera.homography(pose, self.poses[i], self.width, self.height, self.depth)

    def _faces_in_view(self) -> list[tuple[int, int, int]]:
        """Per frame: the lowest and highest prism face in view and the face at the centre.

        The faces seen are found by casting rays through points on the frame's border (the
        extremes of a ray's bearing over a rectangle lie on its corners). A frame whose
        camera is not inside the prism sees the picture plane (face 0) alone.
        """
        w, h, n = self.width, self.height, _BOUNDARY_SAMPLES
        along_x, along_y = np.linspace(0.5, w - 0.5, n), np.linspace(0.5, h - 0.5, n)
        xs = np.concatenate([along_x, along_x, np.full(n, 0.5), np.full(n, w - 0.5), [w / 2]])
        ys = np.concatenate([np.full(n, 0.5), np.full(n, h - 0.5), along_y, along_y, [h / 2]])
        views: list[tuple[int, int, int]] = []
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
                views.append((int(hit.min()), int(hit.max()), int(hit[-1])) if ok else (0, 0, 0))
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

    def _warp(self, face: int, i: int, box: _Box, into_buffer: bool = True) -> np.ndarray:
        """Face `face` as frame i sees it, over `box` (x0, y0, x1, y1) of the frame: written
        into the frame buffer, or returned (RGBA) when `into_buffer` is false."""
        x0, y0, x1, y1 = box
        size = (x1 - x0, y1 - y0)
        matrix = _shift(-x0, -y0) @ self._face_homography(face, i) @ self._to_canvas
        canvas = self._canvas_of(face)
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
        low, high, main = self._views[i]
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
            _fill_holes(out, self._buffer[:, :, 3] == 0, self.source)
        return out


def render_previz(source: np.ndarray, rig: CameraRig, frames: int, fps: float = 24.0) -> np.ndarray:
    """All frames of the previz of `source` along `rig`: RGB uint8 (frames, h, w, 3)."""
    renderer = PrevizRenderer(source, rig, frames, fps)
    out = np.empty((frames, renderer.height, renderer.width, 3), np.uint8)
    for i in range(frames):
        renderer.render(i, out=out[i])
    return out
