"""Drawing one sample's effect parameters from its random stream, in a fixed order."""

from __future__ import annotations

from collections.abc import Callable

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


def _whole(rng: np.random.Generator, e: Effect) -> int:
    return int(round(_amount(rng, e)))


def _draw(rng: np.random.Generator, cfg: EffectsConfig, name: str, fx: dict, field: str | None = None,
          value: Callable[[np.random.Generator, Effect], float | int] = _amount) -> bool:
    """Whether the effect `name` is on for this sample; if so its amount is drawn into `fx[field or name]`."""
    e = getattr(cfg, name)
    if not _on(rng, e):
        return False
    fx[field or name] = value(rng, e)
    return True


def sample_effects(rng: np.random.Generator, cfg: EffectsConfig, paper_shape: tuple[int, int],
                   canvas: tuple[int, int], backdrops: list[tuple[int, int]]) -> EffectParams:
    """Every effect's parameters for one sample; `paper_shape` is the paper bank's, `canvas` is (height, width),
    `backdrops` the shapes of the --backgrounds images. The order of the draws is part of the format."""
    if not cfg.enabled:
        return NO_EFFECTS
    height, width = canvas
    fx: dict = {}
    if backdrops and _on(rng, cfg.backdrop):
        k = int(rng.integers(len(backdrops)))
        fx["backdrop"] = k + 1
        fx["backdrop_row"] = int(rng.integers(0, backdrops[k][0] - height + 1))
        fx["backdrop_col"] = int(rng.integers(0, backdrops[k][1] - width + 1))
        fx["backdrop_amount"] = _amount(rng, cfg.backdrop)
    for name in ("ink_weight", "shear", "perspective"):
        _draw(rng, cfg, name, fx)
    if _draw(rng, cfg, "curve", fx):
        fx["curve_period"] = as_f32(rng.uniform(0.4, 1.5) * width)
        fx["curve_phase"] = as_f32(rng.uniform(0, 2 * np.pi))
    _draw(rng, cfg, "elastic", fx)
    if _draw(rng, cfg, "paper", fx):
        fx["paper_row"] = int(rng.integers(0, paper_shape[0] - height + 1))
        fx["paper_col"] = int(rng.integers(0, paper_shape[1] - width + 1))
    if _draw(rng, cfg, "gradient", fx):
        fx["gradient_angle"] = as_f32(rng.uniform(-180, 180))
    if _on(rng, cfg.rules):
        fx["rules"] = 1 + int(rng.random() < 0.3)
        fx["rules_spacing"] = _whole(rng, cfg.rules)
        fx["rules_offset"] = int(rng.integers(0, fx["rules_spacing"]))
    if _on(rng, cfg.inverted):
        fx["inverted"] = True
    if _draw(rng, cfg, "ink_variation", fx):
        fx["ink_phase"] = as_f32(rng.uniform(0, 2 * np.pi))
    _draw(rng, cfg, "faded", fx)
    _draw(rng, cfg, "neighbours", fx, value=lambda r, e: int(r.integers(1, 4)))
    _draw(rng, cfg, "strike", fx, value=lambda r, e: int(r.integers(1, 3)))
    _draw(rng, cfg, "specks", fx, value=_whole)
    if _draw(rng, cfg, "light", fx):
        fx["light_angle"] = as_f32(rng.uniform(-180, 180))
    if _draw(rng, cfg, "shadow", fx):
        fx["shadow_x"] = as_f32(rng.uniform(0.15, 0.85))
    for name in ("contrast", "gamma", "defocus"):
        _draw(rng, cfg, name, fx)
    if _draw(rng, cfg, "motion", fx):
        fx["motion_angle"] = as_f32(rng.uniform(-30, 30))
    _draw(rng, cfg, "downscale", fx)
    _draw(rng, cfg, "jpeg", fx, "jpeg_quality", _whole)
    if not fx:
        return NO_EFFECTS
    fx["effect_seed"] = int(rng.integers(1, 2**32))
    return EffectParams(**fx)
