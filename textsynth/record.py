"""The per-sample record: its fields, their on-disk dtypes, and conversion between records and shard columns."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


def _column(dtype: type) -> dict:
    """Field metadata naming the dtype a record field is stored with in `params/<field>`."""
    return {"dtype": np.dtype(dtype)}


@dataclass(frozen=True)
class AugmentParams:
    """One sample's augmentation parameters, as `augment.sample_augment` draws them."""

    angle: float = field(metadata=_column(np.float32))
    blur: float = field(metadata=_column(np.float32))
    mirror: bool = field(metadata=_column(np.uint8))
    upside_down: bool = field(metadata=_column(np.uint8))
    background: int = field(metadata=_column(np.uint8))
    foreground: int = field(metadata=_column(np.uint8))
    noise_level: float = field(metadata=_column(np.float32))
    noise_row: int = field(metadata=_column(np.int32))
    noise_col: int = field(metadata=_column(np.int32))


@dataclass(frozen=True)
class SampleParams:
    """Everything that decides one sample's pixels; `Painter.paint` replays it exactly.

    Every field but `text` is stored as a `params/<field>` column with the dtype in its metadata; `text`
    is the shard's `text` dataset. Adding a field here (and setting it in the painter) is all it takes.
    """

    index: int = field(metadata=_column(np.int64))
    text: str = field(metadata={})
    font_id: int = field(metadata=_column(np.int32))
    font_size: int = field(metadata=_column(np.int32))
    x: int = field(metadata=_column(np.int32))
    y: int = field(metadata=_column(np.int32))
    tracking: float = field(metadata=_column(np.float32))  # letter spacing, em
    word_spacing: float = field(metadata=_column(np.float32))  # multiplier of the space's advance
    width: int = field(metadata=_column(np.int32))  # the image's true width (the canvas width unless variable)
    angle: float = field(metadata=_column(np.float32))
    mirror: bool = field(metadata=_column(np.uint8))
    upside_down: bool = field(metadata=_column(np.uint8))
    blur: float = field(metadata=_column(np.float32))
    noise_level: float = field(metadata=_column(np.float32))
    noise_row: int = field(metadata=_column(np.int32))
    noise_col: int = field(metadata=_column(np.int32))
    background: int = field(metadata=_column(np.uint8))
    foreground: int = field(metadata=_column(np.uint8))

    @classmethod
    def compose(cls, *, index: int, text: str, font_id: int, font_size: int, x: int, y: int, tracking: float,
                word_spacing: float, width: int, augment: AugmentParams) -> SampleParams:
        """The record of a placed text with its augmentation parameters."""
        return cls(index=index, text=text, font_id=font_id, font_size=font_size, x=x, y=y, tracking=tracking,
                   word_spacing=word_spacing, width=width, **augment.__dict__)

    def replace(self, **changes) -> SampleParams:
        return dataclasses.replace(self, **changes)


PARAM_DTYPES: dict[str, np.dtype] = {f.name: f.metadata["dtype"] for f in dataclasses.fields(SampleParams)
                                     if "dtype" in f.metadata}
PARAM_FIELDS = tuple(PARAM_DTYPES)
# Columns added after format 1's first datasets, and what a shard without them means: the font's own
# spacing, and images as wide as the shard (None: the shard's `width` attribute).
LATER_PARAM_DEFAULTS: dict[str, float | None] = {"tracking": 0.0, "word_spacing": 1.0, "width": None}
_BOOL_FIELDS = frozenset(f.name for f in dataclasses.fields(SampleParams) if f.type == "bool")
assert set(PARAM_FIELDS) | {"text"} == {f.name for f in dataclasses.fields(SampleParams)}
assert {f.name for f in dataclasses.fields(AugmentParams)} <= set(PARAM_FIELDS)


def params_to_columns(params: Sequence[SampleParams]) -> dict[str, np.ndarray]:
    """Records -> one array per `params/<field>` column, in the stored dtypes."""
    return {name: np.array([getattr(p, name) for p in params], dtype=dtype) for name, dtype in PARAM_DTYPES.items()}


def params_from_columns(columns: Mapping[str, np.ndarray], row: int, text: str, prefix: str = "") -> SampleParams:
    """Row `row` of the params columns (keyed `prefix + field`) back into a record."""
    values = {name: columns[prefix + name][row].item() for name in PARAM_FIELDS}
    for name in _BOOL_FIELDS:
        values[name] = bool(values[name])
    return SampleParams(text=text, **values)
