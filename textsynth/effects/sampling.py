"""Drawing one sample's effect parameters from its random stream, in a fixed order."""

from __future__ import annotations

import numpy as np

from textsynth.augment import as_f32
from textsynth.config import Effect, EffectsConfig
from textsynth.record import EffectParams

NO_EFFECTS = EffectParams()


def _on(rng: np.random.Generator, e: Effect) -> bool:
    # A disabled effect draws nothing, so turning one off leaves every other draw of the stream alone.
    return e.p > 0 and bool(rng.random() < e.p)


def _amount(rng: np.random.Generator, e: Effect) -> float:
    low, high = e.amount
    return as_f32(rng.uniform(low, high)) if high > low else as_f32(low)


def sample_effects(rng: np.random.Generator, cfg: EffectsConfig, paper_shape: tuple[int, int],
                   canvas: tuple[int, int], backdrops: list[tuple[int, int]]) -> EffectParams:
    """Every effect's parameters for one sample; `paper_shape` is the paper bank's, `canvas` is (height, width),
    `backdrops` the shapes of the --backgrounds images."""
    if not cfg.enabled:
        return NO_EFFECTS
    height, width = canvas
    fx: dict = {}
    if _on(rng, cfg.ink_weight):
        fx["ink_weight"] = _amount(rng, cfg.ink_weight)
    if _on(rng, cfg.shear):
        fx["shear"] = _amount(rng, cfg.shear)
    if _on(rng, cfg.perspective):
        fx["perspective"] = _amount(rng, cfg.perspective)
    if _on(rng, cfg.curve):
        fx["curve"] = _amount(rng, cfg.curve)
        fx["curve_period"] = as_f32(rng.uniform(0.4, 1.5) * width)
        fx["curve_phase"] = as_f32(rng.uniform(0, 2 * np.pi))
    if _on(rng, cfg.elastic):
        fx["elastic"] = _amount(rng, cfg.elastic)
    if backdrops and _on(rng, cfg.backdrop):
        k = int(rng.integers(len(backdrops)))
        fx["backdrop"] = k + 1
        fx["backdrop_row"] = int(rng.integers(0, backdrops[k][0] - height + 1))
        fx["backdrop_col"] = int(rng.integers(0, backdrops[k][1] - width + 1))
        fx["backdrop_amount"] = _amount(rng, cfg.backdrop)
    if _on(rng, cfg.paper):
        fx["paper"] = _amount(rng, cfg.paper)
        fx["paper_row"] = int(rng.integers(0, paper_shape[0] - height + 1))
        fx["paper_col"] = int(rng.integers(0, paper_shape[1] - width + 1))
    if _on(rng, cfg.gradient):
        fx["gradient"] = _amount(rng, cfg.gradient)
        fx["gradient_angle"] = as_f32(rng.uniform(-180, 180))
    if _on(rng, cfg.rules):
        fx["rules"] = 1 + int(rng.random() < 0.3)
        fx["rules_spacing"] = int(round(_amount(rng, cfg.rules)))
        fx["rules_offset"] = int(rng.integers(0, fx["rules_spacing"]))
    if _on(rng, cfg.inverted):
        fx["inverted"] = True
    if _on(rng, cfg.ink_variation):
        fx["ink_variation"] = _amount(rng, cfg.ink_variation)
        fx["ink_phase"] = as_f32(rng.uniform(0, 2 * np.pi))
    if _on(rng, cfg.faded):
        fx["faded"] = _amount(rng, cfg.faded)
    if _on(rng, cfg.neighbours):
        fx["neighbours"] = int(rng.integers(1, 4))
    if _on(rng, cfg.strike):
        fx["strike"] = int(rng.integers(1, 3))
    if _on(rng, cfg.specks):
        fx["specks"] = int(round(_amount(rng, cfg.specks)))
    if _on(rng, cfg.light):
        fx["light"] = _amount(rng, cfg.light)
        fx["light_angle"] = as_f32(rng.uniform(-180, 180))
    if _on(rng, cfg.shadow):
        fx["shadow"] = _amount(rng, cfg.shadow)
        fx["shadow_x"] = as_f32(rng.uniform(0.15, 0.85))
    if _on(rng, cfg.contrast):
        fx["contrast"] = _amount(rng, cfg.contrast)
    if _on(rng, cfg.gamma):
        fx["gamma"] = _amount(rng, cfg.gamma)
    if _on(rng, cfg.defocus):
        fx["defocus"] = _amount(rng, cfg.defocus)
    if _on(rng, cfg.motion):
        fx["motion"] = _amount(rng, cfg.motion)
        fx["motion_angle"] = as_f32(rng.uniform(-30, 30))
    if _on(rng, cfg.downscale):
        fx["downscale"] = _amount(rng, cfg.downscale)
    if _on(rng, cfg.jpeg):
        fx["jpeg_quality"] = int(round(_amount(rng, cfg.jpeg)))
    if not fx:
        return NO_EFFECTS
    fx["effect_seed"] = int(rng.integers(1, 2**32))
    return EffectParams(**fx)
