"""The model catalog, its commands, and the published time and memory estimates."""
