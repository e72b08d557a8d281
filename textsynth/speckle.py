"""The speckle residual: a sample's regenerable speckle, taken out of its stored pixels and added back on read."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from textsynth.record import SampleParams

# The stored columns the prediction reads (format names: FORMAT.md), and how each sample's prediction rounds.
LEVEL, ROW, COL = "params/noise_level", "params/noise_row", "params/noise_col"
MODE = "speckle_mode"
NO_SPECKLE, FLOOR, ROUND = 0, 1, 2
MODES = (NO_SPECKLE, FLOOR, ROUND)


@dataclass(frozen=True)
class SpeckleSource:
    """The per-process speckle bank of a config, and what of a sample's record selects its window."""

    bank: np.ndarray  # float32 (rows, cols)
    height: int
    width: int
    of: Callable[[SampleParams], tuple[float, int, int, int]]  # (level, row, col, mode)

    @property
    def sha256(self) -> str:
        """Fingerprint of the bank: a reader whose numpy regenerates another bank must refuse, not guess."""
        return hashlib.sha256(np.ascontiguousarray(self.bank).tobytes()).hexdigest()

    def rows_cols(self) -> tuple[int, int]:
        """The largest window offsets (row, col) inside the bank."""
        return self.bank.shape[0] - self.height, self.bank.shape[1] - self.width

    def prediction(self, level: float, row: int, col: int, mode: int) -> np.ndarray:
        """uint8 (height, width): the speckle as gray levels mod 256. Exact on any IEEE-754 machine: one float32
        product per pixel, then floor or round-half-even; the stored residual is (pixels - this) mod 256."""
        n = self.bank[row:row + self.height, col:col + self.width] * np.float32(level)
        (np.floor if mode == FLOOR else np.rint)(n, out=n)
        return n.astype(np.int16).astype(np.uint8)


def painter_speckle(width: int, height: int, seed: int) -> SpeckleSource:
    """The painter's speckle for a canvas and seed: its noise bank and, per sample, the window and the rounding
    its pixels went through (the plain path truncates, the effects path rounds). The one place that knows the
    painter's internals (`effects.classic.NoiseBank`, `effects.compose.degraded`, the record's noise fields)."""
    from textsynth.effects.classic import NoiseBank
    from textsynth.effects.compose import degraded

    noise = NoiseBank(width, height, seed)

    def of(p: SampleParams) -> tuple[float, int, int, int]:
        if p.noise_level <= 0:
            return 0.0, 0, 0, NO_SPECKLE
        return p.noise_level, p.noise_row, p.noise_col, ROUND if degraded(p) else FLOOR

    return SpeckleSource(noise.bank, height, width, of)


def remove_speckle(images: np.ndarray, params: list[SampleParams], source: SpeckleSource) -> np.ndarray:
    """The residuals of a block of painted images (a copy), and each sample's mode (uint8)."""
    out = images.copy()
    modes = np.zeros(len(images), np.uint8)
    for k, p in enumerate(params):
        level, row, col, mode = source.of(p)
        if mode != NO_SPECKLE:
            out[k] -= source.prediction(level, row, col, mode)
            modes[k] = mode
    return out, modes


def add_speckle(residuals: np.ndarray, cols: dict[str, np.ndarray], first: int, source: SpeckleSource) -> None:
    """Turn residuals of samples [first, first + len) of a shard back into pixels, in place (checked columns)."""
    modes, levels, rows, c = cols[MODE], cols[LEVEL], cols[ROW], cols[COL]
    for k in range(len(residuals)):
        mode = int(modes[first + k])
        if mode != NO_SPECKLE:
            residuals[k] += source.prediction(float(levels[first + k]), int(rows[first + k]), int(c[first + k]), mode)
