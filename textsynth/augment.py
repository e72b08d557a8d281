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


def between_f32(bounds: tuple[float, float], u: float) -> float:
    """A float32-exact value in [low, high] from a uniform `u` in [0, 1) (a record stored as float32 replays
    exactly)."""
    low, high = bounds
    return as_f32(low + (high - low) * u)


def pick(u: float, count: int) -> int:
    """One of 0 .. count - 1 from a uniform `u` in [0, 1)."""
    return min(int(u * count), count - 1)


def sample_augment(rng: np.random.Generator, cfg: AugmentConfig, bank: NoiseBank) -> AugmentParams:
    """Draw every augmentation parameter of one sample from one block of 9 uniforms, each read in a fixed
    place (one call into the generator instead of one per parameter)."""
    u = rng.random(9).tolist()
    noise_level = as_f32(cfg.noise * u[6]) if cfg.noise > 0 else 0.0
    noise_row, noise_col = bank.offset(u[7], u[8]) if noise_level > 0 else (0, 0)
    return AugmentParams(
        angle=as_f32(cfg.max_angle * (2 * u[0] - 1)) if cfg.max_angle > 0 else 0.0,
        blur=as_f32(cfg.blur * u[1]) if cfg.blur > 0 else 0.0,
        mirror=u[2] < cfg.mirror, upside_down=u[3] < cfg.upside_down,
        background=cfg.background[0] + pick(u[4], cfg.background[1] - cfg.background[0] + 1),
        foreground=cfg.foreground[0] + pick(u[5], cfg.foreground[1] - cfg.foreground[0] + 1),
        noise_level=noise_level, noise_row=noise_row, noise_col=noise_col)


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
    at a fraction of the cost of drawing fresh noise for every image. 256 rows: under 1 MB for a 512x64
    canvas, so the window read per sample comes from the CPU's cache.
    """

    def __init__(self, width: int, height: int, seed: int, rows: int = 256, extra_cols: int = 256):
        self.height, self.width = height, width
        rows = max(rows, 4 * height)
        rng = np.random.default_rng([seed, 0x6E6F697365])  # its own stream, apart from every sample's
        raw = rng.standard_normal((rows, width + extra_cols), dtype=np.float32)
        kernel = _gaussian_kernel(1.0)
        self.bank = _blur_axis(_blur_axis(raw, kernel, 0), kernel, 1) * np.float32(255.0)

    def offset(self, u_row: float, u_col: float) -> tuple[int, int]:
        """A window's (row, col) from two uniforms in [0, 1)."""
        return pick(u_row, self.bank.shape[0] - self.height + 1), pick(u_col, self.bank.shape[1] - self.width + 1)

    def window(self, row: int, col: int) -> np.ndarray:
        return self.bank[row:row + self.height, col:col + self.width]

    def apply(self, image: np.ndarray, level: float, row: int, col: int) -> np.ndarray:
        if level <= 0:
            return image
        out = self.window(row, col) * np.float32(level)
        out += image
        np.clip(out, 0, 255, out=out)
        return out.astype(np.uint8)
