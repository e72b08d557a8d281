"""Image folders with labels.tsv and meta.tsv, the layout `evaluate` reads; written whole or not at all."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from reference_model.sources import LABELS_FILE, META_FILE

BUILD_FILE = "build.json"


def renderer_fingerprint(config_dict: dict | None = None, count: int = 8) -> str:
    """sha256 of the first `count` samples textsynth paints now for a config (default: the default config at
    seed 0): a set rendered by textsynth is rebuilt when the painter changes, even within a version."""
    import hashlib

    from textsynth.config import RenderConfig
    from textsynth.generator import SampleGenerator

    config = RenderConfig.from_dict({**(config_dict or {}), "n": count})
    gen = SampleGenerator(config)
    digest = hashlib.sha256()
    for i in range(count):
        digest.update(gen.sample(i)[1].tobytes())
    return digest.hexdigest()


def is_built(out: Path, build: dict) -> bool:
    """True when `out` was finished by a build with exactly these settings."""
    try:
        return json.loads((out / BUILD_FILE).read_text()) == build
    except (OSError, ValueError):
        return False


def write_folder(out: Path, lines: Iterable[tuple[np.ndarray, str, dict[str, str]]], build: dict) -> int:
    """Write (image, text, meta) lines as images/NNNNNN.png + labels.tsv + meta.tsv, then `build.json` last;
    the folder is assembled beside `out` and moved into place, so an interrupted build leaves no half set."""
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "images").mkdir(parents=True)
    columns: list[str] | None = None
    count = 0
    with open(tmp / LABELS_FILE, "w", encoding="utf-8") as labels, open(tmp / META_FILE, "w", encoding="utf-8") as meta:
        for count, (image, text, info) in enumerate(lines, 1):
            if columns is None:
                columns = list(info)
                meta.write("\t".join(["name", *columns]) + "\n")
            name = f"images/{count:06d}.png"
            Image.fromarray(image).save(tmp / name, compress_level=1)
            labels.write(f"{name}\t{text}\n")
            meta.write("\t".join([name, *(info[c] for c in columns)]) + "\n")
    (tmp / BUILD_FILE).write_text(json.dumps(build, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return count
