"""Training speed of recognizer architectures on this machine: parameters, multiply-adds per line and
steady-state training samples/s (forward + backward + sparse CTC + Adam), each measured in the same process
on the same fixed batch, so the figures compare the networks and nothing else.

    python benchmarks/arch_sweep.py [--batch-size 64] [--steps 20] [--arch small --arch small_v2 ...]

Without --arch it times every preset of `reference_model.model.PRESETS` and the candidates below (the
variants tried while choosing `small`; see reference_model/README.md, "Choosing the network").
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from reference_model.quiet import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()
from reference_model.model import PRESETS, Preset, build_model, multiply_adds  # noqa: E402

# Variants tried beside the presets (names say what differs from `small`).
CANDIDATES: dict[str, Preset] = {
    # textsynth 0.2's trunk (a little wider) on the line averaged to 32 px: the cheap control
    "small_lowres": Preset(filters=(16, 32, 64), pools=((2, 2), (2, 2), (1, 2)), dense=128, rnn=128,
                           input_height=32),
    # `small`'s trunk with plain 3x3 convs instead of depthwise-separable ones (4 convs, then 6)
    "stem_plain4": Preset(filters=(32, 64, 128, 128), pools=((1, 1), (2, 2), (1, 2), (1, 2)), dense=256, rnn=160,
                          input_height=32, batch_norm=True, stem_stride=2),
    "stem_plain4_nobn": Preset(filters=(32, 64, 128, 128), pools=((1, 1), (2, 2), (1, 2), (1, 2)), dense=256,
                               rnn=160, input_height=32, stem_stride=2),
    "stem_plain6": Preset(filters=(32, 64, 96, 128, 160, 192), pools=((1, 1), (2, 2), (1, 1), (1, 2), (1, 1), (1, 2)),
                          dense=256, rnn=160, input_height=32, batch_norm=True, stem_stride=2),
    "stem_plain4_wide": Preset(filters=(48, 96, 160, 192), pools=((1, 1), (2, 2), (1, 2), (1, 2)), dense=256, rnn=192,
                               input_height=32, batch_norm=True, stem_stride=2),
    # `small` without the stride-2 stem (its first conv and batch norm at the whole 32 x 256)
    "nostem_sep": Preset(filters=(32, 64, 96, 128, 160, 192), pools=((2, 2), (1, 1), (2, 2), (1, 2), (1, 1), (1, 2)),
                         dense=256, rnn=160, input_height=32, batch_norm=True, separable=True),
    # `small` at the full 64 px (no in-graph downscale)
    "h64_sep": Preset(filters=(16, 48, 96, 128, 160, 192), pools=((2, 2), (2, 2), (2, 2), (1, 2), (1, 1), (1, 2)),
                      dense=256, rnn=160, batch_norm=True, separable=True),
}


def time_architecture(name: str, batch_size: int, steps: int, width: int = 512, height: int = 64) -> dict:
    """The benchmark's training step, timed on one fixed batch of random lines (no data pipeline)."""
    import itertools

    import tensorflow as tf

    from reference_model.benchmark import time_training, train_step
    from reference_model.ctc import ctc_loss

    model = build_model(name, width, height, 69)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.integers(0, 256, (batch_size, height, width), dtype=np.uint8))
    labels = np.full((batch_size, 16), -1, np.int32)
    for row in labels:
        n = rng.integers(4, 17)
        row[:n] = rng.integers(0, 68, n)
    batch = {"images": images, "labels": tf.constant(labels), "label_length": tf.constant((labels >= 0).sum(1))}
    step = train_step(model, lambda labels, lengths, logits: ctc_loss(labels, logits))
    ms = time_training(step, itertools.repeat(batch), steps)["ms_per_step_median"]
    return {"arch": name, "parameters": model.count_params(), "mmacs": multiply_adds(model) / 1e6,
            "time_steps": int(model.output.shape[1]), "ms_per_step": ms, "samples_per_s": batch_size * 1000 / ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", help="preset or candidate name (repeatable; default: all)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per architecture (after 3 warm-up)")
    args = parser.parse_args()
    for name, preset in CANDIDATES.items():
        PRESETS.setdefault(name, preset)
    names = args.arch or [n for n in PRESETS if n != "image_ocr"]
    print(f"| arch | parameters | M multiply-adds / line | time steps | ms / step (batch {args.batch_size}) "
          f"| training samples/s |\n|---|---|---|---|---|---|", flush=True)
    for name in names:
        r = time_architecture(name, args.batch_size, args.steps)
        print(f"| `{r['arch']}` | {r['parameters']:,} | {r['mmacs']:.1f} | {r['time_steps']} | "
              f"{r['ms_per_step']:.0f} | {r['samples_per_s']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
