"""The studio in the desktop's application menu: a freedesktop launcher and its icons.

`install_desktop` writes `gallop-studio.desktop` into `$XDG_DATA_HOME/applications` and
the icon in every size into the user's hicolor theme, so that the studio starts from the
application menu and its windows show its icon and name in the task bar: the launcher's
name matches the desktop file name and WM_CLASS that `ui.system.identity` gives the window.

No Qt here: `gallop install-desktop` runs this from the command line without a display.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

APP_ID = "gallop-studio"  # desktop file, icon, application name and WM_CLASS alike
DISPLAY_NAME = "Gallop Studio"
ICON_SIZES = (16, 32, 48, 64, 128, 256)  # ui/icons/gallop-NN.png, drawn for each
DESKTOP_FILE = f"{APP_ID}.desktop"
# Characters that make an Exec argument need quotes (the Desktop Entry specification).
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def icons_folder() -> Path:
    return Path(__file__).parents[1] / "icons"


def data_home() -> Path:
    """`$XDG_DATA_HOME`, else ~/.local/share (an empty or relative value is ignored, as
    the XDG base directory specification asks)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """How to start the studio from a launcher: the `gallop` script this interpreter
    installed (beside it in a virtual environment's bin/), else `python -m ui.main`.
    Absolute, because a launcher runs without the shell's PATH or virtual environment."""
    # Not resolved: a virtual environment's python is a link whose target is not in it.
    interpreter = Path(sys.executable).absolute()
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    candidates = [interpreter.parent / "gallop"]
    if script is not None and script.name == "gallop":
        candidates.insert(0, script.absolute())
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    return [str(interpreter), "-m", "ui.main"]


def exec_argument(arg: str) -> str:
    """One argument of an Exec line: quoted where needed, with `%` doubled so that it is
    not read as a field code."""
    arg = arg.replace("%", "%%")
    if _RESERVED & set(arg):
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        arg = f'"{escaped}"'
    return arg


def _string_value(value: str) -> str:
    # A desktop entry's string values escape the backslash themselves, on top of Exec's
    # own quoting: a quoted backslash ends up as four.
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def desktop_entry(command: list[str] | None = None) -> str:
    """The text of the launcher for `command` (default: `launch_command()`)."""
    command = command or launch_command()
    # %f: the studio opens one project; a launcher given several starts one studio each.
    exec_line = " ".join([*(exec_argument(a) for a in command), "%f"])
    keys = {
        "Type": "Application",
        "Version": "1.4",  # the newest that validators everywhere know; nothing of 1.5 is used
        "Name": DISPLAY_NAME,
        "GenericName": "AI Video Studio",
        "Comment": "Storyboard, render and edit films with local video-diffusion models",
        "Exec": _string_value(exec_line),
        "TryExec": _string_value(command[0]),
        "Icon": APP_ID,
        "Terminal": "false",
        "Categories": "AudioVideo;Video;AudioVideoEditing;",
        "Keywords": "video;film;storyboard;diffusion;AI;render;timeline;",
        "StartupNotify": "true",
        "StartupWMClass": APP_ID,
    }
    return "[Desktop Entry]\n" + "".join(f"{key}={value}\n" for key, value in keys.items())


def install_desktop(data_home_folder: Path | None = None) -> list[Path]:
    """Write the launcher and the icons under `data_home_folder` (default: `data_home()`);
    returns the files written. Each is written whole or not at all, so a menu that reads
    the folder meanwhile never sees half a file."""
    root = Path(data_home_folder) if data_home_folder is not None else data_home()
    written = [_write(root / "applications" / DESKTOP_FILE, desktop_entry().encode("utf-8"))]
    hicolor = root / "icons" / "hicolor"
    for size in ICON_SIZES:
        source = icons_folder() / f"gallop-{size}.png"
        target = hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        written.append(_write(target, source.read_bytes()))
    svg = (icons_folder() / "gallop.svg").read_bytes()
    written.append(_write(hicolor / "scalable" / "apps" / f"{APP_ID}.svg", svg))
    # Icon theme loaders look again at a theme whose folder changed.
    with contextlib.suppress(OSError):
        os.utime(hicolor)
    return written


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other readers
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
