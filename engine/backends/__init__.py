"""Renderers behind the engine: the backend protocol and its implementations."""
