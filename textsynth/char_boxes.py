"""Per-character boxes: where each label character lies on the canvas, as a quadrilateral carried through the
maps that move the ink (the ink stage's warps, the placement, the flips) and clipped to the canvas."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from textsynth.effects.compose import ink_points, ink_spread, orientation_points
from textsynth.errors import TextsynthError

if TYPE_CHECKING:
    from textsynth.paint import Painter
    from textsynth.record import SampleParams

# Points sampled along each side of a box: the warps that bend (curve, elastic) bend its sides too, and the
# quadrilateral stored is the one whose sides hold every sampled point.
SIDE_POINTS = 8


def box_sides(boxes: np.ndarray, grow: float = 0.0) -> np.ndarray:
    """Boxes (n, 4: x0, y0, x1, y1), grown by `grow` px on every side, as points along their sides
    (n, 4 sides, SIDE_POINTS, 2): top, right, bottom, left, each from its first corner (clockwise on screen)."""
    x0, y0, x1, y1 = (boxes[:, k] + d for k, d in enumerate((-grow, -grow, grow, grow)))
    corners = np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1), np.stack([x1, y1], -1),
                        np.stack([x0, y1], -1)], axis=1)  # (n, 4, 2): top-left, top-right, bottom-right, bottom-left
    t = np.linspace(0.0, 1.0, SIDE_POINTS)[None, None, :, None]
    start, end = corners[:, :, None, :], np.roll(corners, -1, axis=1)[:, :, None, :]
    return start + t * (end - start)


def enclosing_quads(sides: np.ndarray) -> np.ndarray:
    """(n, 4, 2) quadrilaterals from moved box sides (n, 4, SIDE_POINTS, 2): each side is the line through its
    moved corners, pushed outwards until every moved point of that side is inside; corners where sides meet.
    A map that keeps lines straight (perspective, rotation, flips) gives the moved corners exactly."""
    first, last = sides[:, :, 0, :], sides[:, :, -1, :]
    direction = last - first
    length = np.hypot(direction[..., 0], direction[..., 1])
    corners = first
    area = np.sum(corners[:, :, 0] * np.roll(corners[:, :, 1], -1, 1) - np.roll(corners[:, :, 0], -1, 1)
                  * corners[:, :, 1], axis=1)
    sign = np.where(area >= 0, 1.0, -1.0)[:, None, None]
    normal = sign * np.stack([direction[..., 1], -direction[..., 0]], -1) / np.maximum(length, 1e-12)[..., None]
    outward = np.einsum("nskd,nsd->nsk", sides - first[:, :, None, :], normal).max(axis=2)
    origin = first + np.maximum(outward, 0.0)[..., None] * normal  # a point on each pushed side
    # corner k is where side k-1 meets side k
    p, r = np.roll(origin, 1, axis=1), np.roll(direction, 1, axis=1)
    q, s = origin, direction
    cross = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    qp = q - p
    t = (qp[..., 0] * s[..., 1] - qp[..., 1] * s[..., 0]) / np.where(np.abs(cross) > 1e-9, cross, 1.0)
    meet = p + t[..., None] * r
    parallel = (np.abs(cross) <= 1e-9 * np.maximum(np.roll(length, 1, 1) * length, 1e-12))[..., None]
    return np.where(parallel, origin, meet)


def char_boxes(painter: Painter, p: SampleParams) -> np.ndarray:
    """float32 (len(text), 4, 2): each character's quadrilateral on sample `p`'s canvas, x then y in pixels
    (edges: the canvas spans [0, width] x [0, height]), corners in the upright glyph's own order (top-left,
    top-right, bottom-right, bottom-left) wherever the effects turned them. Characters HarfBuzz shapes as one
    cluster share its box; a space's box is its advance across the text's height."""
    boxes, shape = painter.layout.cluster_boxes(p.font_id, p.text, p.font_size, p.tracking, p.word_spacing)
    sides, moved_shape = ink_points(box_sides(boxes, ink_spread(p, shape[0])), shape, p, p.angle)
    mask = painter.ink_mask(p)
    if moved_shape != mask.shape:
        raise TextsynthError(f"sample {p.index}: the effects' point maps give a {moved_shape} mask, the ink is "
                             f"{mask.shape} (an ink effect lacks or misstates its `moves`)")
    quads = enclosing_quads(sides) + (p.x, p.y)
    quads = orientation_points(quads, p, painter.height)
    np.clip(quads[..., 0], 0, p.width, out=quads[..., 0])
    np.clip(quads[..., 1], 0, painter.height, out=quads[..., 1])
    return quads.astype(np.float32)
