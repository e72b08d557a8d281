"""The `textsynth` command line: render, config, fonts, sample, inspect, verify, preview, export."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence

try:  # Ctrl-C while the heavy modules are still importing: the same one line as later, no traceback
    from textsynth.config import RenderConfig, parse_count, read_toml
    from textsynth.errors import Interrupted, TextsynthError
    from textsynth.languages import LANGUAGES
    from textsynth.presets import preset_names
    from textsynth.terminal import printable
    from textsynth.version import __version__
except KeyboardInterrupt:
    sys.stderr.write("textsynth: interrupted while starting; nothing was done\n")
    raise SystemExit(130) from None


def _width(value: str) -> int | str:
    """--width: a pixel count, or auto (variable width, at most the configured width)."""
    return value if value == "auto" else int(value)


# CLI flag -> (config path, parser). Every flag is also a TOML setting.
RENDER_FLAGS: dict[str, tuple[tuple[str, ...], Callable, str]] = {
    "preset": (("preset",), str, "a named whole config: " + ", ".join(preset_names()) + " (default: default)"),
    "n": (("n",), lambda v: parse_count(v, "--n"), "samples to render: 1000000, 1e6 or 1_000_000"),
    "seed": (("seed",), int, "random seed; sample i depends only on (seed, i) and the config"),
    "width": (("canvas", "width"), _width,
              "canvas width in pixels, or auto: each line as wide as its text, up to the configured width"),
    "height": (("canvas", "height"), int, "canvas height in pixels"),
    "language": (("language",), str, "the language: its charset, word list and fonts (" + ", ".join(LANGUAGES)
                 + "; default: en); composes with --preset"),
    "charset": (("text", "charset"), str, "default (the language's: English has the seed's 68 symbols), printable "
                "(the 95 printable ASCII symbols), a symbols file (one per line) or the symbols themselves"),
    "text": (("text", "source"), str, "random, words[:PATH], lines[:PATH], numbers, shop[:PATH] or "
             "mix:KIND=WEIGHT,... (words alone: the language's bundled word list; lines/shop: English only)"),
    "upper": (("text", "upper"), float, "share of natural texts (every kind but random) written in upper case"),
    "vowel-marks": (("text", "vowel_marks"), float, "share of texts written with the language's optional vowel "
                    "marks (Arabic harakat: half fully vocalized, half partly)"),
    "min-len": (("text", "min_len"), int, "shortest text, in characters"),
    "max-len": (("text", "max_len"), int, "longest text, in characters"),
    "fonts": (("fonts", "dir"), str, "folders of .ttf/.otf fonts, comma-separated; 'bundled' is fonts/, "
              "'bundled-print' the receipt and sign faces of fonts/print/ (default: both)"),
    "tight": (("typeset", "tight"), float, "share of lines drawn at the largest size that fits: the ink fills the "
              "height (or width) whatever its letters, as a word detector's tight crop (default 0)"),
    "max-angle": (("augment", "max_angle"), float, "rotation range in degrees (±)"),
    "mirror": (("augment", "mirror"), float, "probability of a left-right flip"),
    "upside-down": (("augment", "upside_down"), float, "probability of a 180° turn"),
    "noise": (("augment", "noise"), float, "largest speckle-noise severity"),
    "blur": (("augment", "blur"), float, "largest Gaussian blur sigma in pixels"),
    "backgrounds": (("effects", "backgrounds"), str,
                    "folder of PNG/JPEG images whose random crops become the paper, or `textures`: the procedural "
                    "scene textures"),
    "shard-size": (("output", "shard_size"), lambda v: parse_count(v, "--shard-size"), "samples per shard"),
    "workers": (("output", "workers"), str, "auto or a number of worker processes"),
    "compression": (("output", "compression"), str, "zstd (the default: ~5 KB a line), none, gzip or residual"),
    "backend": (("output", "backend"), str, "loky (local processes) or dask"),
    "char-boxes": (("output", "char_boxes"), bool, "also store each label character's box on the canvas (a "
                   "quadrilateral through every geometric effect; FORMAT.md)"),
}


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line instead of usage + error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise TextsynthError(f"{self.prog}: {message} (see {self.prog} --help)")


def _config_from_args(args: argparse.Namespace) -> RenderConfig:
    """The preset (--preset, else the file's), then the --config file's settings, then the other flags."""
    path = getattr(args, "config", None)
    data = read_toml(path) if path else {}
    if getattr(args, "preset", None) is not None:
        data["preset"] = args.preset
    config = RenderConfig.from_dict(data, origin=path or "--preset")
    overrides: dict = {}
    for flag, (keys, _, _) in RENDER_FLAGS.items():
        value = getattr(args, flag.replace("-", "_"), None)
        if value is None or flag == "preset":
            continue
        if flag == "width" and value == "auto":
            keys, value = ("canvas", "variable_width"), True
        node = overrides
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    if overrides:
        config = RenderConfig.from_dict({**_deep_merge(config.to_dict(), overrides)}, origin="command line")
    config.validate()
    return config


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _add_render_flags(p: argparse.ArgumentParser, only: Sequence[str] | None = None) -> None:
    p.add_argument("--config", metavar="FILE.toml", help="settings file; flags override it")
    for flag, (_, kind, help_text) in RENDER_FLAGS.items():
        if only is not None and flag not in only:
            continue
        if kind is bool:  # a switch: present sets it, absent leaves the config's value
            p.add_argument(f"--{flag}", action="store_const", const=True, default=None, help=help_text)
        else:
            p.add_argument(f"--{flag}", type=kind, default=None, help=help_text)


def _check_out(args: argparse.Namespace) -> None:
    out = getattr(args, "out", None)
    if out is not None and not out.strip():
        raise TextsynthError("--out is an empty path; name the output explicitly")


def cmd_render(args: argparse.Namespace) -> int:
    from textsynth.pipeline import render

    if args.resume:
        raise TextsynthError("--resume is not an option: a render always resumes a compatible unfinished dataset "
                             "in its output folder (run the same command again; --overwrite starts over)")
    _check_out(args)
    if args.scheduler and args.backend is None:
        args.backend = "dask"  # naming a scheduler means rendering on it
    config = _config_from_args(args)
    command = "textsynth " + " ".join(shlex.quote(a) for a in args.argv)
    result = render(config, args.out, overwrite=args.overwrite, resume=True, progress=not args.quiet,
                    command=command, scheduler=args.scheduler)
    print(result.summary())
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    config = _config_from_args(args)
    sys.stdout.write(config.to_toml())
    return 0


def cmd_fonts(args: argparse.Namespace) -> int:
    from textsynth.charset import describe_chars
    from textsynth.fonts import FontSet
    from textsynth.languages import config_charset

    config = _config_from_args(args)
    charset = config_charset(config.text.charset, config.language)
    fontset = FontSet.from_config(config.fonts, charset, config.language)
    rows = [("font", "face", "class", "covered", "missing")]
    for info, cov in zip(fontset.fonts, fontset.coverage):
        missing = [c for c in charset.symbols if c not in cov]
        rows.append((info.name, f"{info.family} {info.style}", info.font_class or "?", f"{len(cov)}/{len(charset)}",
                     describe_chars(missing) if missing else "-"))
    _print_table(rows)
    print()
    share = fontset.probabilities("")
    rows = [("family", "class", "faces", "full coverage", "share of samples")]
    for family, ids in sorted(fontset.families().items(), key=lambda kv: kv[0].lower()):
        classes = sorted({fontset.fonts[i].font_class or "?" for i in ids})
        full = sum(len(fontset.coverage[i]) == len(charset) for i in ids)
        rows.append((family, ",".join(classes), str(len(ids)), f"{full}/{len(ids)}",
                     f"{100 * sum(share.get(i, 0.0) for i in ids):.1f} %"))
    _print_table(rows)
    counts: dict[str, int] = {}
    for f in fontset.fonts:
        counts[f.font_class or "?"] = counts.get(f.font_class or "?", 0) + 1
    print(f"\n{len(fontset)} faces in {len(fontset.families())} families, weighting by {fontset.weighting}; classes: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    uncovered = fontset.uncovered()
    if uncovered:
        print(f"no font draws: {describe_chars(uncovered)}")
        return 1
    return 0


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print(printable("  ".join(r[i].ljust(widths[i]) for i in range(len(widths))) + "  " + r[-1]))


def cmd_sample(args: argparse.Namespace) -> int:
    from textsynth.char_boxes import char_boxes
    from textsynth.effects.registry import active_effects
    from textsynth.generator import SampleGenerator
    from textsynth.preview import check_sheet, save_sheet, sheet_target

    _check_out(args)
    sheet_target(args.out)  # refuse an unwritable target before any work
    config = _config_from_args(args)
    count = parse_count(args.count, "--n")
    check_sheet(count, config.canvas.height, config.canvas.width)
    gen = SampleGenerator(config)
    samples = [gen.sample(i) for i in range(count)]
    notes = [" ".join([f"{gen.fontset.fonts[p.font_id].name} {p.font_size}px {p.angle:+.1f}°"]
                      + (["mirror"] if p.mirror else []) + (["upside-down"] if p.upside_down else [])
                      + active_effects(p)) for p, _ in samples]
    boxes = [char_boxes(gen.painter, p) for p, _ in samples] if args.boxes else None
    path = save_sheet(args.out, [img for _, img in samples], [p.text for p, _ in samples], columns=2,
                      notes=notes, boxes=boxes)
    print(f"wrote {len(samples)} samples to {path}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    import json

    from textsynth.dataset import open_dataset
    from textsynth.stats import describe, format_description

    description = describe(open_dataset(args.dataset, allow_incomplete=True))
    # Every string here comes from the dataset: escape what could drive the terminal.
    if args.json:
        print(printable(json.dumps(description, indent=1, ensure_ascii=False), json=True))
    else:
        print(printable(format_description(description), keep_newlines=True))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from textsynth.verify import verify_dataset

    manifest, bad = verify_dataset(args.dataset)
    for report in bad:
        for problem in report.problems:
            print(printable(f"BAD {report.file}: {' '.join(problem.split())}"))
    if bad:
        print(f"{sum(r.shards for r in bad)} of {manifest.shard_count} shards have problems")
        return 1
    print(f"ok: {manifest.n:,} samples in {len(manifest.shards)} shards match the manifest")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    import numpy as np

    from textsynth.dataset import open_dataset
    from textsynth.preview import check_sheet, save_sheet, sheet_target

    _check_out(args)
    sheet_target(args.out)  # refuse an unwritable target (or a dataset's own file) before any work
    ds = open_dataset(args.dataset, allow_incomplete=True)
    if args.boxes and not ds.has_char_boxes:
        raise TextsynthError(f"--boxes: {args.dataset} holds no character boxes (render it with --char-boxes)")
    count = min(parse_count(args.count, "--n"), len(ds))
    check_sheet(count, ds.height, ds.width)
    if args.random:
        if not 0 <= args.seed < 2**63:
            raise TextsynthError(f"--seed must be in [0, 2^63), got {args.seed}")
        picks = np.sort(np.random.default_rng(args.seed).choice(len(ds), count, replace=False))
    else:
        if not 0 <= args.start < len(ds):
            raise TextsynthError(f"--start {args.start} is outside the dataset's {len(ds)} samples")
        picks = range(args.start, min(len(ds), args.start + count))
    samples = [ds[int(i)] for i in picks]
    path = save_sheet(args.out, [s.image for s in samples], [s.text for s in samples],
                      notes=[f"#{s.index}" for s in samples],
                      boxes=[s.char_boxes for s in samples] if args.boxes else None)
    print(f"wrote {len(samples)} samples to {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from textsynth.dataset import open_dataset
    from textsynth.export import export_folder, export_lmdb

    _check_out(args)
    ds = open_dataset(args.dataset)
    export = export_lmdb if args.format == "lmdb" else export_folder
    count = export(ds, args.out, progress=not args.quiet)
    print(f"exported {count:,} samples as {args.format} to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="textsynth", description="Synthetic text-line images for OCR, as sharded HDF5.")
    add_debug_flag(parser)
    parser.add_argument("--version", action="version", version=f"textsynth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("render", help="render a dataset of N samples into sharded HDF5")
    _add_render_flags(p)
    p.add_argument("--out", default="data/default", help="dataset folder (default: data/default)")
    # Resuming is always on; the flag was accepted and did nothing, so it is refused rather than kept as a no-op.
    p.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler: tcp://HOST:PORT, or local for a LocalCluster (implies --backend dask)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("config", help="print the resolved config (the defaults unless flags say otherwise) as TOML")
    _add_render_flags(p)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("fonts", help="print which charset characters each font really draws, and each family's share")
    _add_render_flags(p, only=("fonts", "charset", "language"))
    p.set_defaults(func=cmd_fonts)

    p = sub.add_parser("sample", help="paint a few samples into a contact sheet PNG")
    output_only = ("n", "shard-size", "workers", "compression", "backend", "char-boxes")
    _add_render_flags(p, only=[f for f in RENDER_FLAGS if f not in output_only])
    p.add_argument("--n", dest="count", default="16", help="samples on the sheet (default 16)")
    p.add_argument("--out", default="sample.png", help="PNG file to write (default sample.png)")
    p.add_argument("--boxes", action="store_true", help="outline each character's box")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("inspect", help="summarize a dataset: sizes, charset, label lengths, fonts, flips")
    p.add_argument("dataset")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("verify", help="check every shard against the manifest (checksums, layout, labels)")
    p.add_argument("dataset")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("preview", help="contact sheet of dataset samples with their labels")
    p.add_argument("dataset")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--n", dest="count", default="32", help="samples on the sheet (default 32)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--start", type=int, default=0, help="first sample index (default 0)")
    where.add_argument("--random", action="store_true", help="random samples instead")
    p.add_argument("--seed", type=int, default=0, help="with --random")
    p.add_argument("--boxes", action="store_true", help="outline each character's box (a dataset rendered with "
                   "--char-boxes)")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("export", help="write the dataset as LMDB or as a folder of PNGs with labels.tsv")
    p.add_argument("dataset")
    p.add_argument("--format", choices=("lmdb", "folder"), required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_export)
    return parser


def add_debug_flag(parser: argparse.ArgumentParser) -> None:
    """`--debug` (accepted anywhere on the command line): show the traceback of an error."""
    with contextlib.suppress(argparse.ArgumentError):
        parser.add_argument("--debug", action="store_true",
                            help="on an error, print the traceback too (accepted anywhere on the command line)")


_MAX_MESSAGE = 2000


def _failure(exc: BaseException, interrupted: str) -> tuple[int, str]:
    """(exit status, one-line message) of an error: 2 for bad input, 1 for a damaged dataset or a failure,
    130 for Ctrl-C, 143 for SIGTERM."""
    if isinstance(exc, TextsynthError):
        return exc.exit_code, f"error: {' '.join(str(exc).split())}"
    if isinstance(exc, KeyboardInterrupt):
        code = getattr(exc, "exit_code", 130)
        return code, f"{'terminated' if code == 143 else 'interrupted'}; {getattr(exc, 'note', None) or interrupted}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return 1, f"error: {exc.strerror or exc}{where}"
    if isinstance(exc, MemoryError):
        return 1, "error: out of memory"
    detail = " ".join(str(exc).split())[:300]
    return 1, f"internal error: {type(exc).__name__}: {detail} (run again with --debug for the traceback)"


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (kill, a scheduler's stop, systemd) stops a command as Ctrl-C does: the same clean-up and one line,
    exit 143. Only the first one: a second arrives while cleaning up and is ignored."""

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Interrupted(143)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (an embedding application): leave signals to it
        yield
        return
    # A process inherits its parent's blocked signals: started by one that blocked SIGTERM (loky does while it
    # spawns, and so may a service manager), a render would never see the signal and run to its end.
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM}) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGTERM, previous)


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str], name: str, interrupted: str) -> int:
    """Parse and run a command; every failure becomes one line on stderr naming what failed and an exit status
    (2: bad input, 1: a damaged dataset or another failure, 130: interrupted, 143: SIGTERM). `--debug`,
    anywhere before `--`, adds the traceback. Text from datasets and configs in the line is escaped."""
    argv = list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:cut]
    argv = [a for a in argv[:cut] if a != "--debug"] + argv[cut:]
    add_debug_flag(parser)
    try:
        with _sigterm_interrupts():
            args = parser.parse_args(argv)
            args.argv = list(argv)
            return args.func(args)
    except BrokenPipeError:  # the reader of our output went away (`textsynth inspect X | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail again
        return 0
    except (Exception, KeyboardInterrupt) as exc:
        code, message = _failure(exc, interrupted)
        if len(message) > _MAX_MESSAGE:  # one line a terminal can show, whatever the culprit's size
            message = message[:_MAX_MESSAGE] + f"… ({len(message) - _MAX_MESSAGE:,} more characters)"
        if debug:
            traceback.print_exc()
        print(f"{name}: {printable(message)}", file=sys.stderr)
        shards = sys.modules.get("textsynth.shards")
        if shards is not None and shards.hdf5_poisoned():  # freeing HDF5's broken handles would crash
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_command(build_parser(), argv, "textsynth",
                       "nothing half-written is left (a render keeps its finished shards: run the same command "
                       "again to resume)")


if __name__ == "__main__":
    sys.exit(main())

