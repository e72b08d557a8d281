"""What an effect declares, in one place: its settings, its record columns and their "off" values, its draw,
its stage in the fixed pixel order and its apply (`registry` collects the declarations)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textsynth.draws import between_f32

# The fixed pixel order. Each stage's apply takes and returns what that stage works on:
#   "ink"       apply(mask, record, angle) -> mask: the text's uint8 ink mask before it is placed
#               (`angle`: the line's rotation, given only to an effect with `turns=True` that comes last)
#   "paper"     apply(frame): sets or changes frame.image, the paper (float32, or uint8 on the integer canvas)
#   "ink_level" apply(frame): sets or changes frame.ink, the ink's gray level (a scalar or a (1, width) row)
#   "coverage"  apply(frame): changes frame.coverage, the ink coverage of the whole canvas (float32, 0..1)
#   (the ink is composited onto the paper here)
#   "canvas"    apply(frame): changes frame.image (float32, or uint8 on the integer canvas)
#   (rounded to uint8 here)
#   "pixels"    apply(frame): changes frame.image, uint8
#   "orientation" apply(frame): changes frame.image's first record.width columns, uint8
#   "sensor"    apply(frame): adds regenerable noise (`textsynth.sensor`) to frame.image's first record.width
#               columns, uint8; a format 3 shard stores the line before this stage and a reader replays it
STAGES = ("ink", "paper", "ink_level", "coverage", "canvas", "pixels", "orientation", "sensor")


@dataclass(frozen=True)
class Column:
    """A record field stored as `params/<name>`: its dtype, its value when the effect is off, its Python type.
    `later`: a column that format 1's first datasets lack (a shard without it reads as `off`)."""

    dtype: str
    off: float | int | bool
    kind: type = float
    later: bool = True

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)


def f32(off: float = 0.0, later: bool = True) -> Column:
    return Column("float32", off, float, later)


def whole(dtype: str, off: int = 0, later: bool = True) -> Column:
    return Column(dtype, off, int, later)


def flag(later: bool = True) -> Column:
    return Column("uint8", False, bool, later)


@dataclass(frozen=True)
class Canvas:
    """What an effect's details are drawn against: the canvas, the texture banks, the background images."""

    height: int
    width: int
    paper_shape: tuple[int, int]
    noise_shape: tuple[int, int]
    backdrops: list[tuple[int, int]]


# (its settings, its block of uniforms, the canvas) -> the record fields it sets
Draw = Callable[[Any, list[float], Canvas], dict[str, Any]]


@dataclass(frozen=True)
class EffectSpec:
    """One effect.

    A degradation effect (`classic=False`) is an `[effects.<name>]` table (probability `p`, `amount` range
    within `bounds`); it gets `UNIFORMS_PER_EFFECT` uniforms of the effects block, the first decides whether
    it is on, and `draw(Effect, uniforms, canvas)` gives the fields it sets. A classic effect (`classic=True`:
    the seed's blur, flips, gray levels and noise) reads its `[augment]` setting, owns `uniforms` places of the
    augment block and is drawn for every sample: `draw(AugmentConfig, its uniforms, canvas)`.

    `draw_order` places the effect in its block: it fixes every effect's random numbers, so a new effect takes
    a number after every existing one. `trigger`: the fields whose non-off value makes `apply` run (default:
    the first field); `apply` None: another effect's apply draws it (named in `doc`). `changes_ink`: its
    fields change the ink mask (so they key the painter's mask cache); `growth(record)` -> (extra width per
    pixel of height, height factor, pixels of padding) predicts how much it grows the mask.

    An effect that moves ink says where it puts a point, for character boxes (`textsynth.char_boxes`), in pixel
    edges: `matrix` for a map that keeps lines straight (a pad, a perspective warp, a turn, a flip), as a 3x3
    projective `Matrix`; `moves` for one that bends them (a wave, an elastic warp). Ink stage:
    `matrix((h, w), record, angle) -> (Matrix, (h', w'))` and `moves(points, (h, w), record, angle) -> (points,
    (h', w'))` for the h x w mask it gets and the mask it returns (points: (..., 2) arrays); orientation stage:
    `matrix(record, canvas_height) -> Matrix`. `spread(record, h)`: pixels by which it spreads each glyph's ink past
    its outline in a text mask h pixels high (a box grows by as much).
    """

    name: str
    draw_order: int
    fields: dict[str, Column]
    draw: Draw
    stage: str
    apply: Callable | None
    step: int = 0  # the place within the stage (lower first)
    p: float = 0.0
    amount: tuple[float, float] = (0.0, 0.0)
    bounds: tuple[float, float] = (0.0, 0.0)
    doc: str = ""
    classic: bool = False
    uniforms: int = 1  # classic effects only
    always: bool = False  # apply for every sample (a level that has no "off")
    trigger: tuple[str, ...] = ()
    changes_ink: bool = False
    turns: bool = False
    growth: Callable[[Any], tuple[float, float, int]] | None = None
    matrix: Callable | None = None
    moves: Callable | None = None
    spread: Callable[[Any, int], float] | None = None
    on_field: str = field(default="", compare=False)  # the field that says a sample got it (default: first)

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ValueError(f"effect {self.name}: stage {self.stage!r} is not one of {STAGES}")
        if not self.fields:
            raise ValueError(f"effect {self.name} declares no record field")
        first = next(iter(self.fields))
        object.__setattr__(self, "trigger", self.trigger or (first,))
        object.__setattr__(self, "on_field", self.on_field or first)


def amount(e: Any, u: list[float]) -> float:
    """The effect's amount, float32-exact, from the second uniform of its block (the first said "on")."""
    return between_f32(e.amount, u[1])


def whole_amount(e: Any, u: list[float]) -> int:
    return int(round(amount(e, u)))


def plain_draw(name: str) -> Draw:
    """A draw that sets one field, the amount."""
    return lambda e, u, c: {name: amount(e, u)}


def detail_draw(name: str, detail: str, low: float, high: float) -> Draw:
    """A draw that sets the amount and one detail drawn in [low, high] from the third uniform."""
    return lambda e, u, c: {name: amount(e, u), detail: between_f32((low, high), u[2])}


# A map of points that keeps lines straight: a 3x3 projective matrix as 9 floats, row by row (plain floats: a
# sample's few maps are composed faster in Python than numpy makes a 3x3 array).
Matrix = tuple[float, float, float, float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def translation(dx: float, dy: float) -> Matrix:
    return (1.0, 0.0, float(dx), 0.0, 1.0, float(dy), 0.0, 0.0, 1.0)


def compose(a: Matrix, b: Matrix) -> Matrix:
    """The map `a` after `b` (the matrix product a @ b)."""
    a0, a1, a2, a3, a4, a5, a6, a7, a8 = a
    b0, b1, b2, b3, b4, b5, b6, b7, b8 = b
    return (a0 * b0 + a1 * b3 + a2 * b6, a0 * b1 + a1 * b4 + a2 * b7, a0 * b2 + a1 * b5 + a2 * b8,
            a3 * b0 + a4 * b3 + a5 * b6, a3 * b1 + a4 * b4 + a5 * b7, a3 * b2 + a4 * b5 + a5 * b8,
            a6 * b0 + a7 * b3 + a8 * b6, a6 * b1 + a7 * b4 + a8 * b7, a6 * b2 + a7 * b5 + a8 * b8)


def apply_matrix(matrix: Matrix, points: np.ndarray) -> np.ndarray:
    """Points (..., 2) moved by a projective matrix."""
    m0, m1, m2, m3, m4, m5, m6, m7, m8 = matrix
    x, y = points[..., 0], points[..., 1]
    moved = np.stack([m0 * x + m1 * y + m2, m3 * x + m4 * y + m5], axis=-1)
    if m6 or m7 or m8 != 1.0:
        moved /= (m6 * x + m7 * y + m8)[..., None]
    return moved


def padded_matrix(pad: Callable[[Any], int]) -> Callable:
    """`matrix` of an ink effect that pads the mask by `pad(record)` pixels on every side."""
    def matrix(shape: tuple, p: Any, angle: float) -> tuple[Matrix, tuple]:
        d = pad(p)
        return translation(d, d), (shape[0] + 2 * d, shape[1] + 2 * d)
    return matrix
