"""The pictures a render starts from: keyframe files, read only after their header shows a
size within limits (OpenCV decodes the formats it knows, PIL the others), continuity frames
made RGB, and a picture scaled and cropped to cover the frame.

Every problem is a `RenderError` naming the file. The previz and the diffusers backend
share these.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

import cv2
import numpy as np

from engine.backends.base import RenderError

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
