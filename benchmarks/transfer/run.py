"""`python benchmarks/transfer/run.py`: build the three transfer sets once, evaluate a model and Tesseract on
them, print the table and write benchmarks/transfer/RESULTS.md."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.transfer.results import to_markdown  # noqa: E402
from benchmarks.transfer.set_other_renderer import PANGO_PACKAGE  # noqa: E402
from benchmarks.transfer.sets import SETS  # noqa: E402
from benchmarks.transfer.unseen_fonts import missing_packages  # noqa: E402
from reference_model.tesseract import DEBIAN_PACKAGES as TESSERACT_PACKAGES  # noqa: E402
from textsynth.cli import Parser, run_command  # noqa: E402

ENGINES = ("model", "tesseract")


def missing_debian_packages(engines: Sequence[str]) -> list[str]:
    """The Debian packages this run needs and does not find."""
    missing = missing_packages()
    if shutil.which("pango-view") is None:
        missing.append(PANGO_PACKAGE)
    if shutil.which("fc-match") is None:
        missing.append("fontconfig")
    if "tesseract" in engines and shutil.which("tesseract") is None:
        missing += TESSERACT_PACKAGES.split()
    return missing


def run(args: argparse.Namespace) -> int:
    from reference_model.evaluate import evaluate, format_report

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        print(f"transfer: --engines takes a comma-separated subset of {', '.join(ENGINES)}", file=sys.stderr)
        return 2
    from reference_model.recognizer import MODEL_FILE, SHIPPED_WEIGHTS

    if "model" in engines and args.model is None and not (SHIPPED_WEIGHTS / MODEL_FILE).is_file():
        print(f"transfer: no shipped weights in {SHIPPED_WEIGHTS} yet; pass --model RUN or --engines tesseract",
              file=sys.stderr)
        return 2
    if not 1 <= args.n <= 100_000:
        print(f"transfer: --n must be in 1..100000, got {args.n}", file=sys.stderr)
        return 2
    missing = missing_debian_packages(engines)
    if missing:
        print(f"transfer: missing Debian packages; install them with: apt-get install {' '.join(missing)}",
              file=sys.stderr)
        return 2
    data = Path(args.data)
    timings = []
    for s in SETS:
        t = time.perf_counter()
        built = s.build(data / s.key, args.n, args.seed)
        took = time.perf_counter() - t
        print(f"{s.title}: {'built' if built else 'already built'} in {data / s.key} ({took:.0f} s)", flush=True)
        if built:
            timings.append(f"building set {s.title}: {took:.0f} s ({args.n} lines)")

    # One column per model (each --model, or the shipped weights) and one for Tesseract.
    # With --lm, each model gets a second column: the same logits decoded with the character language model.
    columns: dict[str, tuple[str, str | None, bool]] = {}  # column key -> (engine, model run, language model)
    labels: dict[str, str] = {}
    if "model" in engines:
        for run_dir in args.model or [None]:
            name = f"model `{Path(run_dir).name}`" if run_dir else "model `shipped small`"
            for lm in (False, True) if args.lm else (False,):
                key = f"model:{run_dir}:{lm}"
                columns[key], labels[key] = ("model", run_dir, lm), name + (" + LM" if lm else "")
    if "tesseract" in engines:
        columns["tesseract"], labels["tesseract"] = ("tesseract", None, False), "Tesseract"
    reports: dict[str, dict[str, dict]] = {}
    for s in SETS:
        reports[s.key] = {}
        for key, (engine, run_dir, lm) in columns.items():
            t = time.perf_counter()
            report = evaluate(run_dir, data / s.key, engine=engine, lm=lm)
            took = time.perf_counter() - t
            timings.append(f"evaluating {labels[key]} on set {s.title}: {took:.0f} s")
            reports[s.key][key] = report
            if args.verbose:
                print(format_report(report), flush=True)

    command = "python benchmarks/transfer/run.py " + " ".join(shlex.quote(a) for a in args.argv)
    commands = [f"apt-get install {' '.join(sorted(set(_all_packages())))}", command.strip()]
    text = to_markdown(reports, {s.key: s.title for s in SETS}, {s.key: s.about for s in SETS}, labels, commands,
                       timings)
    print(text)
    Path(args.results).write_text(text)
    print(f"wrote {args.results}")
    return 0


def _all_packages() -> list[str]:
    from benchmarks.transfer.unseen_fonts import UNSEEN_FONTS

    return [*TESSERACT_PACKAGES.split(), PANGO_PACKAGE, "fontconfig", *(f.package for f in UNSEEN_FONTS)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(prog="python benchmarks/transfer/run.py",
                    description="Transfer benchmark: unseen fonts, another renderer, in-distribution; model and "
                                "Tesseract side by side.")
    parser.add_argument("--model", action="append",
                        help="run folder; repeat it to compare several (default: the shipped weights)")
    parser.add_argument("--engines", default="model,tesseract", help="model,tesseract (default), or one of them")
    parser.add_argument("--lm", action="store_true",
                        help="also decode each model with the character language model (its run's lm.json)")
    parser.add_argument("--n", type=int, default=300, help="lines per set (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of sets 1 and 2 (set 3 always uses seed 2)")
    parser.add_argument("--data", default=str(REPO / "data" / "transfer"), help="where the sets are built")
    parser.add_argument("--results", default=str(Path(__file__).resolve().parent / "RESULTS.md"))
    parser.add_argument("--verbose", action="store_true", help="print every evaluation report too")
    parser.set_defaults(func=run)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_command(parser, argv, "transfer", "run the same command again: finished sets are kept")


if __name__ == "__main__":
    sys.exit(main())
