"""The previz backend: sources, fitting, the title card, the warp, progress, cancel.

Motion is measured on the rendered frames with OpenCV (phase correlation for shifts, ORB
features with a RANSAC similarity for roll and scale) and compared with what the rig in
`studio.camera.rig` predicts.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.backends.base import Capabilities, JobCancelled, RenderError, RenderInputs
from engine.backends.previz import (
    PREVIEW_EVERY,
    PrevizBackend,
    PrevizRenderer,
    fit_cover,
    load_image,
    render_previz,
    title_card,
)
from studio.camera import rig as camera
from studio.camera.rig import CameraRig, Shake, preset, with_move
from studio.jobs import GenerationRequest, Stage

W, H = 448, 256


class FakeContext:
    """Records what the backend reports; cancels after `cancel_after` checks."""

    def __init__(self, cancel_after: int | None = None) -> None:
        self.cancel_after = cancel_after
        self.checks = 0
        self.progress_calls: list[tuple[int, int, Stage]] = []
        self.previews: list[tuple[int, np.ndarray]] = []
        self.messages: list[str] = []

    def progress(self, step: int, total: int, stage: Stage, message: str = "") -> None:
        self.progress_calls.append((step, total, stage))

    def preview(self, step: int, image: np.ndarray) -> None:
        self.previews.append((step, image))

    def check_cancelled(self) -> None:
        self.checks += 1
        if self.cancel_after is not None and self.checks > self.cancel_after:
            raise JobCancelled("cancelled by the test")

    def log(self, message: str) -> None:
        self.messages.append(message)


def request(
    rig: CameraRig | None = None,
    *,
    width: int = W,
    height: int = H,
    frames: int = 25,
    prompt: str = "a lighthouse on a cliff at dusk",
    seed: int = 0,
) -> GenerationRequest:
    return GenerationRequest(
        prompt=prompt,
        model_id="previz",
        backend="previz",
        width=width,
        height=height,
        frames=frames,
        fps=Fraction(24),
        seed=seed,
        camera=rig if rig is not None else CameraRig(),
    )


def generate(req: GenerationRequest, inputs: RenderInputs | None = None, ctx=None) -> np.ndarray:
    return PrevizBackend().generate(req, inputs or RenderInputs(), ctx or FakeContext())


def textured(width: int, height: int, seed: int = 1, low: int = 0) -> np.ndarray:
    """RGB detail everywhere, values in [low, 255]."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(1, height // 6), max(1, width // 6), 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    image = cv2.add(image, rng.integers(0, 50, (height, width, 3), dtype=np.uint8))
    return (low + image.astype(np.float32) * (255 - low) / 255).round().astype(np.uint8)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)


def shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """How far the content of frame `b` lies from where it was in frame `a`, in pixels."""
    window = cv2.createHanningWindow(a.shape[1::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(gray(a), gray(b), window)
    return dx, dy


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(scale, angle in degrees) of frame `b`'s content relative to frame `a`'s.

    The angle is in image coordinates (y down): positive turns clockwise on screen.
    """
    orb = cv2.ORB_create(4000)
    ka, da = orb.detectAndCompute(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), None)
    kb, db = orb.detectAndCompute(cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), None)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(da, db)
    src = np.float32([ka[m.queryIdx].pt for m in matches])
    dst = np.float32([kb[m.trainIdx].pt for m in matches])
    m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2)
    assert m is not None and int(inliers.sum()) >= 25, "too few feature matches"
    return math.hypot(m[0, 0], m[1, 0]), math.degrees(math.atan2(m[1, 0], m[0, 0]))


def focal_pixels(rig: CameraRig, width: int = W) -> float:
    return camera.poses(rig, 1)[0].focal_pixels(width)


def centre_motion(rig: CameraRig, frames: int, k: int) -> tuple[float, float]:
    """Where the rig moves frame 0's image centre by frame k."""
    h = camera.homographies(rig, frames, W, H)[k]
    p = h @ np.array([W / 2, H / 2, 1.0])
    return p[0] / p[2] - W / 2, p[1] / p[2] - H / 2


def detail(frame: np.ndarray, where: np.ndarray | None = None) -> float:
    """Mean gradient magnitude of the frame's grey levels (over `where` when given)."""
    g = gray(frame)
    magnitude = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    return float(magnitude[where].mean() if where is not None else magnitude.mean())


def first_frame_past(values: np.ndarray, to_pixels, pixels: float) -> int:
    for k, value in enumerate(values):
        if abs(to_pixels(value)) >= pixels:
            return k
    raise AssertionError("the move never gets that far")


# --- the backend's face -----------------------------------------------------------------


def test_name_capabilities_load_and_unload():
    backend = PrevizBackend()
    assert backend.name == "previz"
    assert backend.capabilities("previz") == Capabilities(
        text_to_video=True, image_to_video=True, video_to_video=False, frame_multiple=1
    )
    assert backend.capabilities("anything").snap_frames(37) == 37
    backend.load("previz", FakeContext())
    backend.unload()
    backend.unload()


@pytest.mark.parametrize(
    ("width", "height", "frames"), [(W, H, 25), (97, 61, 7), (64, 48, 1), (1, 1, 3), (2, 300, 2)]
)
def test_frame_count_shape_and_dtype_are_exact(width, height, frames):
    out = generate(request(preset("whip_pan"), width=width, height=height, frames=frames))
    assert out.shape == (frames, height, width, 3)
    assert out.dtype == np.uint8
    assert out.flags["C_CONTIGUOUS"]


def test_progress_each_frame_and_previews_every_tenth():
    ctx = FakeContext()
    out = generate(request(preset("pan_left"), frames=25), ctx=ctx)
    assert ctx.progress_calls == [(i, 25, Stage.RENDERING) for i in range(1, 26)]
    assert ctx.checks == 25
    assert [step for step, _ in ctx.previews] == list(range(0, 25, PREVIEW_EVERY))
    for step, image in ctx.previews:
        assert image.shape == (H, W, 3) and image.dtype == np.uint8
        assert np.array_equal(image, out[step])
        assert not np.shares_memory(image, out)


def test_cancel_at_frame_five_stops_there():
    ctx = FakeContext(cancel_after=5)
    with pytest.raises(JobCancelled):
        generate(request(preset("dolly_in"), frames=40), ctx=ctx)
    assert ctx.checks == 6
    assert [step for step, _, _ in ctx.progress_calls] == [1, 2, 3, 4, 5]
    assert [step for step, _ in ctx.previews] == [0]


def test_cancel_before_the_first_frame_renders_nothing():
    ctx = FakeContext(cancel_after=0)
    with pytest.raises(JobCancelled):
        generate(request(preset("dolly_in")), ctx=ctx)
    assert ctx.progress_calls == [] and ctx.previews == []


def test_same_request_gives_identical_frames():
    req = request(preset("whip_pan"), frames=30, seed=5)
    assert np.array_equal(generate(req), generate(req))
    key_req = request(preset("zoom_out"), frames=12)
    inputs = RenderInputs(continuity=textured(300, 200))
    assert np.array_equal(generate(key_req, inputs), generate(key_req, inputs))


def test_frames_do_not_depend_on_the_order_they_are_rendered_in():
    source = title_card("order", 160, 96, seed=2)
    rig = preset("whip_pan")
    in_order = render_previz(source, rig, 20)
    renderer = PrevizRenderer(source, rig, 20)
    for i in [19, 3, 11, 0, 10, 12, 4]:
        assert np.array_equal(renderer.render(i), in_order[i])
    with pytest.raises(IndexError):
        renderer.render(20)


# --- the source picture ---------------------------------------------------------------


def test_keyframe_file_is_frame_zero_fitted_by_cover_and_centre_crop(tmp_path):
    # 300x200 into 448x256: scaled by 1.4933 to 448x299, then 21 rows cut top and bottom.
    key = textured(300, 200, seed=4)
    path = write_png(tmp_path / "key.png", key)
    out = generate(request(preset("dolly_in"), frames=5), RenderInputs(keyframe=path))
    crop_h = round(300 * H / W)
    top = (200 - crop_h) // 2
    expected = cv2.resize(key[top : top + crop_h], (W, H), interpolation=cv2.INTER_CUBIC)
    assert np.abs(out[0].astype(int) - expected.astype(int)).mean() < 1.0
    assert np.array_equal(out[0], fit_cover(key, W, H))
    assert not np.array_equal(out[1], out[0])  # and then the camera moves


def test_keyframe_taller_than_the_frame_is_cropped_top_and_bottom_and_shrunk(tmp_path):
    key = textured(400, 900, seed=6)
    path = write_png(tmp_path / "portrait.png", key)
    out = generate(request(frames=2, width=200, height=100), RenderInputs(keyframe=path))
    rows = 400 * 100 // 200
    top = (900 - rows) // 2
    expected = cv2.resize(key[top : top + rows], (200, 100), interpolation=cv2.INTER_AREA)
    assert np.abs(out[0].astype(int) - expected.astype(int)).mean() < 1.0


def test_keyframe_colours_arrive_as_rgb(tmp_path):
    key = np.zeros((64, 64, 3), np.uint8)
    key[:, :32] = (230, 20, 10)  # red on the left
    key[:, 32:] = (10, 30, 220)  # blue on the right
    path = write_png(tmp_path / "colours.png", key)
    out = generate(request(frames=1, width=64, height=64), RenderInputs(keyframe=path))
    assert tuple(out[0, 32, 8]) == (230, 20, 10)
    assert tuple(out[0, 32, 56]) == (10, 30, 220)


def test_keyframe_wins_over_continuity(tmp_path):
    key = np.full((60, 100, 3), (200, 40, 40), np.uint8)
    path = write_png(tmp_path / "key.png", key)
    previous = np.full((60, 100, 3), (40, 40, 200), np.uint8)
    out = generate(
        request(frames=2, width=100, height=60), RenderInputs(keyframe=path, continuity=previous)
    )
    assert tuple(out[0, 30, 50]) == (200, 40, 40)


def test_continuity_frame_is_used_when_there_is_no_keyframe():
    previous = textured(320, 240, seed=9)  # 4:3 into 16:9-ish: rows are cropped
    out = generate(request(preset("pan_right"), frames=4), RenderInputs(continuity=previous))
    assert np.array_equal(out[0], fit_cover(previous, W, H))
    rows = round(320 * H / W)
    top = (240 - rows) // 2
    expected = cv2.resize(previous[top : top + rows], (W, H), interpolation=cv2.INTER_CUBIC)
    assert np.abs(out[0].astype(int) - expected.astype(int)).mean() < 1.0


def test_continuity_accepts_the_last_of_a_stack_of_frames():
    stack = np.stack([np.full((48, 64, 3), v, np.uint8) for v in (10, 120, 230)])
    out = generate(request(frames=1, width=64, height=48), RenderInputs(continuity=stack))
    assert (out == 230).all()


def test_a_continuity_frame_of_the_wrong_shape_is_a_render_error():
    with pytest.raises(RenderError, match="continuity"):
        generate(request(frames=2), RenderInputs(continuity=np.zeros((4, 4, 5), np.uint8)))


def test_an_unreadable_keyframe_is_a_render_error_naming_the_file(tmp_path):
    garbage = tmp_path / "garbage-frame.png"
    garbage.write_bytes(b"\x89PNG but not really")
    with pytest.raises(RenderError, match="garbage-frame.png"):
        generate(request(frames=2), RenderInputs(keyframe=garbage))
    with pytest.raises(RenderError, match="missing-key.png"):
        generate(request(frames=2), RenderInputs(keyframe=tmp_path / "missing-key.png"))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(RenderError, match="empty.jpg"):
        generate(request(frames=2), RenderInputs(keyframe=empty))


def png_declaring(path: Path, width: int, height: int, rows: int = 4) -> None:
    """A PNG whose header declares width x height but which holds only a few rows of
    zlib-compressed zeros: a few hundred bytes that decoders size their buffers from."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(bytes((1 + 3 * width) * rows), 9)
    signature = b"\x89PNG\r\n\x1a\n"
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    path.write_bytes(signature + chunks)


@pytest.mark.parametrize(("width", "height"), [(32767, 32767), (9000, 9000), (20000, 64)])
def test_a_keyframe_larger_than_the_limits_is_refused_from_its_header(tmp_path, width, height):
    bomb = tmp_path / "bomb.png"
    png_declaring(bomb, width, height)
    assert bomb.stat().st_size < 100_000
    # (PIL names the pixel count of a picture beyond its own limit, not its sides.)
    size = rf"({width}x{height}|{width * height} pixels)"
    message = rf"keyframe image .*bomb.png is too large \({size}\)"
    with pytest.raises(RenderError, match=message):
        load_image(bomb)
    with pytest.raises(RenderError, match=message):
        generate(request(frames=2), RenderInputs(keyframe=bomb))


def test_a_refused_keyframe_never_takes_the_memory_of_its_pictures(tmp_path):
    # A whole 9000x9000 picture (243 MB decoded) in a small file, read in a process of
    # its own, whose peak memory says whether it was decoded.
    from PIL import Image

    bomb = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000)).save(bomb)
    code = (
        "import resource, sys\n"
        "from engine.backends.previz import load_image\n"
        "from engine.backends.base import RenderError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    load_image(sys.argv[1])\n"
        "except RenderError as error:\n"
        "    print(error)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code, str(bomb)], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    message, grown = done.stdout.splitlines()
    assert "too large (9000x9000)" in message
    assert int(grown) < 64 * 1024, f"{int(grown) // 1024} MB more"  # kilobytes on Linux


def test_keyframes_opencv_does_not_read_are_decoded_within_the_limits(tmp_path):
    from PIL import Image

    gif = tmp_path / "still.gif"
    Image.new("RGB", (40, 30), (200, 40, 40)).save(gif)
    picture = load_image(gif)
    assert picture.shape == (30, 40, 3) and picture.dtype == np.uint8
    assert abs(int(picture[0, 0, 0]) - 200) < 8


# --- the title card -------------------------------------------------------------------


def test_title_card_is_used_without_a_keyframe_and_shows_the_prompt():
    out = generate(request(frames=2, prompt="a lighthouse at dusk"))
    other = generate(request(frames=2, prompt="a fishing boat in the harbour"))
    card = title_card("a lighthouse at dusk", W, H, seed=0, caption="previz: static camera")
    assert np.array_equal(out[0], card)
    assert not np.array_equal(out[0], other[0])
    # The prompt is drawn in near-white ink over a darker panel in the middle of the card.
    middle = out[0, H // 3 : 2 * H // 3, W // 8 : 7 * W // 8]
    assert (middle.min(axis=-1) > 235).sum() > 500


def test_title_card_background_is_textured_everywhere_and_seeded():
    card = title_card("", W, H, seed=3)
    g = cv2.cvtColor(card, cv2.COLOR_RGB2GRAY)
    tiles = [g[y : y + 32, x : x + 56] for y in range(0, H, 32) for x in range(0, W, 56)]
    assert min(float(t.std()) for t in tiles) > 2.0  # grain and lines in every tile
    assert card.std() > 20
    assert len(np.unique(card.reshape(-1, 3), axis=0)) > 1000
    assert np.array_equal(card, title_card("", W, H, seed=3))
    assert not np.array_equal(card, title_card("", W, H, seed=4))


@pytest.mark.parametrize(
    "prompt",
    [
        "",
        "   ",
        "Ünïcode “quotes” — and emoji 🎬 in a prompt",
        "averyveryverylongwordwithoutanyspacesthatcannotfitonasinglelineofthecard " * 3,
        "A slow dolly in on a lighthouse at dusk while waves crash below. " * 12,
    ],
)
def test_title_card_draws_any_prompt(prompt):
    card = title_card(prompt, 320, 180, seed=1)
    assert card.shape == (180, 320, 3) and card.dtype == np.uint8
    assert card.std() > 20


# --- motion: the previz obeys the rig --------------------------------------------------


def test_pan_right_moves_the_title_card_left_by_f_tan_theta():
    rig = preset("pan_right")
    frames = 25
    f = focal_pixels(rig)
    pan = camera.sample(rig, frames)["pan"]
    k = first_frame_past(pan, lambda deg: f * math.tan(math.radians(deg)), 40.0)
    out = generate(request(rig, frames=frames))
    dx, dy = shift(out[0], out[k])
    expected = -f * math.tan(math.radians(pan[k]))
    assert expected < 0 and dx < 0  # pan right: the content slides left
    assert dx == pytest.approx(expected, rel=0.1)
    assert dx == pytest.approx(centre_motion(rig, frames, k)[0], rel=0.1)
    assert abs(dy) < 2.0


def test_tilt_up_moves_the_title_card_down_by_f_tan_theta():
    rig = preset("tilt_up")
    frames = 25
    f = focal_pixels(rig)
    tilt = camera.sample(rig, frames)["tilt"]
    k = first_frame_past(tilt, lambda deg: f * math.tan(math.radians(deg)), 35.0)
    out = generate(request(rig, frames=frames))
    dx, dy = shift(out[0], out[k])
    expected = f * math.tan(math.radians(tilt[k]))
    assert dy > 0  # tilt up: the content slides down
    assert dy == pytest.approx(expected, rel=0.1)
    assert dy == pytest.approx(centre_motion(rig, frames, k)[1], rel=0.1)
    assert abs(dx) < 2.0


@pytest.mark.parametrize("degrees", [12.0, -12.0])
def test_roll_turns_the_title_card_by_the_rig_angle(degrees):
    rig = with_move(CameraRig(), "roll", 0.0, degrees)
    out = generate(request(rig, frames=9))
    scale, angle = similarity(out[0], out[-1])
    # + roll turns the camera clockwise, so the picture turns counterclockwise on screen:
    # a negative angle in image coordinates (y down).
    h = camera.homographies(rig, 9, W, H)[-1]
    predicted = math.degrees(math.atan2(h[1, 0], h[0, 0]))
    assert predicted == pytest.approx(-degrees)
    assert np.sign(angle) == -np.sign(degrees)
    assert angle == pytest.approx(predicted, rel=0.1)
    assert scale == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("name", ["zoom_in", "zoom_out"])
def test_zoom_scales_the_title_card_by_the_zoom_factor(name):
    rig = preset(name)
    frames = 13
    out = generate(request(rig, frames=frames))
    zoom = camera.sample(rig, frames)["zoom"]
    for k in (frames // 2, frames - 1):
        scale, angle = similarity(out[0], out[k])
        assert scale == pytest.approx(zoom[k], rel=0.1)
        assert abs(angle) < 1.0
    assert (zoom[-1] > 1.5) == (name == "zoom_in")


@pytest.mark.parametrize(("name", "bigger"), [("dolly_in", True), ("dolly_out", False)])
def test_dolly_changes_the_size_of_the_subject_plane(name, bigger):
    rig = preset(name)
    out = generate(request(rig, frames=13))
    scale, _ = similarity(out[0], out[-1])
    d, dolly = rig.subject_distance, camera.sample(rig, 13)["dolly"][-1]
    assert (scale > 1.05) if bigger else (scale < 0.95)
    assert scale == pytest.approx(d / (d - dolly), rel=0.1)


def test_whip_pan_holds_then_sweeps_left_then_holds_on_the_wall():
    rig = preset("whip_pan")
    frames = 121
    out = generate(request(rig, frames=frames))
    pan = camera.sample(rig, frames)["pan"]
    moving = np.flatnonzero(np.diff(pan) > 0)
    first, last = int(moving[0]), int(moving[-1]) + 1
    assert all(np.array_equal(out[0], out[k]) for k in range(first + 1))
    assert all(np.array_equal(out[-1], out[k]) for k in range(last, frames))
    f = focal_pixels(rig)
    checked = 0
    for k in range(first, last):
        step = f * math.tan(math.radians(pan[k + 1] - pan[k]))
        if 3.0 < step < 60.0:
            dx, _ = shift(out[k], out[k + 1])
            assert dx == pytest.approx(-step, rel=0.15), f"frame {k}"
            checked += 1
    assert checked >= 8
    # 90 degrees on, the view is far off the picture: the wall, calm but not blank, with
    # the grid's columns across it.
    g = gray(out[-1])
    assert detail(out[-1]) < 0.25 * detail(out[0])
    columns = g.mean(axis=0)
    assert columns.max() - np.median(columns) > 5.0


# --- no black borders ----------------------------------------------------------------

EXTREME_RIGS = {
    "whip_pan_180": preset("whip_pan", 2.0),
    "zoom_out_x4": preset("zoom_out", 3.0),
    "dolly_out_far": preset("dolly_out", 3.0),
    "orbit_180": preset("orbit_right", 6.0),
    "tilt_up_85": with_move(CameraRig(), "tilt", 0.0, 85.0),
    "roll_180": with_move(CameraRig(), "roll", 0.0, 180.0),
    "pan_360": with_move(CameraRig(), "pan", 0.0, 360.0),
    "dolly_through_the_picture": with_move(CameraRig(), "dolly", 0.0, 6.0),
    "violent_shake": CameraRig(shake=Shake(amplitude=20.0, frequency=5.0, seed=1)),
    "wide_lens_pan": with_move(CameraRig(fov_degrees=150.0), "pan", 0.0, 120.0),
}


def black_edges(frame: np.ndarray) -> list[str]:
    dark = frame.max(axis=-1) < 10
    edges = {"top": dark[0], "bottom": dark[-1], "left": dark[:, 0], "right": dark[:, -1]}
    return [name for name, edge in edges.items() if edge.all()]


@pytest.mark.parametrize("name", sorted(camera.PRESETS))
def test_no_frame_of_any_preset_has_a_black_edge(name):
    out = generate(request(preset(name), width=224, height=128, frames=31))
    for i, frame in enumerate(out):
        assert black_edges(frame) == [], f"{name}: frame {i}"


@pytest.mark.parametrize("name", sorted(camera.PRESETS) + sorted(EXTREME_RIGS))
def test_no_frame_has_a_hole(name):
    # Every pixel of the source is at least 60; the wall and the picture's glow on it are
    # a dim grey (about 60 for this picture) and a darkened blur of the border, no darker
    # than 40. A pixel that nothing painted would be black.
    rig = EXTREME_RIGS.get(name) or preset(name)
    out = generate(
        request(rig, width=160, height=96, frames=25),
        RenderInputs(continuity=textured(160, 96, seed=8, low=60)),
    )
    assert out.min() >= 35


# --- beyond the picture: the wall, never a copy of the picture ---------------------------

MARKER = (40, 250, 60)  # a bright green that nothing else in these pictures has


def marker_mask() -> np.ndarray:
    """48 x 48: a shape unlike each of its turns and mirror images, a slanted triangle with
    a disc beside it."""
    mask = np.zeros((48, 48), np.uint8)
    cv2.fillPoly(mask, [np.array([[6, 12], [40, 4], [18, 42]], np.int32)], 255)
    cv2.circle(mask, (37, 35), 8, 255, -1)
    return mask


def picture_with_marker(x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
    """A dim textured W x H picture with the marker at (x, y), and the marker with its
    surroundings (grey levels) as a template to look for."""
    picture = (textured(W, H, seed=3).astype(np.float32) * 0.45 + 30).astype(np.uint8)
    mask = marker_mask()
    size = mask.shape[0]
    picture[y : y + size, x : x + size][mask > 0] = MARKER
    return picture, gray(picture)[y : y + size, x : x + size].copy()


def turns_and_mirrors(template: np.ndarray) -> list[np.ndarray]:
    turns = [np.ascontiguousarray(np.rot90(template, k)) for k in range(4)]
    return turns + [np.ascontiguousarray(np.fliplr(turn)) for turn in turns]


def best_copy(frame: np.ndarray, beyond: np.ndarray, template: np.ndarray) -> float:
    """How closely a window of `frame` lying wholly where `beyond` is true repeats any turn
    or mirror image of `template`, at its best: 1 - |window - template|^2 / |template|^2,
    both less their means. An exact copy scores 1, one at half the contrast 0.75, and a
    window unlike the template, or of a far lower contrast, about 0 or less."""
    g = gray(frame).astype(np.float64)
    best = -math.inf
    for variant in turns_and_mirrors(template):
        t = variant.astype(np.float64) - variant.mean()
        energy = float((t * t).sum())
        th, tw = t.shape
        # A zero-mean template correlates with a window as with the window less its mean.
        cross = cv2.matchTemplate(g.astype(np.float32), t.astype(np.float32), cv2.TM_CCORR)
        rows, cols = cross.shape
        sums = cv2.boxFilter(g, -1, (tw, th), anchor=(0, 0), normalize=False)[:rows, :cols]
        squares = cv2.boxFilter(g * g, -1, (tw, th), anchor=(0, 0), normalize=False)
        spread = squares[:rows, :cols] - sums**2 / (th * tw)
        score = 1.0 - (spread - 2.0 * cross + energy) / energy
        kernel = np.ones((th, tw), np.uint8)
        whole = cv2.erode(beyond.astype(np.uint8), kernel, anchor=(0, 0))[:rows, :cols] > 0
        if whole.any():
            best = max(best, float(score[whole].max()))
    return best


def beyond_picture(rig: CameraRig, frames: int, k: int) -> np.ndarray:
    """Where frame k shows no pixel of the picture (those within 3 pixels of it, which the
    warp blends with its neighbours, count as the picture's)."""
    h = camera.homographies(rig, frames, W, H)[k]
    corners = np.array([[0, 0, 1], [W, 0, 1], [0, H, 1], [W, H, 1]], np.float64)
    # The warp maps a ray that meets the picture plane behind the camera onto the picture
    # too: these frames have none.
    assert (corners @ np.linalg.inv(h).T)[:, 2].min() > 0
    ones = np.full((H, W), 255, np.uint8)
    picture = cv2.warpPerspective(ones, h, (W, H), flags=cv2.INTER_NEAREST)
    return cv2.dilate(picture, np.ones((7, 7), np.uint8)) == 0


def face_degrees(rig: CameraRig) -> float:
    """The horizontal field of view of frame 0: the angle between the picture's middle and
    the middle of the wall beside it."""
    return math.degrees(2.0 * math.atan(0.5 / camera.poses(rig, 1)[0].focal))


def turned(**moves: float) -> CameraRig:
    rig = CameraRig()
    for axis, degrees in moves.items():
        rig = with_move(rig, axis, 0.0, degrees)
    return rig


TURNS = {
    "pan_left_30": turned(pan=-30.0),
    "pan_right_60": turned(pan=60.0),
    "tilt_up_45": turned(tilt=45.0),
    "tilt_down_20": turned(tilt=-20.0),
    "roll_120": turned(roll=120.0),
    "pan_tilt_roll": turned(pan=35.0, tilt=25.0, roll=40.0),
    "zoom_out_x3": preset("zoom_out", 3.0),
}


@pytest.mark.parametrize("name", sorted(TURNS))
def test_the_title_card_text_never_shows_beyond_the_picture(name):
    # A long prompt fills the card's text box and the caption runs along its bottom edge:
    # near-white ink, which nothing beyond the picture may repeat, in any frame of the move.
    rig = TURNS[name]
    prompt = "A white stone lighthouse lashed by rain and spray while the gulls circle. " * 3
    out = generate(request(rig, frames=9, prompt=prompt))
    shown = 0
    for k in range(1, 9):
        beyond = beyond_picture(rig, 9, k)
        ink = out[k].min(axis=-1) > 200
        assert ink[beyond].sum() == 0, f"frame {k}"
        shown += int(beyond.sum())
    assert shown > 0.1 * 8 * W * H, "the move must show the wall"


@pytest.mark.parametrize("name", sorted(TURNS))
def test_the_wall_beside_the_picture_is_calm(name):
    # The glow of the picture's border and the wall carry a small part of its detail.
    rig = TURNS[name]
    picture = textured(W, H, seed=5)
    out = generate(request(rig, frames=9), RenderInputs(continuity=picture))
    for k in (4, 8):
        beyond = beyond_picture(rig, 9, k)
        if beyond.mean() > 0.1:
            assert detail(out[k], beyond) < 0.2 * detail(picture), f"frame {k}"


MARKED = {
    # rig, the marker's corner in the picture, whether the picture may be in view
    "roll_90": (turned(roll=90.0), (W // 2 - 24, 4), True),
    "pan_onto_the_left_wall": (None, (4, H // 2 - 24), True),
    "tilt_up_one_picture": (turned(tilt=30.0), (W // 2 - 24, 4), True),
    "orbit_behind_the_picture": (preset("orbit_right", 6.0), (W // 2 - 24, 4), False),
    "dolly_through_the_picture": (
        EXTREME_RIGS["dolly_through_the_picture"],
        (W // 2 - 24, H // 2 - 24),
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(MARKED))
def test_a_marker_near_the_edge_has_no_copy_beyond_the_picture(name):
    rig, (x, y), in_view = MARKED[name]
    if rig is None:  # the wall left of the picture, square on: where a mirror image stood
        rig = turned(pan=-face_degrees(CameraRig()))
    picture, template = picture_with_marker(x, y)
    everywhere = np.ones((H, W), bool)
    assert best_copy(picture, everywhere, template) > 0.99  # it finds the marker itself
    out = generate(request(rig, frames=9), RenderInputs(continuity=picture))
    # Moves that end behind the picture or facing away from it are checked at their end.
    for k in range(1, 9) if in_view else [8]:
        beyond = beyond_picture(rig, 9, k) if in_view else everywhere
        if beyond.mean() < 0.1:
            continue
        assert best_copy(out[k], beyond, template) < 0.3, f"frame {k}"
        near_marker = np.abs(out[k].astype(int) - MARKER).max(axis=-1) < 60
        assert near_marker[beyond].sum() == 0, f"frame {k}"
    assert beyond.mean() > 0.25


def test_a_camera_looking_away_from_the_picture_sees_the_plain_far_wall():
    rig = EXTREME_RIGS["dolly_through_the_picture"]
    out = generate(request(rig, frames=9), RenderInputs(continuity=textured(W, H, seed=5)))
    # Through the picture and beyond it, every ray meets its plane behind the camera.
    assert (out[-1] == out[-1][0, 0]).all()
    assert out[-1].max() < 100  # the dim wall's colour, not the picture's


def test_the_wall_beside_the_picture_glows_in_the_colours_of_its_border():
    picture = np.empty((H, W, 3), np.uint8)
    picture[:, : W // 2] = (200, 40, 30)  # red on the left
    picture[:, W // 2 :] = (30, 50, 210)  # blue on the right
    rig = preset("zoom_out", 3.0)
    frame = generate(request(rig, frames=5), RenderInputs(continuity=picture))[-1]
    h = camera.homographies(rig, 5, W, H)[-1]
    (left, top), (right, bottom) = [
        (p[0] / p[2], p[1] / p[2]) for p in (h @ [0.0, 0.0, 1.0], h @ [W, H, 1.0])
    ]
    row = round((top + bottom) / 2)
    beside_left = frame[row, round(left) - 6].astype(int)
    beside_right = frame[row, round(right) + 6].astype(int)
    assert beside_left[0] > beside_left[2] + 40
    assert beside_right[2] > beside_right[0] + 40
    # Darker than the picture: a glow, not more of it.
    assert beside_left.max() < 200 and beside_right.max() < 210
    # Far out, the same neutral wall on both sides.
    far_left, far_right = frame[row, 2].astype(int), frame[row, W - 3].astype(int)
    assert np.abs(far_left - far_right).max() < 12
    assert np.ptp(far_left) < 20


def test_a_picture_changed_in_place_is_never_shown_as_it_was():
    # The wall around a picture is kept for the next renderer of the same picture, found
    # by the picture's content.
    picture = textured(W, H, seed=5)
    rig = preset("zoom_out", 3.0)
    before = PrevizRenderer(picture, rig, 5).render(4)
    picture[:] = 255 - picture
    after = PrevizRenderer(picture, rig, 5).render(4)
    assert not np.array_equal(before, after)
    assert np.array_equal(after, render_previz(picture.copy(), rig, 5)[4])
    picture[:] = 255 - picture
    assert np.array_equal(PrevizRenderer(picture, rig, 5).render(4), before)
