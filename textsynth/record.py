"""The per-sample record: its fields (typesetting here, effects from the registry), their on-disk dtypes, and
conversion between records and shard columns. A record is complete by construction: every way to build one
raises on a missing or unknown field."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from textsynth.effects.registry import COLUMNS, OFF


def _column(dtype: type):
    """A record field stored as `params/<field>` with this dtype."""
    return field(metadata={"dtype": np.dtype(dtype)})


def _assemble(cls: type, *parts: Mapping) -> object:
    """A frozen record from mappings that together name every field (later ones win), without the generated
    `__init__`: it sets ~70 fields one `object.__setattr__` at a time, a tenth of a render's per-sample time
    in Python. One comparison of key sets keeps it as strict as `__init__`."""
    record = object.__new__(cls)
    values = record.__dict__
    for part in parts:
        values.update(part)
    if values.keys() != _FIELD_NAMES[cls]:
        _raise_incomplete(cls, values.keys())
    return record


def _raise_incomplete(cls: type, given) -> None:
    missing, unknown = sorted(_FIELD_NAMES[cls] - given), sorted(given - _FIELD_NAMES[cls])
    what = f"no field {unknown[0]!r}" if unknown else f"field {missing[0]!r} missing"
    raise TypeError(f"{cls.__name__}: {what}")


def _effect_methods() -> dict:
    def switched_on(cls, values: Mapping[str, float | int]) -> EffectParams:
        """The "off" record with `values` set: the effects a sample got."""
        return _assemble(cls, OFF, values)

    def off(cls) -> EffectParams:
        """Every effect off: black ink on white paper, level, sharp, noiseless."""
        return _assemble(cls, OFF)

    return {"switched_on": classmethod(switched_on), "off": classmethod(off),
            "__doc__": "One sample's effects (`effects.registry.COLUMNS`), as `effects.sampling` draws them."}


EffectParams = dataclasses.make_dataclass(
    "EffectParams", [(name, c.kind, field(metadata={"dtype": c.np_dtype})) for name, c in COLUMNS.items()],
    frozen=True, kw_only=True, namespace={**_effect_methods(), "__module__": __name__})


@dataclass(frozen=True, kw_only=True)
class SampleParams(EffectParams):
    """Everything that decides one sample's pixels; `Painter.paint` replays it exactly.

    Every field but `text` is stored as a `params/<field>` column with the dtype in its metadata; `text`
    is the shard's `text` dataset. The typesetting fields are here; each effect declares its own (see
    `textsynth.effects.spec`).
    """

    index: int = _column(np.int64)
    text: str = field(metadata={})
    font_id: int = _column(np.int32)
    font_size: int = _column(np.int32)
    x: int = _column(np.int32)
    y: int = _column(np.int32)
    width: int = _column(np.int32)  # the image's true width (the canvas width unless variable)
    angle: float = _column(np.float32)  # the line's rotation, degrees counter-clockwise
    tracking: float = _column(np.float32)  # letter spacing, em
    word_spacing: float = _column(np.float32)  # multiplier of the space's advance
    text_kind: int = _column(np.uint8)  # index into text.TEXT_KINDS (manifest: text_source.kinds)

    @classmethod
    def compose(cls, *, index: int, text: str, font_id: int, font_size: int, x: int, y: int, width: int,
                angle: float, tracking: float, word_spacing: float, text_kind: int,
                effects: EffectParams) -> SampleParams:
        """The record of a placed, typeset text with its effects."""
        return _assemble(cls, effects.__dict__, dict(
            index=index, text=text, text_kind=text_kind, font_id=font_id, font_size=font_size, x=x, y=y,
            width=width, angle=angle, tracking=tracking, word_spacing=word_spacing))

    @classmethod
    def from_dict(cls, values: Mapping) -> SampleParams:
        """A record from a mapping of every field; raises TypeError on a missing or unknown one."""
        return _assemble(cls, values)

    @property
    def effects(self) -> EffectParams:
        return _assemble(EffectParams, {name: getattr(self, name) for name in COLUMNS})

    def replace(self, **changes) -> SampleParams:
        return dataclasses.replace(self, **changes)


_FIELD_NAMES = {cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in (EffectParams, SampleParams)}
PARAM_DTYPES: dict[str, np.dtype] = {f.name: f.metadata["dtype"] for f in dataclasses.fields(SampleParams)
                                     if "dtype" in f.metadata}
PARAM_FIELDS = tuple(PARAM_DTYPES)
# Columns added after format 1's first datasets, and what a shard without them means: the font's own
# spacing, the first text kind, images as wide as the shard (None: the shard's `width` attribute), and every
# later effect off.
LATER_PARAM_DEFAULTS: dict[str, float | None] = {
    "tracking": 0.0, "word_spacing": 1.0, "text_kind": 0, "width": None,
    **{name: c.off for name, c in COLUMNS.items() if c.later},
}
_BOOL_FIELDS = frozenset(f.name for f in dataclasses.fields(SampleParams) if f.type in ("bool", bool))
assert set(PARAM_FIELDS) | {"text"} == _FIELD_NAMES[SampleParams]


def params_to_columns(params: Sequence[SampleParams]) -> dict[str, np.ndarray]:
    """Records -> one array per `params/<field>` column, in the stored dtypes."""
    return {name: np.array([getattr(p, name) for p in params], dtype=dtype) for name, dtype in PARAM_DTYPES.items()}


def params_from_columns(columns: Mapping[str, np.ndarray], row: int, text: str, prefix: str = "") -> SampleParams:
    """Row `row` of the params columns (keyed `prefix + field`) back into a record."""
    values = {name: columns[prefix + name][row].item() for name in PARAM_FIELDS}
    for name in _BOOL_FIELDS:
        values[name] = bool(values[name])
    return SampleParams(text=text, **values)
