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


def stream(*words: int) -> np.random.Generator:
    """The generator `np.random.default_rng(list(words))` gives, built ~2 us faster (it is made once or twice per
    sample): words in [0, 2**32) go to the seed sequence as one uint32 array, the entropy numpy makes of such a
    list; larger or negative ones take numpy's own path."""
    for w in words:
        if not 0 <= w < 4294967296:
            return np.random.default_rng(list(words))
    return np.random.default_rng(np.array(words, np.uint32))


def pick(u: float, count: int) -> int:
    """One of 0 .. count - 1 from a uniform `u` in [0, 1)."""
    return min(int(u * count), count - 1)
