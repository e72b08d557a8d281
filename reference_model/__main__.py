"""`python -m reference_model` runs the recognizer's command line."""

import sys

from reference_model.quiet import import_tensorflow_quietly

import_tensorflow_quietly(show="--debug" in sys.argv[1:])

from reference_model.cli import main  # noqa: E402

sys.exit(main())
