"""Take thumbnails: decoded off the window's thread, exact frames, one reader per take."""

from __future__ import annotations

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
