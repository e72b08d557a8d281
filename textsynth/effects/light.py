"""Ink levels and light: ink drifting along the line, faded patches, illumination falloff, shadows,
global contrast and gamma."""

from __future__ import annotations

import math

import cv2
import numpy as np

from textsynth.draws import stream
from textsynth.effects.spec import EffectSpec, detail_draw, f32, flag, plain_draw

try:  # the compiled table (textsynth/_lines.c); absent where the package was built without a C compiler
    from textsynth._lines import tone_table as _compiled_tone_table
except ImportError:  # (or by a textsynth before it)
    _compiled_tone_table = None


def _ink_variation(frame) -> None:
    """The ink's gray level drifts along the line: a (1, width) row."""
    p, width = frame.p, frame.width
    x = np.arange(width, dtype=np.float32) / np.float32(width)
    drift = np.float32(p.ink_variation / 2) * (1 + np.sin(np.float32(2 * np.pi * 1.3) * x + np.float32(p.ink_phase)))
    frame.ink = (np.float32(p.foreground) + drift)[None, :]


def fading(p, width: int) -> np.ndarray:
    """A (1, width) share of the ink kept: a few soft patches lose up to `p.faded` of it."""
    rng = stream(p.effect_seed, 0x66616465)
    x = np.arange(width, dtype=np.float32)
    loss = np.zeros(width, np.float32)
    for _ in range(int(rng.integers(1, 4))):
        centre, spread = rng.uniform(0, width), rng.uniform(0.05, 0.2) * width
        loss = np.maximum(loss, np.exp(-0.5 * ((x - centre) / spread) ** 2).astype(np.float32))
    return (1 - np.float32(p.faded) * loss)[None, :]


def _faded(frame) -> None:
    frame.coverage *= fading(frame.p, frame.width)


def _invert(frame) -> None:
    frame.image = np.float32(255) - frame.image


def _light(frame) -> None:
    """Darken by an illumination falloff: 1 - light/2 x (ramp + 1), the ramp -1 .. 1 along the width (one
    canvas-sized pass, then *=)."""
    p = frame.p
    frame.env.coords.fall_off(frame.image, p.light_angle, -p.light / 2, np.float32(1 - p.light / 2))


def _shadow(frame) -> None:  # a soft edge a few pixels wide, `shadow_x` of the way along the line
    p = frame.p
    frame.env.coords.shade(frame.image, np.float32(2 * p.shadow_x - 1), np.float32(p.shadow))


_LEVELS = np.arange(256, dtype=np.float64) / 255


def tone_table(p) -> np.ndarray | None:
    """A 256-entry lookup table for the sample's contrast and gamma, or None when both are neutral."""
    if p.contrast == 1.0 and p.gamma == 1.0:
        return None
    if _compiled_tone_table is not None:  # the same float64 operations in one compiled loop, ~10x faster
        return np.frombuffer(_compiled_tone_table(p.contrast, p.gamma), np.uint8)
    table = _LEVELS ** p.gamma if p.gamma != 1.0 else _LEVELS.copy()
    table *= 255 * p.contrast  # 255 x (0.5 + (level - 0.5) x contrast)
    table += 127.5 * (1 - p.contrast)
    np.rint(table, out=table)
    return np.clip(table, 0, 255).astype(np.uint8)


def _tone(frame) -> None:  # contrast and gamma in one table: one rounding
    frame.image = cv2.LUT(frame.image, tone_table(frame.p))


EFFECTS = (
    EffectSpec(
        "inverted", 9, {"inverted": flag()}, lambda e, u, c: {"inverted": True}, "canvas", _invert, step=10,
        p=0.15, doc="light ink on dark paper"),
    EffectSpec(
        "ink_variation", 10, {"ink_variation": f32(), "ink_phase": f32()},
        detail_draw("ink_variation", "ink_phase", 0.0, 2 * math.pi), "ink_level", _ink_variation, step=20,
        p=0.15, amount=(5.0, 40.0), bounds=(0.0, 80.0), doc="gray levels the ink drifts along the line"),
    EffectSpec(
        "faded", 11, {"faded": f32()}, plain_draw("faded"), "coverage", _faded, step=40, p=0.08,
        amount=(0.2, 0.6), bounds=(0.0, 0.9), doc="share of contrast lost in faded patches"),
    EffectSpec(
        "light", 15, {"light": f32(), "light_angle": f32()}, detail_draw("light", "light_angle", -180.0, 180.0),
        "canvas", _light, step=20, p=0.25, amount=(0.05, 0.45), bounds=(0.0, 0.8),
        doc="brightness lost across the line"),
    EffectSpec(
        "shadow", 16, {"shadow": f32(), "shadow_x": f32()}, detail_draw("shadow", "shadow_x", 0.15, 0.85),
        "canvas", _shadow, step=30, p=0.08, amount=(0.1, 0.45), bounds=(0.0, 0.8),
        doc="brightness lost under a shadow (`shadow_x`: where its edge crosses the line, share of the width)"),
    EffectSpec(
        "contrast", 17, {"contrast": f32(1.0)}, plain_draw("contrast"), "pixels", _tone, step=10, p=0.25,
        amount=(0.7, 1.3), bounds=(0.2, 2.0), doc="contrast factor around mid-gray; its table also draws `gamma`",
        trigger=("contrast", "gamma")),
    EffectSpec(
        "gamma", 18, {"gamma": f32(1.0)}, plain_draw("gamma"), "pixels", None, step=10, p=0.2, amount=(0.6, 1.6),
        bounds=(0.3, 3.0), doc="gamma of the levels (drawn by `contrast`'s table)"),
)
