"""Reference CNN-GRU-CTC recognizer trained from textsynth shards (needs the `train` extra: TensorFlow)."""

from reference_model.model import PRESETS, build_model

__all__ = ["PRESETS", "build_model"]
