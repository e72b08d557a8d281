"""The fixed order in which a sample's effects turn placed ink into pixels, and their per-process state."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from textsynth.augment import NoiseBank
from textsynth.config import EFFECT_BOUNDS, EffectsConfig
from textsynth.effects.background import Backdrops, Coordinates, PaperBank, paper
from textsynth.effects.clutter import NeighbourInk, add_clutter
from textsynth.effects.light import apply_light, fading, ink_levels, tone_table
from textsynth.effects.optics import apply_blurs, apply_resolution
from textsynth.effects.sampling import EffectSampler
from textsynth.record import EffectParams, SampleParams

_NEUTRAL = tuple((f.name, f.default) for f in dataclasses.fields(EffectParams))
# The record field whose non-neutral value says a sample got the effect of that config name.
EFFECT_FIELDS = {name: {"jpeg": "jpeg_quality"}.get(name, name) for name in EFFECT_BOUNDS}


def has_effects(p: SampleParams) -> bool:
    # A drawn record with any effect has a seed; a record built by hand may set effects without one.
    return p.effect_seed != 0 or any(getattr(p, name) != default for name, default in _NEUTRAL)


def active_effects(p: EffectParams) -> list[str]:
    """The config names of the effects this record applies."""
    return [name for name, f in EFFECT_FIELDS.items() if getattr(p, f) != NEUTRAL_EFFECTS[f]]


NEUTRAL_EFFECTS = dict(_NEUTRAL)  # record field -> its "off" value


class Degrader:
    """Samples and applies the effects of one config and canvas size; the paper bank is made on first use."""

    def __init__(self, width: int, height: int, seed: int, effects: EffectsConfig):
        self.width, self.height, self.seed = width, height, seed
        self.coords = Coordinates(width, height)
        self._paper: PaperBank | None = None
        backgrounds = effects.backgrounds if effects.enabled else ""
        self.backdrops = Backdrops(backgrounds, width, height) if backgrounds else None
        shapes = self.backdrops.shapes if self.backdrops is not None else []
        self.sampler = EffectSampler(effects, PaperBank.shape_for(width, height), (height, width), shapes)

    @property
    def paper_bank(self) -> PaperBank:
        if self._paper is None:
            self._paper = PaperBank(self.width, self.height, self.seed)
        return self._paper

    def sample(self, rng: np.random.Generator) -> EffectParams:
        return self.sampler.draw(rng)

    def compose(self, p: SampleParams, mask: np.ndarray, noise: NoiseBank, neighbour_ink: NeighbourInk) -> np.ndarray:
        """uint8 (height, width): paper, ink with its clutter, light, speckle noise, blur, tone, resolution."""
        height, width = self.height, self.width
        h, w = mask.shape
        image = paper(p, self.paper_bank, self.backdrops, self.coords, height, width)
        ink = ink_levels(p, width)
        if p.neighbours or p.strike or p.specks or p.faded:  # ink anywhere on the canvas
            coverage = np.zeros((height, width), np.float32)
            coverage[p.y:p.y + h, p.x:p.x + w] = mask * np.float32(1 / 255)
            if p.neighbours or p.strike or p.specks:
                add_clutter(coverage, p, (p.x, p.y, w, h), neighbour_ink)
            if p.faded:
                coverage *= fading(p, width)
            image += (ink - image) * coverage
        else:  # ink only in the text's box: the same sums on the box alone
            box = image[p.y:p.y + h, p.x:p.x + w]
            box_ink = ink[:, p.x:p.x + w] if isinstance(ink, np.ndarray) else ink
            box += (box_ink - box) * (mask * np.float32(1 / 255))
        if p.inverted:
            image = np.float32(255) - image
        apply_light(image, p, self.coords)
        if p.noise_level > 0:  # one OpenCV pass over the strided window (numpy would make a temporary)
            image = cv2.scaleAdd(noise.window(p.noise_row, p.noise_col), float(p.noise_level), image)
        image = apply_blurs(image, p)
        # Negative levels to 0, then round half to even and saturate at 255 into uint8, in two passes.
        out = cv2.convertScaleAbs(cv2.threshold(image, 0, 0, cv2.THRESH_TOZERO)[1])
        table = tone_table(p)
        if table is not None:
            out = cv2.LUT(out, table)
        return apply_resolution(out, p)
