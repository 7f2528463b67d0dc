"""Open the studio on a project and save a screen grab plus the panels' screen rectangles.

Run by test_screenshot.py in a fresh process under xvfb-run (a real X server):
    python window_snapshot.py PROJECT_FOLDER OUT.png OUT.json SETTINGS.ini
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from ui.app import apply_dark_theme, open_window, run_until_settled


def main() -> int:
    folder, png, rects_json, ini = sys.argv[1:5]
    app = QApplication([])
    apply_dark_theme(app)
    window = open_window(folder, settings=QSettings(ini, QSettings.IniFormat))
    window.showMaximized()
    # Thumbnails, previz and layout settle: however long that takes on this machine.
    if not run_until_settled(app, window, limit_s=90.0):
        print("the window did not settle in 90 s", file=sys.stderr)
        return 1
    screen = window.screen()
    screen.grabWindow(0).save(png)
    areas = {
        "storyboard": window.storyboard,
        "prompt": window.prompt_panel,
        "camera": window.camera_panel,
        "player": window.player,
        "timeline": window.timeline,
    }
    rects = {}
    for name, widget in areas.items():
        top_left = widget.mapToGlobal(widget.rect().topLeft())
        rects[name] = {
            "x": top_left.x(),
            "y": top_left.y(),
            "w": widget.width(),
            "h": widget.height(),
            "visible": widget.isVisible(),
        }
    with open(rects_json, "w") as f:
        json.dump({"rects": rects, "platform": app.platformName()}, f)
    window._closing_confirmed = True
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
