"""Painter speed against the bare-Pillow floor, one process, same run.

    python benchmarks/paint_bench.py [--n 3000] [--preset default] [--tight SHARE] [--effects]

Floor, per image: ImageDraw.text of the whole string on a 512x64 canvas, Image.rotate of the whole
canvas (bilinear), float64 numpy Gaussian noise added and clipped, conversion to a uint8 array.
Painter: textsynth's SampleGenerator (text + sample_params + paint) with the default config (or --preset).
Cold: a fresh generator on the first N samples (every glyph rasterized as texts first need it). Warm: the
glyph caches filled for every font and size first (`Painter.warm_caches`, as a long render's workers hold
them), N samples painted to settle, then the next N timed. The warm run is repeated with effects off (the
typesetting alone: layout, fonts, text, rotation, noise). The floor and the two warm painters are timed in
turns, a tenth of N each, so that a machine that speeds up or slows down mid-run (another process, clock
boost) moves all three alike and their ratios hold.
--effects adds a cost table: microseconds per image that each degradation effect adds on its own (always
on, every other effect off), against the same painter with no effect, warm caches.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from textsynth import RenderConfig, SampleGenerator
from textsynth.config import EFFECT_BOUNDS, Effect

ROUNDS = 10  # turns of the floor and the warm painters


class Floor:
    """The bare-Pillow baseline, its fonts opened once."""

    def __init__(self, font_paths: list[str], width: int, height: int, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.fonts = [ImageFont.truetype(p, 32, layout_engine=ImageFont.Layout.BASIC) for p in font_paths]
        self.width, self.height = width, height

    def seconds(self, texts: list[str]) -> float:
        rng, width, height = self.rng, self.width, self.height
        start = time.perf_counter()
        for text in texts:
            img = Image.new("L", (width, height), 255)
            ImageDraw.Draw(img).text((10, 12), text, font=self.fonts[rng.integers(len(self.fonts))], fill=0)
            img = img.rotate(rng.uniform(-3, 3), resample=Image.Resampling.BILINEAR, fillcolor=255)
            arr = np.asarray(img, dtype=np.float64) + rng.normal(0, 25, (height, width))
            np.clip(arr, 0, 255, out=arr).astype(np.uint8)
        return time.perf_counter() - start


def painter_seconds(gen: SampleGenerator, start: int, count: int) -> float:
    t = time.perf_counter()
    for i in range(start, start + count):
        gen.sample(i)
    return time.perf_counter() - t


def painter_rate(gen: SampleGenerator, start: int, count: int) -> float:
    return count / painter_seconds(gen, start, count)


def warmed(config: RenderConfig, n: int) -> SampleGenerator:
    """A generator with every glyph cache filled and its first `n` samples painted (banks, shapes)."""
    gen = SampleGenerator(config)
    gen.painter.warm_caches()
    painter_seconds(gen, 0, n)
    return gen


def effect_config(n: int, effect: str | None) -> RenderConfig:
    """The default config with every effect off, or only `effect` on for every sample."""
    config = RenderConfig(n=n)
    for name in EFFECT_BOUNDS:
        e = getattr(config.effects, name)
        setattr(config.effects, name, Effect(1.0 if name == effect else 0.0, e.amount))
    return config


def effect_costs(n: int) -> None:
    def us_per_image(effect: str | None) -> float:
        gen = SampleGenerator(effect_config(n, effect))
        gen.painter.warm_caches()
        painter_rate(gen, 0, n)  # the banks and the texts' shapes
        return 1e6 / painter_rate(gen, 0, n)

    base = us_per_image(None)
    print(f"\neffect costs, warm, {n} images each (painter with no effect: {base:.0f} us/image)")
    print("| effect | us/image added |\n|---|---|")
    for name in EFFECT_BOUNDS:
        print(f"| {name} | {us_per_image(name) - base:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="images per measurement")
    parser.add_argument("--preset", default="default", help="the painter's preset (default: default)")
    parser.add_argument("--tight", type=float, default=None, help="typeset.tight: the share of lines drawn at the "
                        "largest size that fits (default: the preset's)")
    parser.add_argument("--effects", action="store_true", help="also print the per-effect cost table")
    args = parser.parse_args()
    extra = {} if args.tight is None else {"typeset": {"tight": args.tight}}
    config = RenderConfig.from_dict({"preset": args.preset, "n": args.n, **extra})
    gen = SampleGenerator(config)
    texts = [gen.params(i).text for i in range(args.n)]
    paths = [f.path for f in gen.fontset.fonts]
    baseline = Floor(paths, config.canvas.width, config.canvas.height)
    cold = painter_rate(SampleGenerator(config), 0, args.n)  # fresh glyph caches
    plain = RenderConfig.from_dict({"preset": args.preset, "n": args.n, "effects": {"enabled": False}, **extra})
    painters = [warmed(config, args.n), warmed(plain, args.n)]
    seconds = [0.0, 0.0, 0.0]  # floor, warm, warm with effects off
    bounds = np.linspace(0, args.n, ROUNDS + 1).astype(int)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        seconds[0] += baseline.seconds(texts[lo:hi])
        for k, painter in enumerate(painters, 1):
            seconds[k] += painter_seconds(painter, args.n + lo, hi - lo)
    floor, warm, typeset = (args.n / t for t in seconds)
    print(f"python {platform.python_version()}, {platform.machine()}, 1 process, {args.n} images each, "
          f"preset {args.preset}{'' if args.tight is None else f', tight {args.tight}'}, {len(paths)} fonts")
    for label, rate in (("bare-Pillow floor", floor), ("textsynth painter (cold)", cold),
                        ("textsynth painter (warm)", warm), ("textsynth painter (warm, effects off)", typeset)):
        ratio = "" if rate is floor else f"  = {rate / floor:.2f}x floor"
        print(f"{label:38s}: {rate:6.0f} images/s{ratio}")
    if args.effects:
        effect_costs(min(args.n, 1000))


if __name__ == "__main__":
    main()
