"""Dataset statistics for `textsynth inspect`: sizes, label lengths, font usage, flips."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from textsynth.dataset import Dataset


def describe(ds: Dataset) -> dict[str, Any]:
    """Summary numbers of a dataset, read from the small columns only (no images)."""
    m = ds.manifest
    lengths: Counter = Counter()
    fonts: Counter = Counter()
    mirror = upside_down = 0
    for seg in ds.segments:  # one shard's columns at a time: memory stays O(shard), never O(n)
        cols = ds.shard_columns(seg.shard)
        part = slice(seg.start, seg.stop)
        lengths.update(dict(zip(*np.unique(cols["label_length"][part], return_counts=True))))
        fonts.update(dict(zip(*np.unique(cols["params/font_id"][part], return_counts=True))))
        mirror += int(cols["params/mirror"][part].sum())
        upside_down += int(cols["params/upside_down"][part].sum())
    c = ds.config  # checked when the manifest was read; defaults fill settings an older manifest lacks
    return {
        "path": str(ds.root),
        "samples": len(ds),
        "complete": m.complete,
        "shards": len(m.shards),
        "image_size": [m.height, m.width],
        "bytes": sum(r.bytes for r in m.shards),
        "charset": "".join(m.charset),
        "charset_size": len(m.charset),
        "seed": m.seed,
        "config": {"preset": c.preset, "language": c.language, "effects": "on" if c.effects.enabled else "off",
                   "text": c.text.source, "length": [c.text.min_len, c.text.max_len],
                   "max_angle": c.augment.max_angle, "mirror": c.augment.mirror,
                   "upside_down": c.augment.upside_down, "noise": c.augment.noise,
                   "blur": c.augment.blur, "compression": c.output.compression},
        "label_lengths": {int(k): int(v) for k, v in sorted(lengths.items())},
        "fonts": {m.fonts[int(k)]["file"] if 0 <= int(k) < len(m.fonts) else f"#{k}": int(v)
                  for k, v in sorted(fonts.items())},
        "flips": {"mirror": mirror, "upside_down": upside_down},
        "textsynth_version": m.textsynth_version,
    }


def format_description(d: dict[str, Any]) -> str:
    lines = [
        f"dataset      {d['path']}{'' if d['complete'] else '  (UNFINISHED)'}",
        f"samples      {d['samples']:,} in {d['shards']} shards, {d['bytes'] / 1e9:.2f} GB",
        f"images       {d['image_size'][1]}x{d['image_size'][0]} uint8",
        f"charset      {d['charset_size']} symbols: {d['charset']}",
        f"made with    seed {d['seed']}, " + ", ".join(f"{k} {v}" for k, v in d["config"].items()),
        f"flips        mirror {d['flips']['mirror']:,}, upside-down {d['flips']['upside_down']:,}",
        "label length histogram:",
    ]
    peak = max(d["label_lengths"].values(), default=1)
    for length, count in d["label_lengths"].items():
        lines.append(f"  {length:4d} {count:10,d} {'#' * max(1, round(40 * count / peak))}")
    lines.append("font usage:")
    for font, count in d["fonts"].items():
        lines.append(f"  {font:36s} {count:10,d}")
    return "\n".join(lines)
