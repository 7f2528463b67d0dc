"""What every renderer (previz, diffusers, ...) offers the engine, and what it is given.

The definitions live in `engine.protocol`, the engine's vocabulary; the backends import
them from here or from there.
"""

from engine.protocol import (
    Backend,
    BackendFactory,
    Capabilities,
    JobCancelled,
    NullContext,
    OutOfMemory,
    ProgressCallback,
    RenderContext,
    RenderError,
    RenderInputs,
)

__all__ = [
    "Backend",
    "BackendFactory",
    "Capabilities",
    "JobCancelled",
    "NullContext",
    "OutOfMemory",
    "ProgressCallback",
    "RenderContext",
    "RenderError",
    "RenderInputs",
]
