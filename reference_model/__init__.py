"""Reference CNN-GRU-CTC recognizer trained from textsynth shards (needs the `train` extra: TensorFlow)."""
