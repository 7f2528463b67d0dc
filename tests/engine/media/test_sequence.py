"""The edit composes exact frames: trims, rate changes, crossfades, dips, gaps, letterboxing.

Takes are real H.264 files whose frame `i` is a flat grey of level 16 + 7 * i, so any
decoded frame says which take frame it is.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from engine.media.sequence import (
    CLIP,
    END,
    FAILED,
    GAP,
    SLATE_GREY,
    TRANSITION,
    MissingTakeError,
    Prefetcher,
    SequenceFrames,
    TakeFrames,
    conform,
)
from engine.media.video import write_video
from studio.jobs import GenerationRequest
from studio.project.model import Project, Take
from studio.timeline.timeline import Clip, Gap, Timeline, Transition, TransitionKind

W, H = 48, 32


def grey(i: int) -> int:
    return 16 + 7 * i


def index_of(frame: np.ndarray) -> int:
    return round((float(frame.mean()) - 16) / 7)


def write_take(folder, name, frames=28, fps=Fraction(24), size=(W, H), level=None):
    """A take file; flat grey per frame (`level` fixes one grey for every frame)."""
    w, h = size
    pictures = [
        np.full((h, w, 3), grey(i) if level is None else level, np.uint8) for i in range(frames)
    ]
    (folder / "takes").mkdir(exist_ok=True)
    write_video(folder / "takes" / f"{name}.mp4", pictures, fps, gop=6)
    return f"takes/{name}.mp4"


def add_shot(project, folder, shot_id, take=True, **take_kw):
    shot = project.new_shot(id=shot_id, title=f"Shot {shot_id}")
    project.shots.append(shot)
    if take:
        media = write_take(folder, shot_id, **take_kw)
        request = GenerationRequest(
            prompt=shot_id, model_id="previz", width=W, height=H, frames=28, backend="previz"
        )
        shot.takes.append(Take(request.hash, request, media, "2024-01-01T00:00:00Z"))
        shot.selected_take = request.hash
    return shot


@pytest.fixture
def project(tmp_path):
    return Project(title="Test", width=W, height=H)


def cross(frames):
    return Transition(TransitionKind.CROSSFADE, frames)


def test_length_and_segments_follow_the_timeline(project, tmp_path):
    for name in "abc":
        add_shot(project, tmp_path, name)
    project.timeline = Timeline(
        Fraction(24),
        (
            Clip("c1", "a", None, 0, 10),
            Clip("c2", "b", None, 0, 10, cross(5)),
            Gap("g", 3),
            Clip("c3", "c", None, 0, 8),
            Clip("c4", "a", None, 0, 8, Transition(TransitionKind.DIP_WHITE, 4)),
        ),
    )
    seq = SequenceFrames(project, tmp_path)
    assert len(seq) == project.timeline.duration == 10 + 10 - 5 + 3 + 8 + 8
    pieces = seq.segments()
    assert [p.kind for p in pieces] == [CLIP, TRANSITION, CLIP, GAP, CLIP, TRANSITION, CLIP]
    assert pieces[0].start == 0 and pieces[-1].stop == len(seq)
    assert all(a.stop == b.start for a, b in zip(pieces, pieces[1:], strict=False))
    assert (pieces[1].start, pieces[1].stop) == (5, 10)
    assert pieces[0].source_range == (0, 5)
    assert pieces[2].source_range == (5, 10)  # c2 after its crossfade
    assert seq.frame(len(seq) - 1).shape == (H, W, 3)
    with pytest.raises(IndexError):
        seq.frame(len(seq))


def test_trims_land_on_exact_source_frames(project, tmp_path):
    add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (Gap("g", 2), Clip("c", "a", None, 5, 17)))
    seq = SequenceFrames(project, tmp_path)
    assert seq.frame(0).max() == 0 and seq.frame(1).max() == 0  # the gap is black
    shown = [index_of(seq.frame(i)) for i in range(2, len(seq))]
    assert shown == list(range(5, 17))
    # Backwards reads (seeks) land on the same frames as sequential ones.
    assert [index_of(seq.frame(i)) for i in range(len(seq) - 1, 1, -3)] == list(range(16, 4, -3))


def test_a_take_at_another_rate_is_mapped_by_time(project, tmp_path):
    add_shot(project, tmp_path, "a", fps=Fraction(12), frames=20)
    project.timeline = Timeline(Fraction(24), (Clip("c", "a", None, 3, 30),))
    seq = SequenceFrames(project, tmp_path)
    for i in range(len(seq)):
        expected = min(19, round(Fraction(3 + i, 2)))
        assert index_of(seq.frame(i)) == expected, i


def test_a_crossfade_blends_half_and_half_at_its_middle(project, tmp_path):
    add_shot(project, tmp_path, "a", level=200)
    add_shot(project, tmp_path, "b", level=40)
    project.timeline = Timeline(
        Fraction(24), (Clip("c1", "a", None, 0, 10), Clip("c2", "b", None, 0, 10, cross(5)))
    )
    seq = SequenceFrames(project, tmp_path)
    levels = [float(seq.frame(i).mean()) for i in range(len(seq))]
    assert abs(levels[4] - 200) < 3 and abs(levels[10] - 40) < 3
    assert abs(levels[7] - 120) < 3  # the fade's middle frame, weight 3/6
    fade = levels[5:10]
    assert all(a > b for a, b in zip(fade, fade[1:], strict=False))
    assert min(fade) > 40 + 3 and max(fade) < 200 - 3  # no frame of the fade repeats a clip


def test_a_dip_reaches_black_at_its_middle(project, tmp_path):
    add_shot(project, tmp_path, "a", level=200)
    add_shot(project, tmp_path, "b", level=120)
    dip = Transition(TransitionKind.DIP_BLACK, 8)
    project.timeline = Timeline(
        Fraction(24), (Clip("c1", "a", None, 0, 12), Clip("c2", "b", None, 0, 12, dip))
    )
    seq = SequenceFrames(project, tmp_path)
    assert len(seq) == 24
    levels = [float(seq.frame(i).mean()) for i in range(len(seq))]
    assert levels[12] < 2  # the incoming clip's first frame: the middle of the dip
    assert all(a > b for a, b in zip(levels[7:13], levels[8:13], strict=False))
    assert all(a < b for a, b in zip(levels[12:17], levels[13:17], strict=False))
    assert abs(levels[7] - 200) < 3 and abs(levels[16] - 120) < 3


def test_a_dip_to_white_goes_through_white(project, tmp_path):
    add_shot(project, tmp_path, "a", level=60)
    add_shot(project, tmp_path, "b", level=60)
    dip = Transition(TransitionKind.DIP_WHITE, 4)
    project.timeline = Timeline(
        Fraction(24), (Clip("c1", "a", None, 0, 8), Clip("c2", "b", None, 0, 8, dip))
    )
    seq = SequenceFrames(project, tmp_path)
    assert seq.frame(8).min() > 250


def test_sources_are_letterboxed_or_pillarboxed_never_stretched(project, tmp_path):
    add_shot(project, tmp_path, "wide", size=(64, 32), level=180)
    add_shot(project, tmp_path, "tall", size=(32, 64), level=180)
    project.timeline = Timeline(
        Fraction(24), (Clip("c1", "wide", None, 0, 4), Clip("c2", "tall", None, 0, 4))
    )
    seq = SequenceFrames(project, tmp_path, width=64, height=64)
    letterbox, pillarbox = seq.frame(0), seq.frame(4)
    assert letterbox.shape == pillarbox.shape == (64, 64, 3)
    assert letterbox[:15].max() == 0 and letterbox[49:].max() == 0
    assert abs(float(letterbox[18:46].mean()) - 180) < 3
    assert pillarbox[:, :15].max() == 0 and pillarbox[:, 49:].max() == 0
    assert abs(float(pillarbox[:, 18:46].mean()) - 180) < 3
    same = np.full((10, 20, 3), 7, np.uint8)
    assert conform(same, 20, 10) is same


def test_a_shot_without_a_take_is_named_or_slated(project, tmp_path):
    add_shot(project, tmp_path, "a")
    add_shot(project, tmp_path, "b", take=False)
    project.timeline = Timeline(
        Fraction(24), (Clip("c1", "a", None, 0, 4), Clip("c2", "b", None, 0, 4))
    )
    seq = SequenceFrames(project, tmp_path)
    assert index_of(seq.frame(3)) == 3
    with pytest.raises(MissingTakeError, match="Shot b") as caught:
        seq.frame(4)
    assert caught.value.shot_id == "b"
    with pytest.raises(MissingTakeError, match="Shot b"):
        seq.check()
    preview = SequenceFrames(project, tmp_path, missing="slate")
    card = preview.frame(5)
    assert np.median(card) == SLATE_GREY and card.max() > 150  # grey with a light title
    assert index_of(preview.frame(0)) == 0


def test_a_deleted_take_file_is_reported_by_name(project, tmp_path):
    shot = add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (Clip("c1", "a", None, 0, 4),))
    (tmp_path / shot.current_take.media).unlink()
    with pytest.raises(MissingTakeError, match="Shot a.*missing"):
        SequenceFrames(project, tmp_path).frame(0)
    assert np.median(SequenceFrames(project, tmp_path, missing="slate").frame(0)) == SLATE_GREY


def test_clips_alternating_through_one_open_file_stay_exact(project, tmp_path):
    add_shot(project, tmp_path, "a")
    add_shot(project, tmp_path, "b", level=30)
    project.timeline = Timeline(
        Fraction(24), (Clip("c1", "a", None, 4, 14), Clip("c2", "b", None, 0, 10, cross(6)))
    )
    with SequenceFrames(project, tmp_path, open_files=1) as narrow:
        wide = SequenceFrames(project, tmp_path)
        for i in range(len(wide)):
            assert np.array_equal(narrow.frame(i), wide.frame(i)), i
        assert len(narrow._readers) == 1
        wide.close()


def drain(prefetch: Prefetcher) -> list[tuple]:
    prefetch.start()
    items = []
    while not items or items[-1][1] not in (END, FAILED):
        item = prefetch.get(timeout=10)
        assert item is not None, items
        items.append(item)
    prefetch.stop()
    return items


def test_prefetch_reads_ahead_backwards_and_in_loops(project, tmp_path):
    add_shot(project, tmp_path, "a", frames=20)
    with TakeFrames(tmp_path / project.shots[0].current_take.media) as take:
        forward = drain(Prefetcher(take, 15))
        assert [(s, i) for s, i, _ in forward] == [(k, 15 + k) for k in range(5)] + [(5, END)]
        assert [index_of(f) for _, _, f in forward[:-1]] == list(range(15, 20))
        # Backwards in forward-decoded chunks, by twos, with exactly the right pictures.
        backward = drain(Prefetcher(take, 19, step=-2))
        assert [i for _, i, _ in backward[:-1]] == list(range(19, -1, -2))
        assert [index_of(f) for _, _, f in backward[:-1]] == list(range(19, -1, -2))
        looped = Prefetcher(take, 6, span=(4, 8), loop=True)
        looped.start()
        seen = [looped.get(timeout=10)[1] for _ in range(7)]
        looped.stop()
        assert seen == [6, 7, 4, 5, 6, 7, 4]
        # A clock already at slot 10 skips the frames whose time has passed, unread.
        late = drain(Prefetcher(take, 0, clock=lambda: 10))
        assert [(s, i) for s, i, _ in late[:2]] == [(10, 10), (11, 11)]
        # A clock past the end still shows the last frame the run reaches, then ends.
        over = drain(Prefetcher(take, 3, clock=lambda: 99))
        assert [(s, i) for s, i, _ in over] == [(16, 19), (17, END)]
        assert index_of(over[0][2]) == 19
        over = drain(Prefetcher(take, 18, step=-4, clock=lambda: 99))
        assert [(s, i) for s, i, _ in over] == [(4, 2), (5, END)]


def _textured_take(folder, name, shift, frames=20):
    """A gradient scene; `shift` adds an RGB cast, as when a model drifts between shots."""
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([x * 4 + 20, y * 5 + 30, (x + y) * 2 + 40], axis=-1).astype(np.int16)
    picture = np.clip(base + np.array(shift, np.int16), 0, 255).astype(np.uint8)
    (folder / "takes").mkdir(exist_ok=True)
    write_video(folder / "takes" / f"{name}.mp4", [picture] * frames, Fraction(24), crf=4)
    return f"takes/{name}.mp4"


def test_a_matched_cut_takes_the_colour_of_the_clip_before_and_eases_back(project, tmp_path):
    from engine.media.continuity import mean_ciede2000
    from engine.media.sequence import JOIN_FADE_FRAMES

    for name, shift in (("a", (0, 0, 0)), ("b", (30, -8, -20))):
        shot = add_shot(project, tmp_path, name, take=False)
        media = _textured_take(tmp_path, name, shift)
        request = GenerationRequest(
            prompt=name, model_id="previz", width=W, height=H, frames=20, backend="previz"
        )
        shot.takes.append(Take(request.hash, request, media, "2024-01-01T00:00:00Z"))
        shot.selected_take = request.hash
    plain = Timeline(
        fps=Fraction(24), items=(Clip("ca", "a", None, 0, 20), Clip("cb", "b", None, 0, 20))
    )
    matched = plain.replace_clip(replace(plain.item("cb"), match_colour=True))
    before = SequenceFrames(project, tmp_path, plain)
    after = SequenceFrames(project, tmp_path, matched)
    cut = 20
    assert mean_ciede2000(before.frame(cut - 1), before.frame(cut)) > 10
    assert mean_ciede2000(after.frame(cut - 1), after.frame(cut)) < 3
    # The correction fades: past the fade the clip is its own colour again.
    late = cut + JOIN_FADE_FRAMES + 1
    assert np.array_equal(after.frame(late), before.frame(late))
    mid = cut + JOIN_FADE_FRAMES // 2
    assert mean_ciede2000(after.frame(mid), before.frame(mid)) > 0
    assert after.matches_colour(matched.item("cb"), 0)
    assert not after.matches_colour(matched.item("ca"), 0)
