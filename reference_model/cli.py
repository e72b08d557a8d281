"""`python -m reference_model`: train, evaluate, predict, export, benchmark."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

from reference_model.model import PRESETS  # noqa: E402
from textsynth.cli import Parser, run_command  # noqa: E402
from textsynth.errors import TextsynthError  # noqa: E402

SHIPPED = "the shipped weights, reference_model/weights/small"


def _train_defaults() -> dict:
    from reference_model.train import TrainConfig

    return {f.name: f.default for f in dataclasses.fields(TrainConfig)}


def cmd_train(args: argparse.Namespace) -> int:
    from reference_model.train import NaNLoss, TrainConfig, train

    # Only what was given on the command line: every other setting keeps TrainConfig's default.
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
             if getattr(args, f.name, None) is not None}
    try:
        result = train(TrainConfig(**given))
    except NaNLoss as exc:
        print(f"reference_model: {exc}", file=sys.stderr)
        return 3
    if result:
        print(f"done: epoch {result['epoch']}, {result['samples_seen']:,} samples seen, validation CER "
              f"{100 * result['cer']:.2f}%, exact {100 * result['exact']:.1f}% -> {args.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from reference_model.evaluate import evaluate, format_report

    other = {"tesseract": "Tesseract", "ppocr": "PP-OCRv4"}.get(args.engine)
    if other and args.model:
        raise TextsynthError(f"--model is for --engine model; {other} uses its own model")
    if other and args.lm:
        raise TextsynthError(f"--lm is for --engine model; {other} decodes on its own")
    report = evaluate(args.model, args.data, beam_width=args.beam_width, limit=args.limit, engine=args.engine,
                      lm=args.lm, ignore_case=args.ignore_case, skip_unknown=args.skip_unknown,
                      crop_margin=args.crop_margin, language=args.language, alphanumeric=args.alphanumeric)
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from reference_model.evaluate import predict

    for path, text in zip(args.images, predict(args.model, args.images, beam_width=args.beam_width, lm=args.lm)):
        print(f"{path}\t{text}")
    return 0


def cmd_tune_lm(args: argparse.Namespace) -> int:
    from reference_model.evaluate import tune_lm

    if args.limit is not None and args.limit < 1:
        raise TextsynthError(f"--limit must be at least 1, got {args.limit}")
    best, cer, greedy = tune_lm(args.model, args.data, limit=args.limit)
    path = best.save(args.model)
    print(f"best: weight {best.weight:g}, bonus {best.bonus:g}, uniform {best.uniform:g}: CER {100 * cer:.2f}% "
          f"(greedy {100 * greedy:.2f}%) -> {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from reference_model.export import export

    check = export(args.model, args.out)
    print(f"exported {args.model} to {args.out} (model.keras, saved_model/); check: {json.dumps(check)}")
    return 0 if check["same_text"] else 1


def cmd_benchmark(args: argparse.Namespace) -> int:
    from reference_model.benchmark import run_benchmark, to_markdown

    result = run_benchmark(args.data, arch=args.arch, batch_size=args.batch_size, train_steps=args.train_steps,
                           model=args.model, test=args.test, baseline=not args.no_baseline)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.json").write_text(json.dumps(result, indent=1))
    (out / "benchmark.md").write_text(to_markdown(result))
    print(to_markdown(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m reference_model",
                     description="Reference CNN-GRU-CTC recognizer trained from textsynth shards.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    d = _train_defaults()
    p = sub.add_parser("train", help="train (or resume) a run")
    p.add_argument("--data", required=True, help="textsynth dataset folder to train on")
    val = p.add_mutually_exclusive_group()
    val.add_argument("--val", help="separate validation dataset")
    val.add_argument("--val-fraction", type=float,
                     help=f"last share of --data kept for validation ({d['val_fraction']})")
    p.add_argument("--arch", "--preset", dest="arch", choices=tuple(PRESETS),
                   help=f"network architecture ({d['arch']}; --preset is its old name)")
    p.add_argument("--init", help="start a new run from this run folder's weights (fine-tuning; same --arch)")
    length = p.add_mutually_exclusive_group(required=True)
    length.add_argument("--epochs", type=int)
    length.add_argument("--steps", type=int, help="total optimizer steps")
    p.add_argument("--steps-per-epoch", type=int, help="default: one pass over the training data")
    p.add_argument("--batch-size", type=int, help=f"samples per step ({d['batch_size']})")
    p.add_argument("--learning-rate", type=float, help=f"learning rate ({d['learning_rate']})")
    p.add_argument("--lr-schedule", choices=("constant", "cosine"),
                   help=f"constant, or cosine decay to 2 %% over all steps of the run ({d['lr_schedule']})")
    p.add_argument("--warmup-steps", type=int,
                   help=f"cosine: linear warm-up from 1/25 of the rate over these steps ({d['warmup_steps']})")
    p.add_argument("--optimizer", choices=("adam", "adamw"), help=f"optimizer ({d['optimizer']})")
    p.add_argument("--weight-decay", type=float, help=f"adamw's decoupled weight decay ({d['weight_decay']})")
    p.add_argument("--clipnorm", type=float, help=f"gradient clipping norm ({d['clipnorm']})")
    p.add_argument("--seed", type=int, help=f"seed of initialization and shuffling ({d['seed']})")
    p.add_argument("--max-minutes", type=float, help="stop after this much training wall time")
    p.add_argument("--val-samples", type=int, help=f"validation samples decoded each epoch ({d['val_samples']})")
    p.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                   help=f"tf.distribute strategy ({d['strategy']})")
    p.add_argument("--mixed-precision", action="store_true", default=None,
                   help="float16 compute on GPUs (logits, CTC in float32)")
    p.add_argument("--out", required=True, help="run folder, e.g. runs/small")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="CER, exact match and NED of a run (or Tesseract) on labelled lines, "
                       "with breakdowns")
    p.add_argument("--model", help=f"run folder (default: {SHIPPED})")
    p.add_argument("--data", required=True, help="textsynth dataset, image folder with labels.tsv [+ meta.tsv], "
                   "LMDB (data.mdb), a gt.txt or tag-file list (path<TAB>text or path text), or page images with "
                   "same-stem ICDAR .txt/.csv annotations (x1,y1,...,x4,y4,transcript)")
    p.add_argument("--engine", choices=("model", "tesseract", "ppocr"), default="model",
                   help="tesseract: Tesseract 5 (--psm 7); ppocr: the PP-OCRv4 mobile recognizer (needs "
                   "rapidocr-onnxruntime); same images, same metrics")
    p.add_argument("--ignore-case", action="store_true",
                   help="compare lower-cased, with runs of spaces collapsed (sets whose transcripts lose case)")
    p.add_argument("--alphanumeric", action="store_true",
                   help="compare lower-cased letters and digits only, as scene-word benchmarks (IIIT5K, SVT, ICDAR) "
                   "are scored: punctuation and spaces do not count")
    p.add_argument("--skip-unknown", action="store_true",
                   help="leave out lines with characters outside the model's charset (default: score them as "
                   "they are; the report counts them either way)")
    p.add_argument("--crop-margin", type=float,
                   help="page annotations: margin around each box, as a share of its line height (0.125)")
    p.add_argument("--language", help="textsynth language of the lines (en, ru, el, hi, ar; default: a dataset's own, "
                   "else en): the charset of the other engines and Tesseract's language data")
    p.add_argument("--beam-width", type=int, default=0, help="beam search instead of greedy decoding")
    p.add_argument("--lm", action="store_true",
                   help="beam search with textsynth's character language model (the run's lm.json settings)")
    p.add_argument("--limit", type=int, help="first N samples only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="read the text of PNG/JPEG images")
    p.add_argument("--model", help=f"run folder (default: {SHIPPED})")
    p.add_argument("--beam-width", type=int, default=0)
    p.add_argument("--lm", action="store_true", help="decode with the character language model")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("tune-lm", help="pick the language model's weight, bonus and uniform share on labelled "
                       "lines (not your test set) and store them in the run's lm.json")
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--data", required=True, help="labelled lines: textsynth dataset, image folder or LMDB")
    p.add_argument("--limit", type=int, default=500, help="first N lines (default 500)")
    p.set_defaults(func=cmd_tune_lm)

    p = sub.add_parser("export", help="write a .keras file and a SavedModel returning logits")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("benchmark", help="speed (and accuracy) figures into benchmark.json and benchmark.md")
    p.add_argument("--data", required=True, help="dataset to time data loading and training on")
    p.add_argument("--arch", "--preset", dest="arch", default="small", choices=tuple(PRESETS),
                   help="network architecture (--preset is its old name)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--train-steps", type=int, default=30, help="timed training steps (after warm-up)")
    p.add_argument("--model", help="trained run to report accuracy of (with --test)")
    p.add_argument("--test", help="test dataset for the accuracy figures")
    p.add_argument("--no-baseline", action="store_true", help="skip the keras.io-style baseline")
    p.add_argument("--out", default="benchmark", help="folder for benchmark.json and benchmark.md")
    p.set_defaults(func=cmd_benchmark)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_command(build_parser(), argv, "reference_model",
                       "run the same command again to resume from the last epoch")
