"""Shard storage: the HDF5 layout of one shard, written crash-safely (temp name, fsync, rename).
The checks that make a shard safe to read live in `shard_safety`."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from textsynth.fileio import commit_file, file_sha256
from textsynth.record import PARAM_DTYPES, SampleParams, params_to_columns

FORMAT_NAME = "textsynth"
FORMAT_VERSION = 1
PARTIAL_SUFFIX = ".partial"
CHUNK_SAMPLES = 64  # images are chunked by blocks of this many samples


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


def start_writeback(fd: int) -> None:
    """Ask Linux to start writing dirty pages now, so the final fsync has little left to wait for."""
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


def _write_attrs(f: h5py.File, attrs: dict) -> None:
    for key, value in {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **attrs}.items():
        f.attrs[key] = value


def _create_datasets(f: h5py.File, count: int, width: int, height: int, max_len: int, max_text_bytes: int,
                     compression: str) -> tuple[h5py.Dataset, h5py.Dataset, h5py.Dataset, h5py.Dataset,
                                                dict[str, h5py.Dataset]]:
    """The shard's datasets, empty: images, labels, label_length, text and the params columns."""
    opts = {"track_times": False}
    gzip = {"compression": "gzip", "compression_opts": 4} if compression == "gzip" else {}
    images = f.create_dataset("images", (count, height, width), np.uint8,
                              chunks=(min(CHUNK_SAMPLES, count), height, width), **gzip, **opts)
    labels = f.create_dataset("labels", (count, max_len), np.int32, fillvalue=-1, **opts)
    label_length = f.create_dataset("label_length", (count,), np.int32, **opts)
    text = f.create_dataset("text", (count,), h5py.string_dtype("utf-8", max_text_bytes), **opts)
    group = f.create_group("params")
    params = {name: group.create_dataset(name, (count,), dtype, **opts) for name, dtype in PARAM_DTYPES.items()}
    return images, labels, label_length, text, params


class ShardWriter:
    """Writes `count` consecutive samples into one shard file, block by block.

    Data goes to `<name>.partial`; `close()` flushes, fsyncs and renames it into place, so a file
    with the final name is always complete. Leaving the `with` block on an error removes the partial file.
    """

    def __init__(self, path: str | Path, *, count: int, width: int, height: int, max_len: int,
                 max_text_bytes: int, charset_json: str, shard_index: int, first_index: int,
                 compression: str = "none", partial_tag: str = ""):
        self.path = Path(path)
        # A per-writer tag keeps a straggler from a killed run from sharing a file with a new writer.
        tag = f".{partial_tag}" if partial_tag else ""
        self.partial = self.path.with_name(f"{self.path.name}{tag}{PARTIAL_SUFFIX}")
        self.count = count
        self.max_len = max_len
        self.max_text_bytes = max_text_bytes
        self._file = h5py.File(self.partial, "w")
        self._fd = os.open(self.partial, os.O_RDONLY)
        # Writeback runs in a thread (the syscall releases the GIL) so painting never waits on the disk.
        self._dirty = threading.Event()
        self._stop = False
        self._flusher = threading.Thread(target=self._writeback_loop, daemon=True)
        self._flusher.start()
        _write_attrs(self._file, {"charset": charset_json, "width": width, "height": height,
                                  "shard_index": shard_index, "first_index": first_index, "count": count})
        self.images, self.labels, self.label_length, self.text, self.params = _create_datasets(
            self._file, count, width, height, max_len, max_text_bytes, compression)

    def write(self, start: int, images: np.ndarray, labels: Sequence[Sequence[int]],
              params: Sequence[SampleParams]) -> None:
        """Store samples [start, start + len(images)) of this shard."""
        n = len(images)
        end = start + n
        self.images[start:end] = images
        label_block = np.full((n, self.max_len), -1, np.int32)
        lengths = np.empty(n, np.int32)
        for k, ids in enumerate(labels):
            label_block[k, :len(ids)] = ids
            lengths[k] = len(ids)
        self.labels[start:end] = label_block
        self.label_length[start:end] = lengths
        encoded = np.array([p.text.encode("utf-8") for p in params], dtype=f"S{self.max_text_bytes}")
        # h5py has no conversion from numpy bytes to fixed-length UTF-8; write with the file's type.
        file_space = self.text.id.get_space()
        file_space.select_hyperslab((start,), (n,))
        self.text.id.write(h5py.h5s.create_simple((n,)), file_space, encoded, mtype=self.text.id.get_type())
        for name, values in params_to_columns(params).items():
            self.params[name][start:end] = values
        self._dirty.set()

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
        self._file.flush()
        self._file.close()
        os.close(self._fd)
        commit_file(self.partial, self.path)
        return file_sha256(self.path), self.path.stat().st_size

    def abort(self) -> None:
        try:
            self._stop_flusher()
            self._file.close()
            os.close(self._fd)
        finally:
            self.partial.unlink(missing_ok=True)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def read_small_columns(f: h5py.File) -> dict[str, np.ndarray]:
    """A checked shard's (`shard_safety.check_shard`) per-sample columns except the images: labels,
    label_length, text, params/<field>."""
    cols = {"labels": f["labels"][:], "label_length": f["label_length"][:]}
    cols.update({f"params/{k}": f["params"][k][:] for k in PARAM_DTYPES})
    cols["text"] = f["text"][:]
    return cols
