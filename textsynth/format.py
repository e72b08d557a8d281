"""The dataset format's constants: its name and versions, its limits, and every byte bound derived from them."""

from __future__ import annotations

import math

import numpy as np

from textsynth.record import PARAM_DTYPES

FORMAT_NAME = "textsynth"
# Version 1: `images` holds the pixels (raw or gzip). Version 2: `images` holds the speckle residual
# (`speckle_residual`), gzip-compressed; a reader adds the regenerated speckle back. Version 3 (the default):
# `images` holds each line before the sensor stage (`textsynth.sensor`), each row less the row above it, as
# zstd chunks, and the small columns are gzip chunks; a reader undoes the rows and replays the sensor stage.
FORMAT_VERSION = 1
RESIDUAL_FORMAT_VERSION = 2
SENSOR_FORMAT_VERSION = 3
READABLE_VERSIONS = (FORMAT_VERSION, RESIDUAL_FORMAT_VERSION, SENSOR_FORMAT_VERSION)

# How `images` may be stored (`--compression`): the codec and the form of the pixels.
STORAGES = ("zstd", "none", "gzip", "residual")
ZSTD_FILTER = 32015  # the HDF5 filter id registered for Zstandard (what `pip install hdf5plugin` decodes)
# FORMAT.md: on default lines (rows less the row above) level 1 writes 1.2x faster than 3 and stores 1 % less;
# 5 stores 2.5 % less but writes 2.9x slower
ZSTD_LEVEL = 1
COLUMN_CHUNK_BYTES = 64 * 1024  # a version 3 shard's gzip small columns: chunks of at most this many bytes
CHUNK_SAMPLES = 64  # images are chunked by blocks of at most this many samples
# A format 3 shard's zstd chunks: as small as this costs < 0.2 % in size (FORMAT.md), and a random read of one
# line inflates at most this many lines
ZSTD_CHUNK_SAMPLES = 16
GZIP_LEVEL = 4
RESIDUAL_GZIP_LEVEL = 1  # residual shards: level 1 writes ~1.7x faster than 4 for 2 % more bytes (FORMAT.md)

# Upper bounds of a render, and so of any dataset a reader accepts (FORMAT.md lists them).
MAX_SAMPLES = 10**9
MAX_SHARDS = 100_000
MAX_WIDTH, MAX_HEIGHT = 8192, 1024
MAX_LABEL_LEN = 1000
BYTES_PER_SYMBOL = 4  # the most UTF-8 bytes a symbol of the text column takes
# The small columns of one shard (labels, label_length, text, params) are read whole: bound their size.
MAX_SHARD_COLUMN_BYTES = 512 * 2**20
# zlib cannot compress more than ~1032:1; compressed images claiming more are a decompression bomb.
MAX_DEFLATE_RATIO = 1100
# The speckle levels a residual or sensor shard may use (the config's bound on `augment.noise`), and the paper
# texture amounts a sensor shard may use (the `paper` effect's bounds).
MAX_NOISE_LEVEL = 2.0
MAX_PAPER_LEVEL = 40.0


def param_bytes_per_sample() -> int:
    return sum(np.dtype(d).itemsize for d in PARAM_DTYPES.values())


def column_bytes_per_sample(max_len: int) -> int:
    """Upper bound of one sample's small columns: labels (int32 each), label_length, text
    (BYTES_PER_SYMBOL a symbol) and the params columns."""
    return (4 + BYTES_PER_SYMBOL) * max_len + 4 + param_bytes_per_sample()


def max_shard_size(max_len: int) -> int:
    """The most samples a shard may hold with this label width (its small columns stay under the bound)."""
    return MAX_SHARD_COLUMN_BYTES // column_bytes_per_sample(max_len)


def max_text_item_bytes(max_len: int) -> int:
    """The largest item size the fixed-length `text` column may declare."""
    return BYTES_PER_SYMBOL * max_len


def max_compressed_chunk(chunk_bytes: int) -> int:
    """The most bytes gzip can turn a chunk into (incompressible data grows a little); more is a bomb."""
    return chunk_bytes + chunk_bytes // 256 + 1024


# The optional dataset of per-character quadrilaterals (`render --char-boxes`): (count, max_len, 4, 2) float32,
# per label slot four corners of two float32 each
CHAR_BOXES = "char_boxes"
CHAR_BOX_BYTES = 4 * 2 * 4
CHAR_BOXES_GZIP_LEVEL = 1  # level 4 stores 0.5 % less and costs 3.5 us more a sample (FORMAT.md)


def shard_bytes_bound(count: int, width: int, height: int, max_len: int, max_text_bytes: int,
                      compression: str = "none", char_boxes: bool = False) -> int:
    """An upper bound of a shard file's size: whole image chunks (the last one is stored full), gzip's worst-case
    expansion, the small columns (with `char_boxes`, the boxes too), and HDF5's metadata (a fixed part and a
    chunk-index entry per chunk)."""
    samples = min(ZSTD_CHUNK_SAMPLES if compression == "zstd" else CHUNK_SAMPLES, count)
    per_chunk = samples * height * width
    chunks = math.ceil(count / samples)
    images = chunks * (max_compressed_chunk(per_chunk) if compression != "none" else per_chunk)
    columns = count * (4 * max_len + 4 + max_text_bytes + param_bytes_per_sample()
                       + (CHAR_BOX_BYTES * max_len if char_boxes else 0))
    if compression == "zstd":  # gzip column chunks: each column's chunk index, and gzip's worst case per chunk
        datasets = 3 + len(PARAM_DTYPES) + char_boxes
        column_chunks = datasets + math.ceil(columns / COLUMN_CHUNK_BYTES) * 2
        columns += datasets * 4096 + column_chunks * (1024 + COLUMN_CHUNK_BYTES // 256)
    return images + columns + 64 * 1024 + 1024 * chunks


def storage_version(compression: str) -> int:
    """The format version of a dataset whose images are stored as `compression` says."""
    return {"residual": RESIDUAL_FORMAT_VERSION, "zstd": SENSOR_FORMAT_VERSION}.get(compression, FORMAT_VERSION)
