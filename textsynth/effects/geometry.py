"""Geometry of the ink before it is placed: stroke weight, slant, perspective, curved baseline, elastic warp
(and the line's rotation, which is typesetting).

Every warp works on the text's own ink mask and grows it so no ink is lost; the painter fits and places
the warped mask, so ink never leaves the canvas and the label stays exact.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from textsynth.draws import as_f32, stream
from textsynth.effects.spec import IDENTITY, EffectSpec, Matrix, compose, f32, padded_matrix, plain_draw, translation

_KEEP_INK = 0.45  # thinning never removes more than this share of a text's ink


_CROSS = np.ones((3, 3), np.uint8)


def _weight_pad(weight: float) -> int:
    return 2 + max(0, math.ceil(weight))


def stroke_weight(mask: np.ndarray, weight: float) -> np.ndarray:
    """Bolder (weight > 0) or thinner (< 0) strokes: whole 3x3 dilations/erosions, the fraction blended."""
    pad = _weight_pad(weight)
    padded = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    morph = cv2.dilate if weight > 0 else cv2.erode
    steps = math.ceil(abs(weight))
    before = morph(padded, _CROSS, iterations=steps - 1) if steps > 1 else padded
    fraction = abs(weight) - (steps - 1)
    out = cv2.addWeighted(before, 1 - fraction, morph(before, _CROSS), fraction, 0)  # rounded, in uint8
    if weight < 0:  # thin strokes must stay readable: keep at least _KEEP_INK of the ink
        original, kept = float(cv2.sumElems(mask)[0]), float(cv2.sumElems(out)[0])
        if original > 0 and kept < _KEEP_INK * original:
            t = min(1.0, (1 - _KEEP_INK) * original / max(original - kept, 1e-6))
            out = cv2.addWeighted(padded, 1 - t, out, t, 0)
    return out


# The warps' matrices and fields, kept for the last few masks: a sample's character boxes (textsynth.char_boxes)
# move through the same ones its ink just did.
@functools.lru_cache(maxsize=4)
def _slant_warp(h: int, w: int, shear: float, perspective: float, angle: float) -> tuple[np.ndarray, tuple]:
    """The perspective matrix and output size (width, height) of `slant_and_perspective` for an h x w mask."""
    tl, tr, br, bl = [shear * h, 0.0], [w + shear * h, 0.0], [float(w), float(h)], [0.0, float(h)]
    squeeze = abs(perspective) * h / 2
    end = (tr, br) if perspective > 0 else (tl, bl)
    end[0][1] += squeeze
    end[1][1] -= squeeze
    corners = [tl, tr, br, bl]  # plain floats: four points cost less in Python than in small numpy arrays
    if angle:  # as cv2.getRotationMatrix2D turns an image: counter-clockwise on screen (y down)
        a = math.radians(angle)
        cos, sin = math.cos(a), math.sin(a)
        mx = (((tl[0] + tr[0]) + br[0]) + bl[0]) / 4  # the centre as numpy's mean sums four rows, in order
        my = (((tl[1] + tr[1]) + br[1]) + bl[1]) / 4
        corners = [[cos * (x - mx) + sin * (y - my), cos * (y - my) - sin * (x - mx)] for x, y in corners]
    lx, ly = min(c[0] for c in corners), min(c[1] for c in corners)
    dst = np.array([[x - lx + 2, y - ly + 2] for x, y in corners], np.float32)  # 2 px of room for interpolation
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    size = (math.ceil(float(dst[:, 0].max())) + 2, math.ceil(float(dst[:, 1].max())) + 2)
    return cv2.getPerspectiveTransform(src, dst), size


def slant_and_perspective(mask: np.ndarray, shear: float, perspective: float, angle: float = 0.0) -> np.ndarray:
    """Slant (the top moves right by `shear` pixels per pixel of height) and shrink one end of the line
    (the right end by `perspective` of its height when positive, the left end when negative), then turn it
    `angle` degrees counter-clockwise: one perspective warp, one resampling."""
    matrix, size = _slant_warp(*mask.shape, shear, perspective, angle)
    return cv2.warpPerspective(mask, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=0)


_TO_CENTRES, _TO_EDGES = translation(-0.5, -0.5), translation(0.5, 0.5)


def edge_matrix(matrix: np.ndarray) -> Matrix:
    """The map, in pixel edges, of the 2x3 or 3x3 matrix OpenCV warps with (which maps pixel centres)."""
    if matrix.shape[0] == 3:
        return compose(_TO_EDGES, compose(tuple(matrix.ravel().tolist()), _TO_CENTRES))
    (a, b, c), (d, e, f) = matrix.tolist()  # affine: x -> A (x - 1/2) + t + 1/2
    return (a, b, c + 0.5 - 0.5 * (a + b), d, e, f + 0.5 - 0.5 * (d + e), 0.0, 0.0, 1.0)


def _curve_wave(amount: float, h: int) -> tuple[float, int]:
    """(amplitude, padding) of the baseline wave."""
    amplitude = amount * h
    return amplitude, math.ceil(amplitude) + 1


def curve_baseline(mask: np.ndarray, amount: float, period: float, phase: float) -> np.ndarray:
    """Shift each column vertically along a sine wave of amplitude `amount` x the text height."""
    h, w = mask.shape
    amplitude, pad = _curve_wave(amount, h)
    offset = (amplitude * np.sin(2 * np.pi * np.arange(w) / max(period, 1.0) + phase)).astype(np.float32)
    map_x = np.empty((h + 2 * pad, w), np.float32)
    map_x[...] = np.arange(w, dtype=np.float32)
    map_y = np.arange(h + 2 * pad, dtype=np.float32)[:, None] - np.float32(pad) - offset[None, :]
    return cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _curve_points(points: np.ndarray, shape: tuple, p) -> tuple[np.ndarray, tuple]:
    h, w = shape
    amplitude, pad = _curve_wave(p.curve, h)
    moved = points.copy()
    moved[..., 1] += pad + amplitude * np.sin(2 * np.pi * (points[..., 0] - 0.5) / max(p.curve_period, 1.0)
                                              + p.curve_phase)
    return moved, (h + 2 * pad, w)


@functools.lru_cache(maxsize=2)
def _elastic_field(shape: tuple, amount: float, seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(padding, dx, dy): the displacement each output pixel samples the padded mask from."""
    pad = math.ceil(amount) + 1
    h, w = shape[0] + 2 * pad, shape[1] + 2 * pad
    rng = stream(seed, 0x656C6173)
    grid = (3, max(2, w // 24))
    dy, dx = (cv2.resize(rng.uniform(-amount, amount, grid).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_LINEAR) for _ in range(2))
    return pad, dx, dy


def elastic_warp(mask: np.ndarray, amount: float, seed: int) -> np.ndarray:
    """A smooth random displacement (a coarse grid of offsets up to `amount` pixels, interpolated)."""
    pad, dx, dy = _elastic_field(mask.shape, amount, seed)
    h, w = dx.shape
    map_x = np.arange(w, dtype=np.float32)[None, :] + dx - np.float32(pad)
    map_y = np.arange(h, dtype=np.float32)[:, None] + dy - np.float32(pad)
    return cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _elastic_points(points: np.ndarray, shape: tuple, p) -> tuple[np.ndarray, tuple]:
    """Where the warp puts each point: output pixel X samples X + d(X) - pad, so X solves X = s + pad - d(X)
    (two fixed-point steps: d changes by about a tenth of a pixel per pixel, so the second is within a tenth of a
    pixel)."""
    pad, dx, dy = _elastic_field(shape, p.elastic, p.effect_seed)
    h, w = dx.shape
    target = points + pad
    moved = target.copy()
    for _ in range(2):
        col = np.clip(np.rint(moved[..., 0] - 0.5), 0, w - 1).astype(np.intp)
        row = np.clip(np.rint(moved[..., 1] - 0.5), 0, h - 1).astype(np.intp)
        moved = target - np.stack([dx[row, col], dy[row, col]], axis=-1)
    return moved, (h, w)


@functools.lru_cache(maxsize=4)
def _rotation(h: int, w: int, angle: float) -> tuple[np.ndarray, tuple]:
    """The affine matrix and output size (width, height) of `rotate_mask`."""
    a = math.radians(angle)
    cos, sin = abs(math.cos(a)), abs(math.sin(a))
    out_w, out_h = math.ceil(w * cos + h * sin) + 2, math.ceil(w * sin + h * cos) + 2  # +2: bilinear edges
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    matrix[0, 2] += (out_w - w) / 2
    matrix[1, 2] += (out_h - h) / 2
    return matrix, (out_w, out_h)


def rotate_mask(mask: np.ndarray, angle: float) -> np.ndarray:
    """Rotate an ink mask counter-clockwise about its centre, growing it so no ink is lost (bilinear)."""
    if angle == 0.0:
        return mask
    matrix, size = _rotation(*mask.shape, angle)
    return cv2.warpAffine(mask, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def rotation_matrix(shape: tuple, angle: float) -> tuple[Matrix, tuple]:
    """Where `rotate_mask` puts points of an h x w mask (pixel edges), and its output shape."""
    if angle == 0.0:
        return IDENTITY, shape
    matrix, (w, h) = _rotation(*shape, angle)
    return edge_matrix(matrix), (h, w)


def _slant_matrix(shape: tuple, p, angle: float) -> tuple[Matrix, tuple]:
    matrix, (w, h) = _slant_warp(*shape, p.shear, p.perspective, angle)
    return edge_matrix(matrix), (h, w)


EFFECTS = (
    EffectSpec(
        "ink_weight", 1, {"ink_weight": f32()}, plain_draw("ink_weight"), "ink",
        lambda mask, p, angle: stroke_weight(mask, p.ink_weight), step=10, p=0.25, amount=(-0.6, 1.0),
        bounds=(-1.0, 1.5), doc="pixels of erosion (<0) or dilation (>0)", changes_ink=True,
        growth=lambda p: (0.0, 1.0, _weight_pad(p.ink_weight)),
        matrix=padded_matrix(lambda p: _weight_pad(p.ink_weight)), spread=lambda p, h: max(0.0, p.ink_weight)),
    EffectSpec(
        "shear", 2, {"shear": f32()}, plain_draw("shear"), "ink",
        lambda mask, p, angle: slant_and_perspective(mask, p.shear, p.perspective, angle), step=20, p=0.2,
        amount=(-0.3, 0.3), bounds=(-0.6, 0.6), doc="slant: horizontal pixels per pixel of height; its warp "
        "also draws `perspective`", trigger=("shear", "perspective"), changes_ink=True, turns=True,
        growth=lambda p: (abs(p.shear), 1.0, 0), matrix=_slant_matrix),
    EffectSpec(
        "perspective", 3, {"perspective": f32()}, plain_draw("perspective"), "ink", None, step=20, p=0.1,
        amount=(-0.12, 0.12), bounds=(-0.3, 0.3), doc="share by which one end of the line shrinks (drawn by "
        "`shear`'s warp)", changes_ink=True),
    EffectSpec(
        "curve", 4, {"curve": f32(), "curve_period": f32(), "curve_phase": f32()},
        lambda e, u, c: {**plain_draw("curve")(e, u, c), "curve_period": as_f32((0.4 + 1.1 * u[2]) * c.width),
                         "curve_phase": as_f32(2 * math.pi * u[3])}, "ink",
        lambda mask, p, angle: curve_baseline(mask, p.curve, p.curve_period, p.curve_phase), step=30, p=0.1,
        amount=(0.02, 0.1), bounds=(0.0, 0.25), doc="baseline wave amplitude, share of the text height",
        changes_ink=True, growth=lambda p: (0.0, 1.0 + 2.0 * p.curve, 0),
        moves=lambda points, shape, p, angle: _curve_points(points, shape, p)),
    EffectSpec(
        "elastic", 5, {"elastic": f32()}, plain_draw("elastic"), "ink",
        lambda mask, p, angle: elastic_warp(mask, p.elastic, p.effect_seed), step=40, p=0.05, amount=(0.5, 1.5),
        bounds=(0.0, 3.0), doc="pixels of warp", changes_ink=True,
        growth=lambda p: (0.0, 1.0, math.ceil(p.elastic) + 1),
        moves=lambda points, shape, p, angle: _elastic_points(points, shape, p)),
)
