"""Print processes (dot-matrix, thermal, toner), low-resolution capture and the `receipt` preset: every mark
keeps ink, nothing leaves the canvas, captures are what a scanner stores, the preset renders its look."""

import cv2
import numpy as np
import pytest
from test_effects import only, placed_within_margins

from textsynth import RenderConfig, SampleGenerator
from textsynth.effects.capture import capture
from textsynth.effects.compose import shape_ink
from textsynth.effects.print_process import dot_matrix, thermal, toner

PRINTS = ("dot_matrix", "thermal", "toner")


def marks(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x, y, w, h) of the separate marks of an ink mask (a `:` is two), at least 2x2 pixels:
    a one-pixel-wide sliver is a fragment of a glyph whose other parts carry it, not a mark of its own."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask >= 128).astype(np.uint8), connectivity=8)
    return [tuple(int(v) for v in stats[k, :4]) for k in range(1, count) if min(stats[k, 2], stats[k, 3]) >= 2]


@pytest.mark.parametrize("effect", PRINTS)
def test_print_at_its_maximum_keeps_every_mark_inked_and_the_line_on_the_canvas(effect):
    cfg = only(effect, at_max=True)
    cfg.text.source = "shop"  # colons, points and commas: the marks most easily lost
    gen = SampleGenerator(cfg)
    checked = 0
    for i in range(60):
        p = gen.params(i)
        laid_out = placed_within_margins(gen, cfg, p)
        printed = shape_ink(laid_out, p, 0.0)
        reach = 2 + (int(np.ceil(p.dot_pitch * laid_out.shape[0])) if effect == "dot_matrix" else 0)
        for x, y, bw, bh in marks(laid_out):
            region = printed[max(0, y - reach):y + bh + reach, max(0, x - reach):x + bw + reach]
            assert region.max() >= 60, (effect, i, p.text, (x, y, bw, bh))
            checked += 1
    assert checked > 300


@pytest.mark.parametrize("pitch", [0.05, 0.09, 0.14, 0.25])
@pytest.mark.parametrize("shift", [0, 1, 2, 3])
def test_a_dot_matrix_colon_keeps_both_dots(pitch, shift):
    mask = np.zeros((40, 30), np.uint8)
    mask[12 + shift:15 + shift, 10 + shift:13 + shift] = 255  # two 3x3 dots, as a small `:` draws them
    mask[28 + shift:31 + shift, 10 + shift:13 + shift] = 255
    for seed in range(20):
        dots = dot_matrix(mask, pitch, 1.0, seed)
        reach = int(np.ceil(pitch * 40)) + 1
        for top in (12 + shift, 28 + shift):
            assert dots[max(0, top - reach):top + 3 + reach, max(0, 10 + shift - reach):13 + shift + reach].max() > 60


def test_dot_matrix_draws_round_dots_on_a_grid_and_thermal_toner_keep_a_floor():
    mask = np.zeros((48, 200), np.uint8)
    mask[8:40, 20:180] = 255  # a solid block: every cell on
    dots = dot_matrix(mask, 0.125, 0.0, 1)  # 6 px pitch, no wear
    row = dots[int(np.argmax(dots.sum(axis=1)))]  # through a row of dot centres: peaks and gaps alternate
    assert row.max() > 200 and (row[20:180] < 128).sum() > 10
    assert len(marks(dots)) > 100  # separate dots (6 rows of ~27), not a solid bar
    for effect in (thermal, toner):
        out = effect(mask, 1.0, 3)
        inside = out[8:40, 20:180].astype(np.float32)
        assert out.shape == mask.shape and out[:, :18].max() <= 60  # little spills out of the block
        assert 0.25 * 255 <= inside.mean() < 255 and (inside > 0).mean() > 0.95


def test_capture_binarized_is_two_levels_and_low_resolution_scales_up():
    rng = np.random.default_rng(0)
    image = np.full((64, 256), 200, np.uint8)
    image[20:44, 30:226:12] = 40  # strokes
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    image[:, 128:] = (image[:, 128:] * 0.7).astype(np.uint8)  # a shadow over half the line
    two = capture(image, 24, 24, binary=True)  # no scaling: the binarized levels themselves
    assert len(np.unique(two)) == 2
    assert (two[20:44, 30:226:12] == two.min()).mean() > 0.9  # the strokes on both sides of the shadow are ink
    assert (two[5:15] == two.max()).mean() > 0.9  # the shadowed paper is paper, not ink
    for side in (two == two.min(), two == two.max()):  # each level: its side's mean, rounded half to even
        assert two[side][0] == round(float(image[side].mean()))
    small = capture(image, 12, 24, binary=False)
    assert small.shape == image.shape and len(np.unique(small)) > 2
    assert np.corrcoef(small.ravel().astype(float), image.ravel().astype(float))[0, 1] > 0.8


def test_receipt_preset_prints_more_than_the_default_and_v0_2_keeps_the_new_effects_off():
    receipt, default, old = (RenderConfig.from_dict({"preset": name}) for name in ("receipt", "default", "v0.2"))
    for name in (*PRINTS, "capture"):
        assert getattr(old.effects, name).p == 0.0
        assert 0.0 < getattr(default.effects, name).p < getattr(receipt.effects, name).p
    assert receipt.text.source.startswith("mix:shop=") and receipt.text.upper > 0
    assert RenderConfig.from_dict(receipt.to_dict()) == receipt
    gen = SampleGenerator(receipt)
    records = [gen.sample(i)[0] for i in range(80)]
    assert any(r.dot_pitch for r in records) and any(r.thermal for r in records)
    assert {r.capture_mode for r in records if r.capture} == {1, 2}
    assert sum(r.text.isupper() for r in records) > 30


@pytest.mark.parametrize("effect", ["drop_shadow", "outline"])
def test_sign_lettering_is_painted_under_the_ink_apart_from_its_level(effect):
    from textsynth.effects.text_style import apart_from_ink

    cfg = only(effect, at_max=True, noise=0.0)
    gen = SampleGenerator(cfg)
    for i in range(20):
        p, image = gen.sample(i)
        plain = gen.painter.paint(p.replace(**{effect: 0.0}))
        placed = gen.painter._ink(p.font_id, p.font_size, p.text, p.tracking, p.word_spacing, p.angle, p)
        h, w = placed.shape
        solid = np.zeros(image.shape, bool)
        solid[p.y:p.y + h, p.x:p.x + w] = placed == 255
        if p.mirror or p.upside_down:
            continue
        assert np.array_equal(image[solid], plain[solid]), (effect, i)  # the letters themselves are untouched
        assert (image != plain).sum() > 0.1 * solid.sum(), (effect, i)  # and something was painted around them
    assert apart_from_ink(10, 20) == 68 and apart_from_ink(240, 230) == 182 and apart_from_ink(100, 20) == 100


def test_scene_preset_renders_its_look():
    scene = RenderConfig.from_dict({"preset": "scene"})
    assert scene.effects.drop_shadow.p > 0 and scene.effects.outline.p > 0 and scene.effects.inverted.p >= 0.3
    assert RenderConfig.from_dict(scene.to_dict()) == scene
    gen = SampleGenerator(scene)
    records = [gen.sample(i)[0] for i in range(80)]
    assert {r.drop_shadow_mode for r in records if r.drop_shadow} == {1, 2}
    assert any(r.outline for r in records) and sum(r.inverted for r in records) > 15
