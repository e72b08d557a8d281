"""Evaluation of a trained run (or Tesseract) on labelled line images, with breakdowns, and prediction on files."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from reference_model.language_model import CharLM, FusedDecoder, LMSettings
from reference_model.metrics import breakdown, confusions, score
from reference_model.sources import LineSource, open_source
from textsynth.errors import TextsynthError
from textsynth.languages import config_charset, get_language

ENGINES = ("model", "tesseract", "ppocr")


def _each(source: LineSource, start: int, images, convert: Callable) -> list:
    """convert(image) for each image of a batch; a bad image is an error naming where it comes from."""
    out = []
    for k, image in enumerate(images):
        try:
            out.append(convert(image))
        except TextsynthError as exc:
            raise TextsynthError(f"{source.where(start + k)}: {exc}") from None
    return out


def _model_logits(rec, source: LineSource, batch_size: int) -> np.ndarray:
    """The recognizer's logits for every line of the source (images of any size are fitted first)."""
    from reference_model.recognizer import prepare_image

    out: list[np.ndarray] = []
    done = 0
    for images in source.batches(batch_size):
        if not (isinstance(images, np.ndarray) and images.shape[1:] == (rec.height, rec.width)):
            images = np.stack(_each(source, done, images, lambda im: prepare_image(im, rec.width, rec.height)))
        out.append(rec.logits(images))
        done += len(images)
    return np.concatenate(out) if out else np.empty((0, rec.steps, len(rec.charset) + 1), np.float32)


def fused_decoder(run: str | Path | None, charset) -> FusedDecoder:
    """The language-model decoder with the run's tuned settings (its lm.json; defaults without one)."""
    from reference_model.recognizer import SHIPPED_WEIGHTS

    return FusedDecoder(charset, LMSettings.of_run(run if run is not None else SHIPPED_WEIGHTS))


def _model_reads(rec, run: str | Path | None, source: LineSource, beam_width: int, batch_size: int,
                 lm: bool) -> tuple[str, str, list[str]]:
    from reference_model.recognizer import SHIPPED_WEIGHTS

    decoder = fused_decoder(run, rec.charset) if lm else None
    hyps = rec.decode(_model_logits(rec, source, batch_size), beam_width, decoder)
    how = decoder.describe() if decoder else (f"beam {beam_width}" if beam_width > 1 else "greedy")
    return str(run if run is not None else SHIPPED_WEIGHTS), how, hyps


def _engine_reads(source: LineSource, batch_size: int, read: Callable, arrays: bool) -> list[str]:
    """`read(images)` batch by batch; file bytes are decoded first (to arrays when `arrays`) with the model's
    size bounds and one-line errors."""
    from reference_model.recognizer import open_image

    def checked(image):
        if isinstance(image, bytes):
            img = open_image(image)
            return np.asarray(img) if arrays else image
        return image

    hyps: list[str] = []
    for images in source.batches(batch_size):
        hyps += read(_each(source, len(hyps), images, checked))
    return hyps


def fold_case(text: str) -> str:
    """For sets whose transcripts do not keep case: lower case, runs of spaces as one, no outer spaces."""
    return " ".join(text.lower().split())


def fold_alphanumeric(text: str) -> str:
    """The scene-text benchmarks' scoring (IIIT5K, SVT, ICDAR words as the deep-text-recognition-benchmark and
    the CRNN and SVTR papers score them): lower case, only letters and digits kept (and the combining marks
    that belong to letters), so punctuation and spaces read or not read at a word's edges do not count."""
    return "".join([c for c in text.lower() if unicodedata.category(c)[0] in "LNM"])


def _kept_breakdowns(columns: dict[str, list[str]], samples: int) -> tuple[dict[str, list[str]], list[str]]:
    """The columns worth a breakdown, and those left out because nearly every row has its own value (a `text`
    column of transcripts, file names): more groups than half the rows, and more than MAX_LONE_GROUPS."""
    kept, dropped = {}, []
    for column, keys in columns.items():
        groups = len(set(keys))
        if groups > max(MAX_LONE_GROUPS, samples // 2):
            dropped.append(column)
        else:
            kept[column] = keys
    return kept, dropped


MAX_LONE_GROUPS = 50


def evaluate(run: str | Path | None, data: str | Path, beam_width: int = 0, limit: int | None = None,
             batch_size: int = 256, engine: str = "model", lm: bool = False, ignore_case: bool = False,
             skip_unknown: bool = False, crop_margin: float | None = None, language: str | None = None,
             alphanumeric: bool = False) -> dict:
    """Scores of the run in `run` (None: the shipped weights), Tesseract or PP-OCRv4 on labelled lines (see
    `open_source` for the layouts), with a breakdown per column of the source. `lm`: decode with the character
    language model (the run's tuned settings). `ignore_case`: compare lower-cased, spaces collapsed;
    `alphanumeric`: lower-cased letters and digits only (`fold_alphanumeric`, the scene-word protocol). Lines with
    characters outside the model's charset (textsynth's default charset for the other engines) are counted and
    scored as they are, or left out with `skip_unknown`. `crop_margin`: for page annotations. `language`: the
    textsynth language of the lines (default: a dataset's own, else English): the other engines' charset and
    Tesseract's language data."""
    if engine not in ENGINES:
        raise TextsynthError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    rec = None
    if engine == "model":
        from reference_model.recognizer import Recognizer

        rec = Recognizer.load(run)
    source = open_source(data, limit, crop_margin)
    try:
        lang = get_language(language or source.language)
        charset = rec.charset if rec is not None else config_charset("default", lang.code)
        unknown = source.unknown(charset)
        if skip_unknown:
            source = source.without(unknown, "characters outside the charset")
        if engine == "tesseract":
            from reference_model.tesseract import tesseract_binary, tesseract_read

            name, decoder = f"tesseract ({tesseract_binary()} --psm 7 -l {lang.tesseract})", "tesseract"
            hyps = _engine_reads(source, batch_size, partial(tesseract_read, language=lang.tesseract), arrays=False)
        elif engine == "ppocr":
            from reference_model.ppocr import NAME, ppocr_read, ppocr_version

            name, decoder = f"{NAME} {ppocr_version()}", "ppocr"
            hyps = _engine_reads(source, batch_size, ppocr_read, arrays=True)
        else:
            name, decoder, hyps = _model_reads(rec, run, source, beam_width, batch_size, lm)
    finally:
        source.close()
    refs = source.texts
    if alphanumeric:
        refs, hyps = [fold_alphanumeric(t) for t in refs], [fold_alphanumeric(t) for t in hyps]
        case = "ignored, letters and digits only"
    elif ignore_case:
        refs, hyps = [fold_case(t) for t in refs], [fold_case(t) for t in hyps]
        case = "ignored (spaces collapsed)"
    else:
        case = "kept"
    columns, dropped = _kept_breakdowns(source.columns, len(refs))
    report = {"model": name, "engine": engine, "data": str(data), "layout": source.kind, "decoder": decoder,
              "case": case,
              "unknown_lines": len(unknown), "unknown_policy": "skipped" if skip_unknown else "scored as they are",
              "skipped": dict(source.skipped), "breakdowns_left_out": dropped,
              **score(refs, hyps), "by_length": breakdown(refs, hyps, [len(r) for r in refs])}
    for column, keys in columns.items():
        report[f"by_{column}"] = breakdown(refs, hyps, keys)
    report["confusions"] = confusions(refs, hyps)
    report["examples"] = [{"ref": r, "hyp": h} for r, h in zip(refs, hyps) if r != h][:20]
    return report


def breakdown_keys(report: dict) -> list[str]:
    """The report's breakdown columns, without the `by_` prefix, in report order."""
    return [k[3:] for k in report if k.startswith("by_")]


def format_report(r: dict) -> str:
    lines = [f"{r['model']} on {r['data']} ({r['samples']:,} samples, {r['decoder']} decoding)",
             f"CER {100 * r['cer']:.2f}%   exact match {100 * r['exact']:.2f}%   normalized edit distance "
             f"{r['ned']:.4f} (1 = perfect)"]
    notes = [f"case {r['case']}"]
    if r["unknown_lines"]:
        notes.append(f"{r['unknown_lines']:,} lines hold characters outside the charset ({r['unknown_policy']})")
    if r["skipped"]:
        notes.append("skipped: " + ", ".join(f"{n:,} {why}" for why, n in r["skipped"].items()))
    if r["breakdowns_left_out"]:
        notes.append("no breakdown by " + ", ".join(r["breakdowns_left_out"]) + " (nearly one group per line)")
    lines += ["; ".join(notes), ""]
    for column in breakdown_keys(r):
        lines.append(f"by {'label length' if column == 'length' else column}:")
        for group, s in sorted(r[f"by_{column}"].items(), key=lambda kv: (len(kv[0]), kv[0])):
            lines.append(f"  {group:34s} {s['samples']:7,d}  CER {100 * s['cer']:6.2f}%  "
                         f"exact {100 * s['exact']:6.2f}%")
    if r["confusions"]:
        lines.append("most frequent substitutions (truth -> read): " +
                     ", ".join(f"{a!r}->{b!r} {n}" for a, b, n in r["confusions"]))
    return "\n".join(lines)


def predict(run: str | Path | None, images: Sequence[str | Path], beam_width: int = 0, lm: bool = False) -> list[str]:
    """The text of each image file, read by the run in `run` (None: the shipped weights)."""
    from reference_model.recognizer import Recognizer, prepare_image

    rec = Recognizer.load(run)
    batch = np.stack([prepare_image(p, rec.width, rec.height) for p in images])
    return rec.read(batch, beam_width, fused_decoder(run, rec.charset) if lm else None)


# The grid `tune_lm` searches: weight x bonus at a middle uniform share, then the share at the best pair.
TUNE_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.7)
TUNE_BONUSES = (0.5, 1.0, 1.5, 2.0, 2.5)
TUNE_UNIFORMS = (0.1, 0.2, 0.3, 0.5)


def tune_lm(run: str | Path, data: str | Path, limit: int | None = 500, batch_size: int = 256,
            log: Callable[[str], None] = print) -> tuple[LMSettings, float, float]:
    """Pick the language-model settings with the lowest CER on labelled lines (never the test set): returns
    them, their CER and greedy decoding's CER. The caller stores them with `LMSettings.save(run)`."""
    from reference_model.recognizer import Recognizer

    rec = Recognizer.load(run)
    source = open_source(data, limit)
    try:
        logits = _model_logits(rec, source, batch_size)
    finally:
        source.close()
    refs = source.texts
    greedy = score(refs, rec.decode(logits))["cer"]
    log(f"greedy decoding: CER {100 * greedy:.2f}% on {len(refs)} lines")
    lm = CharLM.bundled(rec.charset, order=LMSettings.order)
    tried: dict[LMSettings, float] = {}

    def trial(settings: LMSettings) -> float:
        if settings not in tried:
            hyps = rec.decode(logits, lm=FusedDecoder(rec.charset, settings, lm))
            tried[settings] = score(refs, hyps)["cer"]
            log(f"  weight {settings.weight:g}, bonus {settings.bonus:g}, uniform {settings.uniform:g}: "
                f"CER {100 * tried[settings]:.2f}%")
        return tried[settings]

    middle = LMSettings()
    best = min((LMSettings(weight=w, bonus=b, uniform=middle.uniform) for w in TUNE_WEIGHTS for b in TUNE_BONUSES),
               key=trial)
    best = min((LMSettings(weight=best.weight, bonus=best.bonus, uniform=u) for u in TUNE_UNIFORMS), key=trial)
    return best, tried[best], greedy
