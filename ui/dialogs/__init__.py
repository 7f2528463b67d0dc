"""Dialogs: the export and the preferences."""
