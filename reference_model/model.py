"""The CNN-GRU-CTC recognizer (Keras `image_ocr` trunk) and its presets."""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
from keras import layers


@dataclass(frozen=True)
class Preset:
    """Shape of the network: conv stack (filters, pool per stage), dense width, GRU width."""

    filters: tuple[int, ...]
    pools: tuple[tuple[int, int], ...]  # (width, height) pooling after each conv
    dense: int
    rnn: int

    @property
    def width_reduction(self) -> int:
        return math.prod(pw for pw, _ in self.pools)

    @property
    def height_reduction(self) -> int:
        return math.prod(ph for _, ph in self.pools)


PRESETS: dict[str, Preset] = {
    # The seed's image_ocr model: 2 convs of 16 with 2x2 pools, dense 32, GRU 512 pairs.
    "image_ocr": Preset(filters=(16, 16), pools=((2, 2), (2, 2)), dense=32, rnn=512),
    # Fastest on a 2-core CPU that still reaches the accuracy target (benchmarks in reference_model/README.md).
    # 64 time steps at width 512 (8 px each) keep the GRUs short; 8 filters at full resolution keep conv1 cheap.
    "small": Preset(filters=(8, 24, 48), pools=((2, 2), (2, 2), (2, 2)), dense=64, rnn=128),
    # For tests: ~100k parameters; overfits 64 samples in about 500 steps.
    "tiny": Preset(filters=(8, 16), pools=((2, 2), (2, 2)), dense=32, rnn=64),
}


def time_steps(preset: str | Preset, width: int) -> int:
    p = PRESETS[preset] if isinstance(preset, str) else preset
    return width // p.width_reduction


def build_model(preset: str = "small", width: int = 512, height: int = 64, num_classes: int = 69) -> keras.Model:
    """uint8 images (batch, height, width) -> logits (batch, width / reduction, num_classes); blank = last class.

    The image is scaled to [0, 1] and transposed (not reshaped) so that its width becomes the time axis.
    GRUs keep cuDNN-eligible arguments (tanh/sigmoid, reset_after, no recurrent dropout).
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    p = PRESETS[preset]
    if width % p.width_reduction or height % p.height_reduction:
        raise ValueError(f"preset {preset!r} needs width divisible by {p.width_reduction} and height by "
                         f"{p.height_reduction}, got {width}x{height}")
    image = keras.Input((height, width), dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(image)
    x = layers.Permute((2, 1), name="transpose")(x)  # (width, height): width is time
    x = layers.Reshape((width, height, 1), name="channel")(x)
    for k, (filters, pool) in enumerate(zip(p.filters, p.pools), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                          name=f"conv{k}")(x)
        x = layers.MaxPooling2D(pool, name=f"max{k}")(x)
    steps, rows = width // p.width_reduction, height // p.height_reduction
    x = layers.Reshape((steps, rows * p.filters[-1]), name="reshape")(x)
    x = layers.Dense(p.dense, activation="relu", name="dense1")(x)
    x = layers.Bidirectional(layers.GRU(p.rnn, return_sequences=True, reset_after=True, name="gru1"),
                             merge_mode="sum", name="gru1")(x)
    x = layers.Bidirectional(layers.GRU(p.rnn, return_sequences=True, reset_after=True, name="gru2"),
                             merge_mode="concat", name="gru2")(x)
    logits = layers.Dense(num_classes, name="logits", dtype="float32")(x)
    return keras.Model(image, logits, name=f"textsynth_{preset}")
