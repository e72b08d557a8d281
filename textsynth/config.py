"""Render configuration: plain dataclasses, loaded from TOML, overridden by CLI flags, stored with every dataset."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from textsynth.effects.registry import DEGRADATIONS, EFFECT_BOUNDS
from textsynth.errors import TextsynthError
from textsynth.format import (
    MAX_HEIGHT,
    MAX_LABEL_LEN,
    MAX_SAMPLES,
    MAX_SHARD_COLUMN_BYTES,
    MAX_SHARDS,
    MAX_WIDTH,
    STORAGES,
    max_shard_size,
)
from textsynth.presets import PRESETS, preset_names

MAX_WORKERS = 1024


@dataclass
class CanvasConfig:
    width: int = 512
    height: int = 64
    margin: int = 2  # pixels of background kept around the ink on every side
    # true: each line is as wide as its text (plus margins), at most `width`; stored padded to `width`
    # with its true width in params/width (--width auto)
    variable_width: bool = False


@dataclass
class TextConfig:
    # random | words[:PATH] | lines[:PATH] | numbers | mix:KIND=WEIGHT,... (words/lines alone: the bundled data)
    source: str = "mix:random=0.25,words=0.3,lines=0.15,numbers=0.15,shop=0.15"
    charset: str = "default"  # default (the language's) | printable | path to a symbols file | the symbols
    min_len: int = 2
    max_len: int = 16
    upper: float = 0.25  # share of natural texts (all kinds but random) written in UPPER CASE, as signs and receipts
    vowel_marks: float = 0.0  # share of texts written with the language's optional vowel marks (Arabic harakat)


@dataclass
class FontConfig:
    # font folders, comma-separated (a list in TOML); "bundled" or empty: the bundled fonts/; "bundled-print":
    # fonts/print/'s receipt, dot-matrix and sign faces (in the default since 0.4: benchmarks/real_look/)
    dir: str = "bundled,bundled-print"
    families: tuple[str, ...] = ()  # keep only these families (empty: every family of the folders)
    weighting: str = "family"  # family: a family first, then one of its faces | face: uniform over faces
    family_weights: dict[str, float] = field(default_factory=dict)  # family -> weight (default 1.0)
    min_size: float = 0.375  # font size range, as fractions of the canvas height
    max_size: float = 0.95  # at the top of the range the ink fills ~90 % of the height (a detector's tight crop)
    size_step: int = 2  # pixel sizes drawn every this many px: halves the (font, size) glyph caches of a worker


@dataclass
class TypesetConfig:
    """Spacing and horizontal placement of a line, each drawn uniformly per sample."""

    tracking: tuple[float, float] = (-0.05, 0.25)  # letter spacing range, in em (0: the font's own spacing)
    word_spacing: tuple[float, float] = (0.8, 1.6)  # space-advance multiplier range (1: the font's own space)
    left_aligned: float = 0.5  # probability a line starts at the left margin plus an indent; else placed at random
    indent: tuple[float, float] = (0.0, 0.5)  # indent range of left-aligned lines, as fractions of the height
    # share of lines drawn at the largest size that fits, up to twice the height in px (past fonts.max_size): the
    # ink fills the line's height, or its width, whatever its letters, as a word detector's tight crop does
    tight: float = 0.0


@dataclass
class AugmentConfig:
    max_angle: float = 3.0  # degrees; uniform in [-max_angle, max_angle]
    mirror: float = 0.0  # probability of a left-right flip
    upside_down: float = 0.0  # probability of a 180-degree turn
    noise: float = 0.25  # speckle severity drawn uniformly in [0, noise], as in the seed
    blur: float = 0.0  # Gaussian blur sigma of the ink drawn uniformly in [0, blur] (0 disables)
    background: tuple[int, int] = (130, 255)  # gray level range of the paper
    foreground: tuple[int, int] = (0, 90)  # gray level range of the ink


@dataclass
class Effect:
    """One degradation effect: the probability that a sample gets it, and the range its amount is drawn from."""

    p: float = 0.0
    amount: tuple[float, float] = (0.0, 0.0)


def _effect(p: float, low: float, high: float):
    return field(default_factory=lambda: Effect(p, (low, high)))


# Degradations after typesetting (textsynth.effects): one `Effect` per registered degradation, in draw order,
# its defaults and amount units as the effect declares them (`textsynth/effects/`).
EffectsConfig = dataclasses.make_dataclass("EffectsConfig", [
    ("enabled", bool, field(default=True)),
    # a folder of PNG/JPEG images whose random crops become the paper (with `backdrop`), or "textures": the
    # procedural scene textures (textsynth/effects/textures.py)
    ("backgrounds", str, field(default="")),
    *[(s.name, Effect, _effect(s.p, *s.amount)) for s in DEGRADATIONS]], namespace={"__module__": __name__})


@dataclass
class OutputConfig:
    shard_size: int = 10_000
    # zstd (format 3: the lines before their regenerable sensor noise) | none | gzip (format 1: the pixels)
    # | residual (format 2: gzip of the pixels less their regenerable speckle)
    compression: str = "zstd"
    workers: str = "auto"  # auto | a positive count; does not change the data
    backend: str = "loky"  # loky | dask; does not change the data
    char_boxes: bool = False  # store each label character's quadrilateral (`char_boxes`, FORMAT.md)


@dataclass
class RenderConfig:
    preset: str = "default"  # a name from textsynth.presets: the base the other settings override
    language: str = "en"  # a name from textsynth.languages: the default charset and the bundled word list
    n: int = 1_000_000
    seed: int = 0
    canvas: CanvasConfig = field(default_factory=CanvasConfig)
    text: TextConfig = field(default_factory=TextConfig)
    fonts: FontConfig = field(default_factory=FontConfig)
    typeset: TypesetConfig = field(default_factory=TypesetConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    effects: EffectsConfig = field(default_factory=EffectsConfig)  # type: ignore[valid-type]
    output: OutputConfig = field(default_factory=OutputConfig)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def content_dict(self) -> dict[str, Any]:
        """The settings that decide the samples' content (workers and backend do not)."""
        return content_settings(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "config") -> RenderConfig:
        """The preset `data` names (default: "default"), then every other setting of `data` over it."""
        if not isinstance(data, dict):
            raise TextsynthError(f"{origin}: the config must be a table")
        cfg = cls()
        name = data.get("preset", "default")
        if not isinstance(name, str) or name not in PRESETS:
            raise TextsynthError(f"{origin}: unknown preset {name!r} (choose from {', '.join(preset_names())})")
        _merge(cfg, PRESETS[name], f"preset {name}")
        _merge(cfg, data, origin)
        return cfg

    @classmethod
    def from_toml(cls, path: str | Path) -> RenderConfig:
        return cls.from_dict(read_toml(path), origin=str(path))

    def workers_count(self, available: int) -> int:
        w = self.output.workers
        return max(1, available) if w == "auto" else int(w)  # validate() allows ASCII digits only

    def validate(self) -> None:
        """Raise a one-line error naming the first setting that makes no sense."""
        c, t, f, a, o, ts = self.canvas, self.text, self.fonts, self.augment, self.output, self.typeset
        # Each check is a thunk run in order: later ones may rely on earlier ones (types, ranges).
        checks = [
            (lambda: 1 <= self.n <= MAX_SAMPLES, f"n must be a whole number in 1..{MAX_SAMPLES:,}, got {self.n}"),
            (lambda: 0 <= self.seed < 2**63, f"seed must be in [0, 2^63), got {self.seed}"),
            (lambda: c.width >= 16, f"width must be at least 16 pixels, got {c.width}"),
            (lambda: c.height >= 16, f"height must be at least 16 pixels, got {c.height}"),
            (lambda: c.width <= MAX_WIDTH and c.height <= MAX_HEIGHT,
             f"canvas {c.width}x{c.height} is larger than {MAX_WIDTH}x{MAX_HEIGHT}"),
            (lambda: 0 <= c.margin < min(c.width, c.height) // 4, f"margin {c.margin} does not fit the canvas"),
            (lambda: t.min_len >= 1, f"min-len must be at least 1, got {t.min_len}"),
            (lambda: t.max_len >= t.min_len, f"max-len ({t.max_len}) is below min-len ({t.min_len})"),
            (lambda: t.max_len <= MAX_LABEL_LEN, f"max-len must be at most {MAX_LABEL_LEN}, got {t.max_len}"),
            (lambda: isinstance(t.upper, (int, float)) and 0 <= t.upper <= 1,
             f"text.upper must be a share in [0, 1], got {t.upper!r}"),
            (lambda: isinstance(t.vowel_marks, (int, float)) and not isinstance(t.vowel_marks, bool)
             and 0 <= t.vowel_marks <= 1, f"text.vowel_marks must be a share in [0, 1], got {t.vowel_marks!r}"),
            (lambda: 0 < f.min_size <= f.max_size <= 1.0, "font sizes must satisfy 0 < min_size <= max_size <= 1 "
             f"(fractions of the height), got {f.min_size}, {f.max_size}"),
            (lambda: isinstance(f.size_step, int) and 1 <= f.size_step <= 16,
             f"fonts.size_step must be a whole number of pixels in 1..16, got {f.size_step!r}"),
            (lambda: round(f.min_size * c.height) >= 6,
             f"min font size {f.min_size} x height {c.height} is under 6 pixels"),
            (lambda: _float_range(ts.tracking, -0.5, 2.0),
             f"typeset.tracking must be (low, high) em in [-0.5, 2], got {ts.tracking}"),
            (lambda: _float_range(ts.word_spacing, 0.0, 10.0),
             f"typeset.word_spacing must be (low, high) multipliers in [0, 10], got {ts.word_spacing}"),
            (lambda: 0 <= ts.left_aligned <= 1,
             f"typeset.left_aligned must be a probability in [0, 1], got {ts.left_aligned}"),
            (lambda: _float_range(ts.indent, 0.0, 10.0),
             f"typeset.indent must be (low, high) in [0, 10] heights, got {ts.indent}"),
            (lambda: 0 <= ts.tight < 1, f"typeset.tight must be a share in [0, 1), got {ts.tight}"),
            (lambda: 0 <= a.max_angle <= 45, f"max-angle must be in [0, 45] degrees, got {a.max_angle}"),
            (lambda: 0 <= a.mirror <= 1, f"mirror must be a probability in [0, 1], got {a.mirror}"),
            (lambda: 0 <= a.upside_down <= 1, f"upside-down must be a probability in [0, 1], got {a.upside_down}"),
            (lambda: 0 <= a.noise <= 2, f"noise must be in [0, 2], got {a.noise}"),
            (lambda: 0 <= a.blur <= 5, f"blur must be in [0, 5] pixels, got {a.blur}"),
            (lambda: _gray_range(a.background),
             f"background must be two gray levels 0..255 (low, high), got {a.background}"),
            (lambda: _gray_range(a.foreground),
             f"foreground must be two gray levels 0..255 (low, high), got {a.foreground}"),
            (lambda: a.foreground[1] < a.background[0], "foreground gray levels must be darker than background ones"),
            (lambda: o.shard_size >= 1, f"shard-size must be a positive whole number, got {o.shard_size}"),
            (lambda: o.shard_size <= max_shard_size(t.max_len),
             f"shard-size must be at most {max_shard_size(t.max_len):,} with max-len {t.max_len} (the labels "
             f"of one shard stay under {MAX_SHARD_COLUMN_BYTES >> 20} MiB), got {o.shard_size}"),
            (lambda: -(-self.n // o.shard_size) <= MAX_SHARDS,
             f"n / shard-size must make at most {MAX_SHARDS:,} shards; raise --shard-size"),
            (lambda: isinstance(o.char_boxes, bool), f"char_boxes must be true or false, got {o.char_boxes!r}"),
            (lambda: o.compression in STORAGES,
             f"compression must be one of {', '.join(STORAGES)}, got {o.compression!r}"),
            (lambda: o.workers == "auto" or (o.workers.isascii() and o.workers.isdigit()
                                             and 1 <= int(o.workers) <= MAX_WORKERS),
             f"workers must be auto or a whole number in 1..{MAX_WORKERS}, got {o.workers!r}"),
            (lambda: o.backend in ("loky", "dask"), f"backend must be loky or dask, got {o.backend!r}"),
        ]
        checks += _effect_checks(self.effects)
        for ok, message in checks:
            if not ok():
                raise TextsynthError(message)
        from textsynth.languages import get_language
        from textsynth.text import parse_source_spec

        get_language(self.language)
        parse_source_spec(t.source)  # raises a one-line error naming what is wrong
        if f.weighting not in ("family", "face"):
            raise TextsynthError(f"fonts.weighting must be family or face, got {f.weighting!r}")
        if not all(isinstance(x, str) and x for x in f.families):
            raise TextsynthError(f"fonts.families must be a list of family names, got {list(f.families)!r}")
        if not isinstance(f.family_weights, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < math.inf
                for k, v in f.family_weights.items()):
            raise TextsynthError("fonts.family_weights must map family names to finite non-negative numbers, "
                                 f"got {f.family_weights!r}")


def read_toml(path: str | Path, what: str = "config ") -> dict[str, Any]:
    """A TOML file's tables, or a one-line error naming the file (`what` says what it is: "config ", or "")."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TextsynthError(f"cannot read {what}{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TextsynthError(f"{what}{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        raise TextsynthError(f"{what}{path} is not valid TOML: {' '.join(str(exc).split())[:200]}") from None


_NOT_CONTENT = ("workers", "backend")  # output settings that never change a sample


def content_settings(config: dict[str, Any]) -> dict[str, Any]:
    """A config tree (as stored in a manifest) without the settings that do not change the samples."""
    output = config.get("output")
    if not isinstance(output, dict):
        return config
    return {**config, "output": {k: v for k, v in output.items() if k not in _NOT_CONTENT}}


def parse_count(value: str | int | float, what: str = "n") -> int:
    """A positive whole number written as 1000000, 1e6 or 1_000_000."""
    text = str(value).strip()
    try:
        number = float(text.replace("_", "")) if not isinstance(value, int) else value
    except ValueError:
        raise TextsynthError(
            f"{what} must be a positive whole number (like 1000, 1e6 or 1_000_000), got {text!r}") from None
    if isinstance(number, float) and (not math.isfinite(number) or not number.is_integer()):
        raise TextsynthError(f"{what} must be a whole number, got {text!r}")
    number = int(number)
    if number < 1:
        raise TextsynthError(f"{what} must be positive, got {text!r}")
    return number


def _effect_checks(effects: Any) -> list[tuple[Callable[[], bool], str]]:
    checks: list[tuple[Callable[[], bool], str]] = []
    for name, (low, high) in EFFECT_BOUNDS.items():
        e = getattr(effects, name)
        checks.append((lambda e=e: isinstance(e.p, (int, float)) and 0 <= e.p <= 1,
                       f"effects.{name}.p must be a probability in [0, 1], got {e.p!r}"))
        checks.append((lambda a=e.amount, low=low, high=high: len(a) == 2 and all(
                           isinstance(v, (int, float)) and not isinstance(v, bool) for v in a)
                       and low <= a[0] <= a[1] <= high,
                       f"effects.{name}.amount must be two numbers low <= high within [{low}, {high}], "
                       f"got {list(e.amount)!r}"))
    return checks


def _gray_range(pair: Any) -> bool:
    return (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(v, int) for v in pair)
            and 0 <= pair[0] <= pair[1] <= 255)


def _float_range(pair: Any, low: float, high: float) -> bool:
    return (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
            and low <= pair[0] <= pair[1] <= high)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _merge(target: Any, data: dict[str, Any], origin: str, prefix: str = "") -> None:
    if not isinstance(data, dict):
        raise TextsynthError(f"{origin}: [{prefix.rstrip('.')}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(target)}
    for key, value in data.items():
        name = prefix + key
        if key not in fields:
            raise TextsynthError(f"{origin}: unknown setting {name!r}")
        current = getattr(target, key)
        if dataclasses.is_dataclass(current):
            _merge(current, value, origin, name + ".")
            continue
        setattr(target, key, _coerce(current, value, origin, name))


def _coerce(current: Any, value: Any, origin: str, name: str) -> Any:
    wrong = TextsynthError(f"{origin}: {name} must be {type(current).__name__}, got {value!r}")
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise wrong
        return value
    if isinstance(current, int):
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, str):
            return parse_count(value, name) if name == "n" else _int_text(value, wrong)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int):
            raise wrong
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
        try:
            return float(value)
        except OverflowError:  # a TOML integer like 10**400
            raise TextsynthError(f"{origin}: {name} must be a number a float can hold, got an integer of about "
                                 f"{int(value.bit_length() * 0.30103) + 1} digits") from None
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)):
            raise wrong
        return tuple(value)
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise wrong
        return dict(value)
    if isinstance(current, str):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if name == "fonts.dir" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ",".join(value)  # several font folders as a TOML list
        if not isinstance(value, str):
            raise wrong
        return value
    return value


def _int_text(value: str, wrong: Exception) -> int:
    try:
        return int(value.replace("_", ""))
    except ValueError:
        raise wrong from None
