"""Per-character boxes: each label character's quadrilateral holds its own glyph's ink through every
geometric effect, follows right-to-left and conjunct shaping, and survives storage, reading and export."""

import json
import shutil
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from conftest import small_config

from textsynth import RenderConfig, SampleGenerator, open_dataset
from textsynth.char_boxes import char_boxes
from textsynth.config import EFFECT_BOUNDS, Effect
from textsynth.effects.compose import orientation_matrix, shape_ink
from textsynth.effects.spec import apply_matrix
from textsynth.errors import DatasetError
from textsynth.fileio import file_sha256
from textsynth.format import CHAR_BOXES
from textsynth.manifest import MANIFEST_NAME
from textsynth.pipeline import render

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
        boxes = np.array(gen.painter.ink_layout(p).boxes).reshape(-1, 4)
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
    mirrored = apply_matrix(orientation_matrix(p.replace(mirror=True), h), upright.astype(np.float64))
    np.testing.assert_allclose(mirrored[..., 0], w - upright[..., 0], atol=1e-4)


# -- storage, reading, export ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def boxed(tmp_path_factory):
    """A small dataset rendered with character boxes, by one worker and by two."""
    base = tmp_path_factory.mktemp("boxed")
    for workers in ("1", "2"):
        render(small_config(n=60, output__shard_size=25, output__workers=workers, output__char_boxes=True,
                            augment__max_angle=5.0, augment__upside_down=0.3), base / workers, progress=False)
    return base / "1", base / "2"


def test_stored_boxes_are_the_replayed_ones_whatever_the_workers(boxed):
    one, two = boxed
    ds = open_dataset(one)
    assert ds.has_char_boxes
    gen = SampleGenerator(ds.config)
    for i in (0, 13, 26, 59):
        sample = ds[i]
        assert sample.char_boxes.shape == (len(sample.labels), 4, 2)
        np.testing.assert_array_equal(sample.char_boxes, char_boxes(gen.painter, gen.params(i)))
    for shard in ds.manifest.shards:
        with h5py.File(one / shard.file) as a, h5py.File(two / shard.file) as b:
            assert a[CHAR_BOXES].shape == (shard.count, ds.max_len, 4, 2)
            np.testing.assert_array_equal(a[CHAR_BOXES][:], b[CHAR_BOXES][:])


def test_batches_carry_boxes_padded_with_nan(boxed):
    ds = open_dataset(boxed[0])
    batch = next(ds.batches(16, shuffle=True, seed=3))
    boxes, lengths = batch[CHAR_BOXES], batch["label_length"]
    assert boxes.shape == (16, ds.max_len, 4, 2)
    for k, index in enumerate(batch["index"]):
        np.testing.assert_array_equal(boxes[k, :lengths[k]], ds[int(index)].char_boxes)
        assert np.isnan(boxes[k, lengths[k]:]).all()


def test_tf_batches_carry_the_boxes(boxed):
    pytest.importorskip("tensorflow")
    ds = open_dataset(boxed[0])
    tf_batch = next(ds.to_tf_dataset(16, shuffle=True, seed=3).as_numpy_iterator())
    np.testing.assert_array_equal(tf_batch[CHAR_BOXES], next(ds.batches(16, shuffle=True, seed=3))[CHAR_BOXES])


def test_a_dataset_without_boxes_says_so(tmp_path, run_cli):
    render(small_config(n=6), tmp_path / "plain", progress=False)
    ds = open_dataset(tmp_path / "plain")
    assert not ds.has_char_boxes and ds[0].char_boxes is None and CHAR_BOXES not in next(ds.batches(4))
    code, _, err = run_cli("preview", tmp_path / "plain", "--boxes", "--out", tmp_path / "p.png")
    assert code != 0 and err.count("\n") == 1 and "--char-boxes" in err


def test_folder_export_writes_synthtiger_coords_and_quads(boxed, tmp_path, run_cli):
    code, _, err = run_cli("export", boxed[0], "--format", "folder", "--out", tmp_path / "out", "--quiet")
    assert code == 0, err
    ds = open_dataset(boxed[0])
    coords = (tmp_path / "out" / "coords.txt").read_text().splitlines()
    quads = [json.loads(line) for line in (tmp_path / "out" / "char_boxes.jsonl").read_text().splitlines()]
    assert len(coords) == len(quads) == len(ds)
    for i in (0, 31):
        sample = ds[i]
        name, *boxes = coords[i].split("\t")
        assert name == quads[i]["image"] == f"images/{i:09d}.png" and quads[i]["text"] == sample.text
        np.testing.assert_allclose(quads[i]["quads"], sample.char_boxes, atol=0.006)
        upright = np.array([[int(v) for v in box.split(",")] for box in boxes])
        assert (upright[:, :2] <= sample.char_boxes.min(axis=1)).all()
        assert (upright[:, 2:] >= sample.char_boxes.max(axis=1)).all()


def test_lmdb_export_holds_the_boxes(boxed, tmp_path, run_cli):
    lmdb = pytest.importorskip("lmdb")
    assert run_cli("export", boxed[0], "--format", "lmdb", "--out", tmp_path / "db", "--quiet")[0] == 0
    sample = open_dataset(boxed[0])[4]
    with lmdb.open(str(tmp_path / "db"), readonly=True, lock=False) as env, env.begin() as txn:
        np.testing.assert_allclose(json.loads(txn.get(b"quads-000000005")), sample.char_boxes, atol=0.006)
        assert len(txn.get(b"coords-000000005").decode().split("\t")) == len(sample.labels)


def _copy(src: Path, dst: Path, change) -> Path:
    shutil.copytree(src, dst)
    manifest = json.loads((dst / MANIFEST_NAME).read_text())
    with h5py.File(dst / manifest["shards"][0]["file"], "r+") as f:
        change(f)
    for s in manifest["shards"]:  # resealed, as an attacker would
        s["sha256"], s["bytes"] = file_sha256(dst / s["file"]), (dst / s["file"]).stat().st_size
    (dst / MANIFEST_NAME).write_text(json.dumps(manifest))
    return dst


def _off_canvas(f):
    f[CHAR_BOXES][2, 0, 1] = [1e6, 3.0]


def _wrong_shape(f):
    del f[CHAR_BOXES]
    f.create_dataset(CHAR_BOXES, (25, 3, 4, 2), np.float32)


def _missing(f):
    del f[CHAR_BOXES]


@pytest.mark.parametrize("change, words", [(_off_canvas, "sample 2: character box 0"),
                                           (_wrong_shape, CHAR_BOXES), (_missing, CHAR_BOXES)])
def test_hostile_boxes_are_refused_in_one_line(boxed, tmp_path, run_cli, change, words):
    root = _copy(boxed[0], tmp_path / "bad", change)
    ds = open_dataset(root)
    with pytest.raises(DatasetError, match=words):
        ds[2]
    code, out, err = run_cli("verify", root)
    assert code == 1 and "BAD shard-00000.h5" in out and words in out, out
    code, _, err = run_cli("preview", root, "--boxes", "--out", tmp_path / "p.png")
    assert code == 1 and err.count("\n") == 1 and words in err and "Traceback" not in err, err


def test_a_render_started_before_boxes_existed_resumes(tmp_path):
    cfg = small_config(n=50, output__shard_size=25)
    render(cfg, tmp_path / "ds", progress=False)
    manifest = json.loads((tmp_path / "ds" / MANIFEST_NAME).read_text())
    del manifest["config"]["output"]["char_boxes"]
    manifest["shards"], manifest["complete"] = manifest["shards"][:1], False
    (tmp_path / "ds" / MANIFEST_NAME).write_text(json.dumps(manifest))
    (tmp_path / "ds" / "shard-00001.h5").unlink()
    render(cfg, tmp_path / "ds", progress=False)
    assert len(open_dataset(tmp_path / "ds")) == 50


def test_char_boxes_flag_sets_the_config(run_cli):
    code, out, _ = run_cli("config", "--char-boxes")
    assert code == 0 and "char_boxes = true" in out
    assert "char_boxes = false" in run_cli("config")[1]


# -- scripts ---------------------------------------------------------------------------------------------


def _language_painter(language: str) -> SampleGenerator:
    return SampleGenerator(RenderConfig.from_dict({"n": 1, "language": language, "preset": "clean"}))


def test_an_arabic_lines_first_character_is_boxed_at_its_right():
    gen = _language_painter("ar")
    for i in range(20):
        p = gen.params(i)
        quads = char_boxes(gen.painter, p)
        letters = [k for k, c in enumerate(p.text) if "\u0621" <= c <= "\u064a"]
        if p.text.split() and all("\u0621" <= c <= "\u064a" for c in p.text.split()[0]) and len(letters) > 1:
            first, last = quads[letters[0]].mean(axis=0), quads[letters[-1]].mean(axis=0)
            assert first[0] > last[0], (p.text, p.mirror)
            return
    pytest.fail("no Arabic line among 20")


def test_a_devanagari_conjunct_keeps_one_box_for_all_its_characters():
    gen = _language_painter("hi")
    font = next(k for k, f in enumerate(gen.fontset.fonts) if "NotoSansDevanagari" in f.name)
    flat: list = []
    gen.painter.layout.text_mask(font, "क्षमा", 40, 0.0, 1.0, flat)
    boxes = np.reshape(flat, (-1, 4))
    assert len(boxes) == 5
    np.testing.assert_array_equal(boxes[0], boxes[1])  # क ् ष: one conjunct glyph
    np.testing.assert_array_equal(boxes[1], boxes[2])
    assert boxes[3][0] >= boxes[2][0]  # म after it
