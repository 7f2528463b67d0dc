"""The launcher and icons `gallop install-desktop` writes for the desktop's menu."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ui.system import desktop
from ui.system.desktop import ICON_SIZES, exec_argument, install_desktop

ROOT = Path(__file__).resolve().parents[3]


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return dict(parser["Desktop Entry"])


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_the_launcher_and_every_icon_are_written_under_the_data_folder(tmp_path):
    written = install_desktop(tmp_path)
    launcher = tmp_path / "applications" / "gallop-studio.desktop"
    hicolor = tmp_path / "icons" / "hicolor"
    assert written[0] == launcher
    assert set(written[1:]) == {
        *(hicolor / f"{n}x{n}" / "apps" / "gallop-studio.png" for n in ICON_SIZES),
        hicolor / "scalable" / "apps" / "gallop-studio.svg",
    }
    entry = read_entry(launcher)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Gallop Studio"
    assert entry["Icon"] == "gallop-studio"
    assert entry["Terminal"] == "false"
    assert entry["StartupWMClass"] == "gallop-studio"  # the window's WM_CLASS (ui.system.identity)
    assert set(entry["Categories"].split(";")) >= {"AudioVideo", "Video"}
    program, *rest = entry["Exec"].split(" ")
    assert rest[-1] == "%f"
    assert Path(program).is_absolute() and os.access(program, os.X_OK)
    for n in ICON_SIZES:
        assert png_size(hicolor / f"{n}x{n}" / "apps" / "gallop-studio.png") == (n, n)
    svg = (hicolor / "scalable" / "apps" / "gallop-studio.svg").read_text()
    assert svg.startswith("<svg") and "</svg>" in svg
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o644  # readable by the menu, whoever runs it
    leftovers = [p for p in tmp_path.rglob(".*") if p.is_file()]
    assert leftovers == []  # no temporary file of the atomic writes stays behind


def test_installing_again_replaces_the_files(tmp_path):
    first = install_desktop(tmp_path)
    launcher = first[0]
    launcher.write_text("[Desktop Entry]\nName=stale\n")
    assert install_desktop(tmp_path) == first
    assert read_entry(launcher)["Name"] == "Gallop Studio"


def test_the_data_folder_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert install_desktop()[0] == tmp_path / "data" / "applications" / "gallop-studio.desktop"
    # A relative value is ignored, as the XDG specification asks: ~/.local/share then.
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert desktop.data_home() == tmp_path / "home" / ".local" / "share"


def test_without_a_gallop_script_the_launcher_runs_the_module(tmp_path, monkeypatch):
    python = tmp_path / "bin" / "python3"
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setattr(sys, "argv", ["pytest"])
    assert desktop.launch_command() == [str(python), "-m", "ui.main"]
    entry = desktop.desktop_entry()
    assert f"Exec={python} -m ui.main %f\n" in entry
    assert f"TryExec={python}\n" in entry


def test_exec_arguments_are_quoted_as_the_specification_asks():
    assert exec_argument("/usr/bin/gallop") == "/usr/bin/gallop"
    assert exec_argument("/home/a b/gallop") == '"/home/a b/gallop"'
    assert exec_argument('/x/$HOME"`\\') == '"/x/\\$HOME\\"\\`\\\\"'
    assert exec_argument("/x/100%/gallop") == "/x/100%%/gallop"  # not a field code
    # In the file, the string escape doubles the backslashes once more.
    entry = desktop.desktop_entry(["/opt/my apps/gallop"])
    assert 'Exec="/opt/my apps/gallop" %f\n' in entry


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils")
def test_the_launcher_passes_desktop_file_validate(tmp_path):
    launcher = install_desktop(tmp_path)[0]
    odd = tmp_path / "odd.desktop"
    odd.write_text(desktop.desktop_entry(['/opt/my apps/$HOME/"x"', "-m", "ui.main"]))
    for path in (launcher, odd):
        result = subprocess.run(
            ["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_the_module_imports_no_qt():
    code = "import sys, ui.system.desktop; print(sorted(m for m in sys.modules if 'PySide' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _has_install_desktop() -> bool:
    import ui.main

    return "install-desktop" in getattr(ui.main, "UI_HANDLERS", {})


@pytest.mark.skipif(not _has_install_desktop(), reason="no `gallop install-desktop` here")
def test_gallop_install_desktop_writes_into_xdg_data_home(tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-m", "ui.main", "install-desktop"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    launcher = tmp_path / "data" / "applications" / "gallop-studio.desktop"
    assert str(launcher) in result.stdout.splitlines()
    assert read_entry(launcher)["Icon"] == "gallop-studio"
    assert (
        tmp_path / "data" / "icons" / "hicolor" / "48x48" / "apps" / "gallop-studio.png"
    ).exists()
