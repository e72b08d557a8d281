"""Render configuration: plain dataclasses, loaded from TOML, overridden by CLI flags, stored with every dataset."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from textsynth.errors import TextsynthError
from textsynth.presets import PRESETS, preset_names


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
    source: str = "random"  # random | words:PATH | lines:PATH
    charset: str = "default"  # default | path to a symbols file | the symbols themselves
    min_len: int = 4
    max_len: int = 16


@dataclass
class FontConfig:
    dir: str = ""  # empty: the bundled fonts/
    min_size: float = 0.375  # font size range, as fractions of the canvas height
    max_size: float = 0.95  # at the top of the range the ink fills ~90 % of the height (a detector's tight crop)


@dataclass
class TypesetConfig:
    """Spacing and horizontal placement of a line, each drawn uniformly per sample."""

    tracking: tuple[float, float] = (-0.05, 0.25)  # letter spacing range, in em (0: the font's own spacing)
    word_spacing: tuple[float, float] = (0.8, 1.6)  # space-advance multiplier range (1: the font's own space)
    left_aligned: float = 0.5  # probability a line starts at the left margin plus an indent; else placed at random
    indent: tuple[float, float] = (0.0, 0.5)  # indent range of left-aligned lines, as fractions of the height


@dataclass
class AugmentConfig:
    max_angle: float = 3.0  # degrees; uniform in [-max_angle, max_angle]
    mirror: float = 0.0  # probability of a left-right flip
    upside_down: float = 0.0  # probability of a 180-degree turn
    noise: float = 0.6  # speckle severity drawn uniformly in [0, noise], as in the seed
    blur: float = 0.0  # Gaussian blur sigma drawn uniformly in [0, blur] (0 disables)
    background: tuple[int, int] = (200, 255)  # gray level range of the paper
    foreground: tuple[int, int] = (0, 60)  # gray level range of the ink


@dataclass
class OutputConfig:
    shard_size: int = 10_000
    compression: str = "none"  # none | gzip
    workers: str = "auto"  # auto | a positive count; does not change the data
    backend: str = "loky"  # loky | dask; does not change the data


@dataclass
class RenderConfig:
    preset: str = "default"  # a name from textsynth.presets: the base the other settings override
    n: int = 1_000_000
    seed: int = 0
    canvas: CanvasConfig = field(default_factory=CanvasConfig)
    text: TextConfig = field(default_factory=TextConfig)
    fonts: FontConfig = field(default_factory=FontConfig)
    typeset: TypesetConfig = field(default_factory=TypesetConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
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
        return max(1, available) if w == "auto" else int(w)

    def validate(self) -> None:
        """Raise a one-line error naming the first setting that makes no sense."""
        c, t, f, a, o, ts = self.canvas, self.text, self.fonts, self.augment, self.output, self.typeset
        checks = [
            (self.n >= 1, f"n must be a positive whole number, got {self.n}"),
            (0 <= self.seed < 2**63, f"seed must be in [0, 2^63), got {self.seed}"),
            (c.width >= 16, f"width must be at least 16 pixels, got {c.width}"),
            (c.height >= 16, f"height must be at least 16 pixels, got {c.height}"),
            (c.width <= 8192 and c.height <= 1024, f"canvas {c.width}x{c.height} is larger than 8192x1024"),
            (0 <= c.margin < min(c.width, c.height) // 4, f"margin {c.margin} does not fit the canvas"),
            (t.min_len >= 1, f"min-len must be at least 1, got {t.min_len}"),
            (t.max_len >= t.min_len, f"max-len ({t.max_len}) is below min-len ({t.min_len})"),
            (t.max_len <= 1000, f"max-len must be at most 1000, got {t.max_len}"),
            (0 < f.min_size <= f.max_size <= 1.0, "font sizes must satisfy 0 < min_size <= max_size <= 1 "
             f"(fractions of the height), got {f.min_size}, {f.max_size}"),
            (round(f.min_size * c.height) >= 6, f"min font size {f.min_size} x height {c.height} is under 6 pixels"),
            (_float_range(ts.tracking, -0.5, 2.0),
             f"typeset.tracking must be (low, high) em in [-0.5, 2], got {ts.tracking}"),
            (_float_range(ts.word_spacing, 0.0, 10.0),
             f"typeset.word_spacing must be (low, high) multipliers in [0, 10], got {ts.word_spacing}"),
            (0 <= ts.left_aligned <= 1, f"typeset.left_aligned must be a probability in [0, 1], got {ts.left_aligned}"),
            (_float_range(ts.indent, 0.0, 10.0),
             f"typeset.indent must be (low, high) in [0, 10] heights, got {ts.indent}"),
            (0 <= a.max_angle <= 45, f"max-angle must be in [0, 45] degrees, got {a.max_angle}"),
            (0 <= a.mirror <= 1, f"mirror must be a probability in [0, 1], got {a.mirror}"),
            (0 <= a.upside_down <= 1, f"upside-down must be a probability in [0, 1], got {a.upside_down}"),
            (0 <= a.noise <= 2, f"noise must be in [0, 2], got {a.noise}"),
            (0 <= a.blur <= 5, f"blur must be in [0, 5] pixels, got {a.blur}"),
            (_gray_range(a.background), f"background must be two gray levels 0..255 (low, high), got {a.background}"),
            (_gray_range(a.foreground), f"foreground must be two gray levels 0..255 (low, high), got {a.foreground}"),
            (a.foreground[1] < a.background[0], "foreground gray levels must be darker than background ones"),
            (o.shard_size >= 1, f"shard-size must be a positive whole number, got {o.shard_size}"),
            (o.compression in ("none", "gzip"), f"compression must be none or gzip, got {o.compression!r}"),
            (o.workers == "auto" or (o.workers.isdigit() and int(o.workers) >= 1),
             f"workers must be auto or a positive whole number, got {o.workers!r}"),
            (o.backend in ("loky", "dask"), f"backend must be loky or dask, got {o.backend!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise TextsynthError(message)
        if not (t.source == "random" or t.source.startswith(("words:", "lines:"))):
            raise TextsynthError(f"text source must be random, words:PATH or lines:PATH, got {t.source!r}")


def read_toml(path: str | Path) -> dict[str, Any]:
    """A settings file's tables, or a one-line error naming the file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TextsynthError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TextsynthError(f"config {path} is not valid TOML: {exc}") from None


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
        return float(value)
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)):
            raise wrong
        return tuple(value)
    if isinstance(current, str):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise wrong
        return value
    return value


def _int_text(value: str, wrong: Exception) -> int:
    try:
        return int(value.replace("_", ""))
    except ValueError:
        raise wrong from None
