"""Ink levels and light: ink drifting along the line, faded patches, illumination falloff, shadows,
global contrast and gamma."""

from __future__ import annotations

import numpy as np

from textsynth.effects.background import Coordinates
from textsynth.record import SampleParams


def ink_levels(p: SampleParams, width: int) -> np.ndarray | np.float32:
    """The ink's gray level: a constant, or a (1, width) row drifting along the line."""
    if not p.ink_variation:
        return np.float32(p.foreground)
    x = np.arange(width, dtype=np.float32) / np.float32(width)
    drift = np.float32(p.ink_variation / 2) * (1 + np.sin(np.float32(2 * np.pi * 1.3) * x + np.float32(p.ink_phase)))
    return (np.float32(p.foreground) + drift)[None, :]


def fading(p: SampleParams, width: int) -> np.ndarray:
    """A (1, width) share of the ink kept: a few soft patches lose up to `p.faded` of it."""
    rng = np.random.default_rng([p.effect_seed, 0x66616465])
    x = np.arange(width, dtype=np.float32)
    loss = np.zeros(width, np.float32)
    for _ in range(int(rng.integers(1, 4))):
        centre, spread = rng.uniform(0, width), rng.uniform(0.05, 0.2) * width
        loss = np.maximum(loss, np.exp(-0.5 * ((x - centre) / spread) ** 2).astype(np.float32))
    return (1 - np.float32(p.faded) * loss)[None, :]


def apply_light(image: np.ndarray, p: SampleParams, coords: Coordinates) -> None:
    """Darken `image` (float32, in place) by an illumination falloff and a shadow across part of the line."""
    if p.light:  # 1 - light/2 x (ramp + 1), the ramp -1 .. 1 along the width: one canvas-sized pass, then *=
        along, across = coords.ramp_parts(p.light_angle, -p.light / 2)
        image *= (along + np.float32(1 - p.light / 2)) + across
    if p.shadow:
        edge = coords.x + coords.y * np.float32(0.3) - np.float32(2 * p.shadow_x - 1)
        cover = np.clip(edge * np.float32(12) + np.float32(0.5), 0, 1)  # a soft edge a few pixels wide
        image *= 1 - np.float32(p.shadow) * cover


_LEVELS = np.arange(256, dtype=np.float64) / 255


def tone_table(p: SampleParams) -> np.ndarray | None:
    """A 256-entry lookup table for the sample's contrast and gamma, or None when both are neutral."""
    if p.contrast == 1.0 and p.gamma == 1.0:
        return None
    table = _LEVELS ** p.gamma if p.gamma != 1.0 else _LEVELS.copy()
    table *= 255 * p.contrast  # 255 x (0.5 + (level - 0.5) x contrast)
    table += 127.5 * (1 - p.contrast)
    np.rint(table, out=table)
    return np.clip(table, 0, 255).astype(np.uint8)
