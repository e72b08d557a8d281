"""Turning uniforms in [0, 1) into record values that a shard stores and replays exactly."""

from __future__ import annotations

import numpy as np


def as_f32(value: float) -> float:
    """Round to a float32 value, so a record stored as float32 replays exactly."""
    return float(np.float32(value))


def between_f32(bounds: tuple[float, float], u: float) -> float:
    """A float32-exact value in [low, high] from a uniform `u` in [0, 1) (a record stored as float32 replays
    exactly)."""
    low, high = bounds
    return as_f32(low + (high - low) * u)


def pick(u: float, count: int) -> int:
    """One of 0 .. count - 1 from a uniform `u` in [0, 1)."""
    return min(int(u * count), count - 1)
