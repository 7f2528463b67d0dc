"""Take thumbnails: decoded off the window's thread, exact frames, one reader per take."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

import ui.thumbnails as thumbnails_module
from engine.media import write_video
from ui.images import from_qimage
from ui.thumbnails import ThumbnailCache


def numbered_take(path, frames=30):
    """Frame i is a flat grey of level 8 * i: a thumbnail tells which frame it shows."""
    write_video(path, [np.full((64, 96, 3), 8 * i, np.uint8) for i in range(frames)], Fraction(24))
    return path


def test_a_strip_of_frames_decodes_through_one_open_reader(qtbot, tmp_path, monkeypatch):
    take = numbered_take(tmp_path / "take.mp4")
    opened = []
    real = thumbnails_module.VideoReader

    def counting(path):
        opened.append(str(path))
        return real(path)

    monkeypatch.setattr(thumbnails_module, "VideoReader", counting)
    cache = ThumbnailCache()
    frames = [0, 6, 12, 18, 24, 40]  # 40 is past the end: the last frame holds
    assert all(cache.get(take, f, 48) is None for f in frames)  # decoding, not there yet
    cache.wait()
    qtbot.waitUntil(lambda: all(cache.get(take, f, 48) is not None for f in frames))
    levels = [int(from_qimage(cache.get(take, f, 48)).mean()) for f in frames]
    expected = [8 * min(f, 29) for f in frames]
    assert all(abs(a - b) <= 3 for a, b in zip(levels, expected, strict=True)), levels
    assert cache.get(take, 0, 48).width() == 48
    assert opened == [str(take)]


def test_an_unreadable_take_gives_no_picture_and_is_not_kept_open(qtbot, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    cache = ThumbnailCache()
    assert cache.get(broken, 0, 48) is None
    cache.wait()
    qtbot.wait(50)
    assert cache.get(broken, 0, 48) is None


def test_a_strip_asked_at_once_is_announced_once_it_has_landed(qtbot, tmp_path):
    take = numbered_take(tmp_path / "take.mp4")
    cache = ThumbnailCache()
    announced: list[tuple[str, bool]] = []
    frames = [0, 4, 8, 12, 16, 20, 24, 28]
    cache.ready.connect(
        lambda path: announced.append(
            (path, all(cache.get(take, f, 48) is not None for f in frames))
        )
    )
    assert all(cache.get(take, f, 48) is None for f in frames)
    cache.wait()
    qtbot.waitUntil(lambda: bool(announced) and announced[-1][1], timeout=10_000)
    qtbot.wait(thumbnails_module.HOLD_MS + 50)
    # One repaint for the strip, not one per frame (a slow machine may need one more
    # while it still decodes: pictures never wait longer than HOLD_MS).
    assert 1 <= len(announced) < len(frames) / 2, announced
    assert {path for path, _ in announced} == {str(take)}


def test_pictures_that_landed_do_not_wait_for_a_slow_one(qtbot, tmp_path, monkeypatch):
    take = numbered_take(tmp_path / "take.mp4")
    real = thumbnails_module.VideoReader

    class SlowOnLastFrame(real):
        def read(self, index):
            if index == 29:
                time.sleep(1.5)
            return super().read(index)

    monkeypatch.setattr(thumbnails_module, "VideoReader", SlowOnLastFrame)
    cache = ThumbnailCache()
    with qtbot.waitSignal(cache.ready, timeout=10_000) as first:
        for frame in (0, 2, 29):
            cache.get(take, frame, 48)
    assert first.args == [str(take)]
    assert cache.get(take, 2, 48) is not None
    assert cache.get(take, 29, 48) is None  # still decoding: announced without it
    with qtbot.waitSignal(cache.ready, timeout=10_000):
        pass
    assert cache.get(take, 29, 48) is not None
