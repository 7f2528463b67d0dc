"""Settings for the whole test session."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _log_folder(tmp_path_factory):
    """Every log file the tests write, theirs and their child processes', lands in a
    folder of the session, never in the user's own log folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GALLOP_LOG_DIR", str(tmp_path_factory.mktemp("logs")))
        yield


@pytest.fixture(autouse=True, scope="session")
def _model_folders(tmp_path_factory):
    """Models download into a folder of the session, and licences accepted in a test are
    remembered in a settings file of the session, never the user's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GALLOP_MODELS", str(tmp_path_factory.mktemp("models")))
        patch.setenv(
            "GALLOP_MODEL_SETTINGS", str(tmp_path_factory.mktemp("config") / "models.json")
        )
        yield
