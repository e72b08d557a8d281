"""The classic effects (the seed's): ink blur, left-right and upside-down flips, paper and ink gray levels,
speckle noise from a bank made once per process. Each reads its `[augment]` setting and owns fixed places of
the augment block of uniforms (the line's rotation, typesetting, has the block's first place)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from textsynth.draws import as_f32, pick
from textsynth.effects.spec import Canvas, EffectSpec, f32, flag, padded_matrix, whole
from textsynth.sensor import NOISE_STEPS


def blur_padding(sigma: float) -> int:
    return math.ceil(3 * sigma) if sigma > 0 else 0


def blur_mask(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blur an ink mask, padded first so the blurred ink is not cut."""
    if sigma <= 0:
        return mask
    pad = blur_padding(sigma)
    padded = np.pad(mask, pad)
    return np.asarray(Image.fromarray(padded).filter(ImageFilter.GaussianBlur(sigma)))


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = math.ceil(4 * sigma)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def _blur_axis(a: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    radius = len(kernel) // 2
    padded = np.pad(a, [(radius, radius) if ax == axis else (0, 0) for ax in range(a.ndim)], mode="wrap")
    out = np.zeros_like(a)
    n = a.shape[axis]
    for k, w in enumerate(kernel):
        out += w * np.take(padded, np.arange(k, k + n), axis=axis)
    return out


class NoiseBank:
    """A block of blurred Gaussian noise made once; each sample adds a window of it at a random offset.

    This is the seed's speckle (Gaussian noise blurred with sigma 1, scaled by a severity, added, clipped)
    at a fraction of the cost of drawing fresh noise for every image. 256 rows: under 1 MB for a 512x64
    canvas, so the window read per sample comes from the CPU's cache.
    """

    @staticmethod
    def shape_for(width: int, height: int, rows: int = 256, extra_cols: int = 256) -> tuple[int, int]:
        """The bank's shape for a canvas (known without making the bank, for sampling offsets)."""
        return max(rows, 4 * height), width + extra_cols

    def __init__(self, width: int, height: int, seed: int):
        self.height, self.width = height, width
        rows, cols = self.shape_for(width, height)
        rng = np.random.default_rng([seed, 0x6E6F697365])  # its own stream, apart from every sample's
        raw = rng.standard_normal((rows, cols), dtype=np.float32)
        kernel = _gaussian_kernel(1.0)
        self.bank = _blur_axis(_blur_axis(raw, kernel, 0), kernel, 1) * np.float32(255.0)

    def window(self, row: int, col: int) -> np.ndarray:
        return self.bank[row:row + self.height, col:col + self.width]


def _background(frame) -> None:
    if frame.image is None:
        frame.image = np.empty((frame.height, frame.width), frame.dtype)
        frame.image.fill(frame.p.background)  # np.full's Python wrapper costs more than the fill itself


def _foreground(frame) -> None:
    frame.ink = np.float32(frame.p.foreground)


def _noise(frame) -> None:  # the sensor stage: whole gray levels from the bank, added last (a reader replays it)
    p = frame.p
    frame.env.sensor.noise.add(frame.image, p.noise_level, p.noise_row, p.noise_col, p.width)


def _mirror(frame) -> None:
    region = frame.image[:, :frame.p.width]
    region[...] = region[:, ::-1]


def _upside_down(frame) -> None:
    region = frame.image[:, :frame.p.width]
    region[...] = region[::-1, ::-1]


def _mirror_matrix(p, height: int) -> tuple:
    return (-1.0, 0.0, float(p.width), 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _upside_down_matrix(p, height: int) -> tuple:
    return (-1.0, 0.0, float(p.width), 0.0, -1.0, float(height), 0.0, 0.0, 1.0)


def _levels(name: str):
    def draw(a, u: list[float], c: Canvas) -> dict:
        low, high = getattr(a, name)
        return {name: low + pick(u[0], high - low + 1)}
    return draw


def _draw_noise(a, u: list[float], c: Canvas) -> dict:
    # a few discrete severities (`sensor.NOISE_STEPS`), so each one's integer term is made once per process
    level = as_f32(a.noise * (1 + pick(u[0], NOISE_STEPS)) / NOISE_STEPS) if a.noise > 0 else 0.0
    if level <= 0:
        return {"noise_level": level, "noise_row": 0, "noise_col": 0}
    rows, cols = c.noise_shape
    return {"noise_level": level, "noise_row": pick(u[1], rows - c.height + 1),
            "noise_col": pick(u[2], cols - c.width + 1)}


def _chance(name: str):
    return lambda a, u, c: {name: u[0] < getattr(a, name)}


# Format 1's own columns (`later=False`): every shard has them. "Off" is black ink on white paper, unblurred,
# unflipped, noiseless.
EFFECTS = (
    EffectSpec(
        "blur", 1, {"blur": f32(later=False)},
        lambda a, u, c: {"blur": as_f32(a.blur * u[0]) if a.blur > 0 else 0.0}, "ink",
        lambda mask, p, angle: blur_mask(mask, p.blur), step=50, classic=True, doc="Gaussian sigma of the ink",
        changes_ink=True, growth=lambda p: (0.0, 1.0, blur_padding(p.blur)),
        matrix=padded_matrix(lambda p: blur_padding(p.blur)), spread=lambda p, h: 1.5 * p.blur),
    EffectSpec("mirror", 2, {"mirror": flag(later=False)}, _chance("mirror"), "orientation", _mirror, step=10,
               classic=True, doc="a left-right flip", matrix=_mirror_matrix),
    EffectSpec("upside_down", 3, {"upside_down": flag(later=False)}, _chance("upside_down"), "orientation",
               _upside_down, step=20, classic=True, doc="a 180-degree turn", matrix=_upside_down_matrix),
    EffectSpec("background", 4, {"background": whole("uint8", 255, later=False)}, _levels("background"), "paper",
               _background, step=20, classic=True, always=True, doc="the paper's gray level"),
    EffectSpec("foreground", 5, {"foreground": whole("uint8", 0, later=False)}, _levels("foreground"),
               "ink_level", _foreground, step=10, classic=True, always=True, doc="the ink's gray level"),
    EffectSpec(
        "noise", 6, {"noise_level": f32(later=False), "noise_row": whole("int32", later=False),
                     "noise_col": whole("int32", later=False)},
        _draw_noise, "sensor", _noise, step=10, classic=True, uniforms=3,
        doc="speckle severity and the window of the noise bank"),
)
