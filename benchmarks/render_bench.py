"""Whole-pipeline speed (`textsynth render`) against the painter alone, same run.

    python benchmarks/render_bench.py [--n 20000] [--workers 2] [--out /tmp/textsynth-bench] [--char-boxes]

Efficiency = pipeline rate / (painter rate x workers). The painter is measured in one process over
n / workers samples from fresh caches, which is what each worker paints, once before and once after the
pipeline; their mean is the reference (this cancels slow drift of a shared machine's speed).

`--char-boxes`: the render with character boxes against the same render without, alternated (off, on, off, on),
and the ratio of their render-phase rates.

`--worker`: what one worker spends a line on, in this process, warm (glyph caches filled, one shard rendered
first): painting alone (the line before the sensor stage, as format 3 stores it) against whole shards of
`--shard-size` lines (painting, row differences, zstd, HDF5 writes, sha256), best of three each. A quiet
core gives figures comparable between commits (`taskset -c 0`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textsynth import RenderConfig, SampleGenerator
from textsynth.pipeline import ShardJob, _generator, render_shard


def painter_rate(n: int, count: int) -> float:
    """Samples/s of one fresh generator painting `count` samples, as one worker does."""
    gen = SampleGenerator(RenderConfig(n=n))
    t = time.perf_counter()
    for i in range(count):
        gen.sample(i)
    return count / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="/tmp/textsynth-bench")
    parser.add_argument("--keep", action="store_true", help="keep the rendered dataset")
    parser.add_argument("--char-boxes", action="store_true", help="compare rendering with and without boxes")
    parser.add_argument("--worker", action="store_true", help="one worker's microseconds a line: painting, shards")
    parser.add_argument("--shard-size", type=int, default=3000, help="lines a shard for --worker")
    args = parser.parse_args()
    if args.char_boxes:
        compare_boxes(args)
        return
    if args.worker:
        worker_costs(args.shard_size)
        return

    per_worker = args.n // args.workers
    before = painter_rate(args.n, per_worker)

    cmd, pipeline, wall, size = render_once(args, keep=args.keep)
    end_to_end = args.n / wall
    after = painter_rate(args.n, per_worker)
    painter = (before + after) / 2  # bracketing the pipeline cancels slow drift of the machine's speed
    print(f"command   : {' '.join(cmd[1:])}")
    print(f"painter alone, 1 process, {per_worker} samples: {painter:8.0f} samples/s "
          f"(mean of {before:.0f} before and {after:.0f} after the pipeline)")
    print(f"pipeline, render phase ({args.workers} workers)  : {pipeline:8.0f} samples/s "
          f"(efficiency {pipeline / (painter * args.workers):.2f})")
    print(f"pipeline, whole command incl. start-up   : {end_to_end:8.0f} samples/s "
          f"(efficiency {end_to_end / (painter * args.workers):.2f}), {wall:.1f} s, {size / 1e9:.2f} GB")


def render_once(args: argparse.Namespace, *extra: str, keep: bool = False) -> tuple[list[str], float, float, int]:
    """One `textsynth render` into --out: (its command, render-phase samples/s, wall seconds of the whole
    command, bytes of the shards); the dataset is removed unless `keep`."""
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "textsynth", "render", "--n", str(args.n), "--workers", str(args.workers),
           "--out", str(out), "--quiet", *extra]
    t = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    summary = done.stdout.strip().splitlines()[-1]
    # "... rendered N in S s = R samples/s ...": the render phase's own rate, from its unrounded time
    rate = float(summary.split(" = ")[1].split(" samples/s")[0].replace(",", ""))
    size = sum(p.stat().st_size for p in out.glob("shard-*.h5"))
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    return cmd, rate, wall, size


def worker_costs(size: int) -> None:
    config = RenderConfig(n=8 * size)
    fontset = SampleGenerator(config).fontset
    with tempfile.TemporaryDirectory() as out:
        jobs = [ShardJob(config.to_dict(), fontset, out, k, k * size, size) for k in range(8)]
        gen = _generator(jobs[0])  # the worker's own generator, as render_shard finds it
        gen.painter.warm_caches()
        render_shard(jobs[0])
        paint, shard = [], []
        for k in range(1, 4):
            t = time.perf_counter()
            for i in range(jobs[k + 3].first, jobs[k + 3].first + size):
                gen.sample(i, sensor=False)
            paint.append((time.perf_counter() - t) / size * 1e6)
            t = time.perf_counter()
            render_shard(jobs[k])
            shard.append((time.perf_counter() - t) / size * 1e6)
    print(f"one worker, warm, best of 3 x {size} lines: painting {min(paint):.0f} us a line, a whole shard "
          f"{min(shard):.0f} us a line (storing: {min(shard) - min(paint):.0f} us)")


def compare_boxes(args: argparse.Namespace) -> None:
    runs: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
    for boxes in (False, True, False, True):
        _, rate, _, size = render_once(args, *(["--char-boxes"] if boxes else []))
        runs[boxes].append((rate, size))
    off, on = (max(rate for rate, _ in runs[b]) for b in (False, True))
    print(f"render --n {args.n} --workers {args.workers}, render phase, best of 2 alternated runs each:")
    print(f"  without boxes : {off:8.0f} samples/s, {runs[False][0][1] / args.n / 1e3:.2f} KB a sample")
    print(f"  --char-boxes  : {on:8.0f} samples/s, {runs[True][0][1] / args.n / 1e3:.2f} KB a sample "
          f"(speed ratio {on / off:.3f})")


if __name__ == "__main__":
    main()
