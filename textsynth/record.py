"""The per-sample record: its fields, their on-disk dtypes, and conversion between records and shard columns."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


def _column(dtype: type, default: float | None = None):
    """A record field stored as `params/<field>` with this dtype (and a neutral default, for effects)."""
    meta = {"dtype": np.dtype(dtype)}
    return field(metadata=meta) if default is None else field(default=default, metadata=meta)


def _assemble(cls: type, *parts: Mapping) -> object:
    """A frozen record from mappings that together name every field (later ones win), without the generated
    `__init__`: it sets ~70 fields one `object.__setattr__` at a time, a tenth of a render's per-sample time
    in Python. The field names are checked by the record round-trip tests."""
    record = object.__new__(cls)
    values = record.__dict__
    for part in parts:
        values.update(part)
    return record


@dataclass(frozen=True, kw_only=True)
class AugmentParams:
    """One sample's classic augmentation parameters, as `augment.sample_augment` draws them."""

    angle: float = _column(np.float32)
    blur: float = _column(np.float32)
    mirror: bool = _column(np.uint8)
    upside_down: bool = _column(np.uint8)
    background: int = _column(np.uint8)
    foreground: int = _column(np.uint8)
    noise_level: float = _column(np.float32)
    noise_row: int = _column(np.int32)
    noise_col: int = _column(np.int32)


@dataclass(frozen=True, kw_only=True)
class EffectParams:
    """One sample's degradation effects, as `effects.sample_effects` draws them; every default means "off"."""

    # geometry of the ink, before it is placed (so it can never leave the canvas)
    ink_weight: float = _column(np.float32, 0.0)  # < 0 thinner strokes, > 0 bolder (in pixels of erosion/dilation)
    shear: float = _column(np.float32, 0.0)  # horizontal shift per pixel of height (italic slant)
    perspective: float = _column(np.float32, 0.0)  # signed: one end of the line shrinks by this fraction
    curve: float = _column(np.float32, 0.0)  # baseline wave amplitude, as a fraction of the text height
    curve_period: float = _column(np.float32, 0.0)  # wave length in pixels
    curve_phase: float = _column(np.float32, 0.0)  # radians
    elastic: float = _column(np.float32, 0.0)  # largest displacement of the warp grid, in pixels
    # paper and background
    backdrop: int = _column(np.int32, 0)  # 1 + the number of the --backgrounds image cropped for the paper (0: none)
    backdrop_row: int = _column(np.int32, 0)
    backdrop_col: int = _column(np.int32, 0)
    backdrop_amount: float = _column(np.float32, 0.0)  # share of the image's contrast kept
    paper: float = _column(np.float32, 0.0)  # paper texture strength (gray levels of its standard deviation)
    paper_row: int = _column(np.int32, 0)
    paper_col: int = _column(np.int32, 0)
    gradient: float = _column(np.float32, 0.0)  # background gray-level change across the line, signed
    gradient_angle: float = _column(np.float32, 0.0)  # degrees
    rules: int = _column(np.uint8, 0)  # ruled paper: 0 none, 1 horizontal lines, 2 grid
    rules_spacing: int = _column(np.uint8, 0)  # pixels between lines
    rules_offset: int = _column(np.uint8, 0)
    inverted: bool = _column(np.uint8, False)  # light ink on dark paper
    # ink
    ink_variation: float = _column(np.float32, 0.0)  # gray levels the ink drifts along the line
    ink_phase: float = _column(np.float32, 0.0)
    faded: float = _column(np.float32, 0.0)  # share of contrast lost in faded patches
    # clutter (positions and shapes come from the effect seed)
    neighbours: int = _column(np.uint8, 0)  # cut-off neighbouring lines: bit 1 above, bit 2 below
    strike: int = _column(np.uint8, 0)  # 0 none, 1 underline, 2 strike-through
    specks: int = _column(np.uint8, 0)  # number of specks and scratches
    # light
    light: float = _column(np.float32, 0.0)  # illumination falloff across the line (share of brightness)
    light_angle: float = _column(np.float32, 0.0)  # degrees
    shadow: float = _column(np.float32, 0.0)  # share of brightness lost under a shadow
    shadow_x: float = _column(np.float32, 0.0)  # where the shadow edge crosses the line (share of the width)
    contrast: float = _column(np.float32, 1.0)  # global contrast factor around mid-gray
    gamma: float = _column(np.float32, 1.0)
    # optics and compression
    defocus: float = _column(np.float32, 0.0)  # Gaussian blur sigma of the whole image
    motion: float = _column(np.float32, 0.0)  # motion-blur length in pixels
    motion_angle: float = _column(np.float32, 0.0)  # degrees
    downscale: float = _column(np.float32, 1.0)  # resolution loss: shrink by this factor, then back
    jpeg_quality: int = _column(np.uint8, 0)  # 0: not JPEG-compressed; else the quality it was encoded at
    effect_seed: int = _column(np.uint32, 0)  # seeds the details of elastic, faded, clutter

    @classmethod
    def switched_on(cls, values: Mapping[str, float | int]) -> EffectParams:
        """The neutral record with `values` set: the effects a sample got."""
        unknown = values.keys() - _NO_EFFECTS.__dict__.keys()
        if unknown:
            raise TypeError(f"EffectParams has no field {sorted(unknown)[0]!r}")
        return _assemble(cls, _NO_EFFECTS.__dict__, values)


_NO_EFFECTS = EffectParams()


@dataclass(frozen=True, kw_only=True)
class SampleParams(EffectParams, AugmentParams):
    """Everything that decides one sample's pixels; `Painter.paint` replays it exactly.

    Every field but `text` is stored as a `params/<field>` column with the dtype in its metadata; `text`
    is the shard's `text` dataset. Adding a field here or to a base record (and setting it where the
    record is drawn) is all it takes.
    """

    index: int = _column(np.int64)
    text: str = field(metadata={})
    font_id: int = _column(np.int32)
    font_size: int = _column(np.int32)
    x: int = _column(np.int32)
    y: int = _column(np.int32)
    width: int = _column(np.int32)  # the image's true width (the canvas width unless variable)
    tracking: float = _column(np.float32, 0.0)  # letter spacing, em
    word_spacing: float = _column(np.float32, 1.0)  # multiplier of the space's advance
    text_kind: int = _column(np.uint8, 0)  # index into text.TEXT_KINDS (manifest: text_source.kinds)

    @classmethod
    def compose(cls, *, index: int, text: str, font_id: int, font_size: int, x: int, y: int, width: int,
                tracking: float, word_spacing: float, augment: AugmentParams, effects: EffectParams = _NO_EFFECTS,
                text_kind: int = 0) -> SampleParams:
        """The record of a placed, typeset text with its augmentation and effect parameters."""
        return _assemble(cls, augment.__dict__, effects.__dict__, dict(
            index=index, text=text, text_kind=text_kind, font_id=font_id, font_size=font_size, x=x, y=y,
            width=width, tracking=tracking, word_spacing=word_spacing))

    @property
    def effects(self) -> EffectParams:
        return EffectParams(**{name: getattr(self, name) for name in _EFFECT_FIELDS})

    def replace(self, **changes) -> SampleParams:
        return dataclasses.replace(self, **changes)


_EFFECT_FIELDS = tuple(f.name for f in dataclasses.fields(EffectParams))
PARAM_DTYPES: dict[str, np.dtype] = {f.name: f.metadata["dtype"] for f in dataclasses.fields(SampleParams)
                                     if "dtype" in f.metadata}
PARAM_FIELDS = tuple(PARAM_DTYPES)
# Columns added after format 1's first datasets, and what a shard without them means: the font's own
# spacing, and images as wide as the shard (None: the shard's `width` attribute).
LATER_PARAM_DEFAULTS: dict[str, float | None] = {
    **{f.name: f.default for f in dataclasses.fields(SampleParams) if f.default is not dataclasses.MISSING},
    "width": None,
}
_BOOL_FIELDS = frozenset(f.name for f in dataclasses.fields(SampleParams) if f.type == "bool")
assert set(PARAM_FIELDS) | {"text"} == {f.name for f in dataclasses.fields(SampleParams)}


def params_to_columns(params: Sequence[SampleParams]) -> dict[str, np.ndarray]:
    """Records -> one array per `params/<field>` column, in the stored dtypes."""
    return {name: np.array([getattr(p, name) for p in params], dtype=dtype) for name, dtype in PARAM_DTYPES.items()}


def params_from_columns(columns: Mapping[str, np.ndarray], row: int, text: str, prefix: str = "") -> SampleParams:
    """Row `row` of the params columns (keyed `prefix + field`) back into a record."""
    values = {name: columns[prefix + name][row].item() for name in PARAM_FIELDS}
    for name in _BOOL_FIELDS:
        values[name] = bool(values[name])
    return SampleParams(text=text, **values)
