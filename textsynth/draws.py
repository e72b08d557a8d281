"""Turning uniforms in [0, 1) into record values that a shard stores and replays exactly."""

from __future__ import annotations

import numpy as np
from numpy.random.bit_generator import ISeedSequence

try:  # the compiled seeding (textsynth/_lines.c); absent where the package was built without a C compiler
    from textsynth._lines import seed_state as _seed_state
except ImportError:  # (or by a textsynth before it)
    _seed_state = None


def as_f32(value: float) -> float:
    """Round to a float32 value, so a record stored as float32 replays exactly."""
    return float(np.float32(value))


def between_f32(bounds: tuple[float, float], u: float) -> float:
    """A float32-exact value in [low, high] from a uniform `u` in [0, 1) (a record stored as float32 replays
    exactly)."""
    low, high = bounds
    return as_f32(low + (high - low) * u)


class _Seeded(ISeedSequence):
    """A seed sequence that hands PCG64 a state computed beforehand (`_lines.seed_state`)."""

    __slots__ = ("state",)

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words: int, dtype: type = np.uint64) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:  # PCG64 asks for exactly this
            raise ValueError("a precomputed seed has 4 uint64 words")
        return self.state


def stream(*words: int) -> np.random.Generator:
    """The generator `np.random.default_rng(list(words))` gives (the same numbers), made in ~1 us instead of ~7
    (one or two a sample): the compiled `seed_state` computes numpy's SeedSequence for words in [0, 2**32);
    other words, or a build without the compiled module, take numpy's own path."""
    if _seed_state is not None and 0 < len(words) <= 64:
        for w in words:
            if not 0 <= w < 4294967296:
                break
        else:
            return np.random.Generator(np.random.PCG64(_Seeded(np.frombuffer(_seed_state(words), np.uint64))))
    return np.random.default_rng(list(words))


def pick(u: float, count: int) -> int:
    """One of 0 .. count - 1 from a uniform `u` in [0, 1)."""
    return min(int(u * count), count - 1)
