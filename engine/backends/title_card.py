"""The title card: a shot's prompt over a textured backdrop, the picture the previz moves
over when a shot has no keyframe (and the storyboard's still of such a shot).

OpenCV's Hershey fonts draw it, so the text is brought to the characters they have.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np

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
