"""`python -m reference_model` runs the recognizer's command line."""

import sys

from reference_model.cli import main

sys.exit(main())
