"""The `gallop` command line: one tree for the window and the headless subcommands, exit
codes and messages, -v/-q, `info --json`, the progress on standard error, no Qt imported
by a subcommand, and `--screenshot` of the window."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from engine.cli import (
    SUBCOMMANDS,
    WINDOW,
    Exit,
    build_parser,
    parse_command_line,
    run_subcommand,
    window_wanted,
)
from engine.logs import configure_logging
from engine.render.reporter import ProgressPrinter, eta_text
from studio.camera.rig import describe
from studio.jobs import Finished, Progress, Stage, Started
from studio.project.io import load_project, save_project
from tests.projects import EXAMPLE, ROOT, small_project

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(autouse=True)
def _logging_reset():
    """-v leaves a handler on the root logger; the next test starts without it."""
    yield
    configure_logging(None)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
    )


# -- the tree ------------------------------------------------------------------------------


def test_validate_and_info_on_the_example(capsys):
    assert run_subcommand(["validate", str(EXAMPLE)]) == Exit.OK
    assert "valid (6 shots" in capsys.readouterr().out
    assert run_subcommand(["info", str(EXAMPLE)]) == Exit.OK
    out = capsys.readouterr().out
    assert "orbit right" in out and "not rendered" in out


def test_info_escapes_control_characters_of_titles(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    project = load_project(folder)
    project.title = "Film\x1b]0;owned\x07\x1b[2J"
    project.shots[0].title = "one\rtwo\nthree\u2028four\x9b31m"
    save_project(project, folder)
    assert run_subcommand(["info", str(folder)]) == Exit.OK
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\x9b" not in out
    lines = out.splitlines()
    assert lines[0].startswith("Film\\x1b]0;owned\\x07\\x1b[2J - ")
    assert lines[1].startswith(" 1. one\\rtwo\\nthree\\u2028four\\x9b31m  ")
    assert len(lines) == 4  # the title, two shots, the timeline


def test_invalid_project_names_the_problem(tmp_path, capsys):
    document = json.loads((EXAMPLE / "project.json").read_text())
    document["shots"][3]["camera"]["dolly"][0]["t"] = 2
    (tmp_path / "project.json").write_text(json.dumps(document))
    assert run_subcommand(["validate", str(tmp_path)]) == Exit.PROJECT
    assert "$.shots[3].camera.dolly[0].t" in capsys.readouterr().err


def test_bad_usage_exit_code():
    assert run_subcommand(["validate"]) == Exit.USAGE


def test_help_lists_every_subcommand_and_the_window(capsys):
    assert run_subcommand(["--help"]) == Exit.OK
    out = capsys.readouterr().out
    for name in (WINDOW, *SUBCOMMANDS):
        assert re.search(rf"^ +{re.escape(name)} +\S", out, re.MULTILINE), name
    assert "gallop [PROJECT]" in out and "--new" in out and "--screenshot PNG" in out
    words = " ".join(out.split())
    assert "add Gallop Studio to the desktop's application menu (user scope)" in words


def test_version_comes_from_the_package(capsys):
    assert run_subcommand(["--version"]) == Exit.OK
    assert capsys.readouterr().out == f"gallop-studio {version('gallop-studio')}\n"


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_positional_argument_and_subcommand_has_help():
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    assert choice.help, f"{parser.prog} {choice.dest}"
            elif not action.option_strings:
                assert action.help, f"{parser.prog} {action.dest}"


def test_a_mistyped_subcommand_is_a_usage_error_without_qt():
    code = (
        "import sys; from ui.main import main; rc = main(['valdate', 'x']); "
        "assert 'PySide6' not in sys.modules, 'Qt imported'; sys.exit(rc)"
    )
    out = run_python(code)
    assert out.returncode == Exit.USAGE, out.stderr
    assert "invalid choice: 'valdate'" in out.stderr
    assert "did you mean 'validate'?" in out.stderr


def test_the_first_argument_chooses_window_or_subcommand(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infos").mkdir()
    for argv in ([], ["-v"], ["--new", "x"], ["Film.gallop"], [str(EXAMPLE)], ["infos"]):
        assert window_wanted(argv), argv
    # A bare word that is no path and not close to a subcommand: a path the window names.
    assert window_wanted(["Lighthouse"])
    not_window = (["info", "x"], ["-v", "render", "x"], ["--help"], ["--vers"], ["valdate"])
    for argv in not_window:
        assert not window_wanted(argv), argv

    args = parse_command_line(["Film.gallop"])
    assert (args.command, args.project, args.new, args.screenshot) == (
        WINDOW,
        Path("Film.gallop"),
        False,
        None,
    )
    args = parse_command_line(["-q", "--new", "--screenshot", "x.png", "New.gallop"])
    assert (args.command, args.new, args.screenshot, args.verbosity) == (
        WINDOW,
        True,
        Path("x.png"),
        -1,
    )
    assert parse_command_line([]).project is None
    assert parse_command_line(["-v", "render", "p", "-v"]).verbosity == 2
    assert parse_command_line(["render", "p", "-q"]).verbosity == -1
    assert parse_command_line(["models", "list", "-v"]).verbosity == 1


def test_a_subcommand_of_the_ui_layer_runs_its_handler(capsys):
    assert run_subcommand(["install-desktop"]) == Exit.USAGE
    assert "gallop install-desktop" in capsys.readouterr().err
    seen = []
    handlers = {"install-desktop": lambda args: seen.append(args.command) or Exit.FAILED}
    assert run_subcommand(["install-desktop"], handlers) == Exit.FAILED
    assert seen == ["install-desktop"]


def test_install_desktop_never_imports_qt(tmp_path):
    code = (
        "import sys; from ui.main import main; rc = main(['install-desktop']); "
        "assert 'PySide6' not in sys.modules, 'Qt imported'; sys.exit(rc)"
    )
    out = run_python(code, XDG_DATA_HOME=str(tmp_path), HOME=str(tmp_path))
    assert out.returncode == Exit.OK, out.stderr
    written = [Path(line) for line in out.stdout.splitlines()]
    assert any(p.name == "gallop-studio.desktop" for p in written)
    assert all(p.is_file() and p.is_relative_to(tmp_path) for p in written)


def test_subcommands_never_import_qt():
    code = (
        f"import sys; from ui.main import main; rc = main(['info', {str(EXAMPLE)!r}]); "
        "assert rc == 0; assert 'PySide6' not in sys.modules, 'Qt imported'"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr


# -- info --json, -v and -q ----------------------------------------------------------------


def test_info_json_lists_shots_takes_and_timeline(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    assert run_subcommand(["render", str(folder), "--backend", "previz", "--variations", "2"]) == 0
    capsys.readouterr()
    assert run_subcommand(["info", str(folder), "--json"]) == Exit.OK
    out = capsys.readouterr().out
    document = json.loads(out)
    assert out == json.dumps(document, indent=2, sort_keys=True) + "\n"  # pretty, stable
    project = load_project(folder)
    assert document["project"]["title"] == "Small" and document["project"]["fps"] == 16
    assert [s["id"] for s in document["shots"]] == ["s0", "s1"]
    for entry, shot in zip(document["shots"], project.shots, strict=True):
        assert entry["title"] == shot.title and entry["duration"] == 0.5
        assert entry["frames"] == 8 and entry["fps"] == 16 and entry["model"] == shot.model_id
        assert entry["camera"] == describe(shot.camera, shot.duration)
        assert entry["status"] == "rendered"
        assert entry["selected_take"] == shot.selected_take
        takes = entry["takes"]
        assert [t["id"] for t in takes] == [t.id for t in shot.takes]
        assert [t["seed"] for t in takes] == [shot.seed, shot.seed + 1]
        assert [t["selected"] for t in takes] == [True, False]
        for take in takes:
            assert Path(take["path"]).is_file() and take["path"].endswith(take["media"])
            request = take["request"]
            assert request["backend"] == "previz" and request["seed"] == take["seed"]
            assert request["frames"] >= 1 and request["width"] == 64
    timeline = document["timeline"]
    assert timeline["fps"] == project.timeline.fps
    assert timeline["clips"] == len(project.timeline.clips())
    assert timeline["frames"] == project.timeline.duration
    assert [i["id"] for i in timeline["items"]] == [i.id for i in project.timeline.items]


def test_info_json_of_a_project_without_takes(capsys):
    assert run_subcommand(["info", str(EXAMPLE), "--json"]) == Exit.OK
    document = json.loads(capsys.readouterr().out)
    assert len(document["shots"]) == 6
    assert all(s["takes"] == [] and s["selected_take"] is None for s in document["shots"])
    assert {s["status"] for s in document["shots"]} == {"not rendered"}
    items = document["timeline"]["items"]
    assert [i["shot_id"] for i in items] == [s["id"] for s in document["shots"]]
    assert [i["start"] for i in items] == sorted(i["start"] for i in items)


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_info_on_stderr(tmp_path, capsys, where):
    folder = str(small_project(tmp_path / "Small.gallop", shots=1))
    render = ["render", folder, "--backend", "previz"]
    argv = ["-v", *render] if where == "before" else [*render, "-v"]
    assert run_subcommand(argv) == Exit.OK
    err = capsys.readouterr().err
    assert "INFO engine.cli: shot s0: previz through previz" in err
    assert "[1/1] Shot 0" in err  # and the progress


def test_quiet_hides_the_progress_and_keeps_the_summary(tmp_path, capsys):
    folder = str(small_project(tmp_path / "Small.gallop", shots=2))
    assert run_subcommand(["-q", "render", folder, "--backend", "previz"]) == Exit.OK
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "2 rendered, 0 up to date" in captured.out


def test_without_v_no_info_lines(tmp_path, capsys):
    folder = str(small_project(tmp_path / "Small.gallop", shots=1))
    assert run_subcommand(["render", folder, "--backend", "previz"]) == Exit.OK
    err = capsys.readouterr().err
    assert "INFO" not in err and "[1/1] Shot 0" in err


# -- progress ------------------------------------------------------------------------------


def _plan(i: int):
    shot = SimpleNamespace(title=f"Shot {i}", id=f"s{i}", seed=0)
    return SimpleNamespace(shot=shot, request=SimpleNamespace(seed=0), notes=[])


def _last_frame(text: str) -> list[str]:
    """The lines of the live display as last drawn (rich redraws after a carriage return)."""
    last = ANSI.sub("", text).rsplit("\r", 1)[-1]
    return [line for line in last.splitlines() if line.strip()]


def _running(count: int, console: Console) -> tuple[ProgressPrinter, list]:
    """A printer on `console` with `count` shots running at once (a farm render)."""
    printer = ProgressPrinter(console=console)
    plans = [_plan(i) for i in range(count)]
    for i, plan in enumerate(plans, 1):
        printer.plan(i, count, plan)
        printer.event(plan, Started(f"j{i}"))
    for i, plan in enumerate(plans, 1):
        printer.event(plan, Progress(f"j{i}", 2 * i, 10, Stage.DENOISING, eta_seconds=30 * i))
    return printer, plans


def test_a_terminal_shows_one_line_per_running_shot():
    buffer = io.StringIO()
    printer, _plans = _running(3, Console(file=buffer, force_terminal=True, width=100))
    printer.close()
    assert "\x1b[" in buffer.getvalue()  # drawn in place
    lines = _last_frame(buffer.getvalue())
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert line.startswith(f"[{i}/3] Shot {i - 1}")
        assert f"{20 * i}%" in line and f"denoising {2 * i}/10" in line
        assert eta_text(30 * i) in line


def test_a_finished_shot_leaves_a_line_above_the_running_ones():
    buffer = io.StringIO()
    printer, plans = _running(3, Console(file=buffer, force_terminal=True, width=100))
    printer.event(plans[1], Finished("j2", None))
    printer.close()
    assert "[2/3] Shot 1 done in" in ANSI.sub("", buffer.getvalue())
    lines = _last_frame(buffer.getvalue())
    assert [line.split(" ", 1)[0] for line in lines] == ["[1/3]", "[3/3]"]


def test_a_pipe_gets_plain_lines():
    stream = io.StringIO()
    printer = ProgressPrinter(stream)
    plan = _plan(0)
    printer.plan(1, 1, plan)
    printer.event(plan, Started("j"))
    for step in range(1, 11):
        printer.event(plan, Progress("j", step, 10, Stage.RENDERING, eta_seconds=10 - step))
    printer.event(plan, Finished("j", None))
    printer.close()
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text
    lines = text.splitlines()
    assert lines[0].startswith("[1/1] Shot 0 ") and "rendering" in lines[0]
    assert lines[-1].startswith("[1/1] Shot 0 ######") and "done in" in lines[-1]
    assert 3 <= len(lines) <= 6  # a line each quarter, not one per step


def test_quiet_progress_prints_nothing():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, quiet=True)
    plan = SimpleNamespace(**{**vars(_plan(0)), "notes": ["a note"]})
    printer.plan(1, 1, plan)
    printer.event(plan, Started("j"))
    printer.event(plan, Progress("j", 5, 10, Stage.RENDERING))
    printer.event(plan, Finished("j", None))
    printer.close()
    assert stream.getvalue() == ""


def test_time_left_reads_in_the_unit_a_person_would_say():
    assert [eta_text(s) for s in (0.2, 12.2, 300, 6043.88)] == [
        "~1 s left",
        "~12 s left",
        "~5 min left",
        "~1.7 h left",
    ]
    assert eta_text(None) == ""


# -- the window ----------------------------------------------------------------------------


def test_screenshot_opens_the_studio_headless_and_exits(tmp_path):
    import shutil

    folder = tmp_path / "Lighthouse.gallop"
    shutil.copytree(EXAMPLE, folder)
    png = tmp_path / "shots" / "studio.png"
    saved = (folder / "project.json").read_bytes()
    out = subprocess.run(
        [sys.executable, "-m", "ui.main", "--screenshot", str(png), str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert out.returncode == Exit.OK, out.stderr
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 640 and height >= 400
    assert (folder / "project.json").read_bytes() == saved


def test_screenshot_of_a_missing_project_says_so_and_exits(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "ui.main", "--screenshot", str(tmp_path / "x.png"), "Nope.gallop"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert out.returncode == Exit.PROJECT, out.stderr
    assert "cannot open project" in out.stderr
    assert not (tmp_path / "x.png").exists()
