"""Augmentations: sampling their parameters (replayable) apart from applying them to pixels."""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageFilter

from textsynth.config import AugmentConfig
from textsynth.record import AugmentParams


def as_f32(value: float) -> float:
    """Round to a float32 value, so a record stored as float32 replays exactly."""
    return float(np.float32(value))


def uniform_f32(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """A float32-exact draw in [low, high]; no draw at all when the range is a single value."""
    low, high = bounds
    return as_f32(rng.uniform(low, high)) if high > low else as_f32(low)


def sample_augment(rng: np.random.Generator, cfg: AugmentConfig, bank: NoiseBank) -> AugmentParams:
    """Draw every augmentation parameter of one sample, in a fixed order."""
    angle = as_f32(rng.uniform(-cfg.max_angle, cfg.max_angle)) if cfg.max_angle > 0 else 0.0
    blur = as_f32(rng.uniform(0.0, cfg.blur)) if cfg.blur > 0 else 0.0
    mirror = bool(rng.random() < cfg.mirror) if cfg.mirror > 0 else False
    upside_down = bool(rng.random() < cfg.upside_down) if cfg.upside_down > 0 else False
    background = int(rng.integers(cfg.background[0], cfg.background[1] + 1))
    foreground = int(rng.integers(cfg.foreground[0], cfg.foreground[1] + 1))
    noise_level = as_f32(rng.uniform(0.0, cfg.noise)) if cfg.noise > 0 else 0.0
    noise_row, noise_col = bank.sample_offset(rng) if noise_level > 0 else (0, 0)
    return AugmentParams(angle=angle, blur=blur, mirror=mirror, upside_down=upside_down, background=background,
                         foreground=foreground, noise_level=noise_level, noise_row=noise_row, noise_col=noise_col)


def blur_padding(sigma: float) -> int:
    return math.ceil(3 * sigma) if sigma > 0 else 0


def blur_mask(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blur an ink mask, padded first so the blurred ink is not cut."""
    if sigma <= 0:
        return mask
    pad = blur_padding(sigma)
    padded = np.pad(mask, pad)
    return np.asarray(Image.fromarray(padded).filter(ImageFilter.GaussianBlur(sigma)))


def rotate_mask(mask: np.ndarray, angle: float) -> np.ndarray:
    """Rotate an ink mask counter-clockwise about its centre, growing it so no ink is lost (bilinear)."""
    if angle == 0.0:
        return mask
    h, w = mask.shape
    a = math.radians(angle)
    cos, sin = abs(math.cos(a)), abs(math.sin(a))
    out_w, out_h = math.ceil(w * cos + h * sin) + 2, math.ceil(w * sin + h * cos) + 2  # +2: bilinear edges
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    matrix[0, 2] += (out_w - w) / 2
    matrix[1, 2] += (out_h - h) / 2
    return cv2.warpAffine(mask, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0)


def apply_flips(image: np.ndarray, mirror: bool, upside_down: bool) -> np.ndarray:
    if mirror:
        image = image[:, ::-1]
    if upside_down:
        image = image[::-1, ::-1]
    return np.ascontiguousarray(image) if (mirror or upside_down) else image


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
    at a fraction of the cost of drawing fresh noise for every image.
    """

    def __init__(self, width: int, height: int, seed: int, rows: int = 1024, extra_cols: int = 256):
        self.height, self.width = height, width
        rows = max(rows, 4 * height)
        rng = np.random.default_rng([seed, 0x6E6F697365])  # its own stream, apart from every sample's
        raw = rng.standard_normal((rows, width + extra_cols), dtype=np.float32)
        kernel = _gaussian_kernel(1.0)
        self.bank = _blur_axis(_blur_axis(raw, kernel, 0), kernel, 1) * np.float32(255.0)

    def sample_offset(self, rng: np.random.Generator) -> tuple[int, int]:
        rows, cols = self.bank.shape
        return int(rng.integers(0, rows - self.height + 1)), int(rng.integers(0, cols - self.width + 1))

    def window(self, row: int, col: int) -> np.ndarray:
        return self.bank[row:row + self.height, col:col + self.width]

    def apply(self, image: np.ndarray, level: float, row: int, col: int) -> np.ndarray:
        if level <= 0:
            return image
        out = self.window(row, col) * np.float32(level)
        out += image
        np.clip(out, 0, 255, out=out)
        return out.astype(np.uint8)
