"""Named whole configs for `--preset NAME`: each is a tree of overrides on the default `RenderConfig`."""

from __future__ import annotations

from typing import Any

# A preset names every setting it depends on, so it keeps its look when the defaults move on.
PRESETS: dict[str, dict[str, Any]] = {
    # The defaults: the mix chosen by measurement on the transfer benchmark (benchmarks/transfer/).
    "default": {},
    # The seed prototype's look (textsynth 0.1): random strings of 4-16 symbols, small text placed at
    # random, speckle noise, a small rotation, ink and paper always far apart.
    "seed": {
        "canvas": {"margin": 2, "variable_width": False},
        "text": {"source": "random", "min_len": 4, "max_len": 16},
        "fonts": {"min_size": 0.375, "max_size": 0.6875},
        "typeset": {"tracking": [0.0, 0.0], "word_spacing": [1.0, 1.0], "left_aligned": 0.0, "indent": [0.0, 0.0]},
        "augment": {"max_angle": 3.0, "mirror": 0.0, "upside_down": 0.0, "noise": 0.6, "blur": 0.0,
                    "background": [200, 255], "foreground": [0, 60]},
    },
    # Typeset only: no degradation at all.
    "clean": {
        "augment": {"max_angle": 0.0, "noise": 0.0, "blur": 0.0},
    },
}


def preset_names() -> list[str]:
    return sorted(PRESETS)
