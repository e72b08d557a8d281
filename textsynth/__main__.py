"""`python -m textsynth` runs the command line."""

import sys

from textsynth.cli import main

sys.exit(main())
