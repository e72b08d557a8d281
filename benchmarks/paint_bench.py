"""Painter speed against the bare-Pillow floor, one process, same run.

    python benchmarks/paint_bench.py [--n 3000]

Floor, per image: ImageDraw.text of the whole string on a 512x64 canvas, Image.rotate of the whole
canvas (bilinear), float64 numpy Gaussian noise added and clipped, conversion to a uint8 array.
Painter: textsynth's SampleGenerator (text + sample_params + paint) with the default config.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from textsynth import RenderConfig, SampleGenerator


def floor_rate(texts: list[str], font_paths: list[str], width: int, height: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    fonts = [ImageFont.truetype(p, 32, layout_engine=ImageFont.Layout.BASIC) for p in font_paths]
    start = time.perf_counter()
    for text in texts:
        img = Image.new("L", (width, height), 255)
        ImageDraw.Draw(img).text((10, 12), text, font=fonts[rng.integers(len(fonts))], fill=0)
        img = img.rotate(rng.uniform(-3, 3), resample=Image.Resampling.BILINEAR, fillcolor=255)
        arr = np.asarray(img, dtype=np.float64) + rng.normal(0, 25, (height, width))
        np.clip(arr, 0, 255, out=arr).astype(np.uint8)
    return len(texts) / (time.perf_counter() - start)


def painter_rate(gen: SampleGenerator, start: int, count: int) -> float:
    t = time.perf_counter()
    for i in range(start, start + count):
        gen.sample(i)
    return count / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="images per measurement")
    parser.add_argument("--preset", default="default", help="config preset to measure (default: default)")
    args = parser.parse_args()
    config = RenderConfig.from_dict({"preset": args.preset, "n": args.n})
    gen = SampleGenerator(config)
    texts = [gen.params(i).text for i in range(args.n)]
    paths = [f.path for f in gen.fontset.fonts]
    floor = floor_rate(texts, paths, config.canvas.width, config.canvas.height)
    cold = painter_rate(SampleGenerator(config), 0, args.n)  # fresh glyph caches
    warm = painter_rate(gen, args.n, args.n)  # caches filled by the first pass over texts
    print(f"python {platform.python_version()}, {platform.machine()}, 1 process, {args.n} images each, "
          f"preset {args.preset}, {len(paths)} fonts")
    print(f"bare-Pillow floor       : {floor:8.0f} images/s")
    print(f"textsynth painter (cold): {cold:8.0f} images/s  = {cold / floor:.2f}x floor")
    print(f"textsynth painter (warm): {warm:8.0f} images/s  = {warm / floor:.2f}x floor")


if __name__ == "__main__":
    main()
