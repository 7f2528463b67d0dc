"""Developer tools: the example project, the dependency floors, the tiny models."""
