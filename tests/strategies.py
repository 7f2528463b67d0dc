"""Hypothesis strategies that build valid projects for round-trip tests."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from studio.camera.adherence import Adherence, CameraMove
from studio.camera.easing import Easing
from studio.camera.rig import AXES, CameraRig, Keyframe, Shake
from studio.jobs import CameraMode, GenerationRequest, Profile
from studio.project.model import AudioMedia, Character, Dialogue, Project, Shot, Style, Take
from studio.timeline.timeline import (
    AudioClip,
    AudioTrack,
    Clip,
    Gap,
    Timeline,
    Transition,
    TransitionKind,
)

text = st.text(max_size=40)
ident = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
rel_path = st.from_regex(r"media/[a-z0-9_]{1,10}\.(png|wav|jpg)", fullmatch=True)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
fps = st.sampled_from([Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(24000, 1001)])


@st.composite
def keyframes(draw, axis: str):
    n = draw(st.integers(0, 4))
    times = sorted(draw(st.sets(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n)))
    if axis == "zoom":
        values = st.floats(0.01, 100.0)
    elif axis in ("pan", "tilt", "roll", "orbit"):
        values = st.floats(-720.0, 720.0)
    else:
        values = st.floats(-100.0, 100.0)
    return tuple(
        Keyframe(t=t, value=draw(values), easing=draw(st.sampled_from(list(Easing)))) for t in times
    )


@st.composite
def rigs(draw):
    axes = {axis: draw(keyframes(axis)) for axis in AXES}
    shake = Shake(
        amplitude=draw(st.floats(0, 10)),
        frequency=draw(st.floats(0, 20)),
        seed=draw(st.integers(0, 2**31)),
    )
    return CameraRig(
        **axes,
        shake=shake,
        subject_distance=draw(st.floats(0.1, 100)),
        fov_degrees=draw(st.floats(10, 120)),
    )


@st.composite
def takes(draw):
    request = GenerationRequest(
        prompt=draw(text),
        negative_prompt=draw(text),
        model_id=draw(ident),
        width=draw(st.integers(16, 2048)),
        height=draw(st.integers(16, 2048)),
        frames=draw(st.integers(1, 400)),
        fps=draw(fps),
        seed=draw(st.integers(0, 2**40)),
        backend=draw(st.sampled_from(["previz", "diffusers"])),
        profile=draw(st.sampled_from(list(Profile))),
        camera=draw(rigs()),
        camera_mode=draw(st.sampled_from(list(CameraMode))),
        steps=draw(st.none() | st.integers(1, 100)),
        guidance=draw(st.none() | st.floats(0, 20)),
        colour_match=draw(st.booleans()),
    )
    return Take(
        id=request.hash,
        request=request,
        media=f"takes/{request.hash}.mp4",
        created="2026-11-21T12:00:00+00:00",
        adherence=draw(st.none() | adherences()),
        colour_jump=draw(st.none() | st.floats(0, 200)),
    )


def _steps(low: float, high: float, digits: int):
    """Numbers from low to high with `digits` decimals, as an adherence stores them."""
    scale = 10**digits
    return st.integers(round(low * scale), round(high * scale)).map(lambda n: n / scale)


@st.composite
def camera_moves(draw):
    angle = _steps(-360, 360, 4)
    return CameraMove(draw(angle), draw(angle), draw(angle), draw(_steps(0.001, 1000, 6)))


@st.composite
def adherences(draw):
    move = draw(camera_moves())
    return Adherence(
        move.pan_deg,
        move.tilt_deg,
        move.roll_deg,
        move.zoom,
        score=draw(_steps(0, 100, 2)),
        expected=draw(camera_moves()),
        path_error=draw(_steps(0, 1, 6)),
        end_error=draw(_steps(0, 1, 6)),
        coverage=draw(_steps(0, 1, 4)),
        frames=draw(st.integers(0, 400)),
    )


nonblank = text.filter(str.strip)
dialogue = st.builds(Dialogue, speaker=nonblank, line=nonblank, parenthetical=text, extension=text)


@st.composite
def shots(draw, shot_id: str, char_ids: list[str], style_ids: list[str]):
    shot_takes = draw(st.lists(takes(), max_size=2, unique_by=lambda t: t.id))
    selected = draw(st.sampled_from([None, *[t.id for t in shot_takes]]))
    return Shot(
        id=shot_id,
        title=draw(text),
        prompt=draw(text),
        negative_prompt=draw(text),
        seed=draw(st.integers(0, 2**63 - 1)),
        seed_locked=draw(st.booleans()),
        duration=draw(st.floats(0.04, 3600)),
        fps=draw(fps),
        width=draw(st.integers(16, 4096)),
        height=draw(st.integers(16, 4096)),
        model_id=draw(ident),
        camera=draw(rigs()),
        camera_mode=draw(st.sampled_from(list(CameraMode))),
        profile=draw(st.sampled_from(list(Profile))),
        keyframe=draw(st.none() | rel_path),
        references=draw(st.lists(rel_path, max_size=2)),
        characters=draw(st.lists(st.sampled_from(char_ids), max_size=2)) if char_ids else [],
        style=draw(st.sampled_from([None, *style_ids])),
        continue_from_previous=draw(st.booleans()),
        match_colour=draw(st.booleans()),
        takes=shot_takes,
        selected_take=selected,
        notes=draw(text),
        dialogue=tuple(draw(st.lists(dialogue, max_size=2))),
    )


@st.composite
def timelines(draw, shot_ids: list[str]):
    items = []
    for i, shot_id in enumerate(
        draw(st.lists(st.sampled_from(shot_ids), max_size=5)) if shot_ids else []
    ):
        if draw(st.booleans()) and items and isinstance(items[-1], Clip):
            items.append(Gap(id=f"gap{i}", frames=draw(st.integers(1, 50))))
        start = draw(st.integers(0, 100))
        length = draw(st.integers(10, 200))
        transition = Transition()
        if items and isinstance(items[-1], Clip):
            kind = draw(st.sampled_from(list(TransitionKind)))
            if kind != TransitionKind.CUT:
                transition = Transition(kind=kind, frames=draw(st.integers(1, 4)))
        items.append(
            Clip(
                id=f"clip{i}",
                shot_id=shot_id,
                take_id=None,
                source_in=start,
                source_out=start + length,
                transition=transition,
            )
        )
    tracks = []
    for t in range(draw(st.integers(0, 2))):
        clips, position = [], 0
        for c in range(draw(st.integers(0, 3))):
            position += draw(st.integers(0, 30))
            length = draw(st.integers(2, 100))
            fade = draw(st.integers(0, length // 2))
            clips.append(
                AudioClip(
                    id=f"a{t}x{c}",
                    media=draw(rel_path),
                    start=position,
                    source_in=0,
                    source_out=length,
                    gain_db=draw(st.floats(-60, 12)),
                    fade_in=fade,
                    fade_out=fade,
                )
            )
            position += length
        tracks.append(AudioTrack(id=f"track{t}", name=draw(text), clips=tuple(clips)))
    return Timeline(fps=draw(fps), items=tuple(items), audio_tracks=tuple(tracks))


@st.composite
def projects(draw):
    char_ids = draw(st.lists(ident, max_size=3, unique=True))
    style_ids = draw(st.lists(ident, max_size=2, unique=True))
    shot_ids = draw(st.lists(ident, max_size=4, unique=True))
    return Project(
        title=draw(text),
        fps=draw(fps),
        width=draw(st.integers(16, 4096)),
        height=draw(st.integers(16, 4096)),
        default_model=draw(ident),
        styles=[
            Style(id=s, name=draw(text.filter(str.strip)), description=draw(text))
            for s in style_ids
        ],
        characters=[
            Character(
                id=c,
                name=draw(text.filter(str.strip)),
                description=draw(text),
                references=draw(st.lists(rel_path, max_size=2)),
            )
            for c in char_ids
        ],
        shots=[draw(shots(s, char_ids, style_ids)) for s in shot_ids],
        timeline=draw(timelines(shot_ids)),
        audio=[
            AudioMedia(id=f"m{i}", name=draw(text), path=draw(rel_path))
            for i in range(draw(st.integers(0, 2)))
        ],
        notes=draw(text),
    )
