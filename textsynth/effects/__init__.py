"""Degradations after typesetting: sampled into an `EffectParams` record, applied from it (replayable).

One module per kind of effect: `geometry` (the ink's shape, before it is placed), `background` (paper),
`ink` (ink levels), `clutter` (neighbouring lines, rules, specks), `light`, `optics` (blur, resolution,
JPEG). `sampling` draws the parameters; `compose` applies them all in a fixed order.
"""

from textsynth.effects.compose import Degrader
from textsynth.effects.geometry import geometry_growth, warp_ink
from textsynth.effects.sampling import sample_effects

__all__ = ["Degrader", "geometry_growth", "sample_effects", "warp_ink"]
