"""Optics and compression of the whole image: defocus, motion blur, resolution loss, JPEG re-encoding."""

from __future__ import annotations

import math

import cv2
import numpy as np

from textsynth.effects.spec import EffectSpec, detail_draw, f32, plain_draw, whole, whole_amount

cv2.setNumThreads(1)  # render workers are the parallelism; OpenCV's own threads would only oversubscribe


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


def _defocus(frame) -> None:
    frame.image = cv2.GaussianBlur(frame.image, (0, 0), float(frame.p.defocus), borderType=cv2.BORDER_REPLICATE)


def _motion(frame) -> None:
    frame.image = motion_blur(frame.image, frame.p.motion, frame.p.motion_angle)


def _downscale(frame) -> None:
    frame.image = lose_resolution(frame.image, frame.p.downscale)


def _jpeg(frame) -> None:
    frame.image = jpeg_round_trip(frame.image, frame.p.jpeg_quality)


EFFECTS = (
    EffectSpec(
        "defocus", 19, {"defocus": f32()}, plain_draw("defocus"), "canvas", _defocus, step=50, p=0.35,
        amount=(0.3, 1.4), bounds=(0.0, 3.0), doc="Gaussian sigma of the whole image, pixels"),
    EffectSpec(
        "motion", 20, {"motion": f32(), "motion_angle": f32()}, detail_draw("motion", "motion_angle", -30.0, 30.0),
        "canvas", _motion, step=60, p=0.1, amount=(2.0, 6.0), bounds=(1.0, 12.0), doc="motion-blur length, pixels"),
    EffectSpec(
        "downscale", 21, {"downscale": f32(1.0)}, plain_draw("downscale"), "pixels", _downscale, step=20,
        p=0.25, amount=(0.35, 0.9), bounds=(0.2, 1.0), doc="resolution kept before scaling back up"),
    EffectSpec(
        "jpeg", 22, {"jpeg_quality": whole("uint8")}, lambda e, u, c: {"jpeg_quality": whole_amount(e, u)},
        "pixels", _jpeg, step=30, p=0.2, amount=(25.0, 90.0), bounds=(5.0, 100.0),
        doc="JPEG quality (`jpeg_quality` 0: not re-encoded)"),
)
