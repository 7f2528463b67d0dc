"""`gallop render`: takes for every shot, nothing twice, clean Ctrl+C, clear failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from engine.cli import Exit, run_subcommand
from engine.media.video import probe
from engine.render.batch import BatchRenderer, local_engine_factory
from engine.render.worker import Engine
from studio.jobs import Finished
from studio.project.io import copy_project, load_project
from studio.project.takes import TakeStore
from tests.engine.render.host_backends import held
from tests.projects import EXAMPLE, ROOT, small_project


def test_render_the_example_then_nothing_twice(tmp_path, capsys):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    assert run_subcommand(["render", str(folder)]) == Exit.OK
    assert "6 rendered, 0 up to date" in capsys.readouterr().out
    project = load_project(folder)
    store = TakeStore(folder / "takes")
    for shot in project.shots:
        take = shot.current_take
        assert take is not None and store.has(take.id)
        info = probe(folder / take.media)
        assert info.frames == take.request.frames == shot.frames
        assert (info.width, info.height) == (shot.width, shot.height)
    dawn = project.shot("dawn")
    assert dawn.current_take.request.continuity_source == project.shot("ship").selected_take
    before = sorted(p.name for p in (folder / "takes").iterdir())
    assert run_subcommand(["render", str(folder)]) == Exit.OK
    assert "0 rendered, 6 up to date" in capsys.readouterr().out
    assert sorted(p.name for p in (folder / "takes").iterdir()) == before


def test_render_selected_shots_with_a_diffusion_model(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop")
    args = ["render", str(folder), "--shots", "s0,s2", "--backend", "diffusers"]
    assert run_subcommand([*args, "--model", "tiny-wan"]) == Exit.OK
    project = load_project(folder)
    assert project.shot("s1").current_take is None
    for shot_id in ("s0", "s2"):
        take = project.shot(shot_id).current_take
        assert take.request.model_id == "tiny-wan" and take.request.backend == "diffusers"
        assert take.request.frames == 9  # 0.5 s at 16 fps, snapped to 4n+1
        assert probe(folder / take.media).frames == 9


def test_render_reports_failures_and_unknown_shots(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    assert run_subcommand(["render", str(folder), "--shots", "nope"]) == Exit.FAILED
    assert "no shot 'nope'" in capsys.readouterr().err
    code = run_subcommand(["render", str(folder), "--backend", "diffusers", "--model", "x"])
    assert code == Exit.FAILED
    assert "unknown model 'x'" in capsys.readouterr().err
    assert load_project(folder).shot("s0").current_take is None


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery is POSIX")
def test_ctrl_c_cancels_cleanly_and_keeps_finished_takes(tmp_path):
    folder = small_project(tmp_path / "Small.gallop", shots=6)
    # The first shot renders; the second is held until it is cancelled, so Ctrl+C always
    # lands while it runs and four shots wait, however fast or slow the machine.
    env = dict(os.environ, GALLOP_BACKENDS="tests.engine.render.host_backends:held")
    child = subprocess.Popen(
        [sys.executable, "-m", "ui.main", "render", str(folder), "--backend", "previz"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    err = []
    for line in child.stderr:
        err.append(line)
        if line.startswith("held: shot number 1"):
            break
    else:
        child.wait(timeout=60)
        pytest.fail("the second shot never started:\n" + "".join(err))
    child.send_signal(signal.SIGINT)
    out, rest = child.communicate(timeout=120)
    assert child.returncode == Exit.INTERRUPTED, "".join(err) + rest
    assert "1 rendered, 0 up to date, 0 failed, 5 cancelled" in out
    project = load_project(folder)
    assert [s.id for s in project.shots if s.current_take is not None] == ["s0"]
    store = TakeStore(folder / "takes")
    assert store.ids() == {project.shot("s0").selected_take}
    assert not [p for p in (folder / "takes").iterdir() if p.name.startswith(".")]
    # The next run picks up where it stopped.
    assert run_subcommand(["render", str(folder), "--backend", "previz"]) == Exit.OK
    assert all(s.current_take for s in load_project(folder).shots)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery is POSIX")
def test_ctrl_c_while_a_finished_take_is_being_handled_still_records_it(tmp_path):
    folder = small_project(tmp_path / "Small.gallop", shots=4)

    def on_event(plan, event):
        # Ctrl+C in the middle of handling the first take's arrival, before it is recorded.
        if isinstance(event, Finished):
            signal.raise_signal(signal.SIGINT)

    renderer = BatchRenderer(
        folder, backend="previz", engine_factory=local_engine_factory(held), on_event=on_event
    )
    try:
        result = renderer.run()
    except KeyboardInterrupt:
        pytest.fail("Ctrl+C escaped the render instead of stopping it in order")
    assert result.interrupted
    assert result.rendered == ["s0"] and sorted(result.cancelled) == ["s1", "s2", "s3"]
    project = load_project(folder)
    assert [s.id for s in project.shots if s.current_take is not None] == ["s0"]
    assert TakeStore(folder / "takes").ids() == {project.shot("s0").selected_take}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_render_never_imports_qt(tmp_path):
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    code = (
        "import sys; from ui.main import main; "
        f"rc = main(['render', {str(folder)!r}, '--backend', 'previz']); "
        "assert rc == 0, rc; assert 'PySide6' not in sys.modules, 'Qt imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr


def test_variations_sweep_seeds_into_takes(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    assert run_subcommand(["render", str(folder), "--backend", "previz", "--variations", "3"]) == 0
    project = load_project(folder)
    for shot in project.shots:
        seeds = [t.request.seed for t in shot.takes]
        assert seeds == [shot.seed, shot.seed + 1, shot.seed + 2]
        assert shot.current_take.request.seed == shot.seed
    assert run_subcommand(["render", str(folder), "--backend", "previz", "--variations", "3"]) == 0
    assert "0 rendered, 2 up to date" in capsys.readouterr().out
    assert run_subcommand(["render", str(folder), "--variations", "0"]) == Exit.FAILED


def test_ray_missing_says_how_to_install(tmp_path):
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'ray':\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from ui.main import main\n"
        f"sys.exit(main(['render', {str(folder)!r}, '--ray', 'local']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == Exit.FAILED
    assert "pip install 'gallop-studio[cluster]'" in out.stderr
    assert load_project(folder).shot("s0").current_take is None


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_render_whose_engine_thread_died_fails_its_shots_instead_of_waiting(
    tmp_path, monkeypatch
):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    # The engine thread ends at its first job without a word, as a crash in it would.
    monkeypatch.setattr(Engine, "_run_one", lambda engine, job: sys.exit())
    results = []
    render = threading.Thread(
        target=lambda: results.append(BatchRenderer(folder, backend="previz").run()),
        daemon=True,
    )
    render.start()
    render.join(60)
    assert not render.is_alive(), "the render waited for an engine that had stopped"
    (result,) = results
    assert sorted(result.failed) == ["s0", "s1"] and not result.rendered
    assert all("engine stopped" in message for message in result.failed.values())
    assert load_project(folder).shot("s0").current_take is None
