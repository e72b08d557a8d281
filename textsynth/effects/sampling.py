"""Drawing one sample's effect record from its random stream: fixed blocks of uniforms, read in a fixed order."""

from __future__ import annotations

from typing import Any

import numpy as np

from textsynth.draws import as_f32, pick
from textsynth.effects.registry import CLASSIC, DEGRADATIONS
from textsynth.effects.spec import Canvas

UNIFORMS_PER_EFFECT = 5  # [on/off, amount, three for the effect's details]
# The augment block: the line's rotation (typesetting) first, then each classic effect's places.
AUGMENT_UNIFORMS = 1 + sum(s.uniforms for s in CLASSIC)


class EffectSampler:
    """Draws records for one config and canvas; which effects can happen is worked out once, not per sample.

    Two blocks, each one call into the generator. The augment block (drawn first, before the typesetting's):
    the rotation, then every classic effect's `uniforms` places, always drawn. The effects block (after the
    typesetting's): `UNIFORMS_PER_EFFECT` uniforms per degradation of non-zero probability (in draw order;
    `backdrop` only with images), plus one for the effect seed. What one effect gets never shifts another's
    numbers. This layout is part of the format: the same seed gives the same records.
    """

    def __init__(self, augment: Any, effects: Any, canvas: Canvas):
        self.canvas = canvas
        self.augment = augment
        self.max_angle = augment.max_angle
        self.classic, k = [], 1
        for spec in CLASSIC:
            self.classic.append((spec.draw, k, k + spec.uniforms))
            k += spec.uniforms
        self.effects = [(getattr(effects, s.name).p, getattr(effects, s.name), s.draw) for s in DEGRADATIONS
                        if effects.enabled and getattr(effects, s.name).p > 0
                        and (canvas.backdrops or s.name != "backdrop")]
        self.count = len(self.effects) * UNIFORMS_PER_EFFECT + 1

    def draw_augment(self, rng: np.random.Generator) -> tuple[float, dict[str, Any]]:
        """The line's rotation in degrees and every classic effect's fields."""
        u = rng.random(AUGMENT_UNIFORMS).tolist()
        angle = as_f32(self.max_angle * (2 * u[0] - 1)) if self.max_angle > 0 else 0.0
        values: dict[str, Any] = {}
        for draw, start, stop in self.classic:
            values.update(draw(self.augment, u[start:stop], self.canvas))
        return angle, values

    def draw_effects(self, rng: np.random.Generator) -> dict[str, Any]:
        """The fields of the degradations this sample gets (and its effect seed); empty when none."""
        if not self.effects:
            return {}
        uniforms = rng.random(self.count).tolist()
        fx: dict = {}
        k = 0
        for p, e, draw in self.effects:
            if uniforms[k] < p:
                fx.update(draw(e, uniforms[k:k + UNIFORMS_PER_EFFECT], self.canvas))
            k += UNIFORMS_PER_EFFECT
        if fx:
            fx["effect_seed"] = 1 + pick(uniforms[-1], 2**32 - 1)
        return fx
