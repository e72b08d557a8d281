"""Geometry of the ink before it is placed: stroke weight, slant, perspective, curved baseline, elastic warp.

Every warp works on the text's own ink mask and grows it so no ink is lost; the painter fits and places
the warped mask, so ink never leaves the canvas and the label stays exact.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from textsynth.record import EffectParams

_KEEP_INK = 0.45  # thinning never removes more than this share of a text's ink


def geometry_growth(fx: EffectParams) -> tuple[float, float, int]:
    """How the warps grow a text box of height h and width w: (extra width per pixel of h, height factor,
    fixed padding in pixels). Used to predict the largest font size that still fits."""
    pad = 0
    if fx.ink_weight:
        pad += 2 + max(0, math.ceil(fx.ink_weight))
    if fx.elastic:
        pad += math.ceil(fx.elastic) + 1
    return abs(fx.shear), 1.0 + 2.0 * fx.curve, pad


def warp_ink(mask: np.ndarray, fx: EffectParams) -> np.ndarray:
    """The ink mask with the sample's stroke weight, slant, perspective, curve and elastic warp applied."""
    if fx.ink_weight:
        mask = stroke_weight(mask, fx.ink_weight)
    if fx.shear or fx.perspective:
        mask = slant_and_perspective(mask, fx.shear, fx.perspective)
    if fx.curve:
        mask = curve_baseline(mask, fx.curve, fx.curve_period, fx.curve_phase)
    if fx.elastic:
        mask = elastic_warp(mask, fx.elastic, fx.effect_seed)
    return mask


def _rank3(a: np.ndarray, bolder: bool) -> np.ndarray:
    """3x3 dilation (max) or erosion (min), separably, edges repeated."""
    op = np.maximum if bolder else np.minimum
    p = np.pad(a, 1, mode="edge")
    rows = op(op(p[:-2], p[1:-1]), p[2:])
    return op(op(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def stroke_weight(mask: np.ndarray, weight: float) -> np.ndarray:
    """Bolder (weight > 0) or thinner (< 0) strokes: whole 3x3 dilations/erosions, the fraction blended."""
    padded = np.pad(mask, 2 + max(0, math.ceil(weight)))
    steps = math.ceil(abs(weight))
    before = padded
    for _ in range(steps - 1):
        before = _rank3(before, weight > 0)
    after = _rank3(before, weight > 0)
    a, b = before.astype(np.float32), after.astype(np.float32)
    frac = abs(weight) - (steps - 1)
    out = a + np.float32(frac) * (b - a)
    if weight < 0:  # thin strokes must stay readable: keep at least _KEEP_INK of the ink
        original, kept = float(mask.sum()), float(out.sum())
        if original > 0 and kept < _KEEP_INK * original:
            base = padded.astype(np.float32)
            t = np.float32((1 - _KEEP_INK) * original / max(original - kept, 1e-6))
            out = base + t * (out - base)
    return (out + 0.5).astype(np.uint8)


def _perspective_coefficients(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """Pillow's PERSPECTIVE data mapping destination points to source points."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return np.linalg.solve(np.array(rows, np.float64), np.array(rhs, np.float64)).tolist()


def slant_and_perspective(mask: np.ndarray, shear: float, perspective: float) -> np.ndarray:
    """Slant (the top moves right by `shear` pixels per pixel of height) and shrink one end of the line
    (the right end by `perspective` of its height when positive, the left end when negative)."""
    h, w = mask.shape
    tl, tr, br, bl = [shear * h, 0.0], [w + shear * h, 0.0], [float(w), float(h)], [0.0, float(h)]
    squeeze = abs(perspective) * h / 2
    end = (tr, br) if perspective > 0 else (tl, bl)
    end[0][1] += squeeze
    end[1][1] -= squeeze
    dst = [tl, tr, br, bl]
    x0 = min(p[0] for p in dst)
    dst = [(p[0] - x0 + 1, p[1] + 1) for p in dst]
    out_w = math.ceil(max(p[0] for p in dst)) + 2
    coeffs = _perspective_coefficients(dst, [(0, 0), (w, 0), (w, h), (0, h)])
    img = Image.fromarray(mask).transform((out_w, h + 2), Image.Transform.PERSPECTIVE, coeffs,
                                          resample=Image.Resampling.BILINEAR, fillcolor=0)
    return np.asarray(img)


def curve_baseline(mask: np.ndarray, amount: float, period: float, phase: float) -> np.ndarray:
    """Shift each column vertically along a sine wave of amplitude `amount` x the text height."""
    h, w = mask.shape
    amplitude = amount * h
    pad = math.ceil(amplitude) + 1
    src = np.pad(mask, ((pad, pad), (0, 0))).astype(np.float32)
    offset = amplitude * np.sin(2 * np.pi * np.arange(w) / max(period, 1.0) + phase)
    rows = np.arange(h + 2 * pad, dtype=np.float32)[:, None] - offset[None, :].astype(np.float32)
    low = np.clip(np.floor(rows).astype(np.int64), 0, h + 2 * pad - 1)
    high = np.clip(low + 1, 0, h + 2 * pad - 1)
    frac = rows - np.floor(rows)
    a = np.take_along_axis(src, low, axis=0)
    b = np.take_along_axis(src, high, axis=0)
    return (a + frac * (b - a) + 0.5).astype(np.uint8)


def elastic_warp(mask: np.ndarray, amount: float, seed: int) -> np.ndarray:
    """A smooth random displacement (a coarse grid of offsets up to `amount` pixels, interpolated)."""
    pad = math.ceil(amount) + 1
    src = np.pad(mask, pad).astype(np.float32)
    h, w = src.shape
    rng = np.random.default_rng([seed, 0x656C6173])
    grid = (3, max(2, w // 24))
    fields = []
    for _ in range(2):
        coarse = rng.uniform(-amount, amount, grid).astype(np.float32)
        fields.append(np.asarray(Image.fromarray(coarse, mode="F").resize((w, h), Image.Resampling.BILINEAR)))
    ys = np.clip(np.arange(h, dtype=np.float32)[:, None] + fields[0], 0, h - 1)
    xs = np.clip(np.arange(w, dtype=np.float32)[None, :] + fields[1], 0, w - 1)
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = ys - y0, xs - x0
    top = src[y0, x0] * (1 - fx) + src[y0, x1] * fx
    bottom = src[y1, x0] * (1 - fx) + src[y1, x1] * fx
    return (top * (1 - fy) + bottom * fy + 0.5).astype(np.uint8)
