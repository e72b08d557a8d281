"""The one pixel path: the registry's stages, in their fixed order, turn a placed ink mask and its record into
pixels; and the per-process state the effects draw on (texture banks, background images, coordinates)."""

from __future__ import annotations

import functools
import operator
from typing import Any

import cv2
import numpy as np

from textsynth.draws import stream
from textsynth.effects.background import Backdrops, Coordinates, PaperBank
from textsynth.effects.classic import NoiseBank
from textsynth.effects.clutter import NeighbourInk
from textsynth.effects.geometry import rotate_mask
from textsynth.effects.registry import DEGRADATION_FIELDS, INK_FIELDS, OFF, stage
from textsynth.effects.sampling import EffectSampler
from textsynth.effects.spec import Canvas, Matrix, compose
from textsynth.sensor import Sensor

try:  # the compiled ink blend (textsynth/_lines.c); absent where the package was built without a C compiler
    from textsynth._lines import blend as _compiled_blend
    from textsynth._lines import levels as _compiled_levels
except ImportError:  # (or by a textsynth before it: a stale build is an old one, not an error)
    _compiled_blend = _compiled_levels = None

ink_key = operator.attrgetter(*INK_FIELDS)  # the record's fields that change the ink mask, as one tuple


def _stage(name: str, classic_only: bool = False) -> tuple:
    """(trigger, effect) pairs of a stage; a trigger is the (field, off value) pairs whose non-off value
    makes the effect apply, empty for an effect applied to every sample."""
    return tuple((() if s.always else tuple((f, OFF[f]) for f in s.trigger), s) for s in stage(name, classic_only))


def _active(stage_effects: tuple, p: Any) -> list:
    """The effects of a stage that apply to the record, in order: those always on and those with a trigger field
    off its "off" value (~40 checks a sample, in one loop)."""
    active = []
    for trigger, spec in stage_effects:
        for name, off in trigger:
            if getattr(p, name) != off:
                active.append(spec)
                break
        else:
            if not trigger:
                active.append(spec)
    return active


_INK_STAGE = _stage("ink")
# float canvas (any degradation) / integer canvas (the classic effects alone: the seed's arithmetic)
_STAGES = {classic: {name: _stage(name, classic) for name in ("paper", "ink_level", "coverage", "canvas",
                                                               "pixels", "orientation", "sensor")}
           for classic in (False, True)}


def degraded(p: Any) -> bool:
    """Whether the sample has a degradation: it is drawn on the float canvas (else the seed's integer one)."""
    if p.effect_seed:  # a drawn record with any degradation has a seed; one built by hand may not
        return True
    for name, off in DEGRADATION_FIELDS:
        if getattr(p, name) != off:
            return True
    return False


def ink_steps(p: Any, angle: float) -> list[tuple[Any, float]]:
    """The ink stage for a record: its active effects in order, each with the degrees it turns the mask (the
    last one turns it when it can in the same resampling, `turns`), then (None, angle) when the turn is a step
    of its own."""
    active = _active(_INK_STAGE, p)
    if angle and active and active[-1].turns:
        return [(spec, 0.0) for spec in active[:-1]] + [(active[-1], angle)]
    return [(spec, 0.0) for spec in active] + [(None, angle)]


def shape_ink(mask: np.ndarray, p: Any, angle: float, steps: list | None = None) -> np.ndarray:
    """The text's ink mask through the ink stage, then turned `angle` degrees (`ink_steps`, unless given)."""
    for spec, turn in ink_steps(p, angle) if steps is None else steps:
        mask = rotate_mask(mask, turn) if spec is None else spec.apply(mask, p, turn)
    return mask


def orientation_matrix(p: Any, height: int) -> Matrix | None:
    """Where the orientation stage (the flips) puts canvas points, pixel edges (None: nowhere else, no flip)."""
    matrix = None
    for spec in _active(_STAGES[False]["orientation"], p):  # a degradation's own flip is on only if p is degraded
        if spec.matrix is not None:
            flip = spec.matrix(p, height)
            matrix = flip if matrix is None else compose(flip, matrix)
    return matrix


def ink_growth(p: Any) -> tuple[float, float, int]:
    """How the ink stage grows a text box of height h and width w: (extra width per pixel of h, height factor,
    padding in pixels). Used to predict the largest font size that still fits."""
    slant, taller, pad = 0.0, 1.0, 0
    for spec in _active(_INK_STAGE, p):
        if spec.growth is not None:
            s, t, d = spec.growth(p)
            slant, taller, pad = slant + s, taller * t, pad + d
    return slant, taller, pad


def _run(stage_effects: tuple, frame: Frame) -> None:
    for spec in _active(stage_effects, frame.p):
        spec.apply(frame)


class Frame:
    """One sample's pixels in the making, as the stages hand them on."""

    def __init__(self, env: Compositor, p: Any, mask: np.ndarray, neighbour_ink: NeighbourInk, dtype: type):
        self.env, self.p, self.neighbour_ink, self.dtype = env, p, neighbour_ink, dtype
        self.height, self.width = env.height, env.width
        h, w = mask.shape
        self.box = (p.x, p.y, w, h)
        self.image: np.ndarray | None = None
        self.ink: np.ndarray | np.float32 | None = None
        self.coverage: np.ndarray | None = None
        self._streams: dict[int, np.random.Generator] = {}

    def rng(self, tag: int) -> np.random.Generator:
        """The random stream `tag` of the sample's effect seed, shared by the effects that name the same tag."""
        rng = self._streams.get(tag)
        if rng is None:
            rng = self._streams[tag] = stream(self.p.effect_seed, tag)
        return rng


class Compositor:
    """Samples and applies the effects of one config and canvas; the paper bank is made on first use."""

    def __init__(self, width: int, height: int, seed: int, augment: Any, effects: Any):
        self.width, self.height, self.seed = width, height, seed
        self.coords = Coordinates(width, height)
        self.sensor = Sensor(width, height, seed)
        backgrounds = effects.backgrounds if effects.enabled else ""
        self.backdrops = Backdrops(backgrounds, width, height) if backgrounds else None
        shapes = self.backdrops.shapes if self.backdrops is not None else []
        canvas = Canvas(height, width, PaperBank.shape_for(width, height), NoiseBank.shape_for(width, height), shapes)
        self.sampler = EffectSampler(augment, effects, canvas)

    def compose(self, p: Any, mask: np.ndarray, neighbour_ink: NeighbourInk, sensor: bool = True) -> np.ndarray:
        """uint8 (height, width): paper, ink with its coverage effects, the canvas effects, the pixel and
        orientation effects, then (`sensor`) the sensor stage's speckle and paper texture. A sample with a
        degradation is drawn in float32 and rounded once before the pixel stage; one with the classic effects
        alone in uint8, as the seed drew it."""
        float_canvas = degraded(p)
        stages = _STAGES[not float_canvas]
        frame = Frame(self, p, mask, neighbour_ink, np.float32 if float_canvas else np.uint8)
        _run(stages["paper"], frame)
        _run(stages["ink_level"], frame)
        x, y, w, h = frame.box
        if not float_canvas:
            frame.image[y:y + h, x:x + w] = _shade(p.background, p.foreground)[mask]
        else:
            self._composite(frame, mask, stages["coverage"])
        _run(stages["canvas"], frame)
        if float_canvas:  # negative levels to 0, then round half to even and saturate at 255
            frame.image = _levels(frame.image)
        _run(stages["pixels"], frame)
        if float_canvas and p.width < self.width:  # a variable-width line: what lies past its width is paper
            frame.image[:, p.width:] = 255 - p.background if p.inverted else p.background
        _run(stages["orientation"], frame)
        if sensor:
            _run(stages["sensor"], frame)
        return frame.image

    def _composite(self, frame: Frame, mask: np.ndarray, coverage_effects: tuple) -> None:
        x, y, w, h = frame.box
        image, ink, p = frame.image, frame.ink, frame.p
        coverage = _active(coverage_effects, p)
        if coverage:  # ink anywhere on the canvas
            frame.coverage = np.zeros((self.height, self.width), np.float32)
            frame.coverage[y:y + h, x:x + w] = mask * _PER_LEVEL
            for spec in coverage:
                spec.apply(frame)
            if not _blend(image, ink, 0, 0, frame.coverage):
                image += (ink - image) * frame.coverage
        elif not _blend(image, ink, x, y, mask):  # ink only in the text's box: the same sums on the box alone
            box = image[y:y + h, x:x + w]
            box_ink = ink[:, x:x + w] if isinstance(ink, np.ndarray) else ink
            box += (box_ink - box) * (mask * _PER_LEVEL)


_PER_LEVEL = np.float32(1 / 255)  # coverage of one of a mask's 255 levels


def _blend(image: np.ndarray, ink: np.ndarray | np.float32, x: int, y: int, weights: np.ndarray) -> bool:
    """`_composite`'s sum in one compiled pass (textsynth/_lines.c: the same float32 operations in the same order,
    so the same bytes) where the module is built and the buffers are plain; False: do it with numpy."""
    if _compiled_blend is None or not (image.flags.c_contiguous and weights.flags.c_contiguous):
        return False
    if isinstance(ink, np.ndarray):
        if ink.dtype != np.float32 or ink.shape != (1, image.shape[1]) or not ink.flags.c_contiguous:
            return False
        row, value = ink, 0.0
    else:
        row, value = _NO_ROW, float(ink)
    kind = 0 if weights.dtype == np.uint8 else 1 if weights.dtype == np.float32 else -1
    if kind < 0 or image.dtype != np.float32:
        return False
    h, w = weights.shape
    _compiled_blend(image, image.shape[1], image.shape[0], x, y, weights, w, h, kind, row, value, float(_PER_LEVEL))
    return True


_NO_ROW = b""


def _levels(image: np.ndarray) -> np.ndarray:
    """The float32 canvas as uint8 gray levels: in one compiled pass (`_lines.levels`) where built, else OpenCV's
    two (the same bytes)."""
    if _compiled_levels is None or image.dtype != np.float32 or not image.flags.c_contiguous:
        return cv2.convertScaleAbs(cv2.threshold(image, 0, 0, cv2.THRESH_TOZERO)[1])
    out = np.empty(image.shape, np.uint8)
    _compiled_levels(image, out)
    return out


@functools.lru_cache(maxsize=4096)
def _shade(background: int, foreground: int) -> np.ndarray:
    """Gray level for each ink coverage 0..255: background - round(coverage * contrast / 255)."""
    ink = (np.arange(256, dtype=np.uint16) * (background - foreground) + 127) // 255
    return (background - ink).astype(np.uint8)
