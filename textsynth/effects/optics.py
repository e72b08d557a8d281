"""Optics and compression of the whole image: defocus, motion blur, resolution loss, JPEG re-encoding."""

from __future__ import annotations

import math

import cv2
import numpy as np

from textsynth.record import SampleParams

cv2.setNumThreads(1)  # render workers are the parallelism; OpenCV's own threads would only oversubscribe


def apply_blurs(image: np.ndarray, p: SampleParams) -> np.ndarray:
    """Defocus and motion blur of a float32 (H, W) image."""
    if p.defocus:
        image = cv2.GaussianBlur(image, (0, 0), float(p.defocus), borderType=cv2.BORDER_REPLICATE)
    if p.motion:
        image = motion_blur(image, p.motion, p.motion_angle)
    return image


def apply_resolution(image: np.ndarray, p: SampleParams) -> np.ndarray:
    """uint8 (H, W) in and out: down-then-up scaling, then a JPEG round trip."""
    if p.downscale != 1.0:
        image = lose_resolution(image, p.downscale)
    if p.jpeg_quality:
        image = jpeg_round_trip(image, p.jpeg_quality)
    return image


def lose_resolution(image: np.ndarray, scale: float) -> np.ndarray:
    """Shrink by `scale` with an anti-aliasing Gaussian (a sensor pixel integrates 1/scale of ours), then scale
    back up bilinearly. OpenCV's area resampling does the same at a fractional scale about twice as slowly."""
    h, w = image.shape
    small = (max(4, round(w * scale)), max(4, round(h * scale)))
    sigma = 0.5 * math.sqrt(max(1 / (scale * scale) - 1, 0.0))  # a box of 1/scale px, less the sampling's own
    if sigma > 0.2:
        image = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(cv2.resize(image, small, interpolation=cv2.INTER_LINEAR), (w, h),
                      interpolation=cv2.INTER_LINEAR)


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """The uint8 image as a JPEG decoder returns it after encoding at `quality`."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def motion_blur(image: np.ndarray, length: float, angle: float) -> np.ndarray:
    """Convolution with a short line (camera shake) at `angle` degrees, edges repeated."""
    steps = max(2, round(length))
    size = 2 * (steps // 2) + 1
    kernel = np.zeros((size, size), np.float32)
    a, c = math.radians(angle), size // 2
    for k in range(steps):
        t = k - (steps - 1) / 2
        kernel[c + round(t * math.sin(a)), c + round(t * math.cos(a))] += 1
    kernel /= kernel.sum()
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)
