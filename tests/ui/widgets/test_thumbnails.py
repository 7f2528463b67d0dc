"""Take thumbnails: decoded off the window's thread, exact frames, one reader per take."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np

import ui.widgets.thumbnails as thumbnails_module
from engine.media.video import write_video
from ui.widgets.images import from_qimage
from ui.widgets.thumbnails import ThumbnailCache


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
    qtbot.waitUntil(cache.idle)  # the failed decode has landed
    assert cache.get(broken, 0, 48) is None
    assert cache.idle()  # kept as "no picture", not decoded again
    assert not [key for key in thumbnails_module._readers if key[0] == str(broken)]


def test_a_strip_asked_at_once_is_announced_once_it_has_landed(qtbot, tmp_path, monkeypatch):
    take = numbered_take(tmp_path / "take.mp4")
    # No picture is held past HOLD_MS, which a slow machine may take to decode the strip:
    # with an hour instead, the strip is announced once, whatever the machine's speed.
    monkeypatch.setattr(thumbnails_module, "HOLD_MS", 3_600_000)
    cache = ThumbnailCache()
    announced: list[tuple[str, bool]] = []
    frames = [0, 4, 8, 12, 16, 20, 24, 28]
    cache.ready.connect(
        lambda path: announced.append(
            (path, all(cache.get(take, f, 48) is not None for f in frames))
        )
    )
    assert all(cache.get(take, f, 48) is None for f in frames)
    qtbot.waitUntil(cache.idle, timeout=10_000)  # all landed, nothing held back
    # One repaint for the strip, once all of it is there; not one per frame.
    assert announced == [(str(take), True)]


def test_pictures_that_landed_do_not_wait_for_a_slow_one(qtbot, tmp_path, monkeypatch):
    take = numbered_take(tmp_path / "take.mp4")
    real = thumbnails_module.VideoReader
    last_frame = threading.Event()  # the decode of the last frame waits for it

    class SlowOnLastFrame(real):
        def read(self, index):
            if index == 29:
                assert last_frame.wait(60)
            return super().read(index)

    monkeypatch.setattr(thumbnails_module, "VideoReader", SlowOnLastFrame)
    cache = ThumbnailCache()
    try:
        with qtbot.waitSignal(cache.ready, timeout=10_000) as first:
            for frame in (0, 2, 29):
                cache.get(take, frame, 48)
        assert first.args == [str(take)]
        assert cache.get(take, 2, 48) is not None
        assert cache.get(take, 29, 48) is None  # still decoding: announced without it
        with qtbot.waitSignal(cache.ready, timeout=10_000):
            last_frame.set()
        assert cache.get(take, 29, 48) is not None
    finally:
        last_frame.set()
        cache.wait()


def test_drawn_pictures_start_after_the_repaint(qtbot):
    """Title cards asked for while the window repaints are drawn from `DRAW_DELAY_MS` on,
    not beside the repaint; each is announced once and then found in the cache."""
    cache = ThumbnailCache()
    drawn: list[str] = []

    def card(name: str):
        def make():
            drawn.append(name)
            return np.full((9, 16, 3), 40, np.uint8)

        return make

    landed: list[str] = []
    cache.ready.connect(landed.append)
    for name in ("card:a", "card:b", "card:c"):
        assert cache.drawn(name, card(name)) is None
    assert drawn == [] and not cache.idle()  # nothing started beside the repaint
    qtbot.waitUntil(lambda: len(landed) == 3)
    assert sorted(drawn) == ["card:a", "card:b", "card:c"]
    assert all(cache.drawn(name, card(name)) is not None for name in landed)
    assert cache.idle()


def test_waiting_starts_the_drawings_still_held_back(qtbot):
    cache = ThumbnailCache()
    cache.drawn("card:x", lambda: np.zeros((9, 16, 3), np.uint8))
    assert cache.wait(10_000)
    qtbot.waitUntil(lambda: cache.drawn("card:x", lambda: None) is not None)
