"""The headless `gallop` subcommands: exit codes and messages, and no Qt imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.cli import EXIT_OK, EXIT_PROJECT, EXIT_USAGE, run_subcommand

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "assets" / "examples" / "Lighthouse.gallop"


def test_validate_and_info_on_the_example(capsys):
    assert run_subcommand(["validate", str(EXAMPLE)]) == EXIT_OK
    assert "valid (6 shots" in capsys.readouterr().out
    assert run_subcommand(["info", str(EXAMPLE)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "orbit right" in out and "not rendered" in out


def test_invalid_project_names_the_problem(tmp_path, capsys):
    document = json.loads((EXAMPLE / "project.json").read_text())
    document["shots"][3]["camera"]["dolly"][0]["t"] = 2
    (tmp_path / "project.json").write_text(json.dumps(document))
    assert run_subcommand(["validate", str(tmp_path)]) == EXIT_PROJECT
    assert "$.shots[3].camera.dolly[0].t" in capsys.readouterr().err


def test_bad_usage_exit_code():
    assert run_subcommand(["validate"]) == EXIT_USAGE


def test_subcommands_never_import_qt():
    code = (
        f"import sys; from ui.main import main; rc = main(['info', {str(EXAMPLE)!r}]); "
        "assert rc == 0; assert 'PySide6' not in sys.modules, 'Qt imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
