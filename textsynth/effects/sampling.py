"""Drawing one sample's effect parameters from its random stream, in a fixed order."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from textsynth.augment import as_f32, uniform_f32
from textsynth.config import EFFECT_BOUNDS, Effect, EffectsConfig
from textsynth.record import EffectParams

NO_EFFECTS = EffectParams()


def _amount(rng: np.random.Generator, e: Effect) -> float:
    return uniform_f32(rng, e.amount)


def _whole(rng: np.random.Generator, e: Effect) -> int:
    return int(round(_amount(rng, e)))


def _draw(rng: np.random.Generator, cfg: EffectsConfig, on: set[str], name: str, fx: dict, field: str | None = None,
          value: Callable[[np.random.Generator, Effect], float | int] = _amount) -> bool:
    """Whether the effect `name` is on for this sample; if so its amount is drawn into `fx[field or name]`."""
    if name not in on:
        return False
    fx[field or name] = value(rng, getattr(cfg, name))
    return True


def _switched_on(rng: np.random.Generator, cfg: EffectsConfig, with_backdrops: bool) -> set[str]:
    """The effects this sample gets: one uniform per effect of non-zero probability (in `EFFECT_BOUNDS` order),
    drawn as one vector; an effect of probability 0 draws nothing."""
    names = [n for n in EFFECT_BOUNDS if getattr(cfg, n).p > 0 and (with_backdrops or n != "backdrop")]
    if not names:
        return set()
    return {n for n, u in zip(names, rng.random(len(names))) if u < getattr(cfg, n).p}


def sample_effects(rng: np.random.Generator, cfg: EffectsConfig, paper_shape: tuple[int, int],
                   canvas: tuple[int, int], backdrops: list[tuple[int, int]]) -> EffectParams:
    """Every effect's parameters for one sample; `paper_shape` is the paper bank's, `canvas` is (height, width),
    `backdrops` the shapes of the --backgrounds images. The order of the draws is part of the format."""
    if not cfg.enabled:
        return NO_EFFECTS
    height, width = canvas
    fx: dict = {}
    on = _switched_on(rng, cfg, bool(backdrops))
    if "backdrop" in on:
        k = int(rng.integers(len(backdrops)))
        fx["backdrop"] = k + 1
        fx["backdrop_row"] = int(rng.integers(0, backdrops[k][0] - height + 1))
        fx["backdrop_col"] = int(rng.integers(0, backdrops[k][1] - width + 1))
        fx["backdrop_amount"] = _amount(rng, cfg.backdrop)
    for name in ("ink_weight", "shear", "perspective"):
        _draw(rng, cfg, on, name, fx)
    if _draw(rng, cfg, on, "curve", fx):
        fx["curve_period"] = as_f32(rng.uniform(0.4, 1.5) * width)
        fx["curve_phase"] = as_f32(rng.uniform(0, 2 * np.pi))
    _draw(rng, cfg, on, "elastic", fx)
    if _draw(rng, cfg, on, "paper", fx):
        fx["paper_row"] = int(rng.integers(0, paper_shape[0] - height + 1))
        fx["paper_col"] = int(rng.integers(0, paper_shape[1] - width + 1))
    if _draw(rng, cfg, on, "gradient", fx):
        fx["gradient_angle"] = as_f32(rng.uniform(-180, 180))
    if "rules" in on:
        fx["rules"] = 1 + int(rng.random() < 0.3)
        fx["rules_spacing"] = _whole(rng, cfg.rules)
        fx["rules_offset"] = int(rng.integers(0, fx["rules_spacing"]))
    if "inverted" in on:
        fx["inverted"] = True
    if _draw(rng, cfg, on, "ink_variation", fx):
        fx["ink_phase"] = as_f32(rng.uniform(0, 2 * np.pi))
    _draw(rng, cfg, on, "faded", fx)
    _draw(rng, cfg, on, "neighbours", fx, value=lambda r, e: int(r.integers(1, 4)))
    _draw(rng, cfg, on, "strike", fx, value=lambda r, e: int(r.integers(1, 3)))
    _draw(rng, cfg, on, "specks", fx, value=_whole)
    if _draw(rng, cfg, on, "light", fx):
        fx["light_angle"] = as_f32(rng.uniform(-180, 180))
    if _draw(rng, cfg, on, "shadow", fx):
        fx["shadow_x"] = as_f32(rng.uniform(0.15, 0.85))
    for name in ("contrast", "gamma", "defocus"):
        _draw(rng, cfg, on, name, fx)
    if _draw(rng, cfg, on, "motion", fx):
        fx["motion_angle"] = as_f32(rng.uniform(-30, 30))
    _draw(rng, cfg, on, "downscale", fx)
    _draw(rng, cfg, on, "jpeg", fx, "jpeg_quality", _whole)
    if not fx:
        return NO_EFFECTS
    fx["effect_seed"] = int(rng.integers(1, 2**32))
    return EffectParams(**fx)
