"""Integrity checks of a dataset folder: checksums, layout, and labels that agree with the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from textsynth.charset import Charset
from textsynth.errors import TextsynthError
from textsynth.fileio import file_sha256
from textsynth.format import CHAR_BOXES, RESIDUAL_FORMAT_VERSION, SENSOR_FORMAT_VERSION
from textsynth.manifest import Manifest, ShardRecord
from textsynth.sensor import NOISE_COLUMNS, PAPER_COLUMNS, Sensor
from textsynth.shard_safety import (
    char_box_problem,
    check_image_chunks,
    check_sensor_banks,
    check_sensor_columns,
    check_speckle_bank,
    check_speckle_columns,
    label_problem,
    open_shard,
    shard_errors,
    shard_path,
    shard_version,
)
from textsynth.speckle import COL, LEVEL, MODE, ROW, painter_speckle

_ROWS = 4096  # label rows checked at a time


@dataclass
class ShardReport:
    file: str
    problems: list[str] = field(default_factory=list)
    shards: int = 1  # how many shards the report covers (a range of missing shards counts each)


def _check_contents(f: h5py.File, record: ShardRecord, charset: Charset, manifest: Manifest,
                    problems: list[str]) -> None:
    """Labels, lengths, texts, indices, font ids and character boxes of a checked shard, read block by block
    (memory bounded by _ROWS)."""
    fonts = len(manifest.fonts)
    n, symbols = record.count, len(charset)
    for lo in range(0, n, _ROWS):
        hi = min(n, lo + _ROWS)
        index = f["params/index"][lo:hi]
        if not np.array_equal(index, np.arange(record.first + lo, record.first + hi)):
            problems.append("params/index does not run from the shard's first sample index")
            return
        font_id = f["params/font_id"][lo:hi]
        wrong = np.flatnonzero((font_id < 0) | (font_id >= fonts))
        if wrong.size:
            k = int(wrong[0])
            problems.append(f"sample {record.first + lo + k}: params/font_id {int(font_id[k])} is not one of the "
                            f"manifest's {fonts} fonts")
            return
        labels, lengths, texts = f["labels"][lo:hi], f["label_length"][lo:hi], f["text"][lo:hi]
        problem = label_problem(labels, lengths, symbols)
        if problem is not None:
            problems.append(f"sample {record.first + lo + problem[0]}: {problem[1]}")
            return
        if CHAR_BOXES in f:  # present exactly when the manifest says so (check_shard)
            widths = f["params/width"][lo:hi]
            problem = char_box_problem(f[CHAR_BOXES][lo:hi], lengths, widths, manifest.height)
            if problem is not None:
                problems.append(f"sample {record.first + lo + problem[0]}: {problem[1]}")
                return
        for k in range(hi - lo):
            try:
                text = texts[k].decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"sample {record.first + lo + k}: text is not valid UTF-8")
                return
            said = charset.decode(labels[k, :lengths[k]])
            if said != text:
                problems.append(f"sample {record.first + lo + k}: labels say {said!r}, text says {text!r}")
                return


def _missing_ranges(listed: list[int], count: int) -> list[tuple[str, int]]:
    """The shard numbers in 0..count-1 that are not listed, as (range, how many): O(listed) memory, never O(count)."""
    out, expect = [], 0
    for index in sorted(set(listed)) + [count]:
        if index > expect:
            out.append((f"shard {expect}" if index - 1 == expect else f"shards {expect}..{index - 1}", index - expect))
        expect = index + 1
    return out


def _check_speckle(f: h5py.File, record: ShardRecord, manifest: Manifest) -> None:
    """A residual shard's speckle: the bank this process regenerates, and every sample's mode and window."""
    source = painter_speckle(manifest.width, manifest.height, manifest.seed)
    check_speckle_bank(f, source, record.file)
    cols = {name: f[name][:] for name in (MODE, LEVEL, ROW, COL)}
    check_speckle_columns(cols, record, source)


def _check_sensor(f: h5py.File, record: ShardRecord, sensor: Sensor) -> None:
    """A sensor shard's stage: the banks this process regenerates, and every sample's amounts and windows."""
    check_sensor_banks(f, sensor, record.file)
    cols = {name: f[name][:] for name in (*NOISE_COLUMNS, *PAPER_COLUMNS, "params/width")}
    check_sensor_columns(cols, record, sensor)


def verify_shard(root: Path, record: ShardRecord, manifest: Manifest, charset: Charset,
                 sensor: Sensor | None = None) -> list[str]:
    """The problems of one listed shard: size and sha256, then every object's safety and layout, then contents
    (`sensor`: the dataset's sensor banks, made here when not given)."""
    problems: list[str] = []
    try:
        path = shard_path(root, record)
    except TextsynthError as exc:
        return [str(exc)]
    size = path.stat().st_size
    if size != record.bytes:
        problems.append(f"size is {size} bytes, the manifest says {record.bytes}")
    elif file_sha256(path) != record.sha256:
        problems.append("sha256 differs from the manifest (the file changed after it was written)")
    try:
        f = open_shard(path, record, manifest)
        try:
            with shard_errors(record.file):
                check_image_chunks(f["images"], record.file)
                _check_contents(f, record, charset, manifest, problems)
                if shard_version(f) == RESIDUAL_FORMAT_VERSION:
                    _check_speckle(f, record, manifest)
                elif shard_version(f) == SENSOR_FORMAT_VERSION:
                    _check_sensor(f, record, sensor or Sensor(manifest.width, manifest.height, manifest.seed))
        finally:
            f.close()
    except TextsynthError as exc:
        problems.append(str(exc).removeprefix(f"shard {record.file}: "))
    return problems


def verify_dataset(root: str | Path) -> tuple[Manifest, list[ShardReport]]:
    """Check every shard against the manifest; returns the reports of the shards with problems."""
    if str(root).strip() == "":
        raise TextsynthError("dataset folder is an empty path")
    root = Path(root)
    manifest = Manifest.read(root)
    charset = Charset(manifest.charset)
    bad = [ShardReport(missing, ["not rendered (the manifest does not list it)"], count)
           for missing, count in _missing_ranges([r.index for r in manifest.shards], manifest.shard_count)]
    sensor = Sensor(manifest.width, manifest.height, manifest.seed)  # its banks are made once, when first needed
    for record in manifest.shards:
        problems = verify_shard(root, record, manifest, charset, sensor)
        if problems:
            bad.append(ShardReport(record.file, problems))
    return manifest, bad
