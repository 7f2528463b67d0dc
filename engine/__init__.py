"""The heavy work: rendering, models, media, export and the command line (never Qt)."""
