"""The reader: open a dataset folder (treated as untrusted), index samples, and stream shuffled batches."""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from textsynth.charset import Charset
from textsynth.config import RenderConfig
from textsynth.errors import TextsynthError
from textsynth.format import CHAR_BOXES, RESIDUAL_FORMAT_VERSION, SENSOR_FORMAT_VERSION
from textsynth.manifest import Manifest, ShardRecord
from textsynth.open_shards import OpenShards
from textsynth.read_plan import ReadPlan, Segment, Window, WindowBuffers, cut_batches, plan_windows, window_order
from textsynth.record import SampleParams, params_from_columns
from textsynth.sensor import Sensor, add_sensor
from textsynth.shard_safety import (
    check_columns,
    check_sensor_banks,
    check_sensor_columns,
    check_speckle_bank,
    check_speckle_columns,
    checked_char_boxes,
    open_shard,
    read_images,
    shard_errors,
    shard_path,
    shard_version,
)
from textsynth.shards import read_small_columns
from textsynth.speckle import SpeckleSource, add_speckle, painter_speckle
from textsynth.zstd_chunks import scratch

_PIECE = 128  # samples a decoding thread takes at a time (two zstd chunks)
_DECODERS = min(4, os.cpu_count() or 1)
_POOL: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, the pool)
_POOL_LOCK = threading.Lock()


def _decoder_pool() -> ThreadPoolExecutor:
    """The threads that decode a window's blocks, made on first use in each process (a forked child, such as a
    DataLoader worker, has none of its parent's threads, so it makes its own pool)."""
    global _POOL, _POOL_LOCK
    if _POOL is not None and _POOL[0] != os.getpid():
        _POOL, _POOL_LOCK = None, threading.Lock()  # the parent's lock may have been held when it forked
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = (os.getpid(), ThreadPoolExecutor(_DECODERS, thread_name_prefix="textsynth-decode"))
        return _POOL[1]


@dataclass(frozen=True)
class Sample:
    index: int
    image: np.ndarray  # uint8 (H, W)
    labels: np.ndarray  # int32 label ids, no padding
    text: str
    params: SampleParams
    # float32 (label length, 4, 2): each label character's quadrilateral, x then y (a dataset rendered with
    # --char-boxes; None otherwise)
    char_boxes: np.ndarray | None = None

    @property
    def width(self) -> int:
        """The image's true width: columns [0, width) hold the line (less than the stored width if variable)."""
        return self.params.width


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
        self._open = OpenShards()  # a bounded set of open files, least recently used closed
        self._columns: dict[str, dict[str, np.ndarray]] = {}
        self._speckle: SpeckleSource | None = None  # made when a residual shard is first read
        self._sensor: Sensor | None = None  # made when a sensor shard (format 3) is first read
        self._sensor_shards: set[str] = set()  # the shards whose lines the sensor stage is replayed on
        self._lock = threading.Lock()  # tf.data reads windows from several threads

    # -- opening ------------------------------------------------------------------------------------

    @property
    def shards(self) -> list[ShardRecord]:
        seen: dict[int, ShardRecord] = {}
        for s in self.segments:
            seen.setdefault(s.shard.index, s.shard)
        return list(seen.values())

    @property
    def has_char_boxes(self) -> bool:
        """Whether samples and batches carry `char_boxes` (the dataset was rendered with --char-boxes)."""
        return self.manifest.char_boxes

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
        state["_columns"], state["_speckle"], state["_sensor"] = {}, None, None
        del state["_lock"], state["_open"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._open = OpenShards()

    def close(self) -> None:
        self._open.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open_checked(self, name: str) -> h5py.File:
        record = self._records[name]
        f = open_shard(shard_path(self.root, record), record, self.manifest)
        try:
            version = shard_version(f)
            if version == RESIDUAL_FORMAT_VERSION:
                check_speckle_bank(f, self._speckle_source(), record.file)
            elif version == SENSOR_FORMAT_VERSION:
                check_sensor_banks(f, self._sensor_banks(), record.file)
                with self._lock:
                    self._sensor_shards.add(name)
        except BaseException:
            f.close()
            raise
        return f

    @property
    def _records(self) -> dict[str, ShardRecord]:
        return {r.file: r for r in self.manifest.shards}

    def _speckle_source(self) -> SpeckleSource:
        if self._speckle is None:
            self._speckle = painter_speckle(self.width, self.height, self.manifest.seed)
        return self._speckle

    def _sensor_banks(self) -> Sensor:
        if self._sensor is None:
            self._sensor = Sensor(self.width, self.height, self.manifest.seed)
        return self._sensor

    def _small_columns(self, record: ShardRecord) -> dict[str, np.ndarray]:
        """A shard's labels, lengths, texts and params, read once (under 1 KB per sample) and checked."""
        cols = self._columns.get(record.file)
        if cols is None:
            cols = self._read_columns(record)
            with self._lock:
                cols = self._columns.setdefault(record.file, cols)
        return cols

    def shard_columns(self, record: ShardRecord) -> dict[str, np.ndarray]:
        """A shard's checked small columns, read without keeping them (for passes over a whole dataset)."""
        cols = self._columns.get(record.file)
        return cols if cols is not None else self._read_columns(record)

    def _read_columns(self, record: ShardRecord) -> dict[str, np.ndarray]:
        with self._open.use(record.file, self._open_checked) as shard, shard_errors(record.file):
            cols = read_small_columns(shard.file)
        check_columns(cols, record, len(self.charset), self.max_len)
        if "speckle_mode" in cols:
            check_speckle_columns(cols, record, self._speckle_source())
        if record.file in self._sensor_shards:
            check_sensor_columns(cols, record, self._sensor_banks())
        return cols

    def _images(self, record: ShardRecord, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Images [start, stop) of a shard (shard-local), read with the bounds of `shard_safety.read_images`;
        a residual shard's speckle is added back, a sensor shard's sensor stage replayed, from its checked columns."""
        with self._open.use(record.file, self._open_checked) as shard:
            out = read_images(shard.images, start, stop, out, record.file)
        cols = self._small_columns(record)
        if "speckle_mode" in cols:
            add_speckle(out, cols, start, self._speckle_source())
        elif record.file in self._sensor_shards:
            add_sensor(out, cols, start, self._sensor_banks())
        return out

    def _char_boxes(self, record: ShardRecord, start: int, stop: int) -> np.ndarray:
        """Character boxes [start, stop) of a shard (shard-local), checked to lie on their canvases."""
        with self._open.use(record.file, self._open_checked) as shard, shard_errors(record.file):
            boxes = shard.file[CHAR_BOXES][start:stop]
        return checked_char_boxes(boxes, self._small_columns(record), start, self.height, record)

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
        boxes = self._char_boxes(seg.shard, j, j + 1)[0, :length] if self.has_char_boxes else None
        return Sample(index=params.index, image=image, labels=cols["labels"][j, :length].copy(), text=text,
                      params=params, char_boxes=boxes)

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

    def read_window(self, window: Window, threads: bool = False, order: np.ndarray | None = None,
                    buffers: WindowBuffers | None = None) -> dict[str, np.ndarray]:
        """All samples of a window, read as contiguous blocks (never sample by sample). `order` (a permutation
        of the window's samples, `window_order`) puts sample `order[j]` at position j: each decoded block is
        scattered straight to its places, so shuffling costs no second pass over the pixels. `threads`:
        compressed blocks are decoded by a few threads at once (zstd, numpy and OpenCV release the GIL);
        `batches` and the tf adapter ask for it, the torch adapter (whose workers read windows side by side) does
        not. `buffers`: where the images array comes from (a pass's recycled arrays), else fresh memory."""
        n = sum(b - a for _, a, b in window)
        shape = (n, self.height, self.width)
        images = buffers.take(shape) if buffers is not None else np.empty(shape, np.uint8)
        places = None
        if order is not None:
            places = np.empty(n, np.intp)
            places[order] = np.arange(n)

        def decode(record: ShardRecord, lo: int, hi: int, at: int) -> None:
            if places is None:
                self._images(record, lo, hi, images[at:at + hi - lo])
            else:  # decoded into this thread's buffer, then scattered
                images[places[at:at + hi - lo]] = self._images(record, lo, hi, scratch((hi - lo, *shape[1:]), "piece"))

        pieces, o = [], 0
        for k, a, b in window:
            for lo in range(a, b, _PIECE):
                pieces.append((self.segments[k].shard, lo, min(b, lo + _PIECE), o + lo - a))
            o += b - a
        if threads and len(pieces) > 1 and _DECODERS > 1:
            list(_decoder_pool().map(lambda piece: decode(*piece), pieces))
        else:
            for piece in pieces:
                decode(*piece)
        columns = {"labels": ("labels", np.int32), "label_length": ("label_length", np.int32),
                   "index": ("params/index", np.int64), "width": ("params/width", np.int32)}
        small = {key: np.concatenate([self._small_columns(self.segments[k].shard)[column][a:b]
                                      for k, a, b in window]).astype(dtype, copy=False)
                 for key, (column, dtype) in columns.items()}
        if self.has_char_boxes:
            small[CHAR_BOXES] = np.concatenate([self._char_boxes(self.segments[k].shard, a, b) for k, a, b in window])
        if order is not None:
            small = {key: value[order] for key, value in small.items()}
        return {"images": images, **small}

    def window_batches(self, window: Window, plan: ReadPlan, number: int) -> Iterator[dict[str, np.ndarray]]:
        """The batches of window `number` of the plan's epoch: read it in batch order, then cut it."""
        return cut_batches(self.read_window(window, order=window_order(window, plan, number)), plan)

    def batches(self, batch_size: int, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False,
                shards: Sequence[int] | None = None, epoch: int = 0) -> Iterator[dict[str, np.ndarray]]:
        """Numpy batches: images (B, H, W) uint8, labels (B, max_len) int32 padded with -1, label_length (B,),
        index (B,) int64, width (B,) int32 (each image's true width); a dataset rendered with --char-boxes adds
        char_boxes (B, max_len, 4, 2) float32, NaN past each label. Shuffling mixes contiguous blocks from
        every shard; `epoch` varies the order. A batch is a view into its window's arrays (a few thousand
        samples): copy it if you keep it long after the next window is read."""
        plan = ReadPlan(batch_size, shuffle, seed, epoch, drop_remainder)
        ds = self.select_shards(shards) if shards is not None else self
        buffers = WindowBuffers()
        for number, window in enumerate(ds.windows(plan)):
            order = window_order(window, plan, number)
            yield from cut_batches(ds.read_window(window, threads=True, order=order, buffers=buffers), plan)

    # -- adapters ---------------------------------------------------------------------------------------

    def to_tf_dataset(self, batch_size: int, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False,
                      parallel: int | None = None, deterministic: bool = True, epoch: int = 0):
        """A `tf.data.Dataset` of the same batches, in the same order, prefetched; `parallel` windows (default 2)
        are read ahead while one is handed out, each decoded by the reader's threads.

        The first pass over it is epoch `epoch`; each further pass is the next epoch (a new shuffle). The order
        is always that of `batches()`: `deterministic` is accepted for callers written for 0.3, which could
        trade it for speed.
        """
        from textsynth.tf_adapter import make_tf_dataset

        if parallel is not None and (isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1):
            raise TextsynthError(f"parallel (windows read ahead) must be a positive whole number, got {parallel!r}")
        return make_tf_dataset(self, ReadPlan(batch_size, shuffle, seed, epoch, drop_remainder), parallel or 2)

    def to_torch_dataset(self, batch_size: int, shuffle: bool = True, seed: int = 0, drop_remainder: bool = False):
        """A `torch.utils.data.IterableDataset` of the same batches; use `DataLoader(ds, batch_size=None,
        num_workers=N)`. Workers split the epoch's windows and open their own files."""
        from textsynth.torch_adapter import TorchBatches

        return TorchBatches(self, ReadPlan(batch_size, shuffle, seed, 0, drop_remainder))


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
