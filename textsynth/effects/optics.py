"""Optics and compression of the whole image: defocus, motion blur, resolution loss, JPEG re-encoding."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from textsynth.record import SampleParams


def apply_blurs(image: np.ndarray, p: SampleParams) -> np.ndarray:
    """Defocus and motion blur of a float32 (H, W) image (a few shifted multiply-adds each)."""
    if p.defocus:
        image = gaussian_blur(image, p.defocus)
    if p.motion:
        image = motion_blur(image, p.motion, p.motion_angle)
    return image


def apply_resolution(image: np.ndarray, p: SampleParams) -> np.ndarray:
    """uint8 (H, W) in and out: down-then-up scaling, then a JPEG round trip."""
    if not (p.downscale != 1.0 or p.jpeg_quality):
        return image
    img = Image.fromarray(image)
    if p.downscale != 1.0:
        size = img.size
        small = (max(4, round(size[0] * p.downscale)), max(4, round(size[1] * p.downscale)))
        img = img.resize(small, Image.Resampling.BOX).resize(size, Image.Resampling.BILINEAR)
    if p.jpeg_quality:
        img = jpeg_round_trip(img, p.jpeg_quality)
    return np.asarray(img)


def jpeg_round_trip(img: Image.Image, quality: int) -> Image.Image:
    """The image as a JPEG decoder returns it after encoding at `quality`."""
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def _kernel(sigma: float) -> np.ndarray:
    radius = max(1, math.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a float32 image, edges repeated (cheaper than Pillow's on a full line)."""
    kernel = _kernel(sigma)
    r = len(kernel) // 2
    h, w = image.shape
    src = np.pad(image, r, mode="edge")
    rows = np.zeros((h + 2 * r, w), np.float32)
    for k, weight in enumerate(kernel):
        rows += weight * src[:, k:k + w]
    out = np.zeros((h, w), np.float32)
    for k, weight in enumerate(kernel):
        out += weight * rows[k:k + h]
    return out


def motion_blur(image: np.ndarray, length: float, angle: float) -> np.ndarray:
    """Average of float32 copies shifted along a short line (camera shake), edges repeated."""
    steps = max(2, round(length))
    a = math.radians(angle)
    pad = steps
    src = np.pad(image, pad, mode="edge")
    h, w = image.shape
    acc = np.zeros((h, w), np.float32)
    for k in range(steps):
        t = k - (steps - 1) / 2
        dx, dy = round(t * math.cos(a)), round(t * math.sin(a))
        acc += src[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
    return acc * np.float32(1 / steps)
