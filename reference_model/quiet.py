"""TensorFlow's native start-up logging (absl, oneDNN, CUDA probing) kept off the terminal."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


def import_tensorflow_quietly(show: bool = False) -> None:
    """Import TensorFlow and let it probe its devices with file descriptor 2 sent to a scratch file: those lines
    are written by C++ before `TF_CPP_MIN_LOG_LEVEL` is read, so only a redirect silences them. If the import
    fails, what it wrote is shown after all. `show`: leave stderr alone (`--debug`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if show or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe logs here, not at import
        except BaseException:
            os.dup2(saved, 2)
            scratch.seek(0)
            with contextlib.suppress(OSError):
                os.write(2, scratch.read()[-20_000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
