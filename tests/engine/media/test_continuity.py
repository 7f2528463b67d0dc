"""Tests for colour continuity at cuts: CIEDE2000 and join matching."""

from __future__ import annotations

import numpy as np
import pytest

from engine.media.continuity import (
    ciede2000,
    histogram_match,
    join_difference,
    lab_to_rgb,
    lab_transfer,
    match_join,
    mean_ciede2000,
    rgb_to_lab,
)

# Test data from Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula:
# implementation notes, supplementary test data, and mathematical observations", Table 1:
# (L1, a1, b1, L2, a2, b2, dE00).
SHARMA_PAIRS = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]

H, W = 48, 64


def _texture(seed: int = 0) -> np.ndarray:
    """A mid-tone textured RGB frame: smooth gradients plus noise, away from the gamut edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    base = np.stack(
        [
            110 + 40 * np.sin(xx / 7.0) + 20 * (yy / H),
            100 + 35 * np.cos(yy / 5.0) + 25 * (xx / W),
            105 + 30 * np.sin((xx + yy) / 9.0),
        ],
        axis=-1,
    )
    base += rng.normal(0, 8, size=base.shape)
    return np.clip(base, 0, 255).astype(np.uint8)


def _tint(frame: np.ndarray) -> np.ndarray:
    """Warmer and brighter: scale and lift L, push a/b towards red-yellow."""
    lab = rgb_to_lab(frame)
    lab[..., 0] = lab[..., 0] * 1.1 + 6.0
    lab[..., 1] += 8.0
    lab[..., 2] += 14.0
    return lab_to_rgb(lab)


def _clip(frames: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Outgoing last frame and an incoming clip: the same scene, tinted, panning slowly."""
    outgoing_last = _texture()
    incoming = np.stack([_tint(np.roll(outgoing_last, i, axis=1)) for i in range(frames)])
    return outgoing_last, incoming


# --------------------------------------------------------------------------- CIEDE2000


def test_sharma_reference_pairs():
    data = np.array(SHARMA_PAIRS)
    got = ciede2000(data[:, 0:3], data[:, 3:6])
    np.testing.assert_allclose(np.round(got, 4), data[:, 6], atol=1e-4)


def test_ciede2000_is_symmetric_and_broadcasts():
    data = np.array(SHARMA_PAIRS)
    np.testing.assert_allclose(ciede2000(data[:, 3:6], data[:, 0:3]), data[:, 6], atol=1e-4)
    grid = np.zeros((4, 5, 3))
    grid[..., 0] = 50.0
    assert ciede2000(grid, np.array([50.0, 0.0, 0.0])).shape == (4, 5)


def test_ciede2000_rejects_non_lab_shape():
    with pytest.raises(ValueError):
        ciede2000(np.zeros((3, 2)), np.zeros((3, 2)))


def test_identity_is_zero():
    frame = _texture()
    lab = rgb_to_lab(frame)
    assert np.all(ciede2000(lab, lab) == 0.0)
    assert mean_ciede2000(frame, frame) == 0.0
    assert join_difference(frame, frame) == 0.0


def test_rgb_to_lab_gives_true_lab():
    white, black = rgb_to_lab(np.array([[255, 255, 255], [0, 0, 0]], dtype=np.uint8))
    np.testing.assert_allclose(white, [100.0, 0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(black, [0.0, 0.0, 0.0], atol=0.05)
    red = rgb_to_lab(np.array([255, 0, 0], dtype=np.uint8))
    np.testing.assert_allclose(red, [53.24, 80.09, 67.20], atol=0.3)
    frame = _texture()
    assert np.abs(lab_to_rgb(rgb_to_lab(frame)).astype(int) - frame).max() <= 1


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize("method", ["lab", "histogram"])
def test_match_join_removes_colour_jump(method):
    outgoing_last, incoming = _clip()
    before = join_difference(outgoing_last, incoming[0])
    assert before > 8.0
    matched = match_join(outgoing_last, incoming, method=method)
    after = join_difference(outgoing_last, matched[0])
    assert after < 3.0


@pytest.mark.parametrize("method", ["lab", "histogram"])
def test_correction_fades_out(method):
    outgoing_last, incoming = _clip(12)
    fade = 6
    matched = match_join(outgoing_last, incoming, method=method, fade_frames=fade)
    np.testing.assert_array_equal(matched[fade:], incoming[fade:])
    change = [np.abs(matched[i].astype(int) - incoming[i]).mean() for i in range(fade + 1)]
    assert change[0] > 5.0
    assert all(a > b for a, b in zip(change, change[1:], strict=False))
    assert change[fade] == 0.0


def test_fade_zero_corrects_every_frame_fully():
    outgoing_last, incoming = _clip(10)
    matched = match_join(outgoing_last, incoming, fade_frames=0)
    # The last frame is panned away from the outgoing one, so compare it with the
    # outgoing scene panned the same way.
    reference_last = np.roll(outgoing_last, 9, axis=1)
    assert mean_ciede2000(reference_last, incoming[-1]) > 8.0
    assert mean_ciede2000(reference_last, matched[-1]) < 3.0


def test_match_join_preserves_dtype_shape_and_input():
    outgoing_last, incoming = _clip(5)
    original = incoming.copy()
    for method in ("lab", "histogram"):
        matched = match_join(outgoing_last, incoming, method=method, fade_frames=3)
        assert matched.dtype == np.uint8
        assert matched.shape == incoming.shape
        assert matched is not incoming
    np.testing.assert_array_equal(incoming, original)
    empty = match_join(outgoing_last, incoming[:0])
    assert empty.shape == (0, H, W, 3)


def test_match_join_rejects_bad_arguments():
    outgoing_last, incoming = _clip(2)
    with pytest.raises(ValueError):
        match_join(outgoing_last, incoming, method="nope")
    with pytest.raises(ValueError):
        match_join(outgoing_last, incoming, fade_frames=-1)
    with pytest.raises(ValueError):
        match_join(outgoing_last, incoming[0])
    with pytest.raises(ValueError):
        match_join(outgoing_last, incoming.astype(np.float32))


@pytest.mark.parametrize("transfer", [lab_transfer, histogram_match])
def test_single_frame_transfers(transfer):
    reference = _texture()
    frame = _tint(np.roll(reference, 3, axis=0))
    out = transfer(frame, reference)
    assert out.dtype == np.uint8 and out.shape == frame.shape
    assert mean_ciede2000(np.roll(reference, 3, axis=0), out) < 3.0


@pytest.mark.parametrize("transfer", [lab_transfer, histogram_match])
def test_flat_frames_do_not_produce_nans(transfer):
    flat_ref = np.full((H, W, 3), (180, 120, 60), dtype=np.uint8)
    flat_src = np.full((H, W, 3), (40, 90, 200), dtype=np.uint8)
    textured = _texture()
    # Flat reference: the output takes the reference's colour everywhere.
    out = transfer(textured, flat_ref)
    assert mean_ciede2000(out, flat_ref) < 1.0
    # Flat source: no spread to scale, so it moves to the reference mean.
    out = transfer(flat_src, textured)
    assert out.dtype == np.uint8
    assert np.isfinite(mean_ciede2000(out, textured))
    for method in ("lab", "histogram"):
        matched = match_join(flat_ref, np.stack([textured, flat_src]), method=method)
        assert matched.dtype == np.uint8
        assert np.isfinite(join_difference(flat_ref, matched[0]))
