"""Sign and display lettering: a drop shadow or an extrusion behind the letters, and an outline around them,
in gray levels apart from the ink's (colour pairs as a camera's luminance sees them).

Both are painted on the paper under the ink, from the ink coverage, before the ink is laid: the letters stay
whole and on top, and the label is unchanged.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from textsynth.draws import between_f32, pick
from textsynth.effects.spec import EffectSpec, amount, f32, whole

SOFT, EXTRUDED = 1, 2  # drop_shadow_mode
_APART = 48  # gray levels between the ink and its shadow or outline, at least


def apart_from_ink(level: int, ink: int) -> float:
    """`level` moved, if need be, at least _APART gray levels away from the ink's level (else it would only
    make the letters bolder)."""
    if abs(level - ink) >= _APART:
        return float(level)
    return float(ink + _APART if ink + _APART <= 255 else ink - _APART)


def _paint_under_ink(frame, cover: np.ndarray, level: float) -> None:
    frame.image += (np.float32(level) - frame.image) * cover


def _drop_shadow(frame) -> None:
    p, h = frame.p, frame.box[3]
    length = max(1.0, float(p.drop_shadow) * h)
    a = math.radians(p.drop_shadow_angle)
    dx, dy = length * math.cos(a), length * math.sin(a)
    coverage = frame.coverage
    if p.drop_shadow_mode == EXTRUDED:  # the letters' solid sides: every offset from 1 px to the full length
        cover = np.zeros_like(coverage)
        steps = math.ceil(length)
        for k in range(1, steps + 1):
            shift = np.float32([[1, 0, dx * k / steps], [0, 1, dy * k / steps]])
            np.maximum(cover, cv2.warpAffine(coverage, shift, coverage.shape[::-1], flags=cv2.INTER_LINEAR), out=cover)
    else:  # a soft shadow cast on the surface behind
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        cover = cv2.GaussianBlur(cv2.warpAffine(coverage, shift, coverage.shape[::-1], flags=cv2.INTER_LINEAR),
                                 (0, 0), max(0.5, 0.35 * length)) * np.float32(0.85)
    _paint_under_ink(frame, cover, apart_from_ink(p.drop_shadow_level, p.foreground))


def _outline(frame) -> None:
    p, h = frame.p, frame.box[3]
    r = max(1, round(float(p.outline) * h))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    _paint_under_ink(frame, cv2.dilate(frame.coverage, disc), apart_from_ink(p.outline_level, p.foreground))


EFFECTS = (
    EffectSpec(
        "drop_shadow", 27,
        {"drop_shadow": f32(), "drop_shadow_angle": f32(), "drop_shadow_mode": whole("uint8"),
         "drop_shadow_level": whole("uint8")},
        lambda e, u, c: {"drop_shadow": amount(e, u), "drop_shadow_angle": between_f32((0.0, 360.0), u[2]),
                         "drop_shadow_mode": SOFT + pick(u[3], 2), "drop_shadow_level": pick(u[4], 256)},
        "coverage", _drop_shadow, step=4, p=0.06, amount=(0.04, 0.12), bounds=(0.0, 0.25),
        doc="a shadow (`drop_shadow_mode` 1) or extrusion (2) behind the letters: its length as a share of the "
        "text height, its direction and gray level"),
    EffectSpec(
        "outline", 28, {"outline": f32(), "outline_level": whole("uint8")},
        lambda e, u, c: {"outline": amount(e, u), "outline_level": pick(u[2], 256)}, "coverage", _outline, step=6,
        p=0.05, amount=(0.03, 0.08), bounds=(0.0, 0.15),
        doc="an outline around the letters: its width as a share of the text height, and its gray level"),
)
