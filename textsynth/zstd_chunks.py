"""Format 3's image chunks: each line's rows less the row above (mod 256), zstd-compressed, inflated with a bound."""

from __future__ import annotations

import numpy as np
import zstandard

from textsynth.errors import DatasetError
from textsynth.format import ZSTD_LEVEL


def encode_chunk(images: np.ndarray, compressor: zstandard.ZstdCompressor | None = None) -> bytes:
    """uint8 (k, height, width) lines -> one zstd frame (with its content size) of their vertical differences.
    Smooth paper, gradients and blur differ little from row to row: ~4 % fewer bytes than the lines themselves."""
    rows = images.copy()
    np.subtract(images[:, 1:], images[:, :-1], out=rows[:, 1:])
    return (compressor or zstandard.ZstdCompressor(level=ZSTD_LEVEL)).compress(rows.tobytes())


def undo_rows(rows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The lines back from their vertical differences into `out`: each row plus the restored row above, mod 256
    (a loop over rows: ~8 us a line, where numpy's uint8 accumulate takes ~100)."""
    out[:, 0] = rows[:, 0]
    for r in range(1, rows.shape[1]):
        np.add(out[:, r - 1], rows[:, r], out=out[:, r])
    return out


def decode_chunk(raw: bytes, shape: tuple[int, ...], where: str, out: np.ndarray | None = None,
                 first: int = 0) -> np.ndarray:
    """Lines [first, first + len(out)) of a chunk of uint8 `shape` into `out` (all of them when `out` is None),
    refusing before inflating anything a frame that declares another size or none (a decompression bomb, or a
    stream that could grow without bound) and any stream zstd rejects."""
    nbytes = int(np.prod(shape))
    try:
        declared = zstandard.frame_content_size(raw)
    except zstandard.ZstdError as exc:
        raise DatasetError(f"{where} is not a zstd frame ({exc})") from None
    if declared != nbytes:
        size = "no size" if declared < 0 else f"{declared} bytes"
        raise DatasetError(f"{where} declares {size}, not its {nbytes} (a decompression bomb or a damaged chunk)")
    try:
        data = zstandard.ZstdDecompressor().decompress(raw, max_output_size=nbytes)
    except zstandard.ZstdError as exc:
        raise DatasetError(f"{where} is not valid zstd ({exc})") from None
    if len(data) != nbytes:
        raise DatasetError(f"{where} holds {len(data)} bytes, not {nbytes}")
    rows = np.frombuffer(data, np.uint8).reshape(shape)
    if out is None:
        out = np.empty(shape, np.uint8)
    return undo_rows(rows[first:first + len(out)], out)
