"""Scan and phone-photo degradations for the other-renderer set, written apart from textsynth's augmentations."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

SEVERITIES = ("light", "medium", "heavy")
# Per severity, (low, high) ranges drawn uniformly. Chosen to look like office scans (light), phone photos of
# a page (medium) and poor faxes or compressed thumbnails (heavy); JPEG quality always within 25..90.
_RANGES = {
    "light": {"paper": (205, 250), "ink": (5, 60), "angle": (-1.0, 1.0), "blur": (0.0, 0.5), "scale": (0.75, 1.0),
              "jpeg": (70, 90), "light": (0.0, 0.15), "texture": (0.0, 5.0), "grain": (0.0, 4.0)},
    "medium": {"paper": (170, 240), "ink": (20, 90), "angle": (-2.0, 2.0), "blur": (0.3, 1.0), "scale": (0.5, 0.8),
               "jpeg": (40, 75), "light": (0.1, 0.3), "texture": (3.0, 10.0), "grain": (2.0, 8.0)},
    "heavy": {"paper": (140, 225), "ink": (30, 110), "angle": (-3.0, 3.0), "blur": (0.6, 1.4), "scale": (0.35, 0.55),
              "jpeg": (25, 45), "light": (0.2, 0.4), "texture": (6.0, 16.0), "grain": (4.0, 12.0)},
}
MIN_CONTRAST = 50  # gray levels between ink and paper, before lighting: below that even people struggle


@dataclass(frozen=True)
class Degradation:
    """The drawn parameters of one line's degradation."""

    severity: str
    paper: int
    ink: int
    angle: float  # degrees
    blur: float  # Gaussian radius, pixels at render resolution
    scale: float  # down-scaling factor before scaling back up
    jpeg: int  # JPEG quality
    light: float  # depth of the uneven lighting (0: even)
    texture: float  # amplitude of the paper's low-frequency mottling, gray levels
    grain: float  # amplitude of the paper's fine grain, gray levels

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Degradation:
        severity = SEVERITIES[int(rng.integers(len(SEVERITIES)))]
        r = {k: rng.uniform(*v) for k, v in _RANGES[severity].items()}
        paper = int(r["paper"])
        ink = min(int(r["ink"]), paper - MIN_CONTRAST)
        return cls(severity, paper, ink, r["angle"], r["blur"], r["scale"], int(r["jpeg"]), r["light"],
                   r["texture"], r["grain"])


def _paper(rng: np.random.Generator, h: int, w: int, d: Degradation) -> np.ndarray:
    """Paper gray with low-frequency mottling (a coarse random grid scaled up smoothly) and fine grain."""
    coarse = rng.normal(size=(max(2, h // 24), max(2, w // 24))).astype(np.float32)
    mottle = np.asarray(Image.fromarray(coarse, mode="F").resize((w, h), Image.Resampling.BICUBIC))
    return d.paper + d.texture * mottle + d.grain * rng.normal(size=(h, w)).astype(np.float32)


def _lighting(rng: np.random.Generator, h: int, w: int, depth: float) -> np.ndarray:
    """A multiplicative field in [1 - depth, 1]: a linear fall-off in a random direction plus a soft spot."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (x - w / 2) * np.cos(theta) + (y - h / 2) * np.sin(theta)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    cy, cx, radius = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.5, 1.5) * max(h, w)
    spot = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))
    field = 0.6 * ramp + 0.4 * (1 - spot)
    return 1 - depth * field / max(float(field.max()), 1e-6)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))


def degrade(clean: np.ndarray, d: Degradation, rng: np.random.Generator) -> np.ndarray:
    """A clean render (dark text on white, uint8) -> a degraded, loosely cropped line image (uint8, any size)."""
    h0 = clean.shape[0]
    pad = h0  # room for the rotation and for crops wider than the text
    coverage = np.pad(1.0 - clean.astype(np.float32) / 255.0, pad)
    coverage_img = Image.fromarray(coverage, mode="F").rotate(d.angle, Image.Resampling.BICUBIC)
    coverage = np.clip(np.asarray(coverage_img), 0.0, 1.0)
    h, w = coverage.shape

    page = _paper(rng, h, w, d) * (1 - coverage) + d.ink * coverage
    page *= _lighting(rng, h, w, d.light)
    img = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    if d.blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(d.blur))
    small = (max(8, round(w * d.scale)), max(8, round(h * d.scale)))
    img = img.resize(small, Image.Resampling.BOX).resize((w, h), Image.Resampling.BILINEAR)
    page = _jpeg(np.asarray(img), d.jpeg)

    # Loose crop around the ink, as a text detector's box: uneven margins, never cutting the text.
    rows, cols = np.nonzero(coverage > 0.3)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    text_h = bottom - top
    m = rng.uniform([0.05, 0.05, 0.05, 0.05], [0.5, 0.5, 1.0, 1.0]) * text_h
    top, bottom = max(0, int(top - m[0])), min(h, int(bottom + m[1]))
    left, right = max(0, int(left - m[2])), min(w, int(right + m[3]))
    return page[top:bottom, left:right]
