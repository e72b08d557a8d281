"""Named whole configs for `--preset NAME`: each is a tree of overrides on the default `RenderConfig`."""

from __future__ import annotations

from typing import Any

# The bundled monospace families (receipt and POS printers print in fixed-width faces).
MONOSPACE = ("Anonymous Pro", "B612 Mono", "DejaVu Sans Mono", "Go Mono", "JetBrains Mono", "Liberation Mono",
             "mononoki", "PT Mono")
# Heavy, condensed and display families (signs are lettered in them).
DISPLAY = ("Averia Sans GWF", "Averia Serif GWF", "Dosis", "Irianis ADF Std", "League Spartan", "Mekanus ADF Std",
           "PT Sans Narrow")
# fonts/print/ (`--fonts bundled-print`): terminal and POS monospace and dot-matrix faces for receipts; condensed
# display, routed-sign, sign-lettering and heavy grotesque faces for signs.
PRINT_MONOSPACE = ("IBM 3270", "League Mono", "DotGothic16")
PRINT_DISPLAY = ("Bebas Neue", "Routed Gothic", "Apropal", "Inter Heavy")

# textsynth 0.2's default text and the effects 0.3 switched on (off then, inverted rarer): presets made before
# 0.3 name these so that they keep their look.
TEXT_0_2 = {"source": "mix:random=0.3,words=0.35,lines=0.2,numbers=0.15", "min_len": 4, "upper": 0.0}
EFFECTS_0_2 = {"thermal": {"p": 0.0}, "dot_matrix": {"p": 0.0}, "toner": {"p": 0.0}, "capture": {"p": 0.0},
               "drop_shadow": {"p": 0.0}, "outline": {"p": 0.0}, "inverted": {"p": 0.08}}
# The font folders before 0.4 added fonts/print/ to the default: presets made before 0.4 name them.
FONTS_0_3 = {"dir": "bundled"}

# A preset names every setting it depends on, so it keeps its look when the defaults move on.
PRESETS: dict[str, dict[str, Any]] = {
    # The defaults: the mix chosen by measurement on real dev sets and the transfer benchmark (0.3: shop text,
    # capitals, print processes, low-resolution capture and sign lettering mixed in; 0.4: the receipt,
    # dot-matrix and sign faces of fonts/print/; benchmarks/real_look/).
    "default": {},
    # textsynth 0.3's default: the bundled faces without fonts/print/. The baseline 0.4's was measured against.
    "v0.3": {"fonts": FONTS_0_3},
    # textsynth 0.2's default: natural text without shop text or capitals, none of the print, capture or sign
    # looks. The baseline the 0.3 default was measured against.
    "v0.2": {"text": TEXT_0_2, "effects": EFFECTS_0_2, "fonts": FONTS_0_3},
    # The seed prototype's look (textsynth 0.1): random strings of 4-16 symbols, small text placed at
    # random, speckle noise, a small rotation, ink and paper always far apart.
    "seed": {
        "canvas": {"margin": 2, "variable_width": False},
        "text": {"source": "random", "min_len": 4, "max_len": 16, "upper": 0.0},
        "fonts": {"min_size": 0.375, "max_size": 0.6875, "size_step": 1, "dir": "bundled", "weighting": "face",
                  "family_weights": {},
                  "families": ["DejaVu Sans", "DejaVu Sans Mono", "DejaVu Serif",
                               "Liberation Mono", "Liberation Sans", "Liberation Serif"]},
        "typeset": {"tracking": [0.0, 0.0], "word_spacing": [1.0, 1.0], "left_aligned": 0.0, "indent": [0.0, 0.0]},
        "augment": {"max_angle": 3.0, "mirror": 0.0, "upside_down": 0.0, "noise": 0.6, "blur": 0.0,
                    "background": [200, 255], "foreground": [0, 60]},
        "effects": {"enabled": False},
    },
    # Typeset only: no degradation at all (dark ink on light paper, level, sharp, no noise).
    "clean": {
        "text": TEXT_0_2,
        "fonts": FONTS_0_3,
        "augment": {"max_angle": 0.0, "noise": 0.0, "blur": 0.0, "background": [200, 255], "foreground": [0, 60]},
        "effects": {"enabled": False},
    },
    # Scanned pages: paper texture, ruled paper now and then, soft focus, low resolution, JPEG, little light.
    "scan": {
        "text": TEXT_0_2,
        "fonts": FONTS_0_3,
        "augment": {"max_angle": 1.5, "noise": 0.3, "blur": 0.6, "background": [150, 255], "foreground": [0, 90]},
        "effects": {
            **EFFECTS_0_2,
            "paper": {"p": 0.9, "amount": [3.0, 14.0]}, "rules": {"p": 0.15, "amount": [10.0, 28.0]},
            "gradient": {"p": 0.3, "amount": [-30.0, 30.0]}, "light": {"p": 0.1}, "shadow": {"p": 0.0},
            "perspective": {"p": 0.0}, "curve": {"p": 0.05}, "motion": {"p": 0.0}, "inverted": {"p": 0.0},
            "ink_weight": {"p": 0.5}, "faded": {"p": 0.2}, "specks": {"p": 0.4}, "neighbours": {"p": 0.3},
            "defocus": {"p": 0.5, "amount": [0.4, 1.2]}, "downscale": {"p": 0.6, "amount": [0.35, 0.8]},
            "jpeg": {"p": 0.7, "amount": [25.0, 85.0]},
        },
    },
    # Phone photos: uneven light and shadows, perspective, motion blur and defocus, JPEG.
    "photo": {
        "text": TEXT_0_2,
        "fonts": FONTS_0_3,
        "augment": {"max_angle": 4.0, "noise": 0.3, "blur": 0.6, "background": [110, 255], "foreground": [0, 90]},
        "effects": {
            **EFFECTS_0_2,
            "light": {"p": 0.8, "amount": [0.1, 0.55]}, "shadow": {"p": 0.4, "amount": [0.15, 0.5]},
            "perspective": {"p": 0.5, "amount": [-0.18, 0.18]}, "curve": {"p": 0.2}, "paper": {"p": 0.3},
            "motion": {"p": 0.4, "amount": [2.0, 7.0]}, "defocus": {"p": 0.5, "amount": [0.4, 1.6]},
            "contrast": {"p": 0.5, "amount": [0.6, 1.2]}, "gamma": {"p": 0.5},
            "downscale": {"p": 0.4, "amount": [0.4, 0.9]}, "jpeg": {"p": 0.6, "amount": [30.0, 85.0]},
        },
    },
    # Shop receipts: thermal, dot-matrix and toner print, faded and low-contrast ink, shop text mostly in
    # capitals, monospace faces favoured, lines captured at low resolution (often binarized) and scaled up.
    "receipt": {
        "text": {"source": "mix:shop=0.5,numbers=0.2,words=0.15,random=0.15", "min_len": 2, "max_len": 16,
                 "upper": 0.6},
        "fonts": {"dir": "bundled,bundled-print",
                  "family_weights": {f: 4.0 for f in MONOSPACE + PRINT_MONOSPACE}},
        "augment": {"max_angle": 1.5, "noise": 0.25, "blur": 0.3, "background": [175, 255], "foreground": [0, 140]},
        "effects": {
            "drop_shadow": {"p": 0.0}, "outline": {"p": 0.0},
            "thermal": {"p": 0.35}, "dot_matrix": {"p": 0.2}, "toner": {"p": 0.15},
            "capture": {"p": 0.5, "amount": [12.0, 28.0]}, "faded": {"p": 0.3}, "paper": {"p": 0.5},
            "ink_variation": {"p": 0.3}, "neighbours": {"p": 0.3}, "specks": {"p": 0.2}, "strike": {"p": 0.03},
            "backdrop": {"p": 0.0}, "inverted": {"p": 0.0}, "shadow": {"p": 0.05}, "light": {"p": 0.15},
            "perspective": {"p": 0.05}, "curve": {"p": 0.05}, "elastic": {"p": 0.0}, "motion": {"p": 0.05},
            "defocus": {"p": 0.3, "amount": [0.3, 1.0]}, "downscale": {"p": 0.2}, "jpeg": {"p": 0.4},
        },
    },
    # Signs and shop fronts: short words, many in capitals, heavy and display faces, drop shadows, extrusions
    # and outlines, light text on dark as often as dark on light, close luminance pairs, strong perspective
    # and light, camera blur and low resolution, in front of the procedural scene textures (brick, tiles, wood,
    # foliage, shop fronts...; --backgrounds DIR puts your own photographs there instead).
    "scene": {
        "text": {"source": "mix:words=0.55,shop=0.15,lines=0.1,numbers=0.1,random=0.1", "min_len": 2,
                 "max_len": 14, "upper": 0.5},
        "fonts": {"dir": "bundled,bundled-print", "min_size": 0.55, "max_size": 0.95,
                  "family_weights": {f: 3.0 for f in DISPLAY + PRINT_DISPLAY}},
        "typeset": {"left_aligned": 0.7, "indent": [0.0, 0.3]},
        "augment": {"max_angle": 5.0, "noise": 0.15, "blur": 0.5, "background": [100, 255], "foreground": [0, 80]},
        "effects": {
            "backgrounds": "textures", "thermal": {"p": 0.0}, "dot_matrix": {"p": 0.0}, "toner": {"p": 0.0},
            "drop_shadow": {"p": 0.25}, "outline": {"p": 0.15}, "inverted": {"p": 0.4},
            "perspective": {"p": 0.4, "amount": [-0.2, 0.2]}, "shear": {"p": 0.3}, "curve": {"p": 0.15},
            "light": {"p": 0.5, "amount": [0.1, 0.6]}, "shadow": {"p": 0.3}, "gradient": {"p": 0.4},
            "paper": {"p": 0.4}, "backdrop": {"p": 0.6}, "rules": {"p": 0.0}, "neighbours": {"p": 0.1},
            "strike": {"p": 0.0}, "specks": {"p": 0.2}, "contrast": {"p": 0.5, "amount": [0.5, 1.2]},
            "gamma": {"p": 0.4}, "defocus": {"p": 0.4, "amount": [0.4, 1.6]}, "motion": {"p": 0.2},
            "downscale": {"p": 0.3}, "capture": {"p": 0.3, "amount": [14.0, 32.0]}, "jpeg": {"p": 0.5},
        },
    },
}


def preset_names() -> list[str]:
    return sorted(PRESETS)
