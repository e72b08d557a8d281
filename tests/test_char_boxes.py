"""Per-character boxes: each label character's quadrilateral holds its own glyph's ink through every
geometric effect, follows right-to-left and conjunct shaping, and survives storage, reading and export."""

import cv2
import numpy as np
import pytest

from textsynth import RenderConfig, SampleGenerator
from textsynth.char_boxes import char_boxes
from textsynth.config import EFFECT_BOUNDS, Effect
from textsynth.effects.compose import orientation_points, shape_ink

INKED_EFFECTS = ("ink_weight", "shear", "perspective", "curve", "elastic", "dot_matrix", "toner", "thermal")


def at_max(effect: str | None) -> RenderConfig:
    """Every degradation off but `effect` (always on, at its maximum; both signs where it has two), with the
    line turned, blurred and flipped as far as the seed's augmentations go."""
    cfg = RenderConfig(n=1)
    for name in EFFECT_BOUNDS:
        setattr(cfg.effects, name, Effect(0.0, getattr(cfg.effects, name).amount))
    if effect is not None:
        low, high = EFFECT_BOUNDS[effect]
        both = effect in ("ink_weight", "shear", "perspective")
        setattr(cfg.effects, effect, Effect(1.0, (low, high) if both else (high, high)))
    cfg.augment.max_angle, cfg.augment.blur = 8.0, 1.0
    cfg.augment.mirror, cfg.augment.upside_down = 0.3, 0.3
    return cfg


def glyph_alone(gen: SampleGenerator, p, box: np.ndarray) -> np.ndarray:
    """The canvas ink (float, 0..255) of the laid-out text's pixels inside one cluster's laid-out box alone,
    through the same ink stage, placement and flips as the sample."""
    painter = gen.painter
    laid_out = painter.layout.text_mask(p.font_id, p.text, p.font_size, p.tracking, p.word_spacing)
    x0, y0, x1, y1 = box.astype(int)
    alone = np.zeros_like(laid_out)
    alone[y0:y1, x0:x1] = laid_out[y0:y1, x0:x1]
    ink = shape_ink(alone, p, p.angle)
    canvas = np.zeros((painter.height, painter.width), np.float32)
    h, w = ink.shape
    canvas[p.y:p.y + h, p.x:p.x + w] = ink
    region = canvas[:, :p.width]
    if p.mirror:
        region[...] = region[:, ::-1]
    if p.upside_down:
        region[...] = region[::-1, ::-1]
    return canvas


def inside(quad: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centre lies in the quadrilateral (pixel edges: the centre of pixel (r, c) is c + .5, r + .5)."""
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.round((quad - 0.5) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return out.astype(bool)


@pytest.mark.parametrize("effect", (None, *INKED_EFFECTS))
def test_every_box_holds_its_own_glyphs_ink_at_each_effects_maximum(effect):
    gen = SampleGenerator(at_max(effect))
    shares, flipped = [], 0
    for i in range(25):
        p = gen.params(i)
        flipped += p.mirror or p.upside_down
        quads = char_boxes(gen.painter, p)
        assert quads.shape == (len(p.text), 4, 2) and quads.dtype == np.float32
        boxes, _ = gen.painter.layout.cluster_boxes(p.font_id, p.text, p.font_size, p.tracking, p.word_spacing)
        for k, char in enumerate(p.text):
            if char.isspace():
                continue
            ink = glyph_alone(gen, p, boxes[k])
            share = float(ink[inside(quads[k], ink.shape)].sum() / max(ink.sum(), 1e-6))
            assert share >= 0.9, (effect, i, p.text, k, char, share)
            shares.append(share)
    assert flipped and np.mean(shares) > 0.97


def test_boxes_follow_the_flips_and_keep_the_glyphs_own_corner_order():
    gen = SampleGenerator(at_max(None))
    p = gen.params(0).replace(angle=0.0, mirror=False, upside_down=False)
    upright = char_boxes(gen.painter, p)
    turned = char_boxes(gen.painter, p.replace(upside_down=True))
    h, w = gen.painter.height, p.width
    np.testing.assert_allclose(turned, np.stack([w - upright[..., 0], h - upright[..., 1]], -1), atol=1e-4)
    assert (upright[:, 1, 0] > upright[:, 0, 0]).all()  # top-right right of top-left, upright
    assert (turned[:, 1, 0] < turned[:, 0, 0]).all()  # and left of it, turned
    np.testing.assert_allclose(orientation_points(upright.astype(np.float64), p.replace(mirror=True), h)[..., 0],
                               w - upright[..., 0], atol=1e-4)
