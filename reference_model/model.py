"""The CNN-GRU-CTC recognizer (Keras `image_ocr` trunk and its stronger descendants) and its presets."""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
from keras import layers


@dataclass(frozen=True)
class Preset:
    """Shape of the network: conv stack (filters, pool per conv), dense width, GRU width, and how the trunk is
    built (input height it scales the image to first, batch normalization, depthwise-separable convs)."""

    filters: tuple[int, ...]
    pools: tuple[tuple[int, int], ...]  # (width, height) pooling after each conv; (1, 1): none
    dense: int
    rnn: int
    input_height: int | None = None  # scale the image to this height in the graph (aspect kept) before conv1
    batch_norm: bool = False  # conv -> batch norm -> relu (the conv then has no bias)
    separable: bool = False  # every conv after the first is depthwise 3x3 + pointwise 1x1
    stem_stride: int = 1  # conv1's stride in both directions (2: every later layer sees 4x fewer pixels)

    @property
    def width_reduction(self) -> int:
        return self.stem_stride * math.prod(pw for pw, _ in self.pools)

    @property
    def height_reduction(self) -> int:
        return self.stem_stride * math.prod(ph for _, ph in self.pools)

    def trunk_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) the conv trunk sees: the input scaled to `input_height`."""
        if self.input_height is None or self.input_height == height:
            return width, height
        return width * self.input_height // height, self.input_height


PRESETS: dict[str, Preset] = {
    # The seed's image_ocr model: 2 convs of 16 with 2x2 pools, dense 32, GRU 512 pairs.
    "image_ocr": Preset(filters=(16, 16), pools=((2, 2), (2, 2)), dense=32, rnn=512),
    # The default network (reference_model/README.md, "Choosing the network": ~3x less validation error
    # per line seen than small_v2 at the same speed on 2 CPU cores): the line halved to 32 px high in the
    # graph (4x fewer pixels for every conv), a batch-normalized trunk of one full conv and five
    # depthwise-separable ones, 64 time steps of 4 px, GRU 160 pairs.
    "small": Preset(filters=(32, 64, 96, 128, 160, 192), pools=((1, 1), (2, 2), (1, 1), (1, 2), (1, 1), (1, 2)),
                    dense=256, rnn=160, input_height=32, batch_norm=True, separable=True, stem_stride=2),
    # textsynth 0.2's `small`: three plain convs at full resolution, no normalization (the shipped weights).
    "small_v2": Preset(filters=(8, 24, 48), pools=((2, 2), (2, 2), (2, 2)), dense=64, rnn=128),
    # For tests: ~100k parameters; overfits 64 samples in about 500 steps.
    "tiny": Preset(filters=(8, 16), pools=((2, 2), (2, 2)), dense=32, rnn=64),
}


def time_steps(preset: str | Preset, width: int, height: int = 64) -> int:
    p = PRESETS[preset] if isinstance(preset, str) else preset
    return p.trunk_size(width, height)[0] // p.width_reduction


def build_model(preset: str = "small", width: int = 512, height: int = 64, num_classes: int = 69) -> keras.Model:
    """uint8 images (batch, height, width) -> logits (batch, time steps, num_classes); blank = last class.

    The image is scaled to [0, 1] and transposed (not reshaped) so that its width becomes the time axis.
    GRUs keep cuDNN-eligible arguments (tanh/sigmoid, reset_after, no recurrent dropout).
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    p = PRESETS[preset]
    trunk_w, trunk_h = p.trunk_size(width, height)
    if (p.input_height and width * p.input_height % height) or trunk_w % p.width_reduction \
            or trunk_h % p.height_reduction:
        raise ValueError(f"preset {preset!r} needs an input whose width and height (scaled to "
                         f"{trunk_h} px high) divide by {p.width_reduction} and {p.height_reduction}, "
                         f"got {width}x{height}")
    image = keras.Input((height, width), dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(image)
    x = layers.Permute((2, 1), name="transpose")(x)  # (width, height): width is time
    x = layers.Reshape((width, height, 1), name="channel")(x)
    if (trunk_w, trunk_h) != (width, height):
        if height % trunk_h == 0:  # an integer factor: averaging is exact area resampling, and cheapest
            x = layers.AveragePooling2D(height // trunk_h, name="downscale")(x)
        else:
            x = layers.Resizing(trunk_w, trunk_h, interpolation="area", name="downscale")(x)
    for k, (filters, pool) in enumerate(zip(p.filters, p.pools), start=1):
        separable = p.separable and k > 1
        conv = layers.SeparableConv2D if separable else layers.Conv2D
        # Without normalization, He initialization keeps the relu activations' scale through the trunk (the
        # seed's and 0.2's networks, whose tests and weights depend on it); batch norm rescales anyway.
        init = {} if p.batch_norm else (
            {"depthwise_initializer": "he_normal", "pointwise_initializer": "he_normal"} if separable
            else {"kernel_initializer": "he_normal"})
        x = conv(filters, 3, strides=p.stem_stride if k == 1 else 1, padding="same", use_bias=not p.batch_norm,
                 activation=None if p.batch_norm else "relu", name=f"conv{k}", **init)(x)
        if p.batch_norm:
            x = layers.BatchNormalization(name=f"norm{k}")(x)
            x = layers.ReLU(name=f"relu{k}")(x)
        if pool != (1, 1):
            x = layers.MaxPooling2D(pool, name=f"max{k}")(x)
    steps, rows = trunk_w // p.width_reduction, trunk_h // p.height_reduction
    x = layers.Reshape((steps, rows * p.filters[-1]), name="reshape")(x)
    x = layers.Dense(p.dense, activation="relu", name="dense1")(x)
    x = layers.Bidirectional(layers.GRU(p.rnn, return_sequences=True, reset_after=True, name="gru1"),
                             merge_mode="sum", name="gru1")(x)
    x = layers.Bidirectional(layers.GRU(p.rnn, return_sequences=True, reset_after=True, name="gru2"),
                             merge_mode="concat", name="gru2")(x)
    logits = layers.Dense(num_classes, name="logits", dtype="float32")(x)
    return keras.Model(image, logits, name=f"textsynth_{preset}")


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one forward pass for one line: convolutions, dense layers and GRUs (the rest is small)."""
    total = 0
    for layer in model.layers:
        inner = [layer.forward_layer, layer.backward_layer] if isinstance(layer, layers.Bidirectional) else [layer]
        for lay in inner:
            if isinstance(lay, layers.SeparableConv2D):
                _, h, w, c_out = lay.output.shape
                c_in, k = lay.input.shape[-1], math.prod(lay.kernel_size)
                total += h * w * (k * c_in + c_in * c_out)
            elif isinstance(lay, layers.Conv2D):
                _, h, w, c_out = lay.output.shape
                total += h * w * math.prod(lay.kernel_size) * lay.input.shape[-1] * c_out
            elif isinstance(lay, layers.Dense):
                positions = math.prod(lay.output.shape[1:-1]) or 1
                total += positions * lay.input.shape[-1] * lay.units
            elif isinstance(lay, layers.GRU):
                steps, features = layer.input.shape[1], layer.input.shape[-1]
                total += steps * 3 * (features * lay.units + lay.units * lay.units)
    return int(total)
