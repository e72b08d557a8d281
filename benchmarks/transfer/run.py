"""`python benchmarks/transfer/run.py`: build the three transfer sets once, evaluate a model, Tesseract and
PP-OCRv4 on them (and on real folders given with --real), print the table and write
benchmarks/transfer/RESULTS.md."""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from reference_model.quiet import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly(show="--debug" in sys.argv[1:])

from benchmarks.transfer.results import to_markdown  # noqa: E402
from benchmarks.transfer.set_other_renderer import PANGO_PACKAGE  # noqa: E402
from benchmarks.transfer.sets import language_sets  # noqa: E402
from benchmarks.transfer.unseen_fonts import language_fonts, missing_packages  # noqa: E402
from reference_model.tesseract import DEBIAN_PACKAGES as TESSERACT_PACKAGES  # noqa: E402
from textsynth.cli import Parser, run_command  # noqa: E402
from textsynth.languages import LANGUAGES, get_language  # noqa: E402

ENGINES = ("model", "tesseract", "ppocr")
ENGINE_LABELS = {"tesseract": "Tesseract", "ppocr": "PP-OCRv4"}


def missing_debian_packages(engines: Sequence[str], synthetic: bool = True, language: str = "en") -> list[str]:
    """The Debian packages this run needs and does not find."""
    missing = []
    if synthetic:
        missing = missing_packages(language_fonts(language))
        if shutil.which("pango-view") is None:
            missing.append(PANGO_PACKAGE)
        if shutil.which("fc-match") is None:
            missing.append("fontconfig")
    if "tesseract" in engines and shutil.which("tesseract") is None:
        missing += TESSERACT_PACKAGES.split()
    if "tesseract" in engines and language != "en":
        data = get_language(language).tesseract
        found = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
        if shutil.which("tesseract") is None or data not in found:
            missing.append(f"tesseract-ocr-{data}")
    return missing


def run(args: argparse.Namespace) -> int:
    from reference_model.evaluate import evaluate, format_report

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        print(f"transfer: --engines takes a comma-separated subset of {', '.join(ENGINES)}", file=sys.stderr)
        return 2
    from reference_model.recognizer import MODEL_FILE, SHIPPED_WEIGHTS

    if "model" in engines and args.model is None and args.language != "en":
        print(f"transfer: the shipped weights read English; for --language {args.language} pass --model RUN (a run "
              "trained on that language, e.g. by benchmarks/language_runs.sh) or --engines tesseract", file=sys.stderr)
        return 2
    if "model" in engines and args.model is None and not (SHIPPED_WEIGHTS / MODEL_FILE).is_file():
        print(f"transfer: no shipped weights in {SHIPPED_WEIGHTS} yet; pass --model RUN or --engines tesseract",
              file=sys.stderr)
        return 2
    if not 1 <= args.n <= 100_000:
        print(f"transfer: --n must be in 1..100000, got {args.n}", file=sys.stderr)
        return 2
    if args.only_real and not (args.real or args.real_words):
        print("transfer: --only-real needs at least one --real or --real-words DIR", file=sys.stderr)
        return 2
    if "ppocr" in engines and importlib.util.find_spec("rapidocr_onnxruntime") is None:
        print("transfer: --engines ppocr needs the rapidocr-onnxruntime package: pip install 'textsynth[ppocr]' "
              "(or leave ppocr out of --engines)", file=sys.stderr)
        return 2
    if args.language != "en" and ("ppocr" in engines or args.lm):
        print("transfer: --language other than en takes --engines model,tesseract and no --lm (PP-OCRv4's "
              "recognizer and the character model are English)", file=sys.stderr)
        return 2
    missing = missing_debian_packages(engines, synthetic=not args.only_real, language=args.language)
    if missing:
        print(f"transfer: missing Debian packages; install them with: apt-get install {' '.join(missing)}",
              file=sys.stderr)
        return 2
    # checked before anything is built: a bad folder is one line now
    real = real_sets(args.real or []) + real_sets(args.real_words or [], words=True, first=len(args.real or []) + 1)
    data = Path(args.data)
    timings = []
    sets = [] if args.only_real else list(language_sets(args.language))
    for s in sets:
        t = time.perf_counter()
        built = s.build(data / s.key, args.n, args.seed)
        took = time.perf_counter() - t
        print(f"{s.title}: {'built' if built else 'already built'} in {data / s.key} ({took:.0f} s)", flush=True)
        if built:
            timings.append(f"building set {s.title}: {took:.0f} s ({args.n} lines)")
    # (key, title, about, folder, scoring: "kept", "case" (case-insensitive) or "words" (letters and digits))
    runs = [(s.key, s.title, s.about, data / s.key, "kept") for s in sets] + real

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
    for engine in ("tesseract", "ppocr"):
        if engine in engines:
            columns[engine], labels[engine] = (engine, None, False), ENGINE_LABELS[engine]
    reports: dict[str, dict[str, dict]] = {}
    for set_key, title, _about, folder, scoring in runs:
        reports[set_key] = {}
        for key, (engine, run_dir, lm) in columns.items():
            t = time.perf_counter()
            report = evaluate(run_dir, folder, engine=engine, lm=lm, ignore_case=scoring == "case",
                              alphanumeric=scoring == "words", language=args.language)
            took = time.perf_counter() - t
            timings.append(f"evaluating {labels[key]} on set {title}: {took:.0f} s")
            reports[set_key][key] = report
            if args.verbose:
                print(format_report(report), flush=True)

    command = "python benchmarks/transfer/run.py " + " ".join(shlex.quote(a) for a in args.argv)
    commands = [command.strip()]
    if not args.only_real:
        commands.insert(0, f"apt-get install {' '.join(sorted(set(_all_packages(args.language))))}")
    if "ppocr" in engines:
        commands.insert(0, "pip install 'textsynth[ppocr]'  # rapidocr-onnxruntime: PP-OCRv4's ONNX weights")
    text = to_markdown(reports, {r[0]: r[1] for r in runs}, {r[0]: r[2] for r in runs}, labels, commands,
                       timings, get_language(args.language).tesseract)
    print(text)
    results = args.results or str(Path(__file__).resolve().parent / (
        "RESULTS.md" if args.language == "en" else f"RESULTS-{args.language}.md"))
    Path(results).write_text(text)
    print(f"wrote {results}")
    return 0


def real_sets(folders: Sequence[str], words: bool = False, first: int = 1) -> list[tuple[str, str, str, Path, str]]:
    """Each --real folder (or --real-words folder, `words`) as a set (key, title, about, folder, scoring); each
    must open as an evaluation source (its first line is read now)."""
    from reference_model.sources import open_source

    out = []
    for k, folder in enumerate(folders, first):
        path = Path(folder)
        source = open_source(path, limit=1)
        source.close()
        scored = ("real scene words, scored as scene-word benchmarks are (letters and digits only, case-insensitive)"
                  if words else "real lines, scored case-insensitively with spaces collapsed")
        flag = "--real-words" if words else "--real"
        about = f"`{path.name}` ({source.kind} layout, given with {flag}): {scored}"
        out.append((f"real{k}", f"real: {path.name}", about, path, "words" if words else "case"))
    return out


def _all_packages(language: str = "en") -> list[str]:
    extra = [f"tesseract-ocr-{get_language(language).tesseract}"] if language != "en" else []
    return [*TESSERACT_PACKAGES.split(), *extra, PANGO_PACKAGE, "fontconfig",
            *(f.package for f in language_fonts(language))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(prog="python benchmarks/transfer/run.py",
                    description="Transfer benchmark: unseen fonts, another renderer, in-distribution; model and "
                                "Tesseract side by side.")
    parser.add_argument("--model", action="append",
                        help="run folder; repeat it to compare several (default: the shipped weights)")
    parser.add_argument("--engines", default="model,tesseract,ppocr",
                        help="a comma-separated subset of model,tesseract,ppocr (default: all three)")
    parser.add_argument("--real", action="append",
                        help="a folder of real labelled lines (any layout `evaluate` reads) to add as a set, "
                             "scored case-insensitively; repeat it for several")
    parser.add_argument("--real-words", action="append",
                        help="a folder of real scene words (IIIT5K-like) to add as a set, scored as scene-word "
                             "benchmarks are: letters and digits only, case-insensitive; repeat it for several")
    parser.add_argument("--only-real", action="store_true",
                        help="skip the three synthetic sets (needs --real or --real-words)")
    parser.add_argument("--lm", action="store_true",
                        help="also decode each model with the character language model (its run's lm.json)")
    parser.add_argument("--n", type=int, default=300, help="lines per set (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of sets 1 and 2 (set 3 always uses seed 2)")
    parser.add_argument("--data", default=str(REPO / "data" / "transfer"), help="where the sets are built")
    parser.add_argument("--language", default="en", choices=list(LANGUAGES),
                        help="the language of the sets: en (the three sets) or another language's other-renderer "
                             "and in-distribution sets, under DATA/CODE/ (give --model a run trained on it)")
    parser.add_argument("--results", default=None,
                        help="where the table goes (default: RESULTS.md here, RESULTS-CODE.md for a language)")
    parser.add_argument("--verbose", action="store_true", help="print every evaluation report too")
    parser.set_defaults(func=run)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_command(parser, argv, "transfer", "run the same command again: finished sets are kept")


if __name__ == "__main__":
    sys.exit(main())
