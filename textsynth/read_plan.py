"""The read plan: which contiguous reads make each window of an epoch, and how a window is cut into batches."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from textsynth.errors import TextsynthError
from textsynth.manifest import ShardRecord

BLOCK_SAMPLES = 512  # contiguous samples read at once when shuffling
WINDOW_BLOCKS = 8  # blocks mixed together in memory (from all over the dataset)


@dataclass(frozen=True)
class Segment:
    """A contiguous run of samples [start, stop) of one shard (shard-local positions)."""

    shard: ShardRecord
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


# A window is a list of (segment number, start, stop) reads; its samples are batched together.
Window = list[tuple[int, int, int]]


@dataclass(frozen=True)
class ReadPlan:
    """How one epoch is read: batch size, whether and with which seed to shuffle, the epoch, short last batch."""

    batch_size: int
    shuffle: bool = True
    seed: int = 0
    epoch: int = 0
    drop_remainder: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise TextsynthError(f"batch size must be a positive whole number, got {self.batch_size!r}")

    def for_epoch(self, epoch: int) -> ReadPlan:
        return dataclasses.replace(self, epoch=epoch)


class WindowReader(Protocol):
    """What the framework adapters need of a reader: the image shape, an epoch's windows, a window's batches."""

    height: int
    width: int
    max_len: int

    def windows(self, plan: ReadPlan) -> list[Window]: ...

    def window_batches(self, window: Window, plan: ReadPlan, number: int) -> Iterator[dict[str, np.ndarray]]: ...


def plan_windows(segments: Sequence[Segment], plan: ReadPlan) -> list[Window]:
    """Windows of contiguous reads for one epoch. Every window but the last holds a multiple of the batch
    size; the last gathers the leftovers. So windows are independent units of work (for parallel readers),
    and every sample appears exactly once per epoch."""
    if not plan.shuffle:
        return sequential_windows(segments, plan.batch_size, max(BLOCK_SAMPLES * WINDOW_BLOCKS, plan.batch_size))
    return shuffled_windows(segments, plan)


def shuffled_windows(segments: Sequence[Segment], plan: ReadPlan) -> list[Window]:
    """Blocks of BLOCK_SAMPLES contiguous samples in an order drawn from (seed, epoch), WINDOW_BLOCKS a window."""
    rng = np.random.default_rng([plan.seed, plan.epoch])
    blocks = [(k, a, min(a + BLOCK_SAMPLES, seg.stop))
              for k, seg in enumerate(segments) for a in range(seg.start, seg.stop, BLOCK_SAMPLES)]
    order = rng.permutation(len(blocks))
    per_window = max(WINDOW_BLOCKS, -(-plan.batch_size // BLOCK_SAMPLES))
    windows, leftovers = [], []
    for w in range(0, len(order), per_window):
        reads = [blocks[b] for b in order[w:w + per_window]]
        spare = sum(b - a for _, a, b in reads) % plan.batch_size
        while spare:  # hand the tail to the leftover window, as contiguous reads
            k, a, b = reads.pop()
            take = min(spare, b - a)
            leftovers.append((k, b - take, b))
            if b - take > a:
                reads.append((k, a, b - take))
            spare -= take
        if reads:
            windows.append(reads)
    if leftovers:
        windows.append(leftovers)
    return windows


def sequential_windows(segments: Sequence[Segment], batch_size: int, size: int) -> list[Window]:
    """Windows in sample order, each a multiple of the batch size (reads may span shards)."""
    size = size - size % batch_size
    windows: list[Window] = []
    current: Window = []
    filled = 0
    for k, seg in enumerate(segments):
        a = seg.start
        while a < seg.stop:
            take = min(seg.stop - a, size - filled)
            current.append((k, a, a + take))
            filled += take
            a += take
            if filled == size:
                windows.append(current)
                current, filled = [], 0
    if current:
        windows.append(current)
    return windows


def cut_batches(data: dict[str, np.ndarray], plan: ReadPlan, number: int) -> Iterator[dict[str, np.ndarray]]:
    """A window's arrays cut into batches, shuffled within the window by (seed, epoch, window number)."""
    n = len(data["index"])
    perm = np.random.default_rng([plan.seed, plan.epoch, number]).permutation(n) if plan.shuffle else None
    for start in range(0, n, plan.batch_size):
        if plan.drop_remainder and start + plan.batch_size > n:
            return
        if perm is not None:
            pick = perm[start:start + plan.batch_size]
            yield {k: v[pick] for k, v in data.items()}
        else:
            yield {k: v[start:start + plan.batch_size] for k, v in data.items()}
