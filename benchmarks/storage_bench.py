"""Stored forms of the images: KB a sample, write and read speed on the same default lines, one core.

    python benchmarks/storage_bench.py [--n 20000] [--preset default]

Paints n lines of the preset once, before and after the sensor stage (speckle and paper texture, the last,
regenerable stage), then encodes them every way below in chunks of 64 lines (per line for PNG and WebP) and
decodes them again. Write = encoding alone, read = decoding alone (plus undoing the rows and replaying the
sensor stage where the form needs it); the baseline is a plain copy of the raw pixels. Format 3 (the default)
is "lines before the sensor stage, rows less the row above, zstd 1".
"""

from __future__ import annotations

import argparse
import time
import zlib

import cv2
import numpy as np
import zstandard

from textsynth import RenderConfig, SampleGenerator
from textsynth.record import params_to_columns
from textsynth.sensor import add_sensor
from textsynth.zstd_chunks import encode_chunk, undo_rows

CHUNK = 16  # format 3's zstd chunk (the other chunked forms use it too: 64 changes them < 1 %)


def paint(preset: str, n: int) -> tuple[np.ndarray, np.ndarray, dict, SampleGenerator]:
    gen = SampleGenerator(RenderConfig.from_dict({"preset": preset, "n": max(n, 1)}))
    c = gen.config.canvas
    lines = np.empty((n, c.height, c.width), np.uint8)
    params = []
    for i in range(n):
        p, _ = gen.sample(i, out=lines[i], sensor=False)
        params.append(p)
    cols = {f"params/{k}": v for k, v in params_to_columns(params).items()}
    pixels = lines.copy()
    add_sensor(pixels, cols, 0, gen.painter.compositor.sensor)
    return pixels, lines, cols, gen


def timed(fn, blocks) -> tuple[list, float]:
    t = time.perf_counter()
    out = [fn(b) for b in blocks]
    return out, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--quick", action="store_true", help="only the raw baseline and format 3 (every preset)")
    args = parser.parse_args()
    pixels, lines, cols, gen = paint(args.preset, args.n)
    n, shape = len(pixels), pixels.shape[1:]
    sensor = gen.painter.compositor.sensor
    print(f"{args.preset}: {n:,} lines {shape[1]}x{shape[0]}")

    def chunks(a: np.ndarray) -> list[np.ndarray]:
        return [a[i:i + CHUNK] for i in range(0, n, CHUNK)]

    def z(level: int, delta: bool):
        cc = zstandard.ZstdCompressor(level=level)
        return (lambda c: encode_chunk(c, cc)) if delta else (lambda c: cc.compress(c.tobytes()))

    dz = zstandard.ZstdDecompressor()

    def unz(delta: bool, replay: bool):
        def decode(blob_first):
            blob, first = blob_first
            rows = np.frombuffer(dz.decompress(blob), np.uint8).reshape(-1, *shape)
            out = undo_rows(rows, np.empty_like(rows)) if delta else rows.copy()
            if replay:
                add_sensor(out, cols, first, sensor)
            return out
        return decode

    def gz(level: int):
        return lambda c: zlib.compress(c.tobytes(), level)

    def ungz(replay: bool):
        def decode(blob_first):
            out = np.frombuffer(zlib.decompress(blob_first[0]), np.uint8).reshape(-1, *shape).copy()
            if replay:
                add_sensor(out, cols, blob_first[1], sensor)
            return out
        return decode

    png = (lambda c: [cv2.imencode(".png", im)[1].tobytes() for im in c],
           lambda b: [cv2.imdecode(np.frombuffer(x, np.uint8), cv2.IMREAD_GRAYSCALE) for x in b[0]])
    webp = (lambda c: [cv2.imencode(".webp", im, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes() for im in c],
            lambda b: [cv2.imdecode(np.frombuffer(x, np.uint8), cv2.IMREAD_GRAYSCALE) for x in b[0]])
    options = [
        ("raw pixels (format 1, the baseline: a copy)", pixels, lambda c: c.copy(), lambda b: b[0].copy(), None),
        ("lines before the sensor stage, rows less the row above, zstd 1 (format 3)", lines, z(1, True),
         unz(True, True), pixels),
    ]
    if not args.quick:
        options[1:1] = [
            ("pixels, gzip 4 (format 1 --compression gzip)", pixels, gz(4), ungz(False), pixels),
            ("pixels, zstd 3", pixels, z(3, False), unz(False, False), pixels),
            ("lines before the sensor stage, gzip 4", lines, gz(4), ungz(True), pixels),
            ("lines before the sensor stage, zstd 3", lines, z(3, False), unz(False, True), pixels),
            ("... rows less the row above, zstd 3", lines, z(3, True), unz(True, True), pixels),
            ("... rows less the row above, zstd 5", lines, z(5, True), unz(True, True), pixels),
            ("lines before the sensor stage, PNG per line", lines, png[0], png[1], None),
            ("lines before the sensor stage, WebP lossless per line", lines, webp[0], webp[1], None),
        ]
    print("| stored form | KB/sample | write /s | read /s (with the sensor stage where needed) |")
    print("|---|---|---|---|")
    for name, source, encode, decode, expect in options:
        blobs, write = timed(encode, chunks(source))
        size = sum(len(b) if isinstance(b, bytes) else (b.nbytes if hasattr(b, "nbytes") else sum(map(len, b)))
                   for b in blobs)
        decoded, read = timed(decode, [(b, k * CHUNK) for k, b in enumerate(blobs)])
        if expect is not None:
            assert np.array_equal(np.concatenate(decoded), expect), name
        print(f"| {name} | {size / n / 1000:.2f} | {n / write:,.0f} | {n / read:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
