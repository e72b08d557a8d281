"""Stored forms of the images: the speckle residual reads back exactly, hostile residual shards are refused,
and readers keep a bounded number of shards open."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import REPO, small_config
from test_untrusted import gzip_bomb, reseal

from textsynth import TextsynthError, open_dataset
from textsynth.format import column_bytes_per_sample, param_bytes_per_sample
from textsynth.manifest import MANIFEST_NAME
from textsynth.pipeline import render
from textsynth.presets import preset_names
from textsynth.verify import verify_dataset


def _images(root) -> np.ndarray:
    with open_dataset(root) as ds:
        return np.concatenate([b["images"] for b in ds.batches(16, shuffle=False)])


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same 16 default samples rendered raw and as residual shards."""
    base = tmp_path_factory.mktemp("pair")
    out = {}
    for storage in ("none", "residual"):
        out[storage] = base / storage
        render(small_config(n=16, output__shard_size=8, output__compression=storage), out[storage], progress=False)
    return out


@pytest.mark.parametrize("preset", preset_names())
def test_residual_shards_read_the_painters_pixels(preset, tmp_path):
    raw, residual = tmp_path / "raw", tmp_path / "residual"
    render(small_config(preset, n=12, output__shard_size=6), raw, progress=False)
    render(small_config(preset, n=12, output__shard_size=6, output__compression="residual"), residual, progress=False)
    assert np.array_equal(_images(raw), _images(residual))
    with open_dataset(residual) as ds:
        assert np.array_equal(ds[7].image, _images(raw)[7])
        assert len(ds.to_torch_dataset(4).ds) == 12


def test_residual_shards_are_version_2_and_smaller(pair):
    manifest = json.loads((pair["residual"] / MANIFEST_NAME).read_text())
    assert manifest["format_version"] == 2
    with h5py.File(pair["residual"] / "shard-00000.h5") as f:
        assert f.attrs["format_version"] == 2 and f["images"].compression == "gzip"
    size = {k: sum(p.stat().st_size for p in v.glob("shard-*.h5")) for k, v in pair.items()}
    assert size["residual"] < size["none"]
    assert verify_dataset(pair["residual"])[1] == []


def test_a_residual_shard_and_a_raw_shard_read_the_same_samples(pair, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(pair["residual"], mixed)
    shutil.copy(pair["none"] / "shard-00001.h5", mixed / "shard-00001.h5")
    reseal(mixed)
    assert np.array_equal(_images(mixed), _images(pair["none"]))
    assert verify_dataset(mixed)[1] == []


def _hostile(pair, tmp_path, change):
    root = tmp_path / "ds"
    shutil.copytree(pair["residual"], root)
    with h5py.File(root / "shard-00000.h5", "r+") as f:
        change(f)
    reseal(root)
    return root


def _bomb(f):
    del f["images"]
    d = f.create_dataset("images", (8, 32, 256), np.uint8, chunks=(8, 32, 256), compression="gzip")
    d.id.write_direct_chunk((0, 0, 0), gzip_bomb(64))


def _shuffled_images(f):
    data = f["images"][:]
    del f["images"]
    f.create_dataset("images", data=data, chunks=(8, 32, 256), compression="gzip", shuffle=True)


def _set(name, value):
    def change(f):
        column = f[name][:]
        column[np.flatnonzero(f["speckle_mode"][:])[0]] = value
        f[name][:] = column
    return change


HOSTILE = {
    "chunk bomb": (_bomb, "decompression bomb"),
    "codec not allowed": (_shuffled_images, "does not allow"),
    "noise row outside the bank": (_set("params/noise_row", 10**6), "outside the speckle bank"),
    "noise col outside the bank": (_set("params/noise_col", -1), "outside the speckle bank"),
    "noise level not finite": (_set("params/noise_level", np.nan), "noise_level"),
    "unknown mode": (_set("speckle_mode", 7), "speckle_mode 7"),
    "another bank": (lambda f: f.attrs.modify("speckle_bank_sha256", "0" * 64), "speckle bank"),
    "raw images in a version 2 shard": (
        lambda f: f.create_dataset("x", data=0) and _raw_images(f), "gzip chunks only"),
}


def _raw_images(f):
    data = f["images"][:]
    del f["images"]
    f.create_dataset("images", data=data, chunks=(8, 32, 256))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_residual_shard_is_refused_with_one_line(pair, tmp_path, name):
    change, why = HOSTILE[name]
    root = _hostile(pair, tmp_path, change)
    with pytest.raises(TextsynthError) as exc:
        with open_dataset(root) as ds:
            for _ in ds.batches(4):
                pass
    assert why in str(exc.value) and "\n" not in str(exc.value)
    problems = [p for r in verify_dataset(root)[1] for p in r.problems]
    assert any(why in p for p in problems), problems


def test_150_shards_read_under_a_100_file_limit(tmp_path):
    """inspect, export, shuffled batches and verify keep a bounded set of shards open (issue 22, item 6)."""
    root = tmp_path / "ds"
    cfg = small_config(n=150, output__shard_size=1)
    cfg.canvas.width, cfg.canvas.height = 32, 16
    cfg.text.min_len, cfg.text.max_len = 1, 2
    render(cfg, root, progress=False)
    script = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))
from textsynth import open_dataset
from textsynth.export import export_folder
from textsynth.stats import describe
from textsynth.verify import verify_dataset
ds = open_dataset({str(root)!r})
describe(ds)
n = sum(len(b["index"]) for b in ds.batches(7, shuffle=True, seed=1))
assert n == 150, n
export_folder(ds, {str(tmp_path / "folder")!r}, progress=False)
assert verify_dataset({str(root)!r})[1] == []
print("ok", len(ds._open))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) <= 12


def test_format_doc_states_the_codes_column_bound():
    doc = (REPO / "FORMAT.md").read_text()
    assert f"`8 * max_len + {column_bytes_per_sample(0)}` bytes a sample" in doc
    assert param_bytes_per_sample() + 4 == column_bytes_per_sample(0)


def test_the_cards_plain_h5py_code_reads_a_residual_datasets_exact_pixels(pair, monkeypatch):
    import re

    card = (pair["residual"] / "README.md").read_text()
    monkeypatch.chdir(pair["residual"])
    namespace: dict = {}
    exec("\n".join(re.findall(r"```python\n(.*?)```", card, re.S)), namespace)  # noqa: S102
    assert np.array_equal(namespace["images"], _images(pair["none"])[:len(namespace["images"])])


@pytest.mark.parametrize("held_rows", [100, 300, 10_000])
def test_record_columns_held_in_a_bounded_buffer_are_written_whole(held_rows, tmp_path, monkeypatch):
    # the writer holds record columns and writes them in runs (one at close for a default shard): whatever the
    # buffer's size against the 256-line blocks, the stored columns are the records
    from textsynth import shards
    from textsynth.generator import SampleGenerator
    from textsynth.pipeline import ShardJob, render_shard
    from textsynth.record import PARAM_FIELDS

    monkeypatch.setattr(shards, "COLUMN_ROWS", held_rows)
    config = small_config(n=700, output__shard_size=700)
    gen = SampleGenerator(config)
    render_shard(ShardJob(config.to_dict(), gen.fontset, str(tmp_path), 0, 0, 700))
    records = [gen.params(i) for i in range(700)]
    with h5py.File(tmp_path / "shard-00000.h5") as f:
        for name in PARAM_FIELDS:
            assert f[f"params/{name}"][...].tolist() == [getattr(p, name) for p in records], name
