"""The takes panel: pick, discard and compare a shot's takes."""
