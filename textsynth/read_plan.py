"""The read plan: which contiguous reads make each window of an epoch, and how a window is cut into batches."""

from __future__ import annotations

import dataclasses
import math
import sys
import threading
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
    """What the framework adapters need of a reader: the image shape, an epoch's windows, a window's samples."""

    height: int
    width: int
    max_len: int

    def windows(self, plan: ReadPlan) -> list[Window]: ...

    def read_window(self, window: Window, threads: bool = False, order: np.ndarray | None = None,
                    buffers: WindowBuffers | None = None) -> dict[str, np.ndarray]: ...


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


class WindowBuffers:
    """The image arrays of one pass's windows, recycled and 64-byte aligned. Memory fresh from the system costs a
    page fault every 4 KB on first touch (measured here: as long as inflating the lines into it), so a window's
    memory is reused once nothing refers to it any more (no batch, no tensor made from one); and TensorFlow
    wraps a 64-byte aligned array where it copies any other. Lives as long as the pass."""

    ALIGN = 64

    def __init__(self, keep: int = 4):
        self._keep = keep
        self._owned: list[tuple[np.ndarray, int]] = []  # (an array owning memory, where its aligned part starts)
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...]) -> np.ndarray:
        size = math.prod(shape)
        with self._lock:
            free = []
            for k, (owner, start) in enumerate(self._owned):
                # Every array handed out is a view of `owner`, and so is every view of those (numpy points a view
                # at the array that owns the memory): referenced only by the list's tuple, this loop and
                # getrefcount's argument, nothing uses it.
                if sys.getrefcount(owner) == 3:
                    if owner.size - start >= size:
                        return owner[start:start + size].reshape(shape)
                    free.append(k)
            owner = np.empty(size + self.ALIGN, np.uint8)
            start = -owner.ctypes.data % self.ALIGN
            if len(self._owned) >= self._keep and free:  # a smaller one nothing uses makes room
                del self._owned[free[0]]
            if len(self._owned) < self._keep:
                self._owned.append((owner, start))
            return owner[start:start + size].reshape(shape)


def window_order(window: Window, plan: ReadPlan, number: int) -> np.ndarray | None:
    """The order in which window `number`'s samples are batched: a shuffle drawn from (seed, epoch, window
    number), or None for the order they are read in."""
    if not plan.shuffle:
        return None
    return np.random.default_rng([plan.seed, plan.epoch, number]).permutation(sum(b - a for _, a, b in window))


def cut_batches(data: dict[str, np.ndarray], plan: ReadPlan) -> Iterator[dict[str, np.ndarray]]:
    """A window's arrays, already in batch order (`window_order`), cut into batches: views, not copies."""
    n = len(data["index"])
    for start in range(0, n, plan.batch_size):
        if plan.drop_remainder and start + plan.batch_size > n:
            return
        yield {k: v[start:start + plan.batch_size] for k, v in data.items()}


def cut_batch_groups(data: dict[str, np.ndarray], plan: ReadPlan, group: int) -> Iterator[dict[str, np.ndarray]]:
    """The same batches, up to `group` of them stacked along a new first axis (views, not copies): a framework
    that pays a fixed cost per element it is handed (tf.data's generator) pays it once a group. A short last
    batch comes alone, as a group of one."""
    n, size = len(data["index"]), plan.batch_size
    full = n - n % size
    for start in range(0, full, size * group):
        stop = min(full, start + size * group)
        yield {k: v[start:stop].reshape(((stop - start) // size, size) + v.shape[1:]) for k, v in data.items()}
    if full < n and not plan.drop_remainder:
        yield {k: v[None, full:] for k, v in data.items()}
