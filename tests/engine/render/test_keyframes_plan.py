"""A shot's pictures from the project to the backend: keyframes inside the shot at their
frames for a model that takes them (and for the previz), each long shot's segment with its
own, to farm actors as files, and a shot that ends on the next one's picture kept current."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

from engine.backends.base import RenderInputs
from engine.backends.previz import PrevizBackend
from engine.render.extend import render_extended
from engine.render.farm import pack_inputs, unpack_inputs
from engine.render.inputs import ProjectFiles
from engine.render.planning import StatusCache, file_hash, plan_render, plan_shot
from studio.camera.rig import preset
from studio.jobs import GenerationRequest
from studio.project.io import save_project
from studio.project.keyframes import ShotKeyframe
from studio.project.model import Character, Project, Take


def film(tmp_path, **fields) -> tuple[Project, object]:
    project = Project(fps=Fraction(16), width=64, height=64)
    project.shots = [
        project.new_shot(id="a", prompt="sea", duration=1.0, keyframe="media/first.png", **fields),
        project.new_shot(id="b", prompt="cliff", duration=1.0, keyframe="media/next.png"),
    ]
    project.characters = [Character("mara", "Mara", references=["media/mara.png"])]
    folder = tmp_path / "P.gallop"
    save_project(project, folder)
    for value, name in enumerate(("first", "middle", "last", "next", "mara")):
        image = np.full((8, 8, 3), 40 * value, np.uint8)
        cv2.imwrite(str(folder / "media" / f"{name}.png"), image)
    return project, folder


MIDDLE = (ShotKeyframe(0.5, "media/middle.png"),)


def test_a_model_that_takes_pictures_anywhere_gets_them_at_their_frames(tmp_path):
    project, folder = film(tmp_path, keyframes=MIDDLE, end_keyframe="media/last.png")
    plan = plan_render(project, folder, project.shots[0], model_id="tiny-wan-vace")
    middle = (folder / "media" / "middle.png").resolve()
    assert plan.request.frames == 17 and plan.inputs.middle_frames == (8,)
    assert plan.inputs.middle == (middle,)
    assert plan.request.middle_keyframes == ((8, file_hash(middle)),)
    assert plan.inputs.last_frame == (folder / "media" / "last.png").resolve()
    previz = plan_render(project, folder, project.shots[0], backend="previz")
    assert previz.request.frames == 16 and previz.inputs.middle_frames == (8,)
    assert previz.request.end_keyframe_hash is not None  # the previz shows the end too


def test_a_model_that_cannot_is_not_given_them_and_says_why(tmp_path):
    project, folder = film(tmp_path, keyframes=MIDDLE, end_keyframe="media/last.png")
    flf = plan_render(project, folder, project.shots[0], model_id="tiny-wan-flf2v")
    assert flf.inputs.middle == () and flf.request.middle_keyframes == ()
    assert flf.inputs.last_frame is not None
    said = "keyframes inside the shot not used: Tiny Wan FLF2V (test model) takes only a start"
    assert any(note.startswith(said) for note in flf.notes), flf.notes
    plain = plan_render(project, folder, project.shots[0], model_id="tiny-wan")
    assert plain.inputs.middle == () and plain.inputs.last_frame is None
    assert any("cannot end on a given frame" in note for note in plain.notes)


def test_vace_gets_the_shots_characters_pictures_as_references(tmp_path):
    project, folder = film(tmp_path, characters=["mara"])
    mara = (folder / "media" / "mara.png").resolve()
    vace = plan_render(project, folder, project.shots[0], model_id="tiny-wan-vace")
    assert vace.inputs.references == (mara,)
    assert vace.request.reference_hashes == (file_hash(mara),)
    wan = plan_render(project, folder, project.shots[0], model_id="tiny-wan")
    assert wan.inputs.references == () and wan.request.reference_hashes == ()


class Recording(PrevizBackend):
    """The previz in clips of 20 frames, remembering each segment's pictures."""

    def __init__(self) -> None:
        super().__init__(max_frames=20)
        self.seen: list[tuple[tuple[int, ...], tuple, object]] = []

    def generate(self, request, inputs, ctx):
        self.seen.append((inputs.middle_frames, inputs.middle, inputs.last_frame))
        return super().generate(request, inputs, ctx)


class NullCtx:
    def progress(self, step, total, stage, message=""):
        pass

    def preview(self, step, image):
        pass

    def check_cancelled(self):
        pass

    def log(self, message):
        pass


def test_each_segment_of_a_long_shot_gets_its_own_keyframes(tmp_path):
    pictures = []
    for i in range(4):
        pictures.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(pictures[-1]), np.full((8, 8, 3), 60 * i, np.uint8))
    request = GenerationRequest(
        prompt="a lighthouse",
        model_id="previz",
        backend="previz",
        width=96,
        height=64,
        frames=50,
        fps=Fraction(24),
        camera=preset("pan_left"),
    )
    end = tmp_path / "end.png"
    cv2.imwrite(str(end), np.full((8, 8, 3), 250, np.uint8))
    inputs = RenderInputs(middle=tuple(pictures), middle_frames=(5, 18, 25, 40), last_frame=end)
    backend = Recording()
    frames = render_extended(backend, request, inputs, NullCtx())
    assert frames.shape[0] == 50
    # Frames [0, 20), [16, 35) and [31, 50): each keyframe goes to the segment that renders
    # its frame (not the one that continues from it), at that segment's own frame.
    assert backend.seen == [
        ((5, 18), (pictures[0], pictures[1]), None),
        ((9,), (pictures[2],), None),
        ((9,), (pictures[3],), end),
    ]
    assert np.abs(frames[40].astype(int) - 180).mean() < 2  # the keyframe's grey, in place


def test_farm_actors_get_the_keyframes_as_files(tmp_path):
    picture = tmp_path / "m.png"
    picture.write_bytes(b"a picture")
    payload = pack_inputs(RenderInputs(middle=(picture,), middle_frames=(7,)))
    inputs = unpack_inputs(payload, tmp_path / "actor")
    assert inputs.middle_frames == (7,)
    assert inputs.middle[0].read_bytes() == b"a picture" and inputs.middle[0] != picture


def test_a_shot_ending_on_the_next_picture_goes_stale_when_that_picture_changes(tmp_path):
    project, folder = film(tmp_path, end_on_next=True)
    files = ProjectFiles(folder)
    shot = project.shots[0]
    request = plan_shot(project, folder, shot, backend="previz", files=files).request
    take = Take(request.hash, request, "takes/take.mp4", "2026-01-01T00:00:00+00:00")
    (folder / "takes" / "take.mp4").write_bytes(b"a take")
    shot.takes, shot.selected_take = [take], take.id
    cache = StatusCache()
    assert cache.status(project, folder, shot) == "rendered"
    project.shots[1].keyframe = "media/mara.png"
    cache.invalidate(["b"])  # an edit of the next shot alone
    assert cache.status(project, folder, shot) == "stale"
    assert "end keyframe changed" in cache.reasons(project, folder, shot)
