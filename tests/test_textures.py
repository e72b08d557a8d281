"""The procedural scene textures (`backgrounds = "textures"`): the same bank everywhere, bounded in memory,
drawn behind the text as a backdrop and replayed from the record."""

from __future__ import annotations

import numpy as np

from textsynth import RenderConfig, SampleGenerator
from textsynth.config import EFFECT_BOUNDS, Effect
from textsynth.effects.textures import MAKERS, texture_bank


def test_the_bank_is_the_same_in_every_process_and_bounded_in_memory():
    first, again = texture_bank(512, 64), texture_bank(512, 64)
    assert len(first) == len(MAKERS) >= 10
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert sum(im.nbytes for im in first) <= 16 * 2**20  # ~1 MB a texture for the default canvas
    for image in first:
        assert image.dtype == np.float32 and image.shape[0] >= 64 and image.shape[1] >= 512 + 256
        assert 0 <= image.min() and image.max() <= 255
        assert image.std() > 5  # a texture, not a flat level
    tall = texture_bank(1024, 200)  # larger canvases get larger textures, still room to move a window
    assert all(im.shape[0] >= 400 and im.shape[1] >= 1024 + 256 for im in tall)


def test_textures_differ_from_each_other():
    bank = texture_bank(512, 64)
    means = [float(im.mean()) for im in bank]
    stds = [float(im.std()) for im in bank]
    assert len({(round(m), round(s)) for m, s in zip(means, stds)}) == len(bank)


def backdrop_only() -> RenderConfig:
    cfg = RenderConfig(n=24)
    cfg.effects.backgrounds = "textures"
    for name in EFFECT_BOUNDS:
        setattr(cfg.effects, name, Effect(0.0, getattr(cfg.effects, name).amount))
    cfg.effects.backdrop = Effect(1.0, (1.0, 1.0))
    return cfg


def test_a_textured_backdrop_is_drawn_behind_the_text_and_replays_byte_identical():
    gen, fresh = SampleGenerator(backdrop_only()), SampleGenerator(backdrop_only())
    plain = backdrop_only()
    plain.effects.backgrounds = ""
    flat = SampleGenerator(plain)
    used = set()
    for i in range(24):
        p, image = gen.sample(i)
        assert 1 <= p.backdrop <= len(MAKERS)
        used.add(p.backdrop)
        assert np.array_equal(fresh.painter.paint(p), image)
        # the paper is no longer one level: the texture shows where the flat render is paper
        flat_image = flat.sample(i)[1]
        paper = flat_image == np.bincount(flat_image.ravel()).argmax()
        assert image[paper].std() > 3
    assert len(used) >= 6  # crops from many textures, not one


def test_the_scene_preset_draws_its_backdrops_from_the_textures():
    cfg = RenderConfig.from_dict({"preset": "scene", "n": 40})
    assert cfg.effects.backgrounds == "textures"
    gen = SampleGenerator(cfg)
    assert sum(gen.sample(i)[0].backdrop > 0 for i in range(40)) >= 12  # p = 0.6
