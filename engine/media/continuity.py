"""Colour continuity across cuts: measure the jump at a join and match the incoming clip to it.

Generated shots rarely agree on exposure and white balance, so a cut between two takes can
show a visible colour pop. This module measures that pop with CIEDE2000 (the perceptual
colour difference of Sharma, Wu and Dalal, 2005) and corrects the incoming clip towards the
last frame of the outgoing one, either with a Reinhard-style mean/std transfer in CIELAB or
with per-channel histogram (CDF) matching. The correction is strongest on the first frame
after the cut and fades out, so the shot settles back into its own look gradually.

Frames are uint8 RGB arrays shaped (h, w, 3); clips are (t, h, w, 3).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = [
    "ciede2000",
    "histogram_match",
    "join_difference",
    "lab_to_rgb",
    "lab_transfer",
    "match_join",
    "mean_ciede2000",
    "rgb_to_lab",
]

# A per-channel standard deviation below this is treated as a flat channel: dividing by it
# would blow noise up into garbage (or NaN for an exactly flat frame).
_STD_EPS = 1e-6

# 25**7, used by the chroma compensation term G and the rotation term R_C.
_POW25_7 = 25.0**7


# --------------------------------------------------------------------------- CIEDE2000


def ciede2000(
    lab1: np.ndarray,
    lab2: np.ndarray,
    k_l: float = 1.0,
    k_c: float = 1.0,
    k_h: float = 1.0,
) -> np.ndarray:
    """CIEDE2000 colour difference between CIELAB values, over the last axis (L, a, b).

    Arrays broadcast against each other; the result has their broadcast shape without the
    last axis. Follows equations (1)-(22) of Sharma, Wu & Dalal (2005), including their
    conventions for achromatic colours (hue taken as 0, hue difference and mean adjusted).
    """
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    if lab1.shape[-1] != 3 or lab2.shape[-1] != 3:
        raise ValueError("CIELAB arrays need a last axis of size 3 (L, a, b)")
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    # (2)-(7): stretch a* for low-chroma colours, where the CIELAB hue spacing is uneven.
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_mean7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_mean7 / (c_mean7 + _POW25_7)))
    a1p = (1.0 + g) * a1
    a2p = (1.0 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    # atan2(0, 0) is 0 in numpy, which is the paper's convention for achromatic colours.
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0

    # (8)-(10): differences. The hue difference takes the short way round the circle and is
    # zero when either colour has no chroma (its hue is undefined).
    dlp = l2 - l1
    dcp = c2p - c1p
    cprod = c1p * c2p
    dhp = h2p - h1p
    dhp = np.where(dhp > 180.0, dhp - 360.0, dhp)
    dhp = np.where(dhp < -180.0, dhp + 360.0, dhp)
    dhp = np.where(cprod == 0.0, 0.0, dhp)
    d_hp = 2.0 * np.sqrt(cprod) * np.sin(np.radians(dhp / 2.0))

    # (11)-(14): means. The mean hue also goes the short way round, and is the plain sum
    # when one hue is undefined.
    lp_mean = (l1 + l2) / 2.0
    cp_mean = (c1p + c2p) / 2.0
    hsum = h1p + h2p
    far = np.abs(h1p - h2p) > 180.0
    hp_mean = np.where(far, np.where(hsum < 360.0, hsum + 360.0, hsum - 360.0), hsum) / 2.0
    hp_mean = np.where(cprod == 0.0, hsum, hp_mean)

    # (15)-(21): weighting functions and the blue-region rotation term.
    t = (
        1.0
        - 0.17 * np.cos(np.radians(hp_mean - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * hp_mean))
        + 0.32 * np.cos(np.radians(3.0 * hp_mean + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * hp_mean - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((hp_mean - 275.0) / 25.0) ** 2))
    cp_mean7 = cp_mean**7
    r_c = 2.0 * np.sqrt(cp_mean7 / (cp_mean7 + _POW25_7))
    lm50 = (lp_mean - 50.0) ** 2
    s_l = 1.0 + 0.015 * lm50 / np.sqrt(20.0 + lm50)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c

    # (22)
    tl = dlp / (k_l * s_l)
    tc = dcp / (k_c * s_c)
    th = d_hp / (k_h * s_h)
    return np.sqrt(tl * tl + tc * tc + th * th + r_t * tc * th)


# --------------------------------------------------------------------------- conversions


def _check_rgb(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim < 1 or frame.shape[-1] != 3:
        raise ValueError(
            f"{name} must be uint8 RGB with a last axis of 3, got {frame.dtype} {frame.shape}"
        )
    return frame


def rgb_to_lab(frames: np.ndarray) -> np.ndarray:
    """uint8 sRGB (..., 3) to float32 CIELAB (L in 0..100, a/b signed), D65 white.

    OpenCV's float path is used on purpose: with float32 input in [0, 1] it returns true
    L*a*b* values, whereas the uint8 path rescales them into 0..255 codes.
    """
    frames = _check_rgb(frames, "frames")
    shape = frames.shape
    flat = frames.reshape(-1, 1, 3).astype(np.float32) / np.float32(255.0)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(shape)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Float CIELAB (..., 3) back to uint8 sRGB, clipping colours outside the gamut."""
    lab = np.asarray(lab, dtype=np.float32)
    shape = lab.shape
    rgb = cv2.cvtColor(lab.reshape(-1, 1, 3), cv2.COLOR_Lab2RGB).reshape(shape)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def mean_ciede2000(frame_a: np.ndarray, frame_b: np.ndarray) -> float:
    """Mean per-pixel CIEDE2000 between two uint8 RGB frames of the same shape."""
    frame_a = _check_rgb(frame_a, "frame_a")
    frame_b = _check_rgb(frame_b, "frame_b")
    if frame_a.shape != frame_b.shape:
        raise ValueError(f"frames differ in shape: {frame_a.shape} vs {frame_b.shape}")
    return float(np.mean(ciede2000(rgb_to_lab(frame_a), rgb_to_lab(frame_b))))


def join_difference(outgoing_last: np.ndarray, incoming_first: np.ndarray) -> float:
    """How visible a cut is: mean CIEDE2000 between the frames either side of it."""
    return mean_ciede2000(outgoing_last, incoming_first)


# --------------------------------------------------------------------------- transfer fits
# Each fit looks at a source frame and a reference frame (both in LAB) and returns a function
# mapping LAB values to corrected LAB values. Fitting once and applying the same function to
# every frame of the incoming clip keeps the correction steady across the clip: refitting per
# frame would make it flicker as the content moves.

_LabMap = Callable[[np.ndarray], np.ndarray]


def _fit_lab_stats(src_lab: np.ndarray, ref_lab: np.ndarray) -> _LabMap:
    src = src_lab.reshape(-1, 3).astype(np.float64)
    ref = ref_lab.reshape(-1, 3).astype(np.float64)
    src_mean, src_std = src.mean(axis=0), src.std(axis=0)
    ref_mean, ref_std = ref.mean(axis=0), ref.std(axis=0)
    # A flat source channel has no spread to rescale: only move its mean. A flat reference
    # channel gives a scale of 0, which flattens the output too; that is the right answer.
    flat = src_std < _STD_EPS
    scale = np.where(flat, 1.0, ref_std / np.where(flat, 1.0, src_std))

    def apply(lab: np.ndarray) -> np.ndarray:
        return ((lab - src_mean) * scale + ref_mean).astype(np.float32)

    return apply


def _fit_histogram(src_lab: np.ndarray, ref_lab: np.ndarray) -> _LabMap:
    src = src_lab.reshape(-1, 3)
    ref = ref_lab.reshape(-1, 3)
    curves = []
    for c in range(3):
        # Unique values with counts give a strictly increasing x for np.interp; each value
        # sits at the middle of its step of the empirical CDF so ties map consistently.
        s_vals, s_counts = np.unique(src[:, c], return_counts=True)
        r_vals, r_counts = np.unique(ref[:, c], return_counts=True)
        s_cdf = (np.cumsum(s_counts) - 0.5 * s_counts) / src.shape[0]
        r_cdf = (np.cumsum(r_counts) - 0.5 * r_counts) / ref.shape[0]
        curves.append((s_vals.astype(np.float64), np.interp(s_cdf, r_cdf, r_vals)))

    def apply(lab: np.ndarray) -> np.ndarray:
        out = np.empty(lab.shape, dtype=np.float32)
        for c, (xs, ys) in enumerate(curves):
            # Values outside the fitted frame's range clamp to the ends of the curve.
            out[..., c] = np.interp(lab[..., c], xs, ys)
        return out

    return apply


_FITS: dict[str, Callable[[np.ndarray, np.ndarray], _LabMap]] = {
    "lab": _fit_lab_stats,
    "histogram": _fit_histogram,
}


def lab_transfer(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Reinhard-style transfer: give `frame` the per-channel LAB mean and std of `reference`.

    uint8 RGB in, uint8 RGB out (same shape as `frame`). Flat channels never divide by zero.
    """
    frame = _check_rgb(frame)
    reference = _check_rgb(reference, "reference")
    lab = rgb_to_lab(frame)
    return lab_to_rgb(_fit_lab_stats(lab, rgb_to_lab(reference))(lab))


def histogram_match(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Match each LAB channel's distribution (CDF) of `frame` to that of `reference`.

    uint8 RGB in, uint8 RGB out (same shape as `frame`).
    """
    frame = _check_rgb(frame)
    reference = _check_rgb(reference, "reference")
    lab = rgb_to_lab(frame)
    return lab_to_rgb(_fit_histogram(lab, rgb_to_lab(reference))(lab))


# --------------------------------------------------------------------------- joins


def match_join(
    outgoing_last: np.ndarray,
    incoming: np.ndarray,
    method: str = "lab",
    fade_frames: int = 8,
) -> np.ndarray:
    """Correct the incoming clip (t, h, w, 3) towards the last frame before the cut.

    The correction is fitted between the incoming clip's first frame and `outgoing_last`,
    applied fully to that first frame and with linearly falling weight after it, reaching no
    correction at frame `fade_frames`; from there on frames are returned untouched. Fading
    lets the shot drift back to its own look instead of popping back to it later.
    `fade_frames=0` corrects every frame fully. Returns a new array; inputs are not modified.
    """
    outgoing_last = _check_rgb(outgoing_last, "outgoing_last")
    incoming = _check_rgb(incoming, "incoming")
    if incoming.ndim != 4:
        raise ValueError(f"incoming must be a clip shaped (t, h, w, 3), got {incoming.shape}")
    if outgoing_last.ndim != 3:
        raise ValueError(f"outgoing_last must be one frame (h, w, 3), got {outgoing_last.shape}")
    if method not in _FITS:
        raise ValueError(f"unknown method {method!r}; expected one of {sorted(_FITS)}")
    if fade_frames < 0:
        raise ValueError("fade_frames must be >= 0")

    out = incoming.copy()
    if incoming.shape[0] == 0:
        return out
    join = JoinMatch(outgoing_last, incoming[0], method, fade_frames)
    n = incoming.shape[0] if fade_frames == 0 else min(fade_frames, incoming.shape[0])
    for i in range(n):
        out[i] = join.apply(incoming[i], i)
    return out


class JoinMatch:
    """The correction of one join, fitted once, applied frame by frame (the sequence
    preview and export read one frame at a time): frame `i` of the incoming clip gets
    weight 1 - i / fade_frames (full correction for every frame when fade_frames is 0)."""

    def __init__(
        self,
        outgoing_last: np.ndarray,
        incoming_first: np.ndarray,
        method: str = "lab",
        fade_frames: int = 8,
    ) -> None:
        if method not in _FITS:
            raise ValueError(f"unknown method {method!r}; expected one of {sorted(_FITS)}")
        if fade_frames < 0:
            raise ValueError("fade_frames must be >= 0")
        # Sizes may differ between shots (e.g. a different render resolution); statistics
        # and CDFs do not depend on the pixel grid, so no resizing is needed.
        self._correct = _FITS[method](
            rgb_to_lab(_check_rgb(incoming_first, "incoming_first")),
            rgb_to_lab(_check_rgb(outgoing_last, "outgoing_last")),
        )
        self.fade_frames = fade_frames

    def weight(self, i: int) -> float:
        if self.fade_frames == 0:
            return 1.0
        return max(0.0, 1.0 - i / self.fade_frames)

    def apply(self, frame: np.ndarray, i: int) -> np.ndarray:
        """Frame `i` (0 = the first after the cut) of the incoming clip, corrected."""
        weight = self.weight(i)
        if weight <= 0.0:
            return frame
        lab = rgb_to_lab(frame)
        # Blending in LAB keeps the partial corrections on the same perceptual path as the
        # full one, rather than mixing gamma-encoded RGB values.
        return lab_to_rgb(lab + np.float32(weight) * (self._correct(lab) - lab))
