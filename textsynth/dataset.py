"""The reader: open a dataset folder (treated as untrusted), index samples, and stream shuffled batches."""

from __future__ import annotations

import bisect
import dataclasses
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from textsynth.charset import Charset
from textsynth.config import RenderConfig
from textsynth.errors import DatasetError, TextsynthError
from textsynth.manifest import Manifest, ShardRecord
from textsynth.record import SampleParams, params_from_columns
from textsynth.shard_safety import open_shard, read_images, shard_errors
from textsynth.shards import read_small_columns

BLOCK_SAMPLES = 512  # contiguous samples read at once when shuffling
WINDOW_BLOCKS = 8  # blocks mixed together in memory (from all over the dataset)


@dataclass(frozen=True)
class Sample:
    index: int
    image: np.ndarray  # uint8 (H, W)
    labels: np.ndarray  # int32 label ids, no padding
    text: str
    params: SampleParams

    @property
    def width(self) -> int:
        """The image's true width: columns [0, width) hold the line (less than the stored width if variable)."""
        return self.params.width


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


def shard_path(root: Path, record: ShardRecord) -> Path:
    """The shard's path, refusing anything (a symlink included) that leads outside the dataset folder."""
    path = root / record.file
    real = path.resolve()
    if real.parent != root.resolve():
        raise DatasetError(f"shard {record.file!r} leads outside the dataset folder ({real})")
    if not real.is_file():
        raise DatasetError(f"shard {record.file} listed in the manifest is missing from {root} (or is not a file)")
    return real


class Dataset:
    """A textsynth dataset (or a view of some of its samples): `len`, `ds[i]`, batches, framework adapters."""

    def __init__(self, root: str | Path, manifest: Manifest, segments: Sequence[Segment] | None = None):
        self.root = Path(root)
        self.manifest = manifest
        self.charset = Charset(manifest.charset)
        self.height, self.width, self.max_len = manifest.height, manifest.width, manifest.max_len
        if segments is None:
            segments = [Segment(r, 0, r.count) for r in manifest.shards]
        self.segments = [s for s in segments if len(s) > 0]
        self._offsets = np.cumsum([0] + [len(s) for s in self.segments])
        self._files: dict[str, h5py.File] = {}
        self._image_sets: dict[str, h5py.Dataset] = {}  # each open shard's `images`, looked up once
        self._columns: dict[str, dict[str, np.ndarray]] = {}
        self._pid = os.getpid()
        self._lock = threading.Lock()  # tf.data reads windows from several threads

    # -- opening ------------------------------------------------------------------------------------

    @property
    def shards(self) -> list[ShardRecord]:
        seen: dict[int, ShardRecord] = {}
        for s in self.segments:
            seen.setdefault(s.shard.index, s.shard)
        return list(seen.values())

    @property
    def config(self) -> RenderConfig:
        return RenderConfig.from_dict(self.manifest.config, origin="manifest config")

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __repr__(self) -> str:
        return f"Dataset({str(self.root)!r}, {len(self)} samples, {len(self.shards)} shards)"

    def __getstate__(self) -> dict:
        # h5py handles must never cross processes: each process opens its own.
        state = self.__dict__.copy()
        state["_files"], state["_columns"], state["_image_sets"] = {}, {}, {}
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()
        self._image_sets.clear()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _file(self, record: ShardRecord) -> h5py.File:
        if self._pid != os.getpid():  # forked: drop the parent's handles
            self._files, self._columns, self._image_sets, self._pid = {}, {}, {}, os.getpid()
            self._lock = threading.Lock()
        f = self._files.get(record.file)
        if f is None:
            with self._lock:
                f = self._files.get(record.file)
                if f is None:
                    f = open_shard(shard_path(self.root, record), record, self.manifest)
                    self._image_sets[record.file] = f["images"]
                    self._files[record.file] = f
        return f

    def _small_columns(self, record: ShardRecord) -> dict[str, np.ndarray]:
        """A shard's labels, lengths, texts and params, read once (under 1 KB per sample) and checked."""
        cols = self._columns.get(record.file)
        if cols is None:
            f = self._file(record)
            with self._lock:
                cols = self._columns.get(record.file)
                if cols is None:
                    cols = self._columns[record.file] = self._read_columns(f, record)
        return cols

    def shard_columns(self, record: ShardRecord) -> dict[str, np.ndarray]:
        """A shard's checked small columns, read without keeping them (for passes over a whole dataset)."""
        cols = self._columns.get(record.file)
        if cols is None:
            f = self._file(record)
            with self._lock:
                cols = self._read_columns(f, record)
        return cols

    def _read_columns(self, f: h5py.File, record: ShardRecord) -> dict[str, np.ndarray]:
        with shard_errors(record.file):
            cols = read_small_columns(f)
        check_columns(cols, record, len(self.charset), self.max_len)
        return cols

    def _images(self, record: ShardRecord, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Images [start, stop) of a shard (shard-local), read with the bounds of `shard_safety.read_images`."""
        self._file(record)
        return read_images(self._image_sets[record.file], start, stop, out, record.file)

    # -- random access ------------------------------------------------------------------------------

    def _locate(self, i: int) -> tuple[Segment, int]:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"sample {i} is outside this dataset of {n} samples")
        k = bisect.bisect_right(self._offsets, i) - 1
        seg = self.segments[k]
        return seg, seg.start + (i - int(self._offsets[k]))

    def __getitem__(self, i: int) -> Sample:
        seg, j = self._locate(int(i))
        cols = self._small_columns(seg.shard)
        image = self._images(seg.shard, j, j + 1)[0]
        length = int(cols["label_length"][j])
        text = cols["text"][j].decode("utf-8")  # checked when the columns were loaded
        params = params_from_columns(cols, j, text, prefix="params/")
        return Sample(index=params.index, image=image, labels=cols["labels"][j, :length].copy(), text=text,
                      params=params)

    def column(self, name: str) -> np.ndarray:
        """A small per-sample column (`labels`, `label_length`, `text`, `params/<field>`) for the whole view."""
        parts = [self._small_columns(s.shard)[name][s.start:s.stop] for s in self.segments]
        return np.concatenate(parts) if parts else np.empty(0)

    # -- views ------------------------------------------------------------------------------------------

    def select_shards(self, shards: Sequence[int]) -> Dataset:
        """A view of the given shard numbers (as in the manifest)."""
        wanted = set(shards)
        unknown = wanted - {r.index for r in self.manifest.shards}
        if unknown:
            raise TextsynthError(f"no shard {sorted(unknown)} in this dataset")
        return Dataset(self.root, self.manifest, [s for s in self.segments if s.shard.index in wanted])

    def split(self, val: float | Sequence[int]) -> tuple[Dataset, Dataset]:
        """(train, validation) views, without copying: a fraction (the last samples) or a list of shards."""
        if isinstance(val, (int, float)) and not isinstance(val, bool):
            if not 0 < val < 1:
                raise TextsynthError(f"validation fraction must be in (0, 1), got {val}")
            cut = len(self) - max(1, round(len(self) * val))
            train, valid = [], []
            for seg, lo in zip(self.segments, self._offsets[:-1]):
                lo = int(lo)
                if lo + len(seg) <= cut:
                    train.append(seg)
                elif lo >= cut:
                    valid.append(seg)
                else:
                    train.append(Segment(seg.shard, seg.start, seg.start + cut - lo))
                    valid.append(Segment(seg.shard, seg.start + cut - lo, seg.stop))
            return Dataset(self.root, self.manifest, train), Dataset(self.root, self.manifest, valid)
        wanted = set(val)
        valid = self.select_shards(sorted(wanted))
        return Dataset(self.root, self.manifest, [s for s in self.segments if s.shard.index not in wanted]), valid

    # -- batches ----------------------------------------------------------------------------------------

    def windows(self, plan: ReadPlan) -> list[Window]:
        """The epoch's reading plan: windows of contiguous reads whose samples are batched together."""
        return plan_windows(self.segments, plan)

    def read_window(self, window: Window) -> dict[str, np.ndarray]:
        """All samples of a window, read as contiguous blocks (never sample by sample)."""
        n = sum(b - a for _, a, b in window)
        images = np.empty((n, self.height, self.width), np.uint8)
        labels = np.empty((n, self.max_len), np.int32)
        lengths = np.empty(n, np.int32)
        index = np.empty(n, np.int64)
        width = np.empty(n, np.int32)
        o = 0
        for k, a, b in window:
            record = self.segments[k].shard
            self._images(record, a, b, images[o:o + b - a])
            cols = self._small_columns(record)
            labels[o:o + b - a] = cols["labels"][a:b]
            lengths[o:o + b - a] = cols["label_length"][a:b]
            index[o:o + b - a] = cols["params/index"][a:b]
            width[o:o + b - a] = cols["params/width"][a:b]
            o += b - a
        return {"images": images, "labels": labels, "label_length": lengths, "index": index, "width": width}

    def window_batches(self, window: Window, plan: ReadPlan, number: int) -> Iterator[dict[str, np.ndarray]]:
        """The batches of window `number` of the plan's epoch: read it, then cut it into batches."""
        return cut_batches(self.read_window(window), plan, number)

    def batches(self, batch_size: int, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False,
                shards: Sequence[int] | None = None, epoch: int = 0) -> Iterator[dict[str, np.ndarray]]:
        """Numpy batches: images (B, H, W) uint8, labels (B, max_len) int32 padded with -1, label_length (B,),
        index (B,) int64, width (B,) int32 (each image's true width). Shuffling mixes contiguous blocks from
        every shard; `epoch` varies the order."""
        plan = ReadPlan(batch_size, shuffle, seed, epoch, drop_remainder)
        ds = self.select_shards(shards) if shards is not None else self
        for number, window in enumerate(ds.windows(plan)):
            yield from ds.window_batches(window, plan, number)

    # -- adapters ---------------------------------------------------------------------------------------

    def to_tf_dataset(self, batch_size: int, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False,
                      parallel: int | None = None, deterministic: bool = False, epoch: int = 0):
        """A `tf.data.Dataset` of the same batches, windows read in parallel, prefetched.

        The first pass over it is epoch `epoch`; each further pass is the next epoch (a new shuffle). With
        `parallel=1` and `deterministic=True` the batches come in exactly the order of `batches()`.
        """
        from textsynth.tf_adapter import make_tf_dataset

        return make_tf_dataset(self, ReadPlan(batch_size, shuffle, seed, epoch, drop_remainder), parallel,
                               deterministic)

    def to_torch_dataset(self, batch_size: int, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False):
        """A `torch.utils.data.IterableDataset` of the same batches; use `DataLoader(ds, batch_size=None,
        num_workers=N)`. Workers split the epoch's windows and open their own files."""
        from textsynth.torch_adapter import TorchBatches

        return TorchBatches(self, ReadPlan(batch_size, shuffle, seed, 0, drop_remainder))


def label_problem(labels: np.ndarray, lengths: np.ndarray, symbols: int) -> tuple[int, str] | None:
    """The first row whose label ids or length are invalid (ids outside 0..symbols-1, the blank included;
    a length outside 1..label width; padding other than -1), with what is wrong; None when all are valid."""
    width = labels.shape[1]
    bad = np.flatnonzero((lengths < 1) | (lengths > width))
    if bad.size:
        return int(bad[0]), f"label_length {int(lengths[bad[0]])} is outside 1..{width}"
    valid = np.arange(width)[None, :] < lengths[:, None]
    wrong = np.where(valid, (labels < 0) | (labels >= symbols), labels != -1)
    rows = np.flatnonzero(wrong.any(axis=1))
    if rows.size:
        row = int(rows[0])
        col = int(np.flatnonzero(wrong[row])[0])
        if valid[row, col]:
            return row, f"label id {int(labels[row, col])} is outside 0..{symbols - 1}"
        return row, f"label padding is {int(labels[row, col])}, not -1"
    return None


def check_columns(cols: dict[str, np.ndarray], record: ShardRecord, symbols: int, max_len: int) -> None:
    """Refuse a shard whose labels or texts are invalid, naming the shard and the first bad sample: a trainer
    is never fed an out-of-range id, the blank or a bad length."""
    problem = label_problem(cols["labels"], cols["label_length"], symbols)
    if problem is not None:
        row, why = problem
        raise DatasetError(f"shard {record.file}: sample {record.first + row}: {why} (run textsynth verify)")
    for row, raw in enumerate(cols["text"]):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DatasetError(f"shard {record.file}: sample {record.first + row}: text is not valid UTF-8 "
                               "(run textsynth verify)") from None


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


def open_dataset(path: str | Path, allow_incomplete: bool = False) -> Dataset:
    """Open a dataset folder written by `textsynth render`. Nothing is read until asked for."""
    root = Path(path)
    if str(path) == "":
        raise TextsynthError("dataset folder is an empty path")
    if not root.is_dir():
        raise TextsynthError(f"dataset folder {root} does not exist")
    manifest = Manifest.read(root)
    if not manifest.complete and not allow_incomplete:
        raise TextsynthError(f"{root} is an unfinished render ({len(manifest.shards)} of {manifest.shard_count} "
                             "shards); finish it with the same render command, or pass allow_incomplete=True")
    for record in manifest.shards:
        shard_path(root, record)
    return Dataset(root, manifest)
