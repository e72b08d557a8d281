"""Per-character boxes: where each label character lies on the canvas, as a quadrilateral carried through the
maps that move the ink (the ink stage's warps, the placement, the flips) and clipped to the canvas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from textsynth.effects.compose import orientation_matrix
from textsynth.effects.geometry import rotation_matrix
from textsynth.effects.spec import Matrix, apply_matrix, compose, translation
from textsynth.errors import TextsynthError

if TYPE_CHECKING:
    from textsynth.paint import Painter
    from textsynth.record import SampleParams

# Points followed along each side of a box when an effect bends lines (curve, elastic): the quadrilateral stored
# is the one whose sides hold every followed point. Maps that keep lines straight move the corners alone.
SIDE_POINTS = 6
_CORNERS = [0, 1, 2, 1, 2, 3, 0, 3]  # (x0, y0, x1, y1) -> top-left, top-right, bottom-right, bottom-left
_PREVIOUS = [3, 0, 1, 2]  # the side before each side (corner k is where side k-1 meets side k)
_NEXT = [1, 2, 3, 0]


def box_corners(boxes: np.ndarray) -> np.ndarray:
    """Boxes (n, 4: x0, y0, x1, y1) as corners (n, 4, 2): top-left, top-right, bottom-right, bottom-left
    (clockwise on screen)."""
    return boxes[:, _CORNERS].reshape(-1, 4, 2)


_ALONG = np.linspace(0.0, 1.0, SIDE_POINTS)[None, None, :, None]


def box_sides(corners: np.ndarray) -> np.ndarray:
    """Points along each side of quadrilaterals (n, 4, 2) -> (n, 4 sides, SIDE_POINTS, 2), each side from its
    corner to the next (top, right, bottom, left)."""
    start, end = corners[:, :, None, :], corners[:, _NEXT, None, :]
    return start + _ALONG * (end - start)


def enclosing_quads(sides: np.ndarray) -> np.ndarray:
    """(n, 4, 2) quadrilaterals from moved box sides (n, 4, SIDE_POINTS, 2): each side is the line through its
    moved corners, pushed outwards until every moved point of that side is inside; corners where sides meet."""
    first = sides[:, :, 0, :]
    direction = sides[:, :, -1, :] - first
    length = np.hypot(direction[..., 0], direction[..., 1])
    area = np.sum(first[..., 0] * first[:, _NEXT, 1] - first[:, _NEXT, 0] * first[..., 1], axis=1)
    sign = np.where(area >= 0, 1.0, -1.0)[:, None, None]
    normal = sign * np.stack([direction[..., 1], -direction[..., 0]], -1) / np.maximum(length, 1e-12)[..., None]
    outward = np.einsum("nskd,nsd->nsk", sides - first[:, :, None, :], normal).max(axis=2)
    origin = first + np.maximum(outward, 0.0)[..., None] * normal  # a point on each pushed side
    p, r = origin[:, _PREVIOUS], direction[:, _PREVIOUS]
    cross = r[..., 0] * direction[..., 1] - r[..., 1] * direction[..., 0]
    qp = origin - p
    parallel = np.abs(cross) <= 1e-9 * np.maximum(length[:, _PREVIOUS] * length, 1e-12)
    t = (qp[..., 0] * direction[..., 1] - qp[..., 1] * direction[..., 0]) / np.where(parallel, 1.0, cross)
    return np.where(parallel[..., None], origin, p + t[..., None] * r)


@dataclass(frozen=True)
class BoxPlan:
    """One sample's character boxes before their last straight maps: upright boxes (x0, y0, x1, y1 after one
    another in a flat list) still to grow by `spread` px, or when an effect bent them, points along their sides
    (n, 4, SIDE_POINTS, 2); the 3x3 matrix that takes them onto the canvas; and the canvas (width, height) they
    are clipped to."""

    points: list | np.ndarray
    spread: float
    matrix: Matrix
    width: int
    height: int


def plan_boxes(painter: Painter, p: SampleParams) -> BoxPlan:
    """Sample `p`'s boxes as far as its ink stage bends them (right after painting `p`: the painter's cached ink
    mask and warps are the ones its boxes move through)."""
    made = painter.ink_layout(p)
    shape, steps = made.laid_out_shape, made.steps
    spread = sum(spec.spread(p, shape[0]) for spec, _ in steps if spec is not None and spec.spread is not None)
    points, pending = made.boxes, None  # pending: the straight maps since the last bending one (None: none yet)
    for spec, turn in steps:
        if spec is None:
            matrix, shape = rotation_matrix(shape, turn)
        elif spec.moves is not None:
            if isinstance(points, list):  # the first bending effect: from here on, points along the sides
                boxes = np.array(points, np.float64).reshape(-1, 4) + (-spread, -spread, spread, spread)
                points = box_sides(box_corners(boxes))
            points, shape = spec.moves(points if pending is None else apply_matrix(pending, points), shape, p, turn)
            pending = None
            continue
        elif spec.matrix is not None:
            matrix, shape = spec.matrix(shape, p, turn)
        else:
            continue
        pending = matrix if pending is None else compose(matrix, pending)
    if shape != made.shape:
        raise TextsynthError(f"sample {p.index}: the effects' point maps give a {shape} mask, the ink is "
                             f"{made.shape} (an ink effect lacks or misstates its `matrix` or `moves`)")
    onto_canvas = translation(p.x, p.y) if pending is None else compose(translation(p.x, p.y), pending)
    flips = orientation_matrix(p, painter.height)
    return BoxPlan(points, 0.0 if isinstance(points, np.ndarray) else spread,
                   onto_canvas if flips is None else compose(flips, onto_canvas), p.width, painter.height)


def place_boxes(plans: Sequence[BoxPlan]) -> list[np.ndarray]:
    """Each plan's quadrilaterals on its canvas, float32 (n, 4, 2), clipped to it, to 1/16 px: one pass over many
    samples."""
    straight = [isinstance(plan.points, list) for plan in plans]
    counts = [len(plan.points) // 4 if flat else len(plan.points) for plan, flat in zip(plans, straight)]
    is_straight = np.repeat(straight, counts)
    quads = np.empty((len(is_straight), 4, 2))
    if any(straight):
        boxes = np.array([v for plan, flat in zip(plans, straight) if flat for v in plan.points],
                         np.float64).reshape(-1, 4)
        spread = np.repeat([plan.spread for plan, flat in zip(plans, straight) if flat],
                           [n for n, flat in zip(counts, straight) if flat])[:, None]
        boxes[:, :2] -= spread
        boxes[:, 2:] += spread
        quads[is_straight] = box_corners(boxes)
    if not all(straight):
        quads[~is_straight] = enclosing_quads(np.concatenate([plan.points for plan in plans
                                                              if not isinstance(plan.points, list)]))
    per_sample = np.array([(*plan.matrix, plan.width, plan.height) for plan in plans], np.float64)
    m = np.repeat(per_sample, counts, axis=0)[:, :, None]  # (characters, 11, 1): its matrix and canvas
    x, y = quads[..., 0], quads[..., 1]
    w = m[:, 6] * x + m[:, 7] * y + m[:, 8]
    placed = np.stack([np.clip((m[:, 0] * x + m[:, 1] * y + m[:, 2]) / w, 0, m[:, 9]),
                       np.clip((m[:, 3] * x + m[:, 4] * y + m[:, 5]) / w, 0, m[:, 10])], axis=-1)
    # to 1/16 px (exact in float32; a box is no finer than its glyph's pixels): stored smaller and faster
    return np.split((np.rint(placed * 16) / 16).astype(np.float32), np.cumsum(counts)[:-1])


def char_boxes(painter: Painter, p: SampleParams) -> np.ndarray:
    """float32 (len(text), 4, 2): each character's quadrilateral on sample `p`'s canvas, x then y in pixels to
    1/16 px (edges: the canvas spans [0, width] x [0, height]), corners in the upright glyph's own order (top-left,
    top-right, bottom-right, bottom-left) wherever the effects turned them. Characters HarfBuzz shapes as one
    cluster share its box; a space's box is its advance across the text's height."""
    return place_boxes([plan_boxes(painter, p)])[0]
