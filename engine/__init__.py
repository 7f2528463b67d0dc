"""The heavy work behind the studio: rendering, models, media, export and the command line (never Qt)."""
