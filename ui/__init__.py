"""The studio window: PySide6 only; `app.py` composes the panels, one sub-package each."""
