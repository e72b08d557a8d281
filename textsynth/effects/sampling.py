"""Drawing one sample's effect parameters from its random stream: one block of uniforms, read in a fixed order."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from textsynth.augment import as_f32, between_f32, pick
from textsynth.config import EFFECT_BOUNDS, Effect, EffectsConfig
from textsynth.record import EffectParams

NO_EFFECTS = EffectParams()
UNIFORMS_PER_EFFECT = 5  # [on/off, amount, three for the effect's details]


@dataclass(frozen=True)
class Canvas:
    """What an effect's details are drawn against: the canvas, the paper bank, the background images."""

    height: int
    width: int
    paper_shape: tuple[int, int]
    backdrops: list[tuple[int, int]]


def _amount(e: Effect, u: float) -> float:
    return between_f32(e.amount, u)


def _whole(e: Effect, u: float) -> int:
    return int(round(_amount(e, u)))


def _backdrop(e: Effect, u: list[float], c: Canvas) -> dict:
    k = pick(u[2], len(c.backdrops))
    rows, cols = c.backdrops[k]
    return {"backdrop": k + 1, "backdrop_amount": _amount(e, u[1]),
            "backdrop_row": pick(u[3], rows - c.height + 1), "backdrop_col": pick(u[4], cols - c.width + 1)}


def _plain(name: str) -> Callable[[Effect, list[float], Canvas], dict]:
    return lambda e, u, c: {name: _amount(e, u[1])}


def _with_detail(name: str, detail: str, low: float, high: float) -> Callable[[Effect, list[float], Canvas], dict]:
    return lambda e, u, c: {name: _amount(e, u[1]), detail: between_f32((low, high), u[2])}


# How each effect turns its row of uniforms into record fields (u[0] decided that it is on).
_DRAW: dict[str, Callable[[Effect, list[float], Canvas], dict]] = {
    "backdrop": _backdrop,
    "ink_weight": _plain("ink_weight"),
    "shear": _plain("shear"),
    "perspective": _plain("perspective"),
    "curve": lambda e, u, c: {"curve": _amount(e, u[1]), "curve_period": as_f32((0.4 + 1.1 * u[2]) * c.width),
                              "curve_phase": as_f32(2 * math.pi * u[3])},
    "elastic": _plain("elastic"),
    "paper": lambda e, u, c: {"paper": _amount(e, u[1]), "paper_row": pick(u[2], c.paper_shape[0] - c.height + 1),
                              "paper_col": pick(u[3], c.paper_shape[1] - c.width + 1)},
    "gradient": _with_detail("gradient", "gradient_angle", -180.0, 180.0),
    "rules": lambda e, u, c: _rules(_whole(e, u[1]), u),
    "inverted": lambda e, u, c: {"inverted": True},
    "ink_variation": _with_detail("ink_variation", "ink_phase", 0.0, 2 * math.pi),
    "faded": _plain("faded"),
    "neighbours": lambda e, u, c: {"neighbours": 1 + pick(u[1], 3)},  # above, below or both
    "strike": lambda e, u, c: {"strike": 1 + pick(u[1], 2)},
    "specks": lambda e, u, c: {"specks": _whole(e, u[1])},
    "light": _with_detail("light", "light_angle", -180.0, 180.0),
    "shadow": _with_detail("shadow", "shadow_x", 0.15, 0.85),
    "contrast": _plain("contrast"),
    "gamma": _plain("gamma"),
    "defocus": _plain("defocus"),
    "motion": _with_detail("motion", "motion_angle", -30.0, 30.0),
    "downscale": _plain("downscale"),
    "jpeg": lambda e, u, c: {"jpeg_quality": _whole(e, u[1])},
}
assert _DRAW.keys() == EFFECT_BOUNDS.keys()


def _rules(spacing: int, u: list[float]) -> dict:
    return {"rules": 2 if u[2] < 0.3 else 1, "rules_spacing": spacing, "rules_offset": pick(u[3], spacing)}


class EffectSampler:
    """Draws records for one config and canvas; which effects can happen is worked out once, not per sample.

    One draw of `UNIFORMS_PER_EFFECT` uniforms per effect of non-zero probability (in `EFFECT_BOUNDS` order;
    `backdrop` only with images), plus one for the effect seed: what one effect gets never shifts another's
    numbers. This layout is part of the format: the same seed gives the same records.
    """

    def __init__(self, cfg: EffectsConfig, paper_shape: tuple[int, int], canvas: tuple[int, int],
                 backdrops: list[tuple[int, int]]):
        self.canvas = Canvas(canvas[0], canvas[1], paper_shape, backdrops)
        self.effects = [(getattr(cfg, n).p, getattr(cfg, n), _DRAW[n]) for n in EFFECT_BOUNDS
                        if cfg.enabled and getattr(cfg, n).p > 0 and (backdrops or n != "backdrop")]
        self.count = len(self.effects) * UNIFORMS_PER_EFFECT + 1

    def draw(self, rng: np.random.Generator) -> EffectParams:
        if not self.effects:
            return NO_EFFECTS
        uniforms = rng.random(self.count).tolist()
        fx: dict = {}
        k = 0
        for p, e, draw in self.effects:
            if uniforms[k] < p:
                fx.update(draw(e, uniforms[k:k + UNIFORMS_PER_EFFECT], self.canvas))
            k += UNIFORMS_PER_EFFECT
        if not fx:
            return NO_EFFECTS
        fx["effect_seed"] = 1 + pick(uniforms[-1], 2**32 - 1)
        return EffectParams.switched_on(fx)


def sample_effects(rng: np.random.Generator, cfg: EffectsConfig, paper_shape: tuple[int, int],
                   canvas: tuple[int, int], backdrops: list[tuple[int, int]]) -> EffectParams:
    """Every effect's parameters for one sample; `paper_shape` is the paper bank's, `canvas` is (height, width),
    `backdrops` the shapes of the --backgrounds images (see `EffectSampler`, which a render keeps)."""
    return EffectSampler(cfg, paper_shape, canvas, backdrops).draw(rng)
