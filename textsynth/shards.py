"""Shard storage: the HDF5 layout of one shard, written crash-safely (temp name, fsync, rename).
The checks that make a shard safe to read live in `shard_safety`."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import threading
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import zstandard

from textsynth.fileio import commit_file, file_sha256
from textsynth.format import (
    CHAR_BOXES,
    CHAR_BOXES_GZIP_LEVEL,
    CHUNK_SAMPLES,
    COLUMN_CHUNK_BYTES,
    FORMAT_NAME,
    FORMAT_VERSION,
    GZIP_LEVEL,
    RESIDUAL_FORMAT_VERSION,
    RESIDUAL_GZIP_LEVEL,
    SENSOR_FORMAT_VERSION,
    ZSTD_CHUNK_SAMPLES,
    ZSTD_FILTER,
    ZSTD_LEVEL,
    shard_bytes_bound,
)
from textsynth.record import LATER_PARAM_DEFAULTS, PARAM_DTYPES, SampleParams, params_to_columns
from textsynth.sensor import Sensor
from textsynth.speckle import MODE, SpeckleSource, remove_speckle
from textsynth.zstd_chunks import encode_chunk

PARTIAL_SUFFIX = ".partial"


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.h5"


def _load_sync_file_range():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    return fn


_SYNC_FILE_RANGE = _load_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2
_FALLOC_FL_KEEP_SIZE = 1
# HDF5 files whose close failed after a write error: HDF5 crashes (SIGSEGV) when such a handle is freed, so they
# are kept alive here and `hdf5_poisoned()` tells the CLI to leave with os._exit once its message is printed.
_POISONED: list = []


def _load_fallocate():
    try:
        fn = ctypes.CDLL(None, use_errno=True).fallocate
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    return fn


_FALLOCATE = _load_fallocate()


def hdf5_poisoned() -> bool:
    """True once a shard file could not be closed after a write error (the process must not free it)."""
    return bool(_POISONED)


def reserve_space(path: Path, nbytes: int) -> None:
    """Make sure `nbytes` can be written to `path` before HDF5 writes any data: HDF5 cannot recover from a failed
    write (closing such a file crashes), so running out of space must happen here. Checks the file size limit
    (ulimit -f) and reserves the blocks (fallocate, keeping the file size; freed again by `close`)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY and nbytes > soft:
        raise OSError(errno.EFBIG, f"the shard needs up to {nbytes} bytes, the file size limit is {soft}",
                      str(path))
    if _FALLOCATE is None:
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        if _FALLOCATE(fd, _FALLOC_FL_KEEP_SIZE, 0, nbytes) != 0:
            code = ctypes.get_errno()
            if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise OSError(code, os.strerror(code), str(path))
            # EOPNOTSUPP and the like: the file system cannot reserve; the free-space preflight has to do
    finally:
        os.close(fd)


def start_writeback(fd: int) -> None:
    """Ask Linux to start writing dirty pages now, so the final fsync has little left to wait for."""
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


def _write_attrs(f: h5py.File, attrs: dict) -> None:
    for key, value in {"format": FORMAT_NAME, **attrs}.items():
        f.attrs[key] = value


def _zstd_images(f: h5py.File, shape: tuple[int, int, int], chunks: tuple[int, int, int]) -> h5py.Dataset:
    """`images` declaring the Zstandard filter; its chunks are compressed here and written directly. hdf5plugin is
    imported first in every writing process: HDF5 records a registered filter's name (and lets it adjust its
    parameters) but not an unregistered one's, so a shard's bytes would otherwise depend on what else the
    process had imported."""
    import hdf5plugin  # noqa: F401

    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(chunks)
    dcpl.set_filter(ZSTD_FILTER, h5py.h5z.FLAG_OPTIONAL, (ZSTD_LEVEL,))
    dcpl.set_obj_track_times(False)
    space = h5py.h5s.create_simple(shape)
    return h5py.Dataset(h5py.h5d.create(f.id, b"images", h5py.h5t.NATIVE_UINT8, space, dcpl=dcpl))


def _column_options(shape: tuple[int, ...], dtype: np.dtype, compressed: bool, level: int = GZIP_LEVEL) -> dict:
    """A small column's storage: contiguous, or (a version 3 shard) gzip in chunks of at most COLUMN_CHUNK_BYTES,
    which bounds what a hostile chunk can inflate to before HDF5's filter notices."""
    if not compressed:
        return {}
    row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    rows = max(1, min(shape[0], COLUMN_CHUNK_BYTES // row))
    return {"chunks": (rows, *shape[1:]), "compression": "gzip", "compression_opts": level}


def _create_datasets(f: h5py.File, count: int, width: int, height: int, max_len: int, max_text_bytes: int,
                     compression: str) -> tuple[h5py.Dataset, h5py.Dataset, h5py.Dataset, h5py.Dataset,
                                                dict[str, h5py.Dataset]]:
    """The shard's datasets, empty: images, labels, label_length, text and the params columns."""
    opts = {"track_times": False}
    chunks = (min(ZSTD_CHUNK_SAMPLES if compression == "zstd" else CHUNK_SAMPLES, count), height, width)
    if compression == "zstd":
        images = _zstd_images(f, (count, height, width), chunks)
    else:
        level = {"gzip": GZIP_LEVEL, "residual": RESIDUAL_GZIP_LEVEL}.get(compression)
        gzip = {"compression": "gzip", "compression_opts": level} if level is not None else {}
        images = f.create_dataset("images", (count, height, width), np.uint8, chunks=chunks, **gzip, **opts)
    packed = compression == "zstd"
    text_type = h5py.string_dtype("utf-8", max_text_bytes)

    def column(group, name: str, shape: tuple[int, ...], dtype, **extra) -> h5py.Dataset:
        return group.create_dataset(name, shape, dtype, **_column_options(shape, np.dtype(dtype), packed),
                                    **extra, **opts)

    labels = column(f, "labels", (count, max_len), np.int32, fillvalue=-1)
    label_length = column(f, "label_length", (count,), np.int32)
    text = column(f, "text", (count,), text_type)
    group = f.create_group("params")
    params = {name: column(group, name, (count,), dtype) for name, dtype in PARAM_DTYPES.items()}
    return images, labels, label_length, text, params


COLUMN_ROWS = 16_384  # record rows a writer holds before writing them to the shard's columns

class ShardWriter:
    """Writes `count` consecutive samples into one shard file, block by block.

    Data goes to `<name>.partial`; `close()` flushes, fsyncs and renames it into place, so a file
    with the final name is always complete. Leaving the `with` block on an error removes the partial file.
    """

    def __init__(self, path: str | Path, *, count: int, width: int, height: int, max_len: int,
                 max_text_bytes: int, charset_json: str, shard_index: int, first_index: int,
                 compression: str = "none", partial_tag: str = "", speckle: SpeckleSource | None = None,
                 sensor: Sensor | None = None, char_boxes: bool = False):
        self.path = Path(path)
        # A per-writer tag keeps a straggler from a killed run from sharing a file with a new writer.
        tag = f".{partial_tag}" if partial_tag else ""
        self.partial = self.path.with_name(f"{self.path.name}{tag}{PARTIAL_SUFFIX}")
        self.count = count
        self.max_len = max_len
        self.max_text_bytes = max_text_bytes
        bound = shard_bytes_bound(count, width, height, max_len, max_text_bytes, compression, char_boxes)
        self._file = h5py.File(self.partial, "w")
        self._fd = os.open(self.partial, os.O_RDONLY)
        try:
            reserve_space(self.partial, bound)
        except BaseException:
            self._close_quietly()
            self.partial.unlink(missing_ok=True)
            raise
        # Writeback runs in a thread (the syscall releases the GIL) so painting never waits on the disk.
        self._dirty = threading.Event()
        self._stop = False
        self._flusher = threading.Thread(target=self._writeback_loop, daemon=True)
        self._flusher.start()
        # A residual shard stores each image less its regenerable speckle (`speckle`): format version 2.
        self.speckle = speckle if compression == "residual" else None
        if compression == "residual" and speckle is None:
            raise ValueError("a residual shard needs the painter's speckle source")
        version = {"format_version": FORMAT_VERSION} if self.speckle is None else {
            "format_version": RESIDUAL_FORMAT_VERSION, "speckle_bank_sha256": self.speckle.sha256}
        # A sensor shard (format 3) stores each line before the sensor stage, which a reader replays from the
        # banks these fingerprints name; its images are zstd chunks written here.
        self.zstd = compression == "zstd"
        if self.zstd:
            if sensor is None:
                raise ValueError("a zstd shard needs the painter's sensor banks (their fingerprints)")
            version = {"format_version": SENSOR_FORMAT_VERSION, "noise_bank_sha256": sensor.noise.sha256,
                       "paper_bank_sha256": sensor.paper.sha256}
            self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        _write_attrs(self._file, {**version, "charset": charset_json, "width": width, "height": height,
                                  "shard_index": shard_index, "first_index": first_index, "count": count})
        self.images, self.labels, self.label_length, self.text, self.params = _create_datasets(
            self._file, count, width, height, max_len, max_text_bytes, compression)
        # The record columns are gathered here and written COLUMN_ROWS at a time (a default shard's once, at
        # close): ~70 small chunked writes every block cost more than the columns' bytes. Bounded, whatever
        # the shard size (~4 MB).
        self._column_rows = min(count, COLUMN_ROWS)
        self._columns = {name: np.zeros(self._column_rows, ds.dtype) for name, ds in self.params.items()}
        self._columns_start, self._columns_held = 0, 0
        if self.speckle is not None:
            self.modes = self._file.create_dataset(MODE, (count,), np.uint8, track_times=False)
        self.char_boxes = None
        if char_boxes:  # per label slot its quadrilateral; NaN past the label
            shape = (count, max_len, 4, 2)
            self.char_boxes = self._file.create_dataset(
                CHAR_BOXES, shape, np.float32, fillvalue=np.nan, track_times=False,
                **_column_options(shape, np.dtype(np.float32), self.zstd, CHAR_BOXES_GZIP_LEVEL))

    def write(self, start: int, images: np.ndarray, labels: Sequence[Sequence[int]],
              params: Sequence[SampleParams], char_boxes: Sequence[np.ndarray] | None = None) -> None:
        """Store samples [start, start + len(images)) of this shard (with `char_boxes`, one (label length, 4, 2)
        array a sample, when the shard was made to hold them)."""
        n = len(images)
        end = start + n
        if self.speckle is not None:
            images, self.modes[start:end] = remove_speckle(images, params, self.speckle)
        if self.zstd:
            self._write_chunks(start, images)
        else:
            self.images[start:end] = images
        label_block = np.full((n, self.max_len), -1, np.int32)
        lengths = np.empty(n, np.int32)
        for k, ids in enumerate(labels):
            label_block[k, :len(ids)] = ids
            lengths[k] = len(ids)
        self.labels[start:end] = label_block
        self.label_length[start:end] = lengths
        if (self.char_boxes is None) != (char_boxes is None):
            raise ValueError("character boxes are given exactly when the shard holds them")
        if char_boxes is not None:
            block = np.full((n, self.max_len, 4, 2), np.nan, np.float32)
            for k, (quads, length) in enumerate(zip(char_boxes, lengths)):
                if len(quads) != length:
                    raise ValueError(f"sample {start + k}: {len(quads)} character boxes for {length} labels")
                block[k, :length] = quads
            self.char_boxes[start:end] = block
        encoded = np.array([p.text.encode("utf-8") for p in params], dtype=f"S{self.max_text_bytes}")
        # h5py has no conversion from numpy bytes to fixed-length UTF-8; write with the file's type.
        file_space = self.text.id.get_space()
        file_space.select_hyperslab((start,), (n,))
        self.text.id.write(h5py.h5s.create_simple((n,)), file_space, encoded, mtype=self.text.id.get_type())
        self._hold_columns(start, params_to_columns(params), n)
        self._dirty.set()

    def _hold_columns(self, start: int, columns: dict[str, np.ndarray], n: int) -> None:
        held = self._columns_held
        if held and (start != self._columns_start + held or held + n > self._column_rows):
            self._write_columns()
            held = 0
        if n > self._column_rows:  # a write larger than the buffer goes straight to the file
            for name, values in columns.items():
                self.params[name][start:start + n] = values
            return
        if not held:
            self._columns_start = start
        for name, values in columns.items():
            self._columns[name][held:held + n] = values
        self._columns_held = held + n

    def _write_columns(self) -> None:
        start, held = self._columns_start, self._columns_held
        if held:
            for name, values in self._columns.items():
                self.params[name][start:start + held] = values[:held]
            self._columns_held = 0

    def _write_chunks(self, start: int, images: np.ndarray) -> None:
        """Whole chunks, compressed here (a write starts at a chunk boundary; only the shard's last chunk may be
        short, and is stored full size, zero-padded, as HDF5 stores an edge chunk)."""
        k, h, w = self.images.chunks
        if start % k:
            raise ValueError(f"a zstd shard is written in whole chunks of {k} samples, not from sample {start}")
        for a in range(0, len(images), k):
            block = images[a:a + k]
            if len(block) < k:
                if start + a + len(block) != self.count:
                    raise ValueError("only a shard's last chunk may be short")
                block = np.concatenate([block, np.zeros((k - len(block), h, w), np.uint8)])
            self.images.id.write_direct_chunk((start + a, 0, 0), encode_chunk(block, self._compressor))

    def _writeback_loop(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            if self._stop:
                return
            start_writeback(self._fd)

    def _stop_flusher(self) -> None:
        self._stop = True
        self._dirty.set()
        self._flusher.join()

    def close(self) -> tuple[str, int]:
        """Finish the shard atomically; returns (sha256, bytes) of the final file."""
        self._stop_flusher()
        self._write_columns()
        self._file.flush()
        self._file.close()
        os.close(self._fd)
        os.truncate(self.partial, self.partial.stat().st_size)  # frees the blocks reserved past the end
        commit_file(self.partial, self.path)
        return file_sha256(self.path), self.path.stat().st_size

    def abort(self) -> None:
        """Drop the partial file; never raises, so the error that caused the abort is the one reported."""
        try:
            self._stop_flusher()
            self._close_quietly()
        finally:
            self.partial.unlink(missing_ok=True)

    def _close_quietly(self) -> None:
        try:
            self._file.close()
        except Exception:  # a write failed: HDF5 cannot close the file, and freeing it would crash
            _POISONED.append((self._file, self.__dict__.copy()))
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def read_small_columns(f: h5py.File) -> dict[str, np.ndarray]:
    """A checked shard's (`shard_safety.check_shard`) per-sample columns except the images: labels,
    label_length, text, params/<field>, and a residual shard's speckle_mode."""
    cols = {"labels": f["labels"][:], "label_length": f["label_length"][:]}
    n = len(cols["label_length"])
    if MODE in f:
        cols[MODE] = f[MODE][:]
    for k, dtype in PARAM_DTYPES.items():
        if k in f["params"] or k not in LATER_PARAM_DEFAULTS:
            cols[f"params/{k}"] = f["params"][k][:]
        else:
            default = LATER_PARAM_DEFAULTS[k]
            cols[f"params/{k}"] = np.full(n, int(f.attrs["width"]) if default is None else default, dtype)
    cols["text"] = f["text"][:]
    return cols
