"""Format 3 (`--compression zstd`, the default): the lines stored before their sensor stage read back as exactly
the painter's pixels, old and new shards mix, and hostile format 3 shards are refused with one line."""

from __future__ import annotations

import json
import re
import shutil

import h5py
import numpy as np
import pytest
import zstandard
from conftest import small_config
from test_untrusted import reseal

from textsynth import SampleGenerator, TextsynthError, open_dataset
from textsynth.export import export_folder
from textsynth.manifest import MANIFEST_NAME
from textsynth.pipeline import render
from textsynth.presets import preset_names
from textsynth.sensor import Sensor
from textsynth.verify import verify_dataset


def _images(root) -> np.ndarray:
    with open_dataset(root) as ds:
        return np.concatenate([b["images"] for b in ds.batches(16, shuffle=False)])


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same 16 default samples rendered as format 1 (raw pixels) and format 3 (zstd) shards."""
    base = tmp_path_factory.mktemp("pair3")
    out = {}
    for storage in ("none", "zstd"):
        out[storage] = base / storage
        render(small_config(n=16, output__shard_size=8, output__compression=storage), out[storage], progress=False)
    return out


@pytest.mark.parametrize("preset", preset_names())
def test_zstd_shards_read_the_painters_pixels(preset, tmp_path):
    """Every preset: stored-and-read pixels equal the painter's (replayed from the record), batch and sample."""
    cfg = small_config(preset, n=70, output__shard_size=35, output__compression="zstd")
    render(cfg, tmp_path / "z", progress=False)
    gen = SampleGenerator(cfg)
    painted = np.stack([gen.sample(i)[1] for i in range(70)])
    assert np.array_equal(_images(tmp_path / "z"), painted)
    with open_dataset(tmp_path / "z") as ds:
        assert np.array_equal(ds[69].image, painted[69])  # the short last chunk of a shard
        batch = next(ds.batches(70, shuffle=True, seed=3))
        assert np.array_equal(batch["images"], painted[batch["index"]])


def test_the_sensor_stage_is_what_the_painter_adds_last():
    cfg = small_config(n=40)
    gen, sensor = SampleGenerator(cfg), Sensor(cfg.canvas.width, cfg.canvas.height, cfg.seed)
    touched = 0
    for i in range(40):
        p = gen.params(i)
        line = gen.painter.paint(p, sensor=False)
        touched += not np.array_equal(line, gen.painter.paint(p))
        sensor.add(line, (p.noise_level, p.noise_row, p.noise_col), (p.paper, p.paper_row, p.paper_col), p.width)
        assert np.array_equal(line, gen.painter.paint(p))
    assert touched > 30  # the default's speckle touches nearly every line


def test_compiled_and_numpy_decoding_give_the_same_bytes(tmp_path, monkeypatch):
    """textsynth/_lines.c (rows undone, sensor terms added) and the numpy path it replaces read the same pixels:
    variable-width lines (terms on their columns only), every noise level, both terms and neither."""
    from textsynth import sensor, zstd_chunks

    compiled = pytest.importorskip("textsynth._lines")
    cfg = small_config("photo", n=64, output__shard_size=64, canvas__variable_width=True, augment__noise=0.6)
    render(cfg, tmp_path / "z", progress=False)
    fast = _images(tmp_path / "z")
    monkeypatch.setattr(sensor, "_lines", None)
    monkeypatch.setattr(zstd_chunks, "_lines", None)
    slow = _images(tmp_path / "z")
    assert np.array_equal(fast, slow)
    widths = open_dataset(tmp_path / "z").shard_columns(open_dataset(tmp_path / "z").shards[0])["params/width"]
    assert widths.min() < cfg.canvas.width  # the padding columns were exercised
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, (3, 8, 40), dtype=np.uint8)
    assert np.array_equal(zstd_chunks.undo_rows(rows, np.empty_like(rows)),
                          zstd_chunks.undo_rows_numpy(rows, np.empty_like(rows)))
    # The compiled code checks every window against its bank itself: a bad offset is an error, not a stray read.
    line, bank = np.zeros((8, 40), np.uint8), np.zeros((10, 50), np.uint8)
    compiled.add_terms(line, 8, 40, 40, bank, bank, 50, 2 * 50 + 10)  # the last window that fits
    for offset, used in ((2 * 50 + 11, 40), (3 * 50, 40), (-1, 40), (0, 41)):
        with pytest.raises(ValueError):
            compiled.add_terms(line, 8, 40, used, bank, bank, 50, offset)
    with pytest.raises(ValueError):  # a bank of no columns (a division by zero, were it not refused)
        compiled.add_terms(line, 8, 40, 0, bank, bank, 0, 0)
    with pytest.raises(ValueError):
        compiled.undo_rows(rows, np.empty((3, 8, 39), np.uint8), 8, 40)


def test_zstd_is_the_default_format_3_and_far_smaller(pair, tmp_path):
    assert small_config().output.compression == "zstd"
    manifest = json.loads((pair["zstd"] / MANIFEST_NAME).read_text())
    assert manifest["format_version"] == 3
    with h5py.File(pair["zstd"] / "shard-00000.h5") as f:
        assert f.attrs["format_version"] == 3 and f["images"].id.get_create_plist().get_filter(0)[0] == 32015
        assert f["labels"].compression == "gzip"
    assert verify_dataset(pair["zstd"])[1] == []
    size = {}
    for storage in ("none", "zstd"):  # 200 lines: HDF5's ~4 KB a chunked column is small beside them
        render(small_config(n=200, output__shard_size=200, output__compression=storage), tmp_path / storage,
               progress=False)
        size[storage] = (tmp_path / storage / "shard-00000.h5").stat().st_size
    assert size["zstd"] * 3 < size["none"]


def test_a_zstd_shard_and_a_raw_shard_read_the_same_samples(pair, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(pair["zstd"], mixed)
    shutil.copy(pair["none"] / "shard-00001.h5", mixed / "shard-00001.h5")
    reseal(mixed)
    assert np.array_equal(_images(mixed), _images(pair["none"]))
    assert verify_dataset(mixed)[1] == []


def test_export_writes_the_exact_pixels(pair, tmp_path):
    with open_dataset(pair["zstd"]) as ds:
        export_folder(ds, tmp_path / "folder", progress=False)
    from PIL import Image

    first = sorted((tmp_path / "folder").rglob("*.png"))[0]
    assert any(np.array_equal(np.asarray(Image.open(first)), im) for im in _images(pair["none"]))


def test_the_cards_plain_h5py_code_reads_the_exact_pixels(pair, monkeypatch):
    card = (pair["zstd"] / "README.md").read_text()
    assert "import hdf5plugin" in card
    monkeypatch.chdir(pair["zstd"])
    namespace: dict = {}
    exec("\n".join(re.findall(r"```python\n(.*?)```", card, re.S)), namespace)  # noqa: S102
    assert np.array_equal(namespace["images"], _images(pair["none"])[:len(namespace["images"])])


def _hostile(pair, tmp_path, change):
    root = tmp_path / "ds"
    shutil.copytree(pair["zstd"], root)
    with h5py.File(root / "shard-00000.h5", "r+") as f:
        change(f)
    reseal(root)
    return root


def _chunk(frame):
    def change(f):
        f["images"].id.write_direct_chunk((0, 0, 0), frame(f["images"].chunks))
    return change


def _claims_huge(chunks):  # a valid frame whose header declares 64 times the chunk's bytes
    return zstandard.ZstdCompressor().compress(bytes(int(np.prod(chunks)) * 64))


def _gzip_images(f):
    data = f["images"][:]
    del f["images"]
    f.create_dataset("images", data=data, chunks=(8, 32, 256), compression="gzip")


def _set(name, value, which=0):
    def change(f):
        column = f[name][:]
        column[which] = value
        f[name][:] = column
    return change


def _first_paper(f):
    return int(np.flatnonzero(f["params/paper"][:] > 0)[0])


def _set_paper(name, value):
    return lambda f: _set(name, value, _first_paper(f))(f)


HOSTILE = {
    "frame declaring a huge size": (_chunk(_claims_huge), "a decompression bomb"),
    "codec not allowed": (_gzip_images, "does not allow"),
    "noise row outside the bank": (_set("params/noise_row", 10**6), "outside its bank"),
    "noise col outside the bank": (_set("params/noise_col", -1), "outside its bank"),
    "noise level not finite": (_set("params/noise_level", np.nan), "noise_level nan"),
    "paper col outside the bank": (_set_paper("params/paper_col", 10**6), "outside its bank"),
    "paper amount too large": (_set_paper("params/paper", 1e9), "is outside [0, 40.0]"),
    "line width 0": (_set("params/width", 0), "width 0 is outside"),
    "another noise bank": (lambda f: f.attrs.modify("noise_bank_sha256", "0" * 64), "noise_bank"),
    "another paper bank": (lambda f: f.attrs.modify("paper_bank_sha256", "0" * 64), "paper_bank"),
    "no bank fingerprint": (lambda f: f.attrs.__delitem__("paper_bank_sha256"), "needs attribute paper_bank_sha256"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_zstd_shard_is_refused_with_one_line(pair, tmp_path, name):
    change, why = HOSTILE[name]
    root = _hostile(pair, tmp_path, change)
    with pytest.raises(TextsynthError) as exc:
        with open_dataset(root) as ds:
            for _ in ds.batches(4):
                pass
    assert why in str(exc.value) and "\n" not in str(exc.value)
    problems = [p for r in verify_dataset(root)[1] for p in r.problems]
    assert any(why in p for p in problems), problems


def test_a_frame_without_its_size_is_refused_before_inflating(pair, tmp_path):
    root = _hostile(pair, tmp_path, _chunk(lambda chunks: zstandard.ZstdCompressor(write_content_size=False).compress(
        bytes(int(np.prod(chunks))))))
    with pytest.raises(TextsynthError, match="declares no size") as exc:
        with open_dataset(root) as ds:
            ds[0]
    assert "\n" not in str(exc.value)


def test_a_gzip_column_chunk_over_the_bound_is_refused(pair, monkeypatch):
    """What a hostile gzip chunk of a small column can inflate to before HDF5 notices is bounded by its size."""
    monkeypatch.setattr("textsynth.shard_safety.COLUMN_CHUNK_BYTES", 64)
    with pytest.raises(TextsynthError, match="labels has gzip chunks of .* at most 64 are allowed"):
        with open_dataset(pair["zstd"]) as ds:
            ds[0]
