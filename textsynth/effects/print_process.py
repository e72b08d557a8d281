"""How the line was printed: dot-matrix dots, a thermal head's streaks and banding, toner or ink mottle.

Each works on the text's ink mask before it is warped and placed (the print is on the paper, so the paper's
later geometry moves it too), takes its random details from the sample's effect seed, and never erases a
label character to nothing: a dot-matrix grid keeps a dot for every isolated mark (a `:` or a `.`), and the
thermal and toner losses keep a floor of the ink everywhere.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from textsynth.draws import between_f32, stream
from textsynth.effects.spec import EffectSpec, amount, f32

_DOTS, _THERMAL, _TONER = 0x646F7473, 0x74686D6C, 0x746F6E72  # each effect's random stream
_DOT_ON = 0.25 * 255  # a grid cell gets a dot when a quarter of it is ink
_TONER_FLOOR = 0.35  # the share of its ink a toner-printed pixel keeps at the least


def dot_matrix(mask: np.ndarray, pitch: float, wear: float, seed: int) -> np.ndarray:
    """Redraw the ink as round dots on a grid `pitch` x the mask height apart (a 9-pin head draws a capital
    in ~7 dots); `wear` in 0..1 makes dots uneven and, at random, drops one pin's row of dots. Every mark of
    the text keeps at least one dot, however small (a `.`) or wherever the dead row falls."""
    h, w = mask.shape
    d = max(2.0, pitch * h)
    rows, cols = max(1, math.ceil(h / d)), max(1, math.ceil(w / d))
    mean = cv2.resize(mask, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32)
    on = mean >= _DOT_ON
    rng = stream(seed, _DOTS)
    level = 255.0 * (1.0 - wear * 0.45 * rng.random((rows, cols)))
    dead = int(rng.integers(1, rows - 1)) if rows > 3 and rng.random() < wear else -1
    if dead >= 0:  # a dead pin: one inner row of dots missing along the line
        on[dead] = False
        mean[dead] = -1.0
    _count, _labels, stats, _centres = cv2.connectedComponentsWithStats((mask >= 128).astype(np.uint8),
                                                                        connectivity=8)
    x, y, bw, bh = (stats[1:, k].astype(np.float64) for k in range(4))
    r0, r1 = (np.minimum(rows - 1, (v / d).astype(np.int64)) for v in (y, y + bh - 1))
    c0, c1 = (np.minimum(cols - 1, (v / d).astype(np.int64)) for v in (x, x + bw - 1))
    lit = np.zeros((rows + 1, cols + 1), np.int64)  # dots on above and left of each cell corner
    lit[1:, 1:] = on.cumsum(0).cumsum(1)
    bare = lit[r1 + 1, c1 + 1] - lit[r0, c1 + 1] - lit[r1 + 1, c0] + lit[r0, c0] == 0
    # In order, as the dots added for earlier marks can fall in a later one's cells.
    for r0_, r1_, c0_, c1_ in zip(r0[bare], r1[bare], c0[bare], c1[bare]):
        if not on[r0_:r1_ + 1, c0_:c1_ + 1].any():  # a mark smaller than a cell: a dot where most of it lies
            window = mean[r0_:r1_ + 1, c0_:c1_ + 1]
            r, c = np.unravel_index(int(np.argmax(window)), window.shape)
            on[r0_ + r, c0_ + c] = True
    ys, xs = np.nonzero(on)
    impulses = np.zeros((h, w), np.float32)
    cy = np.minimum(((ys + 0.5) * d).round().astype(np.int64), h - 1)
    cx = np.minimum(((xs + 0.5) * d).round().astype(np.int64), w - 1)
    impulses[cy, cx] = level[ys, xs]
    size = max(1, round(0.75 * d))  # dots a quarter of the pitch apart: separate, as a print head strikes them
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    dots = cv2.GaussianBlur(cv2.dilate(impulses, disc), (0, 0), 0.3 + 0.05 * d)
    return np.clip(dots, 0, 255).astype(np.uint8)


def thermal(mask: np.ndarray, wear: float, seed: int) -> np.ndarray:
    """A worn thermal head: uneven heater elements (thin streaks along the paper), a few dead ones (white
    lines one pixel wide), banding across the line from the paper feed, and an overall fade."""
    h, w = mask.shape
    rng = stream(seed, _THERMAL)
    element = max(1.0, h / 24)  # ~24 heater dots over a capital
    elements = math.ceil(w / element) + 1
    gains = 1.0 - wear * 0.35 * rng.random(elements) ** 2
    dead = rng.random(elements) < wear * 0.04
    gains[dead] = 0.15
    columns = gains[np.minimum((np.arange(w) / element).astype(np.int64), elements - 1)]
    period, phase = rng.uniform(3.0, 9.0), rng.uniform(0, 2 * math.pi)
    bands = 1.0 - wear * 0.45 * (0.5 + 0.5 * np.sin(2 * math.pi * np.arange(h) / period + phase))
    fade = 1.0 - wear * 0.35 * rng.random()
    gain = (bands[:, None] * columns[None, :] * fade).astype(np.float32)
    return cv2.multiply(mask, gain, dtype=cv2.CV_8U)


def toner(mask: np.ndarray, wear: float, seed: int) -> np.ndarray:
    """Toner or ink on paper: strokes spread a little (bleed) and the ink lies unevenly (mottle, small voids)."""
    h, w = mask.shape
    rng = stream(seed, _TONER)
    spread = cv2.GaussianBlur(mask, (0, 0), 0.3 + 0.7 * wear)
    spread = cv2.addWeighted(spread, 1.4, mask, 0.0, -0.2 * 255)  # re-sharpen the blurred edge into a bleed
    coarse = rng.random((max(2, h // 6), max(2, w // 6))).astype(np.float32)
    mottle = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    voids = rng.random((h, w)).astype(np.float32) < wear * 0.12
    gain = 1.0 - wear * 0.55 * np.clip(mottle, 0, 1)
    gain[voids] *= 0.35
    # The bleed's offset and the voids together could fade a small mark (a `.`, a `:`) to a trace: every inked
    # pixel keeps at least a third of its ink.
    return cv2.max(cv2.multiply(spread, gain, dtype=cv2.CV_8U), cv2.convertScaleAbs(mask, alpha=_TONER_FLOOR))


EFFECTS = (
    EffectSpec(
        "dot_matrix", 23, {"dot_pitch": f32(), "dot_wear": f32()},
        lambda e, u, c: {"dot_pitch": amount(e, u), "dot_wear": between_f32((0.0, 1.0), u[2])}, "ink",
        lambda mask, p, angle: dot_matrix(mask, p.dot_pitch, p.dot_wear, p.effect_seed), step=15, p=0.05,
        amount=(0.09, 0.14), bounds=(0.05, 0.25), doc="dot-matrix print: dot pitch, share of the text height",
        changes_ink=True, growth=lambda p: (0.0, 1.0, 1),
        spread=lambda p, h: 0.9 * max(2.0, p.dot_pitch * h)),  # a dot sits at its grid cell's centre
    EffectSpec(
        "thermal", 24, {"thermal": f32()}, lambda e, u, c: {"thermal": amount(e, u)}, "ink",
        lambda mask, p, angle: thermal(mask, p.thermal, p.effect_seed), step=16, p=0.08, amount=(0.2, 0.8),
        bounds=(0.0, 1.0), doc="thermal print: head wear (streaks, dead elements, banding, fade)", changes_ink=True),
    EffectSpec(
        "toner", 25, {"toner": f32()}, lambda e, u, c: {"toner": amount(e, u)}, "ink",
        lambda mask, p, angle: toner(mask, p.toner, p.effect_seed), step=17, p=0.05, amount=(0.2, 0.8),
        bounds=(0.0, 1.0), doc="toner or inkjet print: bleed and mottle", changes_ink=True,
        growth=lambda p: (0.0, 1.0, 2), spread=lambda p, h: 1.5 * (0.3 + 0.7 * p.toner)),
)
