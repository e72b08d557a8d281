"""Untrusted shards: every object of the format checked (links, storage, filters, shapes, chunks) before any read."""

from __future__ import annotations

import contextlib
import math
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np
from h5py import h5d, h5l, h5o, h5z

from textsynth.errors import DatasetError, TextsynthError
from textsynth.format import (
    CHAR_BOXES,
    CHUNK_SAMPLES,
    COLUMN_CHUNK_BYTES,
    MAX_DEFLATE_RATIO,
    MAX_NOISE_LEVEL,
    MAX_PAPER_LEVEL,
    READABLE_VERSIONS,
    RESIDUAL_FORMAT_VERSION,
    SENSOR_FORMAT_VERSION,
    ZSTD_FILTER,
    max_compressed_chunk,
    max_text_item_bytes,
)
from textsynth.record import LATER_PARAM_DEFAULTS, PARAM_DTYPES
from textsynth.sensor import NOISE_COLUMNS, PAPER_COLUMNS, Sensor
from textsynth.speckle import COL, LEVEL, MODE, MODES, NO_SPECKLE, ROW, SpeckleSource
from textsynth.zstd_chunks import inflate_rows, scratch, undo_rows

if TYPE_CHECKING:
    from textsynth.manifest import Manifest, ShardRecord

# h5py's low-level `read_direct_chunk` does not take h5py's lock itself: a reader's decoding threads (and
# tf.data's) take it here around each call, so HDF5 is entered by one thread at a time; inflating runs outside.
_HDF5_LOCK = getattr(h5py._objects, "phil", None) or threading.RLock()


def _read_chunk(dset: h5py.Dataset, first: int) -> tuple[int, bytes]:
    with _HDF5_LOCK:
        return dset.id.read_direct_chunk((first,) + (0,) * (len(dset.shape) - 1))


# The filters the format allows, by version: on `images` gzip (versions 1, 2) or zstd (version 3, alone); on the
# small columns gzip in a version 3 shard only. Any other (an unavailable plugin included) is refused.
ALLOWED_FILTERS = {h5z.FILTER_DEFLATE: "gzip (deflate)", ZSTD_FILTER: "zstd"}


def _allowed(version: int, path: str) -> tuple[int, ...]:
    if path == "images":
        return (ZSTD_FILTER,) if version == SENSOR_FORMAT_VERSION else (h5z.FILTER_DEFLATE,)
    return (h5z.FILTER_DEFLATE,) if version == SENSOR_FORMAT_VERSION else ()
_LAYOUTS = {h5d.CONTIGUOUS: "contiguous", h5d.CHUNKED: "chunked", h5d.COMPACT: "compact", h5d.VIRTUAL: "virtual"}
_LINKS = {h5l.TYPE_HARD: "a hard link", h5l.TYPE_SOFT: "a soft link", h5l.TYPE_EXTERNAL: "an external link"}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@contextlib.contextmanager
def shard_errors(name: str) -> Iterator[None]:
    """Whatever a damaged or hostile shard makes h5py raise becomes a one-line DatasetError naming the shard."""
    try:
        yield
    except TextsynthError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001  (HDF5 on a damaged file raises OSError, KeyError, RuntimeError, ...)
        raise DatasetError(f"shard {name}: unreadable HDF5 ({type(exc).__name__}: {_one_line(exc)})") from None


def expected_datasets(record: ShardRecord, manifest: Manifest,
                      version: int = 1) -> dict[str, tuple[tuple[int, ...], np.dtype | None]]:
    """Every dataset the format (of `version`) defines with the shape and dtype the manifest implies (None:
    `text`, checked apart)."""
    n, h, w, L = record.count, manifest.height, manifest.width, manifest.max_len
    expected: dict[str, tuple[tuple[int, ...], np.dtype | None]] = {
        "images": ((n, h, w), np.dtype(np.uint8)), "labels": ((n, L), np.dtype(np.int32)),
        "label_length": ((n,), np.dtype(np.int32)), "text": ((n,), None)}
    expected.update({f"params/{k}": ((n,), np.dtype(dt)) for k, dt in PARAM_DTYPES.items()})
    if version == RESIDUAL_FORMAT_VERSION:
        expected[MODE] = ((n,), np.dtype(np.uint8))
    if manifest.char_boxes:
        expected[CHAR_BOXES] = ((n, L, 4, 2), np.dtype(np.float32))
    return expected


def _later_column_absent(f: h5py.File, path: str, shard: str) -> bool:
    """True for a params column added to the format later (`record.LATER_PARAM_DEFAULTS`) that the shard lacks."""
    group, _, name = path.rpartition("/")
    if group != "params" or name not in LATER_PARAM_DEFAULTS:
        return False
    _hard_link(f.id, "params", shard, "params")
    params = h5o.open(f.id, b"params")  # kept referenced: its identifier closes with the object
    return not params.links.exists(name.encode())


def _hard_link(group: h5py.h5g.GroupID, name: str, shard: str, path: str) -> None:
    """Refuse anything but a hard link (soft and external links can lead outside the file)."""
    if not group.links.exists(name.encode()):
        raise DatasetError(f"shard {shard}: {path!r} is missing")
    kind = group.links.get_info(name.encode()).type
    if kind != h5l.TYPE_HARD:
        raise DatasetError(f"shard {shard}: {path!r} is {_LINKS.get(kind, f'a user-defined link (class {kind})')}; "
                           "the format only allows objects stored in the shard itself")


def _open_member(root: h5py.h5g.GroupID, path: str, shard: str):
    """The object at `path`, reached through hard links only, one component at a time."""
    group = root
    parts = path.split("/")
    for k, part in enumerate(parts):
        _hard_link(group, part, shard, "/".join(parts[:k + 1]))
        obj = h5o.open(group, part.encode())
        if k < len(parts) - 1:
            if not isinstance(obj, h5py.h5g.GroupID):
                raise DatasetError(f"shard {shard}: {'/'.join(parts[:k + 1])!r} must be a group")
            group = obj
    if not isinstance(obj, h5py.h5d.DatasetID):
        raise DatasetError(f"shard {shard}: {path!r} must be a dataset")
    return obj


def _check_storage(dsid: h5py.h5d.DatasetID, path: str, shape: tuple[int, ...], shard: str, version: int) -> int:
    """Layout, external storage and filters (before the shape: a virtual dataset's shape can open its sources);
    returns the bytes the dataset occupies in the file."""
    plist = dsid.get_create_plist()
    layout = plist.get_layout()
    if layout not in (h5d.CONTIGUOUS, h5d.CHUNKED):
        raise DatasetError(f"shard {shard}: {path} is a {_LAYOUTS.get(layout, f'layout {layout}')} dataset; "
                           "the format only allows contiguous or chunked data stored in the shard")
    if plist.get_external_count():
        raise DatasetError(f"shard {shard}: {path} keeps its data in external files; "
                           "the format only allows data stored in the shard")
    filters = [plist.get_filter(i) for i in range(plist.get_nfilters())]
    allowed = _allowed(version, path)
    for fid, _flags, _values, fname in filters:
        if fid not in allowed:
            label = ALLOWED_FILTERS.get(fid) or (fname.decode("ascii", "replace") if isinstance(fname, bytes)
                                                 else str(fname))
            what = " or ".join(ALLOWED_FILTERS[a] for a in allowed) or "none"
            raise DatasetError(f"shard {shard}: {path} uses filter {fid} ({label or 'unnamed'}), which a version "
                               f"{version} shard does not allow there (allowed: {what})")
    if len(filters) > 1:
        raise DatasetError(f"shard {shard}: {path} chains {len(filters)} filters; the format allows one")
    actual = dsid.shape
    dtype = dsid.dtype
    if actual != shape:
        raise DatasetError(f"shard {shard}: {path} is {dtype} {actual}, the manifest implies shape {shape}")
    declared = math.prod(shape) * dtype.itemsize
    stored = dsid.get_storage_size()
    if layout == h5d.CONTIGUOUS:
        if stored != declared:
            raise DatasetError(f"shard {shard}: {path} declares {declared} bytes but stores {stored}")
        return stored
    chunks = plist.get_chunk()
    limit = (min(CHUNK_SAMPLES, shape[0]), *shape[1:]) if path == "images" else shape
    if len(chunks) != len(shape) or any(not 1 <= c <= m for c, m in zip(chunks, limit)):
        raise DatasetError(f"shard {shard}: {path} has chunks {chunks}; at most {limit} are allowed")
    if filters and path != "images" and math.prod(chunks) * dtype.itemsize > COLUMN_CHUNK_BYTES:
        raise DatasetError(f"shard {shard}: {path} has gzip chunks of {math.prod(chunks) * dtype.itemsize} bytes; "
                           f"at most {COLUMN_CHUNK_BYTES} are allowed")
    if path == "images" and tuple(chunks[1:]) != shape[1:]:
        raise DatasetError(f"shard {shard}: images chunks {chunks} must hold whole images {shape[1:]}")
    wanted = math.prod(-(-s // c) for s, c in zip(shape, chunks))
    if dsid.get_num_chunks() != wanted:
        raise DatasetError(f"shard {shard}: {path} stores {dsid.get_num_chunks()} of its {wanted} chunks")
    chunk_bytes = math.prod(chunks) * dtype.itemsize
    if not filters and stored != wanted * chunk_bytes:
        raise DatasetError(f"shard {shard}: {path} declares {wanted * chunk_bytes} bytes but stores {stored}")
    if filters:
        if filters[0][0] == h5z.FILTER_DEFLATE and stored * MAX_DEFLATE_RATIO < wanted * chunk_bytes:
            raise DatasetError(f"shard {shard}: {path} stores {stored} compressed bytes for {wanted * chunk_bytes}: "
                               "a decompression bomb")
        largest = max_compressed_chunk(chunk_bytes)
        for first, size in _chunk_sizes(dsid):
            if size > largest:
                raise DatasetError(f"shard {shard}: {path} chunk at sample {first} stores {size} compressed bytes "
                                   f"for {chunk_bytes}: a decompression bomb")
    return stored


def _chunk_sizes(dsid: h5py.h5d.DatasetID) -> list[tuple[int, int]]:
    """(first sample, stored bytes) of every chunk, read from the chunk index only (linear in the chunk count)."""
    out: list[tuple[int, int]] = []
    try:
        dsid.chunk_iter(lambda info: out.append((info.chunk_offset[0], info.size)))
    except AttributeError:  # HDF5 < 1.14: one lookup per chunk
        for k in range(dsid.get_num_chunks()):
            info = dsid.get_chunk_info(k)
            out.append((info.chunk_offset[0], info.size))
    return out


def _check_format_version(f: h5py.File, shard: str) -> int:
    if "format_version" not in f.attrs:
        raise DatasetError(f"shard {shard}: attribute format_version is missing")
    attr = f.attrs.get_id("format_version")
    if attr.shape != () or attr.dtype.kind not in "iu":
        raise DatasetError(f"shard {shard}: attribute format_version must be a single integer")
    version = int(f.attrs["format_version"])
    if version not in READABLE_VERSIONS:
        raise DatasetError(f"shard {shard}: format_version is {version}; this textsynth reads "
                           f"{', '.join(map(str, READABLE_VERSIONS))}")
    banks = {RESIDUAL_FORMAT_VERSION: ("speckle_bank_sha256",),
             SENSOR_FORMAT_VERSION: ("noise_bank_sha256", "paper_bank_sha256")}.get(version, ())
    for name in banks:
        bank = f.attrs.get(name)
        if not isinstance(bank, str) or len(bank) != 64:
            raise DatasetError(f"shard {shard}: a version {version} shard needs attribute {name} (64 hex digits)")
    return version


def check_shard(f: h5py.File, record: ShardRecord, manifest: Manifest, file_size: int | None = None) -> None:
    """Every object of the format, checked before anything is read: hard links only, contiguous or chunked data
    stored in the shard (no virtual datasets, no external storage), allowed filters, shapes and dtypes
    against the manifest, bounded chunks, and declared bytes that the file really stores."""
    shard = record.file
    with shard_errors(shard):
        version = _check_format_version(f, shard)
        stored = 0
        for path, (shape, dtype) in expected_datasets(record, manifest, version).items():
            if _later_column_absent(f, path, shard):
                continue  # a shard written before this column existed: read_small_columns fills in its default
            dsid = _open_member(f.id, path, shard)
            stored += _check_storage(dsid, path, shape, shard, version)
            if dtype is None:  # text: fixed-length strings of at most 4 bytes per symbol
                kind, size = dsid.dtype.kind, dsid.dtype.itemsize
                if kind != "S" or size > max_text_item_bytes(manifest.max_len):
                    raise DatasetError(f"shard {shard}: text must be ({record.count},) fixed-length strings of "
                                       f"<= {max_text_item_bytes(manifest.max_len)} bytes")
            elif dsid.dtype != dtype:
                raise DatasetError(f"shard {shard}: {path} is {dsid.dtype} {dsid.shape}, the manifest implies "
                                   f"{dtype} {shape}")
        if version == RESIDUAL_FORMAT_VERSION and f["images"].compression != "gzip":
            raise DatasetError(f"shard {shard}: a version {version} shard stores images as gzip chunks only")
        if version == SENSOR_FORMAT_VERSION and _image_filter(f["images"]) != ZSTD_FILTER:
            raise DatasetError(f"shard {shard}: a version {version} shard stores images as zstd chunks only")
        if file_size is not None and stored > file_size:
            raise DatasetError(f"shard {shard}: its datasets claim {stored} bytes, the file holds {file_size}")


def open_shard(path: str | Path, record: ShardRecord, manifest: Manifest) -> h5py.File:
    """Open a shard read-only and check it (`check_shard`); the file is closed again if the check fails."""
    with shard_errors(record.file):
        f = h5py.File(path, "r")
    try:
        check_shard(f, record, manifest, Path(path).stat().st_size)
    except BaseException:
        with contextlib.suppress(Exception):
            f.close()
        raise
    return f


def _image_filter(dset: h5py.Dataset) -> int | None:
    """The one filter of a checked `images` dataset (None: stored raw)."""
    plist = dset.id.get_create_plist()
    return plist.get_filter(0)[0] if plist.get_nfilters() else None


_ZSTD_SPAN = 64  # lines inflated into one buffer before their rows are undone (2 MB at 512x64: in cache)


def _zstd_lines(dset: h5py.Dataset, start: int, stop: int, out: np.ndarray, shard: str) -> np.ndarray:
    """Lines [start, stop) of a zstd `images` into `out`: each chunk they touch inflated (with the bounds of
    `zstd_chunks.inflate_rows`, and only up to the last line wanted) into one buffer, then the rows undone at once
    (one pass of the row loop for the whole range, not one per chunk)."""
    k = dset.chunks[0]
    base = start - start % k
    rows = scratch((stop - base, *dset.shape[1:]))
    for first in range(base, stop, k):
        mask, raw = _read_chunk(dset, first)
        where = f"shard {shard}: images chunk at sample {first}"
        if mask & 1:
            raise DatasetError(f"{where} skipped its zstd filter")
        inflate_rows(raw, dset.chunks, where, rows[first - base:min(stop, first + k) - base])
    return undo_rows(rows[start - base:], out)


def _chunk_array(dset: h5py.Dataset, first: int, shard: str) -> np.ndarray:
    """The compressed images chunk starting at sample `first`, inflated no further than its declared size (a zstd
    chunk: the lines its vertical differences encode, `zstd_chunks`)."""
    chunks = dset.chunks
    nbytes = math.prod(chunks)
    if _image_filter(dset) == ZSTD_FILTER:
        stop = min(first + chunks[0], dset.shape[0])
        return _zstd_lines(dset, first, stop, np.empty((stop - first, *chunks[1:]), np.uint8), shard)
    mask, raw = _read_chunk(dset, first)
    if mask & 1:  # the filter was skipped for this chunk: stored raw
        data = bytes(raw)
    else:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(raw, nbytes)
        except zlib.error as exc:
            raise DatasetError(f"shard {shard}: images chunk at sample {first} is not valid gzip ({exc})") from None
        if not inflater.eof or inflater.unconsumed_tail:
            raise DatasetError(f"shard {shard}: images chunk at sample {first} inflates beyond its declared "
                               f"{nbytes} bytes (a decompression bomb)")
    if len(data) != nbytes:
        raise DatasetError(f"shard {shard}: images chunk at sample {first} holds {len(data)} bytes, not {nbytes}")
    return np.frombuffer(data, np.uint8).reshape(chunks)


def read_images(dset: h5py.Dataset, start: int, stop: int, out: np.ndarray | None, shard: str) -> np.ndarray:
    """Rows [start, stop) of a checked `images` dataset (into `out` when given). Uncompressed data is read by HDF5
    (it reads exactly the declared bytes); compressed chunks are inflated here with a bound, never by HDF5's
    filter."""
    with shard_errors(shard):
        if _image_filter(dset) is None:  # a checked shard has one allowed filter or none at all
            if out is None:
                return dset[start:stop]
            dset.read_direct(out, np.s_[start:stop], np.s_[0:stop - start])
            return out
        if out is None:
            out = np.empty((stop - start, *dset.shape[1:]), np.uint8)
        if _image_filter(dset) == ZSTD_FILTER:  # in spans of _ZSTD_SPAN lines: a bounded per-thread buffer
            for lo in range(start, stop, _ZSTD_SPAN):
                hi = min(stop, lo + _ZSTD_SPAN)
                _zstd_lines(dset, lo, hi, out[lo - start:hi - start], shard)
            return out
        k = dset.chunks[0]
        for first in range(start - start % k, stop, k):
            a, b = max(start, first), min(stop, first + k)
            out[a - start:b - start] = _chunk_array(dset, first, shard)[a - first:b - first]
        return out


def check_image_chunks(dset: h5py.Dataset, shard: str) -> None:
    """Inflate every compressed chunk once (bounded), so `verify` finds bombs and damaged streams."""
    with shard_errors(shard):
        if _image_filter(dset) is None:
            return
        for first in range(0, dset.shape[0], dset.chunks[0]):
            _chunk_array(dset, first, shard)


def shard_path(root: Path, record: ShardRecord) -> Path:
    """The shard's path, refusing anything (a symlink included) that leads outside the dataset folder."""
    path = root / record.file
    real = path.resolve()
    if real.parent != root.resolve():
        raise DatasetError(f"shard {record.file!r} leads outside the dataset folder ({real})")
    if not real.is_file():
        raise DatasetError(f"shard {record.file} listed in the manifest is missing from {root} (or is not a file)")
    return real




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


def char_box_problem(boxes: np.ndarray, lengths: np.ndarray, widths: np.ndarray,
                     height: int) -> tuple[int, str] | None:
    """(row, why) of the first sample whose character boxes are not numbers on its canvas: every corner of
    each of its label's boxes within [0, width] x [0, height]."""
    slot = np.arange(boxes.shape[1])[None, :] < lengths[:, None]  # (rows, max_len): the label's boxes
    x, y = boxes[..., 0], boxes[..., 1]
    with np.errstate(invalid="ignore"):
        good = ((x >= 0) & (x <= widths[:, None, None]) & (y >= 0) & (y <= height)).all(axis=2)
    bad = np.flatnonzero((slot & ~good).any(axis=1))
    if not len(bad):
        return None
    row = int(bad[0])
    box = int(np.flatnonzero(slot[row] & ~good[row])[0])
    return row, f"character box {box} is {np.round(boxes[row, box], 2).tolist()}, not on its {int(widths[row])}" \
                f"x{height} canvas"


def checked_char_boxes(boxes: np.ndarray, cols: dict[str, np.ndarray], start: int, height: int,
                       record: ShardRecord) -> np.ndarray:
    """Boxes [start, start + len(boxes)) of a shard, refused (one line) if any is off its canvas; what lies past
    each label is set to NaN whatever the shard held."""
    stop = start + len(boxes)
    lengths, widths = cols["label_length"][start:stop], cols["params/width"][start:stop]
    problem = char_box_problem(boxes, lengths, widths, height)
    if problem is not None:
        row, why = problem
        raise DatasetError(f"shard {record.file}: sample {record.first + start + row}: {why} (run textsynth verify)")
    boxes[np.arange(boxes.shape[1])[None, :] >= lengths[:, None]] = np.nan
    return boxes


def shard_version(f: h5py.File) -> int:
    """The format version of a checked shard (`check_shard`)."""
    return int(f.attrs["format_version"])


def check_speckle_bank(f: h5py.File, source: SpeckleSource, shard: str) -> None:
    """Refuse a residual shard whose speckle bank is not the one this process regenerates (another seed or
    canvas, or a numpy whose generator changed): adding the wrong speckle back would silently change pixels."""
    if f.attrs["speckle_bank_sha256"] != source.sha256:
        raise DatasetError(f"shard {shard}: its speckle bank (sha256 {str(f.attrs['speckle_bank_sha256'])[:12]}...) "
                           f"is not the one this numpy regenerates from the manifest's seed ({source.sha256[:12]}...)")


def check_speckle_columns(cols: dict[str, np.ndarray], record: ShardRecord, source: SpeckleSource) -> None:
    """Refuse a residual shard naming a prediction mode it does not define, a speckle level that is not finite
    in (0, MAX_NOISE_LEVEL], or a window outside the bank, naming the first bad sample."""
    modes = cols[MODE]
    bad = np.flatnonzero(~np.isin(modes, MODES))
    if bad.size:
        row = int(bad[0])
        raise DatasetError(f"shard {record.file}: sample {record.first + row}: speckle_mode {int(modes[row])} is "
                           f"not one of {', '.join(map(str, MODES))}")
    on = modes != NO_SPECKLE
    level = cols[LEVEL].astype(np.float64)
    max_row, max_col = source.rows_cols()
    checks = [(~np.isfinite(level) | (level <= 0) | (level > MAX_NOISE_LEVEL),
               lambda r: f"noise_level {level[r]} is outside (0, {MAX_NOISE_LEVEL}]"),
              ((cols[ROW] < 0) | (cols[ROW] > max_row), lambda r: f"noise_row {int(cols[ROW][r])} is outside the "
               f"speckle bank (0..{max_row})"),
              ((cols[COL] < 0) | (cols[COL] > max_col), lambda r: f"noise_col {int(cols[COL][r])} is outside the "
               f"speckle bank (0..{max_col})")]
    for wrong, why in checks:
        bad = np.flatnonzero(on & wrong)
        if bad.size:
            row = int(bad[0])
            raise DatasetError(f"shard {record.file}: sample {record.first + row}: {why(row)}")


def check_sensor_banks(f: h5py.File, sensor: Sensor, shard: str) -> None:
    """Refuse a sensor shard (format 3) whose noise or paper bank is not the one this process regenerates from
    the manifest's seed and canvas: replaying the wrong sensor stage would silently change pixels."""
    for name, term in (("noise_bank_sha256", sensor.noise), ("paper_bank_sha256", sensor.paper)):
        if f.attrs[name] != term.sha256:
            raise DatasetError(f"shard {shard}: its {name[:-7]} (sha256 {str(f.attrs[name])[:12]}...) is not the "
                               f"one this numpy regenerates from the manifest's seed ({term.sha256[:12]}...)")


def check_sensor_columns(cols: dict[str, np.ndarray], record: ShardRecord, sensor: Sensor) -> None:
    """Refuse a sensor shard whose speckle or paper amount is not finite in [0, its bound], whose window of either
    bank lies outside it, or whose line width is outside 1..canvas width, naming the first bad sample."""
    height, width = sensor.height, sensor.width
    widths = cols["params/width"]
    bad = np.flatnonzero((widths < 1) | (widths > width))
    if bad.size:
        row = int(bad[0])
        raise DatasetError(f"shard {record.file}: sample {record.first + row}: width {int(widths[row])} is outside "
                           f"1..{width}")
    for (amount, rows, columns), bound, term in ((NOISE_COLUMNS, MAX_NOISE_LEVEL, sensor.noise),
                                                 (PAPER_COLUMNS, MAX_PAPER_LEVEL, sensor.paper)):
        level = cols[amount].astype(np.float64)
        wrong = ~np.isfinite(level) | (level < 0) | (level > bound)
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise DatasetError(f"shard {record.file}: sample {record.first + row}: {amount[7:]} {level[row]} is "
                               f"outside [0, {bound}]")
        on = level > 0
        for name, limit in zip((rows, columns), term.limits(height, width)):
            outside = on & ((cols[name] < 0) | (cols[name] > limit))
            if outside.any():
                row = int(np.flatnonzero(outside)[0])
                raise DatasetError(f"shard {record.file}: sample {record.first + row}: {name[7:]} "
                                   f"{int(cols[name][row])} is outside its bank (0..{limit})")
