import numpy as np
import pytest

from textsynth import RenderConfig, SampleGenerator, TextsynthError
from textsynth.paint import TextDoesNotFit


def clean_config(**augment) -> RenderConfig:
    cfg = RenderConfig(n=1)
    cfg.augment.noise = 0.0
    cfg.effects.enabled = False  # only the classic augmentations under test
    for k, v in augment.items():
        setattr(cfg.augment, k, v)
    return cfg


def test_default_sample_shape_and_polarity():
    gen = SampleGenerator(RenderConfig(n=1))
    for i in range(30):
        params, image = gen.sample(i)
        assert image.shape == (64, 512) and image.dtype == np.uint8
        paper = np.median(image)
        if params.inverted:  # light ink on dark paper, and recorded as such
            assert image.max() > paper + 40
        else:  # dark ink on light paper
            assert image.min() < paper - 40


def test_rotated_ink_stays_inside_the_canvas():
    cfg = clean_config(max_angle=12.0, blur=1.0)
    gen = SampleGenerator(cfg)
    m = cfg.canvas.margin
    for i in range(300):
        p, img = gen.sample(i)
        border = np.concatenate([img[:m].ravel(), img[-m:].ravel(), img[:, :m].ravel(), img[:, -m:].ravel()])
        assert np.all(border == p.background), f"sample {i} ({p.text!r}, angle {p.angle}) touches the edge"
        assert (img < p.background).sum() > 20  # and there is ink


def test_flipped_sample_flipped_back_equals_the_unflipped_sample():
    gen = SampleGenerator(RenderConfig(n=1))
    p = gen.params(3).replace(mirror=False, upside_down=False)
    plain = gen.painter.paint(p, sensor=False)  # the sensor stage (speckle, paper texture) comes after the flips
    assert np.array_equal(gen.painter.paint(p.replace(mirror=True), sensor=False)[:, ::-1], plain)
    assert np.array_equal(gen.painter.paint(p.replace(upside_down=True), sensor=False)[::-1, ::-1], plain)


def test_flip_probabilities_are_recorded_in_params():
    cfg = RenderConfig(n=1)
    cfg.augment.mirror, cfg.augment.upside_down = 0.5, 0.5
    gen = SampleGenerator(cfg)
    flags = [(p.mirror, p.upside_down) for p in (gen.params(i) for i in range(400))]
    mirrors = sum(m for m, _ in flags)
    turns = sum(u for _, u in flags)
    assert 140 < mirrors < 260 and 140 < turns < 260


def test_same_seed_and_index_give_identical_samples_in_separate_generators():
    a = SampleGenerator(RenderConfig(n=1, seed=7))
    b = SampleGenerator(RenderConfig(n=1, seed=7))
    for i in (0, 5, 12345):
        pa, ia = a.sample(i)
        pb, ib = b.sample(i)
        assert pa == pb and np.array_equal(ia, ib)
    assert not np.array_equal(a.sample(0)[1], SampleGenerator(RenderConfig(n=1, seed=8)).sample(0)[1])


def test_a_sample_replays_from_its_record_alone():
    gen = SampleGenerator(RenderConfig(n=1))
    records = [gen.sample(i) for i in range(20)]
    fresh = SampleGenerator(RenderConfig(n=1))
    for p, img in reversed(records):  # other order, no memo: the record is all it takes
        assert np.array_equal(fresh.painter.paint(p), img)


def test_fixed_text_too_long_for_the_canvas_is_an_error_not_a_clipped_image():
    gen = SampleGenerator(RenderConfig(n=1))
    with pytest.raises(TextDoesNotFit, match="does not fit a 512x64 canvas"):
        gen.painter.sample_params(np.random.default_rng(0), "W" * 60)


def test_random_text_that_can_never_fit_is_a_config_error():
    cfg = RenderConfig(n=1)
    cfg.canvas.width = 64
    cfg.text.min_len, cfg.text.max_len = 30, 40
    with pytest.raises(TextsynthError, match="lower --max-len or widen the canvas"):
        SampleGenerator(cfg).params(0)


def test_sample_command_writes_a_contact_sheet(run_cli, tmp_path):
    code, out, err = run_cli("sample", "--n", "4", "--out", tmp_path / "sheet.png")
    assert code == 0, err
    from PIL import Image

    sheet = Image.open(tmp_path / "sheet.png")
    assert sheet.width > 2 * 512 and sheet.height > 2 * 64
