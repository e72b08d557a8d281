"""Format 3's image chunks: each line's rows less the row above (mod 256), zstd-compressed, inflated with a bound."""

from __future__ import annotations

import threading

import numpy as np
import zstandard

from textsynth.errors import DatasetError
from textsynth.format import ZSTD_LEVEL

try:  # the compiled line decoding (textsynth/_lines.c); absent where the package was built without a C compiler
    from textsynth import _lines
except ImportError:
    _lines = None


def encode_chunk(images: np.ndarray, compressor: zstandard.ZstdCompressor | None = None) -> bytes:
    """uint8 (k, height, width) lines -> one zstd frame (with its content size) of their vertical differences.
    Smooth paper, gradients and blur differ little from row to row: ~4 % fewer bytes than the lines themselves."""
    rows = np.empty_like(images)
    rows[:, 0] = images[:, 0]
    np.subtract(images[:, 1:], images[:, :-1], out=rows[:, 1:])
    return (compressor or zstandard.ZstdCompressor(level=ZSTD_LEVEL)).compress(rows)  # the buffer, not a copy


def undo_rows(rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The lines back from their vertical differences into `out`: each row plus the restored row above, mod 256
    (compiled: one pass a line, ~2 us; else a numpy loop over rows, ~8 us a line)."""
    if _lines is not None and rows.flags.c_contiguous and out.flags.c_contiguous and rows.shape == out.shape:
        _lines.undo_rows(rows, out, rows.shape[1], rows.shape[2])
        return out
    return undo_rows_numpy(rows, out)


def undo_rows_numpy(rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`undo_rows` without the compiled module (numpy's uint8 accumulate would take ~100 us a line)."""
    out[:, 0] = rows[:, 0]
    for r in range(1, rows.shape[1]):
        np.add(out[:, r - 1], rows[:, r], out=out[:, r])
    return out


def inflate_rows(raw: bytes, shape: tuple[int, ...], where: str, rows: np.ndarray) -> None:
    """The first len(rows) stored lines of a chunk of uint8 `shape`, still as rows less the row above, into `rows`,
    refusing before inflating anything a frame that declares another size or none (a decompression bomb, or a
    stream that could grow without bound) and any stream zstd rejects. Lines after them are not inflated."""
    nbytes = int(np.prod(shape))
    try:
        declared = zstandard.frame_content_size(raw)
    except zstandard.ZstdError as exc:
        raise DatasetError(f"{where} is not a zstd frame ({exc})") from None
    if declared != nbytes:
        size = "no size" if declared < 0 else f"{declared} bytes"
        raise DatasetError(f"{where} declares {size}, not its {nbytes} (a decompression bomb or a damaged chunk)")
    try:
        got = _inflate_into(raw, rows.reshape(-1))
    except zstandard.ZstdError as exc:
        raise DatasetError(f"{where} is not valid zstd ({exc})") from None
    if got != rows.nbytes:
        raise DatasetError(f"{where} holds fewer bytes than its {nbytes}")


def scratch(shape: tuple[int, ...], slot: str = "rows") -> np.ndarray:
    """A per-thread uint8 buffer of `shape`, one per `slot` (reused: a fresh buffer per chunk costs as much as
    inflating it, in page faults on first touch)."""
    size = int(np.prod(shape))
    buffer = getattr(_THREAD, slot, None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, np.uint8)
        setattr(_THREAD, slot, buffer)
    return buffer[:size].reshape(shape)


_THREAD = threading.local()


def _inflate_into(raw: bytes, buffer: np.ndarray) -> int:
    """Inflate the start of a frame into `buffer` (no further than its size); returns the bytes written."""
    got, view = 0, memoryview(buffer)
    with zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        while got < len(buffer):
            n = reader.readinto(view[got:])
            if not n:
                break
            got += n
    return got
