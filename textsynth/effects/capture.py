"""Capture at low resolution: the line as a scanner or camera saw it, a few pixels high (sometimes
binarized, as fax, receipt and document scanners store it), then scaled up to the canvas the way a
recognizer's input fitting scales a small real crop."""

from __future__ import annotations

import cv2
import numpy as np

from textsynth.draws import pick
from textsynth.effects.spec import EffectSpec, amount, f32, whole

GRAY, BINARY = 1, 2  # capture_mode


def capture(image: np.ndarray, text_height: float, box_height: int, binary: bool, dark_ink: bool = True) -> np.ndarray:
    """`image` (uint8) as captured with its text box `text_height` px high instead of `box_height`, and scaled
    back up bilinearly. `binary`: thresholded to two gray levels at the small size first, as a document
    scanner does it: against the local background (so light falloff does not flood the line), by a fifth of
    the line's contrast (so faint text keeps its strokes); `dark_ink`: the ink is darker than the paper."""
    h, w = image.shape
    scale = min(1.0, text_height / max(box_height, 1))
    small_size = (max(2, round(w * scale)), max(2, round(h * scale)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA) if scale < 1.0 else image
    if binary:
        smooth = cv2.GaussianBlur(small, (0, 0), 0.6).astype(np.float32)
        reach = 2 * max(2, round(0.8 * text_height)) + 1  # a box about two text heights wide
        background = cv2.blur(smooth, (reach, reach), borderType=cv2.BORDER_REPLICATE)
        low, high = cv2.minMaxLoc(smooth)[:2]  # of the smoothed line: speckle does not set the contrast
        step = np.float32(0.2 * max(high - low, 4.0))
        ink = (smooth < background - step if dark_ink else smooth > background + step).view(np.uint8)
        inked = cv2.countNonZero(ink)
        if 0 < inked < ink.size:  # two levels: the mean of each side of the threshold
            # exact integer sums (boolean indexing for numpy's mean is ~20x slower), divided as numpy's mean does
            ink_sum = int(cv2.sumElems(cv2.bitwise_and(small, small, mask=ink))[0])
            paper_sum = int(cv2.sumElems(small)[0]) - ink_sum
            levels = np.empty(256, np.uint8)
            levels[0] = round(paper_sum / (ink.size - inked))
            levels[1] = round(ink_sum / inked)
            small = cv2.LUT(ink, levels)
    if small.shape != image.shape:
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return small


def _capture(frame) -> None:
    p = frame.p
    frame.image = capture(frame.image, p.capture, frame.box[3], p.capture_mode == BINARY, not p.inverted)


EFFECTS = (
    EffectSpec(
        "capture", 26, {"capture": f32(), "capture_mode": whole("uint8")},
        lambda e, u, c: {"capture": amount(e, u), "capture_mode": GRAY + pick(u[2], 2)}, "pixels", _capture,
        step=25, p=0.2, amount=(12.0, 30.0), bounds=(8.0, 64.0),
        doc="low-resolution capture: the text's height in pixels when captured (`capture_mode` 1 gray, "
        "2 binarized), scaled back up"),
)
