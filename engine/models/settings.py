"""Where downloaded models live and which licences were accepted: a small JSON file in the
user's config folder (`~/.config/gallop-studio/models.json` on Linux), shared by the window,
its engine process and the command line.

- The models folder is `GALLOP_MODELS` when set, else the folder chosen in Preferences,
  else `models` in the user's data folder. Each model downloads into a folder of its own
  named after its repository (`Wan2.1-T2V-1.3B-Diffusers`).
- A licence that must be accepted is asked once per model: the acceptance is kept with
  the licence's name, so a model whose licence changes asks again.

`GALLOP_MODEL_SETTINGS` names another settings file (tests, scripted installs).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MODELS_ENV = "GALLOP_MODELS"
SETTINGS_ENV = "GALLOP_MODEL_SETTINGS"
APP = "gallop-studio"

_lock = threading.Lock()  # a download thread and the window may both write


def settings_file() -> Path:
    override = os.environ.get(SETTINGS_ENV)
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP, appauthor=False)) / "models.json"


def default_models_folder() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP, appauthor=False)) / "models"


def _read() -> dict[str, Any]:
    try:
        data = json.loads(settings_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(data: dict[str, Any]) -> None:
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".models.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forced_models_folder() -> Path | None:
    """The folder `GALLOP_MODELS` names, which no preference overrides, or None."""
    value = os.environ.get(MODELS_ENV, "").strip()
    return Path(os.path.expanduser(value)) if value else None


def chosen_models_folder() -> Path | None:
    """The folder chosen in Preferences, or None for the default."""
    value = _read().get("folder")
    return Path(value) if isinstance(value, str) and value.strip() else None


def models_folder() -> Path:
    """Where models download to and are looked for first."""
    return forced_models_folder() or chosen_models_folder() or default_models_folder()


def set_models_folder(folder: Path | str | None) -> None:
    """Choose the models folder (None or "" goes back to the default). Models already
    downloaded stay where they are."""
    with _lock:
        data = _read()
        text = str(folder).strip() if folder is not None else ""
        if text:
            data["folder"] = str(Path(os.path.expanduser(text)).resolve())
        else:
            data.pop("folder", None)
        _write(data)


def licence_accepted(model_id: str, licence: str) -> bool:
    accepted = _read().get("licences", {})
    record = accepted.get(model_id) if isinstance(accepted, dict) else None
    return isinstance(record, dict) and record.get("licence") == licence


def accept_licence(model_id: str, licence: str) -> None:
    """Remember that the user accepted `licence` for `model_id`."""
    with _lock:
        data = _read()
        licences = data.get("licences")
        if not isinstance(licences, dict):
            licences = data["licences"] = {}
        licences[model_id] = {
            "licence": licence,
            "accepted": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write(data)
