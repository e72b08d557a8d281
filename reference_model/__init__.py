"""Reference CNN-GRU-CTC recognizer trained from textsynth shards (needs the `train` extra: TensorFlow)."""

from __future__ import annotations

__all__ = ["PRESETS", "build_model"]


def __getattr__(name: str):
    # Lazy, so that `python -m reference_model` can silence TensorFlow's start-up before Keras is imported.
    if name in __all__:
        from reference_model import model

        return getattr(model, name)
    raise AttributeError(f"module 'reference_model' has no attribute {name!r}")
