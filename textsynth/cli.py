"""The `textsynth` command line: render, config, fonts, sample, inspect, verify, preview, export."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence

from textsynth.config import RenderConfig, parse_count, read_toml
from textsynth.errors import TextsynthError
from textsynth.presets import preset_names


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
    "charset": (("text", "charset"), str, 'default, a symbols file (one per line) or the symbols themselves'),
    "text": (("text", "source"), str, "random, words:PATH or lines:PATH"),
    "min-len": (("text", "min_len"), int, "shortest text, in characters"),
    "max-len": (("text", "max_len"), int, "longest text, in characters"),
    "fonts": (("fonts", "dir"), str, "folder of .ttf/.otf fonts (default: the bundled fonts)"),
    "max-angle": (("augment", "max_angle"), float, "rotation range in degrees (±)"),
    "mirror": (("augment", "mirror"), float, "probability of a left-right flip"),
    "upside-down": (("augment", "upside_down"), float, "probability of a 180° turn"),
    "noise": (("augment", "noise"), float, "largest speckle-noise severity"),
    "blur": (("augment", "blur"), float, "largest Gaussian blur sigma in pixels"),
    "shard-size": (("output", "shard_size"), lambda v: parse_count(v, "--shard-size"), "samples per shard"),
    "workers": (("output", "workers"), str, "auto or a number of worker processes"),
    "compression": (("output", "compression"), str, "none or gzip"),
    "backend": (("output", "backend"), str, "loky (local processes) or dask"),
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
        if only is None or flag in only:
            p.add_argument(f"--{flag}", type=kind, default=None, help=help_text)


def cmd_render(args: argparse.Namespace) -> int:
    from textsynth.pipeline import render

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
    from textsynth.charset import Charset, describe_chars
    from textsynth.fonts import FontSet

    config = _config_from_args(args)
    charset = Charset.from_spec(config.text.charset)
    fontset = FontSet.load(config.fonts.dir or None, charset)
    rows = [("font", "face", "covered", "missing")]
    for info, cov in zip(fontset.fonts, fontset.coverage):
        missing = [c for c in charset.symbols if c not in cov]
        rows.append((info.name, f"{info.family} {info.style}", f"{len(cov)}/{len(charset)}",
                     describe_chars(missing) if missing else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    uncovered = fontset.uncovered()
    if uncovered:
        print(f"no font draws: {describe_chars(uncovered)}")
        return 1
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from textsynth.generator import SampleGenerator
    from textsynth.preview import save_sheet

    config = _config_from_args(args)
    gen = SampleGenerator(config)
    count = parse_count(args.count, "--n")
    samples = [gen.sample(i) for i in range(count)]
    notes = [f"{gen.fontset.fonts[p.font_id].name} {p.font_size}px {p.angle:+.1f}°"
             + (" mirror" if p.mirror else "") + (" upside-down" if p.upside_down else "") for p, _ in samples]
    path = save_sheet(args.out, [img for _, img in samples], [p.text for p, _ in samples], columns=2,
                      notes=notes)
    print(f"wrote {len(samples)} samples to {path}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    import json

    from textsynth.dataset import open_dataset
    from textsynth.stats import describe, format_description

    description = describe(open_dataset(args.dataset, allow_incomplete=True))
    print(json.dumps(description, indent=1, ensure_ascii=False) if args.json else format_description(description))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from textsynth.verify import verify_dataset

    manifest, bad = verify_dataset(args.dataset)
    for report in bad:
        for problem in report.problems:
            print(f"BAD {report.file}: {problem}")
    if bad:
        print(f"{len(bad)} of {manifest.shard_count} shards have problems")
        return 1
    print(f"ok: {manifest.n:,} samples in {len(manifest.shards)} shards match the manifest")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    import numpy as np

    from textsynth.dataset import open_dataset
    from textsynth.preview import save_sheet

    ds = open_dataset(args.dataset, allow_incomplete=True)
    count = min(parse_count(args.count, "--n"), len(ds))
    if args.random:
        picks = np.sort(np.random.default_rng(args.seed).choice(len(ds), count, replace=False))
    else:
        if not 0 <= args.start < len(ds):
            raise TextsynthError(f"--start {args.start} is outside the dataset's {len(ds)} samples")
        picks = range(args.start, min(len(ds), args.start + count))
    samples = [ds[int(i)] for i in picks]
    path = save_sheet(args.out, [s.image for s in samples], [s.text for s in samples],
                      notes=[f"#{s.index}" for s in samples])
    print(f"wrote {len(samples)} samples to {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from textsynth.dataset import open_dataset
    from textsynth.export import export_folder, export_lmdb

    ds = open_dataset(args.dataset)
    export = export_lmdb if args.format == "lmdb" else export_folder
    count = export(ds, args.out, progress=not args.quiet)
    print(f"exported {count:,} samples as {args.format} to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="textsynth", description="Synthetic text-line images for OCR, as sharded HDF5.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("render", help="render a dataset of N samples into sharded HDF5")
    _add_render_flags(p)
    p.add_argument("--out", default="data/default", help="dataset folder (default: data/default)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted render (the default when one exists)")
    p.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler: tcp://HOST:PORT, or local for a LocalCluster (implies --backend dask)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("config", help="print the resolved config (the defaults unless flags say otherwise) as TOML")
    _add_render_flags(p)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("fonts", help="print which charset characters each font really draws")
    _add_render_flags(p, only=("fonts", "charset"))
    p.set_defaults(func=cmd_fonts)

    p = sub.add_parser("sample", help="paint a few samples into a contact sheet PNG")
    output_only = ("n", "shard-size", "workers", "compression", "backend")
    _add_render_flags(p, only=[f for f in RENDER_FLAGS if f not in output_only])
    p.add_argument("--n", dest="count", default="16", help="samples on the sheet (default 16)")
    p.add_argument("--out", default="sample.png", help="PNG file to write (default sample.png)")
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
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("export", help="write the dataset as LMDB or as a folder of PNGs with labels.tsv")
    p.add_argument("dataset")
    p.add_argument("--format", choices=("lmdb", "folder"), required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_export)
    return parser


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str], name: str, interrupted: str) -> int:
    """Parse and run a command; user errors become one line on stderr and an exit status, never a traceback."""
    try:
        args = parser.parse_args(argv)
        args.argv = list(argv)
        return args.func(args)
    except TextsynthError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted; {interrupted}", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"{name}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_command(build_parser(), argv, "textsynth",
                       "finished shards are kept, run the same command again to resume")


if __name__ == "__main__":
    sys.exit(main())

