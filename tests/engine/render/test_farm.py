"""The shot farm on a local Ray cluster (fake GPUs): same takes as the local engine,
a killed actor's shot finishes elsewhere, chained shots render in order."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the farm needs the 'cluster' extra")

from engine.media.video import read_frames  # noqa: E402
from engine.render.batch import BatchRenderer  # noqa: E402
from engine.render.farm import FarmEngine, farm_engine_factory  # noqa: E402
from studio.camera.rig import preset  # noqa: E402
from studio.jobs import (  # noqa: E402
    Finished,
    GenerationRequest,
    Progress,
    Stage,
    Started,
)
from studio.project.io import load_project, save_project  # noqa: E402
from studio.project.model import Project  # noqa: E402
from studio.project.takes import TakeStore  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def four_shots(folder: Path, chain: bool = False) -> Path:
    project = Project(title="Farm", fps=Fraction(16), width=64, height=64, default_model="tiny-wan")
    for i, move in enumerate(["pan_left", "dolly_in", "tilt_up", "orbit_right"]):
        project.shots.append(
            project.new_shot(
                id=f"s{i}",
                prompt=f"shot {i} of a lighthouse",
                duration=0.5,
                seed=100 + i,
                camera=preset(move),
                continue_from_previous=chain and i == 1,
            )
        )
    save_project(project, folder)
    return folder


def frames_of(folder: Path) -> dict[str, np.ndarray]:
    project = load_project(folder)
    return {s.id: read_frames(folder / s.current_take.media) for s in project.shots}


def test_farm_takes_match_the_local_engine(cluster, tmp_path):
    local = four_shots(tmp_path / "Local.gallop")
    farm = four_shots(tmp_path / "Farm.gallop")
    assert BatchRenderer(local).run().rendered == ["s0", "s1", "s2", "s3"]
    events = []
    renderer = BatchRenderer(
        farm,
        engine_factory=farm_engine_factory("local", cpus_per_actor=1),
        on_event=lambda plan, event: events.append(event),
    )
    result = renderer.run()
    assert sorted(result.rendered) == ["s0", "s1", "s2", "s3"] and result.ok
    assert renderer.engine.actor_count == 2
    a, b = frames_of(local), frames_of(farm)
    for shot_id in a:
        assert np.array_equal(a[shot_id], b[shot_id]), shot_id
    # The nodes measured each take's camera, and the driver's manifests and takes have it.
    local_takes = {s.id: s.current_take for s in load_project(local).shots}
    for shot in load_project(farm).shots:
        assert shot.current_take.adherence is not None, shot.id
        assert shot.current_take.adherence == local_takes[shot.id].adherence
        assert TakeStore(farm / "takes").measures(shot.selected_take)["adherence"]
        assert TakeStore(farm / "takes").camera_path(shot.selected_take).exists()
    assert (
        load_project(farm).shot("s2").selected_take == load_project(local).shot("s2").selected_take
    )
    stages = {e.stage for e in events if isinstance(e, Progress)}
    assert Stage.DENOISING in stages  # progress streamed back from the actors


def test_a_killed_actor_s_shot_completes_on_another(cluster, tmp_path):
    store = TakeStore(tmp_path / "takes")
    events, killed = [], threading.Event()
    done = threading.Condition()

    def on_event(event):
        with done:
            events.append(event)
            done.notify_all()
        if isinstance(event, Progress) and event.stage == Stage.DENOISING and not killed.is_set():
            killed.set()
            ray.kill(farm.actor_for(event.job_id), no_restart=True)

    farm = FarmEngine(store, on_event, cpus_per_actor=1)
    try:
        request = GenerationRequest(
            prompt="the keeper climbs the stairs",
            model_id="tiny-wan",
            width=64,
            height=64,
            frames=9,
            fps=Fraction(16),
            seed=3,
            steps=30,
            camera=preset("dolly_in"),
        )
        job = farm.submit(request)
        with done:
            assert done.wait_for(
                lambda: any(isinstance(e, Finished) and e.job_id == job for e in events), 300
            ), events
        assert killed.is_set()
        assert sum(isinstance(e, Started) for e in events) >= 2  # it ran again elsewhere
        assert farm.actor_count == 2  # the dead actor was replaced
    finally:
        farm.shutdown(120)
    assert store.ids() == {request.hash}
    assert sorted(p.name for p in store.folder.iterdir()) == [
        f"{request.hash}.camera.npz",  # the rig's cameras, beside the manifest
        f"{request.hash}.json",
        f"{request.hash}.mp4",
    ]
    assert read_frames(store.find(request.hash)).shape == (9, 64, 64, 3)


def test_a_chain_renders_in_order_on_the_farm(cluster, tmp_path):
    folder = four_shots(tmp_path / "Chain.gallop", chain=True)
    order = []
    renderer = BatchRenderer(
        folder,
        engine_factory=farm_engine_factory("local", cpus_per_actor=1),
        on_event=lambda plan, event: order.append((plan.shot.id, type(event).__name__)),
    )
    assert renderer.run().ok
    finished_s0 = order.index(("s0", "Finished"))
    started_s1 = order.index(("s1", "Started"))
    assert finished_s0 < started_s1
    project = load_project(folder)
    assert (
        project.shot("s1").current_take.request.continuity_source
        == project.shot("s0").selected_take
    )


def test_shared_takes_are_written_by_the_nodes(cluster, tmp_path):
    folder = four_shots(tmp_path / "Shared.gallop")
    renderer = BatchRenderer(
        folder,
        backend="previz",
        engine_factory=farm_engine_factory("local", cpus_per_actor=1, shared_takes=True),
    )
    assert renderer.run().ok
    project = load_project(folder)
    store = TakeStore(folder / "takes")
    assert store.ids() == {s.selected_take for s in project.shots}
    assert not [p for p in store.folder.iterdir() if p.name.startswith(".")]
