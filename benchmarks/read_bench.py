"""Reader speed on a 100k-sample default dataset: shuffled numpy batches, tf.data, random access.

    python benchmarks/read_bench.py [--data DIR] [--compression zstd|none|gzip] [--numpy] [--no-tf]

Renders `textsynth render --n 1e5 --compression C` into DIR first if it holds no dataset (default
/tmp/textsynth-read-bench-C; zstd: format 3, the default; none: format 1's raw pixels).
Every figure is measured with a warm page cache (one untimed pass first). The baseline is h5py
read sample by sample in shuffled order, the access pattern the reader avoids.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from textsynth import open_dataset, sensor, zstd_chunks


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10,.0f} samples/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--compression", default="zstd", help="how to render the dataset if DIR holds none")
    parser.add_argument("--no-tf", action="store_true", help="skip the tf.data figure")
    parser.add_argument("--numpy", action="store_true",
                        help="decode format 3 with the numpy path, not textsynth/_lines.c (for comparison)")
    args = parser.parse_args()
    if args.numpy:
        sensor._lines = zstd_chunks._lines = None
    data = Path(args.data or f"/tmp/textsynth-read-bench-{args.compression}")
    if not (data / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "textsynth", "render", "--n", "1e5", "--out", str(data), "--quiet",
                        "--compression", args.compression], check=True)
    ds = open_dataset(data)
    size = sum(r.bytes for r in ds.shards)
    print(f"dataset: {len(ds):,} samples, {len(ds.shards)} shards, {ds.width}x{ds.height}, format "
          f"{ds.manifest.format_version}, {size / len(ds) / 1000:.2f} KB a sample; decoding: "
          f"{'compiled (textsynth/_lines.c)' if sensor._lines is not None else 'numpy'}")

    for _ in ds.batches(1024, shuffle=False):  # warm the page cache
        pass
    t = time.perf_counter()
    n = sum(len(b["index"]) for b in ds.batches(256, shuffle=True, seed=1))
    shuffled = time.perf_counter() - t
    print(f"batches(256), shuffled, 1 process : {rate(n, shuffled)}")

    import h5py
    import hdf5plugin  # noqa: F401  (HDF5's zstd filter: plain h5py reads a format 3 shard's stored lines)

    order = np.random.default_rng(0).permutation(len(ds))[:5000]
    files = {r.index: h5py.File(data / r.file, "r") for r in ds.shards}
    size = ds.manifest.shard_size
    t = time.perf_counter()
    for i in order:
        files[int(i) // size]["images"][int(i) % size]
    baseline = time.perf_counter() - t
    print(f"baseline: plain h5py, one sample at a time, shuffled: {rate(len(order), baseline)}")

    t = time.perf_counter()
    for i in order:
        ds[int(i)]
    single = time.perf_counter() - t
    print(f"ds[i], random single samples      : {rate(len(order), single)}")

    if not args.no_tf:
        tfds = ds.to_tf_dataset(64, shuffle=True, seed=1)
        for _ in tfds.take(50):
            pass
        for label in ("first full pass", "a later pass"):  # the first also pays TensorFlow's start-up
            t = time.perf_counter()
            n = sum(int(b["index"].shape[0]) for b in tfds)
            print(f"to_tf_dataset(64), {label:16}: {rate(n, time.perf_counter() - t)}")
    print(f"shuffled batches vs the sample-by-sample baseline: {(len(ds) / shuffled) / (len(order) / baseline):.1f}x")


if __name__ == "__main__":
    main()
