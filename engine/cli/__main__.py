"""`python -m engine.cli`: the headless `gallop` subcommands."""

import sys

from engine.cli import main

sys.exit(main())
