"""Clutter around the text: cut-off neighbouring lines, underline or strike-through, specks and scratches.

Everything is added to the ink coverage of the canvas, never more than a reader can read through: a
neighbour only in the rows above or below the text's box, a rule 1-2 px thick, specks a few pixels wide.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from textsynth.draws import pick
from textsynth.effects.spec import EffectSpec, whole, whole_amount

# Draws a fragment's ink: (random stream) -> uint8 mask of some text at the sample's font and size.
NeighbourInk = Callable[[np.random.Generator], np.ndarray]
_CLUTTER = 0x636C7574  # the clutter's random stream (from the effect seed), shared by the three in this order


def _neighbours(frame) -> None:
    p, (_x, y, _w, h) = frame.p, frame.box
    rng = frame.rng(_CLUTTER)
    for above in (True, False):
        if p.neighbours & (1 if above else 2):
            _neighbour(frame.coverage, rng, frame.neighbour_ink(rng), above, y, y + h, frame.width)


def _strike(frame) -> None:
    p, (x, y, w, h), coverage = frame.p, frame.box, frame.coverage
    rng = frame.rng(_CLUTTER)
    thick = 1 + int(rng.random() < 0.4)
    row = y + h - 1 - thick if p.strike == 1 else y + int(h * rng.uniform(0.45, 0.6))
    if 0 <= row and row + thick <= frame.height:
        coverage[row:row + thick, x:x + w] = np.maximum(coverage[row:row + thick, x:x + w], 0.85)


def _add_specks(frame) -> None:
    _specks(frame.coverage, frame.rng(_CLUTTER), frame.p.specks)


def _neighbour(coverage: np.ndarray, rng: np.random.Generator, ink: np.ndarray, above: bool, top: int,
               bottom: int, width: int) -> None:
    """The bottom (above the text) or top (below it) of another line, in the rows the text leaves free."""
    room = top - 1 if above else coverage.shape[0] - bottom - 1
    show = min(room, int(ink.shape[0] * rng.uniform(0.1, 0.3)))
    if show < 2 or ink.size == 0:
        return
    part = ink[-show:] if above else ink[:show]
    x0 = int(rng.integers(-part.shape[1] // 3, max(1, width - part.shape[1] // 2)))
    a, b = max(0, x0), min(width, x0 + part.shape[1])
    if b <= a:
        return
    rows = slice(0, show) if above else slice(coverage.shape[0] - show, coverage.shape[0])
    region = coverage[rows, a:b]
    np.maximum(region, part[:, a - x0:b - x0].astype(np.float32) / 255, out=region)


def _specks(coverage: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Dots and short scratches drawn straight into the coverage (anti-aliased, sub-pixel positions)."""
    height, width = coverage.shape
    scale = 16  # cv2's fixed-point shift of 4 bits
    for _ in range(count):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        level = float(rng.integers(90, 220)) / 255
        if rng.random() < 0.7:
            r = rng.uniform(0.4, 1.6)
            cv2.circle(coverage, (round(x * scale), round(y * scale)), max(1, round(r * scale)), level, -1,
                       cv2.LINE_AA, 4)
        else:
            dx, dy = rng.uniform(-12, 12), rng.uniform(-3, 3)
            cv2.line(coverage, (round(x * scale), round(y * scale)), (round((x + dx) * scale), round((y + dy) * scale)),
                     level / 2, 1, cv2.LINE_AA, 4)


EFFECTS = (
    EffectSpec(
        "neighbours", 12, {"neighbours": whole("uint8")}, lambda e, u, c: {"neighbours": 1 + pick(u[1], 3)},
        "coverage", _neighbours, step=10, p=0.1, doc="cut-off neighbouring lines: bit 1 above, bit 2 below"),
    EffectSpec(
        "strike", 13, {"strike": whole("uint8")}, lambda e, u, c: {"strike": 1 + pick(u[1], 2)},
        "coverage", _strike, step=20, p=0.05, doc="1 underline, 2 strike-through"),
    EffectSpec(
        "specks", 14, {"specks": whole("uint8")}, lambda e, u, c: {"specks": whole_amount(e, u)},
        "coverage", _add_specks, step=30, p=0.1, amount=(1.0, 12.0), bounds=(0.0, 40.0),
        doc="count of specks and scratches"),
)
