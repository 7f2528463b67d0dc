"""What the previz shows beyond its picture: a dim studio wall with a grid on it.

The picture hangs on the wall. Right at its edges the wall catches a soft glow of the
picture's colours: its border, averaged over blocks of `_BLOCK` pixels, stretched outwards
and blurred, so that no line of text or other detail survives. The glow darkens and fades
into the wall: a neutral grey tinted by the picture's mean colour, in soft uneven patches,
with faint grid lines (major ones continuing the picture's edges) that show the camera's
motion. The patches and the grid's rows fade out far above and below the picture, so that
a view up or down the wall at a grazing angle stays calm instead of shimmering; the grid's
columns run on as far as the wall goes.

`surround` gives the canvases around a picture: RGBA, three times the picture's width and
height with the picture's place in the middle, in the picture's pixel units. One holds the
picture and its glow, the other (made when first asked for) the bare wall; both show the
same wall wherever the glow has faded, so they join without a seam. They are made once per
picture: a few recent pictures' canvases are kept, found again by the picture's content, so
that the live previz, which makes a renderer for each edit of the rig, pays only for a hash.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict

import cv2
import numpy as np

_BLOCK = 16  # pixels of the picture averaged into one sample of the glow
_GLOW_SIGMA = 3.0  # blur of the glow, in blocks
_GLOW_GAIN = 0.6  # the glow is the picture's border, this much darker
_GLOW_REACH = 0.5  # the glow has faded into the wall this far out, in the shorter side
_WALL = np.array([58.0, 60.0, 66.0], np.float32)  # a neutral slate grey
_TINT = 0.3  # how much of the picture's mean colour tints the wall
_MOTTLE = 3.0  # brightness of the wall's soft, uneven patches (standard deviation)
_MINOR, _MAJOR = 14.0, 26.0  # brightness the grid's lines add
_ROWS = 4  # grid cells over the picture's height
_KEEP_BYTES = 128 << 20  # canvases kept for the pictures seen most recently


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _distances(size: int, count: int) -> np.ndarray:
    """Distance beyond the picture (which spans [size, 2 size) of the canvas's 3 size
    pixels) of the centres of `count` equal samples across the canvas."""
    centres = (np.arange(count, dtype=np.float32) + 0.5) * np.float32(3.0 * size / count)
    return np.maximum(0.0, np.maximum(size - centres, centres - 2 * size))


def _fade(distance: np.ndarray, size: int) -> np.ndarray:
    """1 near the picture, falling to 0 at the canvas's top and bottom (`distance` = size)."""
    return 1.0 - _smoothstep((distance / size - 0.4) / 0.6)


def _glow_weight(dx: np.ndarray, dy: np.ndarray, reach: float) -> np.ndarray:
    """How much of the wall (against the glow) shows at distances dx, dy from the picture."""
    return _smoothstep(np.hypot(dx, dy) / reach)


def _wall_blocks(wall: np.ndarray, width: int, height: int) -> np.ndarray:
    """The bare wall over the whole canvas at block resolution, float32 (3 rows, 3 columns,
    3): its colour in soft, uneven patches, which give a pan along it something to follow.
    They repeat from one prism face to the next, so faces join without a seam, and fade
    out far above and below the picture like the grid's rows."""
    columns, rows = _blocks(width, height)
    noise = np.random.default_rng(7).standard_normal((3 * rows, columns)).astype(np.float32)
    pad = 4 * columns
    noise = cv2.GaussianBlur(np.pad(noise, ((0, 0), (pad, pad)), mode="wrap"), (0, 0), 1.0)
    noise = noise[:, pad : pad + columns]
    noise *= _MOTTLE / max(float(noise.std()), 1e-6)
    noise *= _fade(_distances(height, 3 * rows), height)[:, None]
    return wall + np.tile(noise, (1, 3))[:, :, None]


def _blocks(width: int, height: int) -> tuple[int, int]:
    """Columns and rows of blocks over the picture."""
    return max(1, round(width / _BLOCK)), max(1, round(height / _BLOCK))


def _glow_blocks(source: np.ndarray, wall: np.ndarray) -> np.ndarray:
    """The picture's glow fading into the wall, over the whole canvas at block resolution,
    float32 (3 rows, 3 columns, 3): the border's blocks stretched outwards and blurred."""
    height, width = source.shape[:2]
    columns, rows = _blocks(width, height)
    small = cv2.resize(source, (columns, rows), interpolation=cv2.INTER_AREA)
    small = cv2.copyMakeBorder(small, rows, rows, columns, columns, cv2.BORDER_REPLICATE)
    glow = cv2.GaussianBlur(small.astype(np.float32), (0, 0), _GLOW_SIGMA) * _GLOW_GAIN
    reach = _GLOW_REACH * min(width, height)
    dx, dy = _distances(width, 3 * columns), _distances(height, 3 * rows)
    weight = _glow_weight(dx[None, :], dy[:, None], reach)[:, :, None]
    return glow + weight * (_wall_blocks(wall, width, height) - glow)


def _lines(size: int, cells: int) -> list[tuple[int, float]]:
    """(canvas coordinate, brightness) of the grid lines across 3 `size` pixels: `cells`
    per picture side, the major ones on the picture's edges and their repeats, none on
    the canvas's own edges."""
    return [
        (round(k * size / cells), _MAJOR if k % cells == 0 else _MINOR) for k in range(1, 3 * cells)
    ]


def _spread(lines: list[tuple[int, float]], size: int, soft: int) -> tuple[np.ndarray, ...]:
    """For each pixel row (or column) across the lines' widths: its position, its line's
    position and its brightness; the first and last of `size` are left out."""
    places = [
        (at + offset, at, bright * (1.0 if abs(offset) < soft else 0.4))
        for at, bright in lines
        for offset in range(-soft, soft + 1)
        if 0 < at + offset < size - 1
    ]
    where, line, bright = zip(*places, strict=True) if places else ((), (), ())
    return np.array(where, int), np.array(line, int), np.array(bright, np.float32)


def _bands(where: np.ndarray, amount: np.ndarray, axis: int) -> list[tuple[int, int, np.ndarray]]:
    """(start, stop, what to add) for each run of consecutive positions in `where`, whose
    `amount`s lie along `axis`: RGBA uint8 steps that add them to the RGB, read-only."""
    bands = []
    first = 0
    for k in range(1, len(where) + 1):
        if k == len(where) or where[k] != where[k - 1] + 1:
            part = np.take(amount, range(first, k), axis=axis)
            step = np.clip(part + 0.5, 0, 255).astype(np.uint8)
            step = cv2.merge([step, step, step, np.zeros_like(step)])
            step.flags.writeable = False
            bands.append((int(where[first]), int(where[k - 1]) + 1, step))
            first = k
    return bands


@functools.lru_cache(maxsize=8)
def _grid(width: int, height: int, glow: bool) -> tuple[list, list]:
    """The grid's lines over a canvas around a width x height picture, faded where the
    glow shows (with `glow`): bands of columns and bands of rows (see `_bands`). They
    depend on the size alone.

    The rows fade out far above and below the picture; the columns run on to the canvas's
    edges, and from there (the warp replicates the edges) on up and down the wall. The
    first and last column and row stay bare: replicated, a line would spread into a band.
    """
    rows = max(1, min(_ROWS, height // 8))
    columns = max(1, min(round(width * rows / height), width // 8))
    dx, dy = _distances(width, 3 * width), _distances(height, 3 * height)
    reach = _GLOW_REACH * min(width, height)
    soft = max(1, round(min(width, height) / 240))  # half the line's width, in pixels
    xs, lines, bright = _spread(_lines(width, columns), 3 * width, soft)
    down = np.broadcast_to(bright[None, :], (3 * height, len(xs)))
    if glow:
        down = down * _glow_weight(dx[lines][None, :], dy[:, None], reach)
    ys, lines, bright = _spread(_lines(height, rows), 3 * height, soft)
    across = np.broadcast_to((bright * _fade(dy[lines], height))[:, None], (len(ys), 3 * width))
    if glow:
        across = across * _glow_weight(dx[None, :], dy[lines][:, None], reach)
    return _bands(xs, down, axis=1), _bands(ys, across, axis=0)


def _draw_grid(canvas: np.ndarray, width: int, height: int, glow: bool) -> None:
    """Add the grid's lines (see `_grid`) to the RGBA canvas, saturating, in place."""
    down, across = _grid(width, height, glow)
    for start, stop, step in down:
        band = canvas[:, start:stop]
        cv2.add(band, step, dst=band)
    for start, stop, step in across:
        band = canvas[start:stop]
        cv2.add(band, step, dst=band)


def _canvas(blocks: np.ndarray, width: int, height: int) -> np.ndarray:
    """The blocks (float32 RGB) scaled up to an RGBA canvas of 3 width x 3 height."""
    small = cv2.cvtColor(np.clip(blocks + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2RGBA)
    return cv2.resize(small, (3 * width, 3 * height), interpolation=cv2.INTER_LINEAR)


class Surround:
    """The canvases around one picture (RGB uint8), read-only: see the module's notes."""

    def __init__(self, source: np.ndarray) -> None:
        height, width = source.shape[:2]
        self.width, self.height = width, height
        mean = np.array(cv2.mean(source)[:3], np.float32)
        self.wall_colour = (1.0 - _TINT) * _WALL + _TINT * 0.5 * mean
        # The wall's plain colour (RGB uint8), which a ray that misses the wall shows.
        self.far = np.clip(self.wall_colour + 0.5, 0, 255).astype(np.uint8)
        # The picture in the middle, glowing into the wall.
        canvas = _canvas(_glow_blocks(source, self.wall_colour), width, height)
        _draw_grid(canvas, width, height, glow=True)
        canvas[height : 2 * height, width : 2 * width] = cv2.cvtColor(source, cv2.COLOR_RGB2RGBA)
        canvas.flags.writeable = False
        self.picture = canvas
        self._wall: np.ndarray | None = None

    @property
    def wall(self) -> np.ndarray:
        """The bare wall, without the picture."""
        if self._wall is None:
            blocks = _wall_blocks(self.wall_colour, self.width, self.height)
            canvas = _canvas(blocks, self.width, self.height)
            _draw_grid(canvas, self.width, self.height, glow=False)
            canvas.flags.writeable = False
            self._wall = canvas
        return self._wall

    @property
    def nbytes(self) -> int:
        return self.picture.nbytes + (self._wall.nbytes if self._wall is not None else 0)


_kept: OrderedDict[tuple, Surround] = OrderedDict()
_lock = threading.Lock()


def surround(source: np.ndarray) -> Surround:
    """The canvases around `source` (RGB uint8, C-contiguous). Those of pictures seen
    recently are kept, up to `_KEEP_BYTES` in all, and found again by the picture's
    content; a picture whose canvas alone would take half of that is never kept."""
    key = (source.shape, hashlib.sha1(source.data, usedforsecurity=False).digest())
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
            return found
    made = Surround(source)
    with _lock:
        if made.picture.nbytes <= _KEEP_BYTES // 2:
            _kept[key] = made
        while sum(kept.nbytes for kept in _kept.values()) > _KEEP_BYTES:
            _kept.popitem(last=False)
    return made
