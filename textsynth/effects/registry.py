"""The registry of effects: every `EFFECTS` declaration of the modules of this package (and of the modules
named in TEXTSYNTH_EFFECTS), checked once, and the tables the config, the record and the painter derive."""

from __future__ import annotations

import importlib
import os
import pkgutil

from textsynth.effects.spec import STAGES, Column, EffectSpec

_HERE = __name__.rpartition(".")[0]
# Environment variable: comma-separated importable modules whose `EFFECTS` join the built-in ones (a render's
# workers inherit it; a dataset that uses such an effect replays only where that module is registered too).
PLUGINS_VARIABLE = "TEXTSYNTH_EFFECTS"

# Columns no single effect owns: seeds the random details of elastic, faded and clutter.
SHARED_COLUMNS: dict[str, Column] = {"effect_seed": Column("uint32", 0, int)}


_MACHINERY = ("compose", "registry", "sampling", "spec")  # the modules that run effects, not effects


def _modules() -> list[str]:
    package = importlib.import_module(_HERE)
    names = [f"{_HERE}.{m.name}" for m in pkgutil.iter_modules(package.__path__) if m.name not in _MACHINERY]
    plugins = [m.strip() for m in os.environ.get(PLUGINS_VARIABLE, "").split(",") if m.strip()]
    return sorted(names) + plugins


def _collect() -> tuple[EffectSpec, ...]:
    specs: list[EffectSpec] = []
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"{PLUGINS_VARIABLE}: cannot import effect module {name!r}: {exc}") from None
        specs.extend(getattr(module, "EFFECTS", ()))
    return _checked(specs)


def _checked(specs: list[EffectSpec]) -> tuple[EffectSpec, ...]:
    seen_names: set[str] = set()
    seen_fields: set[str] = set(SHARED_COLUMNS)
    seen_orders: set[tuple[bool, int]] = set()
    for spec in specs:
        if spec.name in seen_names:
            raise ValueError(f"two effects are named {spec.name!r}")
        if (spec.classic, spec.draw_order) in seen_orders:
            raise ValueError(f"effect {spec.name}: another effect has draw_order {spec.draw_order}")
        clash = seen_fields & spec.fields.keys()
        if clash:
            raise ValueError(f"effect {spec.name}: record field {sorted(clash)[0]!r} belongs to another effect")
        seen_names.add(spec.name)
        seen_orders.add((spec.classic, spec.draw_order))
        seen_fields |= spec.fields.keys()
    return tuple(sorted(specs, key=lambda s: (s.classic, s.draw_order)))


EFFECTS: tuple[EffectSpec, ...] = _collect()
# The seed's effects, in their places of the augment block; the degradations, in the effects block's order.
CLASSIC: tuple[EffectSpec, ...] = tuple(s for s in EFFECTS if s.classic)
DEGRADATIONS: tuple[EffectSpec, ...] = tuple(s for s in EFFECTS if not s.classic)
BY_NAME: dict[str, EffectSpec] = {s.name: s for s in EFFECTS}

# record field -> its column; every effect's, then the shared ones
COLUMNS: dict[str, Column] = {**{f: c for s in EFFECTS for f, c in s.fields.items()}, **SHARED_COLUMNS}
OFF: dict[str, float | int | bool] = {f: c.off for f, c in COLUMNS.items()}  # record field -> its "off" value
# Bounds of each degradation's amount: (lowest, highest) allowed in a config.
EFFECT_BOUNDS: dict[str, tuple[float, float]] = {s.name: s.bounds for s in DEGRADATIONS}
# config name -> the record field whose non-off value says a sample got the degradation
EFFECT_FIELDS: dict[str, str] = {s.name: s.on_field for s in DEGRADATIONS}
# The fields that change the ink mask (they key the painter's mask cache), the effect seed among them.
INK_FIELDS: tuple[str, ...] = tuple(f for s in EFFECTS if s.changes_ink for f in s.fields) + tuple(SHARED_COLUMNS)
# The fields of the degradations (any non-off one: the sample is drawn on the float canvas).
DEGRADATION_FIELDS: tuple[tuple[str, object], ...] = tuple(
    (f, c.off) for s in DEGRADATIONS for f, c in s.fields.items()) + tuple(
    (f, c.off) for f, c in SHARED_COLUMNS.items())


def stage(name: str, classic_only: bool = False) -> tuple[EffectSpec, ...]:
    """The effects of a pixel stage that have an apply, in their order (`classic_only`: the seed's alone)."""
    if name not in STAGES:
        raise ValueError(f"no stage {name!r}")
    return tuple(sorted((s for s in EFFECTS if s.stage == name and s.apply is not None
                         and (s.classic or not classic_only)), key=lambda s: (s.step, s.classic, s.draw_order)))


def active_effects(p) -> list[str]:
    """The config names of the degradations this record applies."""
    return [name for name, f in EFFECT_FIELDS.items() if getattr(p, f) != OFF[f]]
