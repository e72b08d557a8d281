"""Degradation effects: replayable from their record, ink kept on the canvas, presets as described."""

import functools
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from textsynth import RenderConfig, SampleGenerator
from textsynth.config import EFFECT_BOUNDS, Effect
from textsynth.draws import stream
from textsynth.effects.compose import degraded, shape_ink
from textsynth.effects.geometry import rotate_mask
from textsynth.effects.registry import OFF
from textsynth.record import EffectParams

EFFECTS = tuple(EFFECT_BOUNDS)
GEOMETRY = ("ink_weight", "shear", "perspective", "curve", "elastic")


@functools.cache
def backgrounds_folder() -> str:
    """Two photographs' stand-ins: a noisy gradient and a checkerboard, as PNG and JPEG."""
    folder = Path(tempfile.mkdtemp(prefix="textsynth-backgrounds-"))
    rng = np.random.default_rng(5)
    ramp = np.linspace(90, 250, 700)[None, :] + rng.normal(0, 12, (300, 700))
    Image.fromarray(np.clip(ramp, 0, 255).astype(np.uint8)).save(folder / "a.png")
    board = ((np.indices((200, 900)) // 25).sum(axis=0) % 2 * 80 + 150).astype(np.uint8)
    Image.fromarray(board).save(folder / "b.jpg", quality=90)
    return str(folder)


def only(effect: str, at_max: bool = False, **augment) -> RenderConfig:
    """The default config with every effect off but `effect` (always on; its whole range, or its maximum)."""
    cfg = RenderConfig(n=1)
    if effect == "backdrop":
        cfg.effects.backgrounds = backgrounds_folder()
    for name in EFFECTS:
        setattr(cfg.effects, name, Effect(0.0, getattr(cfg.effects, name).amount))
    low, high = EFFECT_BOUNDS[effect]
    amount = (high, high) if at_max else getattr(cfg.effects, effect).amount
    if at_max and effect in ("ink_weight", "shear", "perspective"):
        amount = (low, high)  # both directions at their extremes
    setattr(cfg.effects, effect, Effect(1.0, amount))
    for k, v in augment.items():
        setattr(cfg.augment, k, v)
    return cfg


@pytest.mark.parametrize("effect", EFFECTS)
def test_each_effect_replays_byte_identical_from_its_record(effect):
    gen = SampleGenerator(only(effect))
    fresh = SampleGenerator(only(effect))  # no shared caches or banks
    for i in range(12):
        params, image = gen.sample(i)
        assert degraded(params)
        assert np.array_equal(fresh.painter.paint(params), image), (effect, i)
        assert np.array_equal(gen.painter.paint(params), image)


def placed_within_margins(gen: SampleGenerator, cfg: RenderConfig, p) -> np.ndarray:
    """Assert the record's ink as placed lies inside the canvas margins; return the text's laid-out mask."""
    placed = gen.painter._ink(p.font_id, p.font_size, p.text, p.tracking, p.word_spacing, p.angle, p)
    h, w = placed.shape
    m = cfg.canvas.margin
    assert m <= p.x and p.x + w <= cfg.canvas.width - m and m <= p.y and p.y + h <= cfg.canvas.height - m
    return gen.painter.layout.text_mask(p.font_id, p.text, p.font_size, p.tracking, p.word_spacing)


@pytest.mark.parametrize("effect", GEOMETRY)
def test_geometry_at_its_maximum_never_leaves_the_canvas_or_cuts_ink(effect):
    cfg = only(effect, at_max=True, max_angle=8.0, blur=1.0)
    gen = SampleGenerator(cfg)
    for i in range(150):
        p = gen.params(i)
        laid_out = placed_within_margins(gen, cfg, p)
        warped = shape_ink(laid_out, p.replace(blur=0.0), 0.0)  # the geometry effects alone
        # the warp grew the box: no ink on the rows (and, but for the curve, columns) it added
        edges = [warped[0], warped[-1]] + ([] if effect == "curve" else [warped[:, 0], warped[:, -1]])
        assert np.concatenate(edges).max() == 0, (effect, i)
        kept = warped.sum(dtype=np.int64) / laid_out.sum(dtype=np.int64)
        assert (0.44 if effect == "ink_weight" else 0.7) <= kept <= (4.0 if effect == "ink_weight" else 1.3), \
            (effect, i, kept)


def test_inverted_samples_are_recorded_and_light_on_dark():
    gen = SampleGenerator(only("inverted", noise=0.0))
    for i in range(10):
        p, image = gen.sample(i)
        assert p.inverted
        assert np.median(image) < 128 and image.max() > np.median(image) + 40


def test_jpeg_quality_is_stored_and_the_pixels_are_the_decoded_jpeg():
    gen = SampleGenerator(only("jpeg"))
    qualities = set()
    for i in range(10):
        p, image = gen.sample(i, sensor=False)  # the sensor stage's speckle is added after the JPEG
        assert 25 <= p.jpeg_quality <= 90
        qualities.add(p.jpeg_quality)
        before = gen.painter.paint(p.replace(jpeg_quality=0), sensor=False)
        buf = io.BytesIO()
        Image.fromarray(before).save(buf, format="JPEG", quality=p.jpeg_quality)
        decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())))  # an independent JPEG codec (Pillow's)
        assert not np.array_equal(decoded, before)
        assert np.abs(decoded.astype(int) - image).mean() < 1.0  # the stored pixels are that JPEG, decoded
    assert len(qualities) > 3


def test_effect_shares_follow_their_probabilities():
    cfg = RenderConfig(n=1)
    gen = SampleGenerator(cfg)
    records = [gen.params(i) for i in range(400)]
    for name, field in (("shear", "shear"), ("paper", "paper"), ("jpeg", "jpeg_quality"), ("defocus", "defocus")):
        share = np.mean([getattr(r, field) != OFF[field] for r in records])
        assert abs(share - getattr(cfg.effects, name).p) < 0.08, name


def test_presets_load_and_differ_as_described():
    configs = {name: RenderConfig.from_dict({"preset": name}) for name in ("default", "seed", "clean", "scan", "photo")}
    assert len({repr(c.to_dict()) for c in configs.values()}) == 5
    assert configs["seed"].text.source == "random" and configs["seed"].augment.noise == 0.6
    assert not configs["seed"].effects.enabled and not configs["clean"].effects.enabled
    assert configs["clean"].augment.noise == 0 and configs["clean"].augment.max_angle == 0
    scan, photo = configs["scan"].effects, configs["photo"].effects
    assert scan.paper.p >= 0.8 and scan.jpeg.p >= 0.5 and scan.downscale.p >= 0.5 and scan.perspective.p == 0
    assert photo.light.p >= 0.5 and photo.perspective.p >= 0.3 and photo.motion.p >= 0.3
    cfg = configs["scan"]
    assert RenderConfig.from_dict(cfg.to_dict()) == cfg  # a stored config resolves to itself


def test_clean_and_seed_presets_set_no_effect_parameter():
    for preset in ("clean", "seed"):
        gen = SampleGenerator(RenderConfig.from_dict({"preset": preset, "n": 1}))
        for i in range(50):
            p = gen.params(i)
            assert not degraded(p)
    clean = SampleGenerator(RenderConfig.from_dict({"preset": "clean", "n": 1}))
    p = clean.params(0)
    assert p.noise_level == 0 and p.blur == 0 and p.angle == 0


def test_effect_amounts_out_of_bounds_are_refused():
    from textsynth import TextsynthError

    with pytest.raises(TextsynthError, match="effects.jpeg.amount"):
        RenderConfig.from_dict({"effects": {"jpeg": {"amount": [0, 150]}}}).validate()
    with pytest.raises(TextsynthError, match="effects.shear.p"):
        RenderConfig.from_dict({"effects": {"shear": {"p": 1.5}}}).validate()


def test_background_images_are_cropped_into_the_paper_and_a_bad_folder_is_refused(tmp_path):
    from textsynth import TextsynthError

    gen = SampleGenerator(only("backdrop", noise=0.0))
    used = {gen.params(i).backdrop for i in range(40)}
    assert used == {1, 2}  # both images, numbered in file-name order
    p, image = gen.sample(0)
    assert image.std() > 5
    cfg = only("backdrop")
    cfg.effects.backgrounds = str(tmp_path)
    with pytest.raises(TextsynthError, match="holds no .png or .jpg images"):
        SampleGenerator(cfg)


@pytest.mark.parametrize("shear, perspective", [(0.3, 0.0), (0.0, -0.12), (-0.25, 0.1)])
def test_rotation_folded_into_the_slant_warp_matches_warping_then_rotating(shear, perspective):
    gen = SampleGenerator(RenderConfig(n=1))
    mask = gen.painter.layout.text_mask(0, "Folded once", 40, 0.0, 1.0)
    fx = EffectParams.switched_on({"shear": shear, "perspective": perspective})
    folded = shape_ink(mask, fx, 2.5)
    two_step = rotate_mask(shape_ink(mask, fx, 0.0), 2.5)
    assert abs(int(folded.sum()) - int(two_step.sum())) < 0.03 * int(two_step.sum())  # the same ink
    assert folded.shape[0] <= two_step.shape[0] and folded.shape[1] <= two_step.shape[1]  # never a larger box
    assert folded[0].max() == folded[-1].max() == folded[:, 0].max() == folded[:, -1].max() == 0  # nothing cut
    rows, cols = np.nonzero(folded > 64)
    ref_rows, ref_cols = np.nonzero(two_step > 64)
    # the same slope: the ink's principal direction agrees within a tenth of a degree per degree turned
    slope = np.polyfit(cols, rows, 1)[0]
    ref_slope = np.polyfit(ref_cols, ref_rows, 1)[0]
    assert abs(np.degrees(np.arctan(slope) - np.arctan(ref_slope))) < 0.25


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("words", [(0, 0), (7, 123456), (2**32 - 1, 5), (2**32, 5), (2**63, 1, 2), (-1, 3), (9,),
                                   tuple(range(1, 12)), (np.int64(3), np.uint32(2**32 - 2))])
def test_stream_draws_what_default_rng_of_the_same_words_draws(words, compiled, monkeypatch):
    # every sample's records and effects are drawn from these streams: a faster seeding must not move a number
    from textsynth import draws

    if compiled:
        pytest.importorskip("textsynth._lines")
        assert draws._seed_state is not None
    else:
        monkeypatch.setattr(draws, "_seed_state", None)
    if min(words) < 0:
        with pytest.raises(ValueError):
            stream(*words)
        return
    expected = np.random.default_rng(list(words))
    got = stream(*words)
    assert got.random(8).tolist() == expected.random(8).tolist()
    assert got.integers(0, 1000, 5).tolist() == expected.integers(0, 1000, 5).tolist()


def test_compiled_ink_blend_paints_numpy_s_bytes(monkeypatch):
    """textsynth/_lines.c's blend, levels, ramps, tone tables and sensor terms and the numpy and OpenCV steps they
    replace paint the same bytes: box-only ink, ink over the whole canvas (neighbours, specks, shadows), a drifting
    ink row, gradients, light falloff and shadow edges, contrast and gamma, every effect, speckle and paper
    texture."""
    compose = pytest.importorskip("textsynth.effects.compose")
    pytest.importorskip("textsynth._lines")
    from textsynth import sensor
    from textsynth.effects import background, light

    configs = [RenderConfig.from_dict({"preset": preset, "n": 30, "seed": 4}) for preset in ("default", "scene")]
    everything = RenderConfig(n=30, seed=5)  # every effect on for every sample: ink over the canvas, ink rows
    for name in EFFECT_BOUNDS:
        setattr(everything.effects, name, Effect(1.0, getattr(everything.effects, name).amount))
    for config in configs + [everything]:
        compiled = [SampleGenerator(config).sample(i)[1] for i in range(30)]
        with monkeypatch.context() as m:
            m.setattr(compose, "_compiled_blend", None)
            m.setattr(compose, "_compiled_levels", None)
            m.setattr(background, "_compiled_ramp", None)
            m.setattr(light, "_compiled_tone_table", None)
            m.setattr(sensor, "_lines", None)
            plain = [SampleGenerator(config).sample(i)[1] for i in range(30)]
        assert all(np.array_equal(a, b) for a, b in zip(compiled, plain))


def test_compiled_tone_tables_are_numpy_s(monkeypatch):
    # contrast and gamma over their whole bounds (float32 values, as records hold them), either one neutral, and
    # values whose levels round at a half or saturate: the compiled table is numpy's, level for level
    from types import SimpleNamespace

    from textsynth.effects import light

    if light._compiled_tone_table is None:
        pytest.skip("textsynth._lines is not built")
    rng = np.random.default_rng(3)
    pairs = list(zip(rng.uniform(0.2, 2.0, 3000).astype(np.float32).tolist(),
                     rng.uniform(0.3, 3.0, 3000).astype(np.float32).tolist()))
    pairs += [(c, 1.0) for c, _ in pairs[:500]] + [(1.0, g) for _, g in pairs[:500]] + [(2.0, 1.0), (0.2, 3.0)]
    records = [SimpleNamespace(contrast=c, gamma=g) for c, g in pairs]
    compiled = [light.tone_table(p) for p in records]
    monkeypatch.setattr(light, "_compiled_tone_table", None)
    assert all(np.array_equal(a, light.tone_table(p)) for a, p in zip(compiled, records))
    assert compiled[-2][0] == 0 and compiled[-2][255] == 255  # contrast 2 saturates both ends


def test_compiled_levels_round_as_opencv_does():
    # the float canvas to uint8: negatives 0, ties to even, saturation, and OpenCV's answer for NaN and infinities
    compose = pytest.importorskip("textsynth.effects.compose")
    if compose._compiled_levels is None:
        pytest.skip("textsynth._lines is not built")
    import cv2

    rng = np.random.default_rng(0)
    edges = np.array([0.5, 1.5, 2.5, -0.5, 254.5, 255.5, 255.49998, 256, -0.0, 0.0, np.nan, np.inf, -np.inf, 2**31,
                      1e20, -1e20, 0.49999997, 100.5, 101.5, 1e-30], np.float32)
    for _ in range(20):
        canvas = (rng.standard_normal((64, 512)) * rng.uniform(1, 400) + rng.uniform(-100, 300)).astype(np.float32)
        canvas.flat[:len(edges)] = edges
        opencv = cv2.convertScaleAbs(cv2.threshold(canvas, 0, 0, cv2.THRESH_TOZERO)[1])
        assert np.array_equal(compose._levels(canvas), opencv)
