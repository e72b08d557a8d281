"""Evaluation of a trained run on a dataset, with breakdowns, and prediction on image files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reference_model.metrics import breakdown, confusions, score
from reference_model.recognizer import Recognizer, prepare_image
from textsynth.dataset import open_dataset
from textsynth.errors import TextsynthError


def evaluate(run: str | Path, data: str | Path, beam_width: int = 0, limit: int | None = None,
             batch_size: int = 256) -> dict:
    rec = Recognizer.load(run)
    ds = open_dataset(data)
    if ds.charset != rec.charset or (ds.width, ds.height) != (rec.width, rec.height):
        raise TextsynthError(f"{data} has another charset or image size than the model in {run}")
    refs, hyps = [], []
    for batch in ds.batches(batch_size, shuffle=False):
        hyps += rec.read(batch["images"], beam_width)
        refs += ds.charset.decode_batch(batch["labels"], batch["label_length"])
        if limit is not None and len(refs) >= limit:
            break
    n = len(refs)
    fonts = [ds.manifest.fonts[i]["file"] for i in ds.column("params/font_id")[:n]]
    mirror, upside = ds.column("params/mirror")[:n], ds.column("params/upside_down")[:n]
    flips = np.where(mirror & upside, "mirror+upside_down", np.where(mirror, "mirror",
                     np.where(upside, "upside_down", "none")))
    return {
        "model": str(run), "data": str(data), "decoder": f"beam {beam_width}" if beam_width > 1 else "greedy",
        **score(refs, hyps),
        "by_length": breakdown(refs, hyps, [len(r) for r in refs]),
        "by_font": breakdown(refs, hyps, fonts),
        "by_flip": breakdown(refs, hyps, flips.tolist()),
        "confusions": confusions(refs, hyps),
        "examples": [{"ref": r, "hyp": h} for r, h in zip(refs, hyps) if r != h][:20],
    }


def format_report(r: dict) -> str:
    lines = [f"{r['model']} on {r['data']} ({r['samples']:,} samples, {r['decoder']} decoding)",
             f"CER {100 * r['cer']:.2f}%   exact match {100 * r['exact']:.2f}%   normalized edit distance "
             f"{r['ned']:.4f} (1 = perfect)", ""]
    for title, key in (("by label length", "by_length"), ("by font", "by_font"), ("by flip", "by_flip")):
        lines.append(f"{title}:")
        for group, s in sorted(r[key].items(), key=lambda kv: (len(kv[0]), kv[0])):
            lines.append(f"  {group:34s} {s['samples']:7,d}  CER {100 * s['cer']:6.2f}%  "
                         f"exact {100 * s['exact']:6.2f}%")
    if r["confusions"]:
        lines.append("most frequent substitutions (truth -> read): " +
                     ", ".join(f"{a!r}->{b!r} {n}" for a, b, n in r["confusions"]))
    return "\n".join(lines)


def predict(run: str | Path, images: Sequence[str | Path], beam_width: int = 0) -> list[str]:
    rec = Recognizer.load(run)
    batch = np.stack([prepare_image(p, rec.width, rec.height) for p in images])
    return rec.read(batch, beam_width)
