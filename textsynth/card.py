"""The dataset card: a README.md written beside the shards saying how they were made and how to load them."""

from __future__ import annotations

import platform
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import PIL

from textsynth.effects.registry import EFFECT_FIELDS, OFF
from textsynth.fileio import atomic_write_text
from textsynth.format import RESIDUAL_FORMAT_VERSION, SENSOR_FORMAT_VERSION
from textsynth.manifest import Manifest


def _shard0_usage(out: Path, manifest: Manifest) -> tuple[Counter, dict[str, float]]:
    """Samples per font and the share of samples each effect touched, read from the first shard (a cheap,
    representative count)."""
    counts: Counter = Counter()
    shares: dict[str, float] = {}
    if manifest.shards:
        with h5py.File(out / manifest.shards[0].file, "r") as f:
            ids, n = np.unique(f["params/font_id"][:], return_counts=True)
            counts.update({int(i): int(c) for i, c in zip(ids, n)})
            for name, field in EFFECT_FIELDS.items():
                column = f["params"][field][:]
                shares[name] = float(np.mean(column != OFF[field])) if len(column) else 0.0
    return counts, shares


def write_card(out: str | Path, manifest: Manifest) -> Path:
    out = Path(out)
    m = manifest
    c = m.config
    total = sum(r.bytes for r in m.shards)
    usage, shares = _shard0_usage(out, m)
    fonts = "\n".join(
        f"| {i} | `{f['file']}` | {f['family']} {f['style']} | {f['licence']} | {usage.get(i, 0)} |"
        for i, f in enumerate(m.fonts))
    charset = "".join(m.charset)
    status = "Complete." if m.complete else "**Unfinished render**: run the same command again to finish it."
    a = c["augment"]
    effects = ", ".join(f"{name} {100 * share:.0f}%" for name, share in shares.items() if share) or "none"
    ts, fc = c.get("typeset", {}), c.get("fonts", {})
    typeset = (f"font sizes {fc.get('min_size')}-{fc.get('max_size')} of the height, letter spacing "
               f"{ts.get('tracking')} em, word spacing x{ts.get('word_spacing')}, left-aligned "
               f"p={ts.get('left_aligned')} (indent {ts.get('indent')} of the height), else placed at random.")
    width_note = ("\n- Variable width: each line is as wide as its text plus margins, at most "
                  f"{m.width} px, stored padded to {m.width} px; its true width is `params/width` "
                  "(`Sample.width`, `batch[\"width\"]`); `textsynth export` writes the crops."
                  if c["canvas"].get("variable_width") else "")
    boxes_note = ("\n- Character boxes (`--char-boxes`): `char_boxes` (n, max_len, 4, 2) float32 holds, per label "
                  "character, its quadrilateral on the canvas (x, y in pixels; corners in the upright glyph's order "
                  "top-left, top-right, bottom-right, bottom-left), NaN past the label: "
                  "`f[\"char_boxes\"][i, :lengths[i]]`." if m.char_boxes else "")
    text = f"""# textsynth dataset

{m.n:,} synthetic text-line images, {m.width}x{m.height} pixels, grayscale `uint8`, with their label ids,
in {m.shard_count} HDF5 shards ({total / 1e9:.2f} GB). {status}

## How it was made
- Command: `{m.command or "textsynth render (Python API)"}`
- textsynth {m.textsynth_version}, Python {platform.python_version()}, numpy {np.__version__},
  h5py {h5py.__version__}, Pillow {PIL.__version__}
- Seed {m.seed}; sample *i* depends only on the seed, the config and *i*, so any subset can be re-rendered
  byte-identical. The full resolved config is in `manifest.json` under `config`.
- Text: `{c["text"]["source"]}`, {c["text"]["min_len"]}-{c["text"]["max_len"]} characters.
- Augmentation: rotation within ±{a["max_angle"]}°, mirror p={a["mirror"]}, upside-down p={a["upside_down"]},
  speckle noise up to {a["noise"]}, blur up to {a["blur"]} px.
- Preset `{c.get("preset", "default")}`. Degradation effects and the share of shard 0's samples each one touched:
  {effects}.
- Typesetting: HarfBuzz shaping (kerning, ligatures, marks); {typeset}
- Labels are in logical (reading) order, also for right-to-left scripts such as Arabic or Hebrew: the image
  shows the line right to left, the label stores its first character first.{width_note}{boxes_note}

## Charset ({len(m.charset)} symbols; label id = position; CTC blank = {len(m.charset)})
`{charset}`

## Fonts (samples per font in shard 0)
| id | file | face | licence | samples |
|---|---|---|---|---|
{fonts}

## Load it with plain h5py
```python
import json, h5py{{plugin}}
manifest = json.load(open("manifest.json"))
charset = manifest["charset"]
with h5py.File(manifest["shards"][0]["file"], "r") as f:
    images = f["images"][:256]          # uint8 (256, {m.height}, {m.width})
    labels = f["labels"][:256]          # int32, padded with -1
    lengths = f["label_length"][:256]
    texts = f["text"].asstr()[:256]
print("".join(charset[i] for i in labels[0][: lengths[0]]), texts[0])
```
{{residual}}Or with textsynth: `ds = textsynth.open_dataset(".")`. The format is described in textsynth's `FORMAT.md`
(version {m.format_version}).
"""
    path = out / "README.md"
    notes = {RESIDUAL_FORMAT_VERSION: _RESIDUAL_NOTE, SENSOR_FORMAT_VERSION: _SENSOR_NOTE}
    text = text.replace("{residual}", notes.get(m.format_version, "")).replace(
        "{plugin}", "\nimport hdf5plugin  # pip install hdf5plugin: HDF5's zstd filter"
        if m.format_version == SENSOR_FORMAT_VERSION else "")
    atomic_write_text(path, text)
    return path


# Version 3 shards store each line before its sensor stage, rows less the row above, as zstd chunks (FORMAT.md).
_SENSOR_NOTE = """This dataset (format 3, `--compression zstd`) stores each line before its sensor noise, each row less
the row above, as zstd chunks: reading `images` with h5py needs `pip install hdf5plugin`. The exact pixels:
```python
import hdf5plugin, numpy as np          # hdf5plugin: HDF5's zstd filter
from textsynth.sensor import Sensor      # the two noise banks, regenerated from the seed (FORMAT.md)
h, w = manifest["height"], manifest["width"]
sensor = Sensor(w, h, manifest["seed"])
names = ("noise_level", "noise_row", "noise_col", "paper", "paper_row", "paper_col", "width")
with h5py.File(manifest["shards"][0]["file"], "r") as f:
    images = np.cumsum(f["images"][:256], axis=1, dtype=np.uint8)  # undo the rows (mod 256)
    p = {k: f["params/" + k][:256] for k in names}
for k in range(len(images)):
    line, wk = images[k].astype(np.int16), p["width"][k]
    for bank, (a, r, c) in ((sensor.noise.bank, names[:3]), (sensor.paper.bank, names[3:6])):
        if p[a][k] > 0:
            t = np.rint(bank[p[r][k]:p[r][k] + h, p[c][k]:p[c][k] + wk] * np.float32(p[a][k]))
            line[:, :wk] = np.clip(line[:, :wk] + np.clip(t, -255, 255), 0, 255)
    images[k] = line
```
"""


# Version 2 shards store images less their speckle: the few lines of numpy that add it back (FORMAT.md).
_RESIDUAL_NOTE = """This dataset stores each image less its speckle noise (`--compression residual`); add it back:
```python
import numpy as np
from textsynth.speckle import painter_speckle   # or the bank recipe in FORMAT.md
h, w = manifest["height"], manifest["width"]
bank = painter_speckle(w, h, manifest["seed"]).bank
with h5py.File(manifest["shards"][0]["file"], "r") as f:
    for k in range(len(images)):
        mode, level = f["speckle_mode"][k], np.float32(f["params/noise_level"][k])
        r, c = f["params/noise_row"][k], f["params/noise_col"][k]
        if mode:
            n = bank[r:r + h, c:c + w] * level
            images[k] += (np.floor(n) if mode == 1 else np.rint(n)).astype(np.int16).astype(np.uint8)
```
"""
