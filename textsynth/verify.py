"""Integrity checks of a dataset folder: checksums, layout, and labels that agree with the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from textsynth.charset import Charset
from textsynth.dataset import shard_path
from textsynth.errors import TextsynthError
from textsynth.fileio import file_sha256
from textsynth.manifest import Manifest, ShardRecord
from textsynth.shards import check_shard_layout

_ROWS = 4096  # label rows checked at a time


@dataclass
class ShardReport:
    file: str
    problems: list[str] = field(default_factory=list)


def _check_contents(f: h5py.File, record: ShardRecord, charset: Charset, problems: list[str]) -> None:
    n, symbols = record.count, len(charset)
    index = f["params/index"][:]
    if not np.array_equal(index, np.arange(record.first, record.first + n)):
        problems.append("params/index does not run from the shard's first sample index")
    for lo in range(0, n, _ROWS):
        hi = min(n, lo + _ROWS)
        labels, lengths, texts = f["labels"][lo:hi], f["label_length"][lo:hi], f["text"][lo:hi]
        if lengths.min() < 1 or lengths.max() > labels.shape[1]:
            problems.append(f"label_length outside 1..{labels.shape[1]} near sample {lo}")
            return
        valid = np.arange(labels.shape[1])[None, :] < lengths[:, None]
        if np.any(labels[valid] < 0) or np.any(labels[valid] >= symbols):
            problems.append(f"label ids outside 0..{symbols - 1} near sample {record.first + lo}")
            return
        if np.any(labels[~valid] != -1):
            problems.append(f"label padding is not -1 near sample {record.first + lo}")
            return
        for k in range(hi - lo):
            text = texts[k].decode("utf-8", errors="replace")
            if charset.decode(labels[k, :lengths[k]]) != text:
                problems.append(f"sample {record.first + lo + k}: labels say "
                                f"{charset.decode(labels[k, :lengths[k]])!r}, text says {text!r}")
                return


def verify_dataset(root: str | Path) -> tuple[Manifest, list[ShardReport]]:
    """Check every shard against the manifest; returns the reports of the shards with problems."""
    root = Path(root)
    manifest = Manifest.read(root)
    charset = Charset(manifest.charset)
    bad: list[ShardReport] = []
    listed = {r.index for r in manifest.shards}
    for missing in sorted(set(range(manifest.shard_count)) - listed):
        bad.append(ShardReport(f"shard {missing}", ["not rendered (the manifest does not list it)"]))
    for record in manifest.shards:
        report = ShardReport(record.file)
        try:
            path = shard_path(root, record)
        except TextsynthError as exc:
            report.problems.append(str(exc))
            bad.append(report)
            continue
        size = path.stat().st_size
        if size != record.bytes:
            report.problems.append(f"size is {size} bytes, the manifest says {record.bytes}")
        elif file_sha256(path) != record.sha256:
            report.problems.append("sha256 differs from the manifest (the file changed after it was written)")
        try:
            with h5py.File(path, "r") as f:
                check_shard_layout(f, record, manifest)
                _check_contents(f, record, charset, report.problems)
        except TextsynthError as exc:
            report.problems.append(str(exc))
        except (OSError, KeyError, ValueError) as exc:
            report.problems.append(f"unreadable HDF5 ({exc})")
        if report.problems:
            bad.append(report)
    return manifest, bad
