import dataclasses
import json
import shutil

import h5py
import numpy as np
import pytest
from conftest import small_config

from textsynth import Painter, SampleGenerator, SampleParams, TextsynthError, open_dataset
from textsynth.manifest import MANIFEST_NAME
from textsynth.pipeline import render


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    """700 samples in shards of 200 (the last holds 100), rendered once for the whole session."""
    out = tmp_path_factory.mktemp("data") / "ds"
    cfg = small_config(n=700, output__shard_size=200)
    cfg.canvas.width = 192
    cfg.text.max_len = 8
    cfg.augment.mirror = 0.3
    render(cfg, out, progress=False)
    return out


@pytest.fixture
def copy_of(dataset_dir, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(dataset_dir, target)
    return target


def edit_manifest(root, change):
    data = json.loads((root / MANIFEST_NAME).read_text())
    change(data)
    (root / MANIFEST_NAME).write_text(json.dumps(data))


def test_round_trip_every_sample_decodes_and_replays(dataset_dir):
    ds = open_dataset(dataset_dir)
    assert len(ds) == 700 and len(ds.shards) == 4 and ds.charset.blank == 68
    painter = Painter(ds.config, __import__("textsynth").FontSet.from_config(ds.config.fonts, ds.charset))
    for i in range(len(ds)):
        s = ds[i]
        assert s.index == i
        assert ds.charset.decode(s.labels) == s.text
        assert s.image.shape == (32, 192)
        if i % 50 == 0:  # the stored record replays the stored pixels
            assert np.array_equal(painter.paint(s.params), s.image)
    assert ds[-1].index == 699
    with pytest.raises(IndexError):
        ds[700]


def test_every_record_field_survives_shard_reader_and_replay(dataset_dir):
    """Each SampleParams field is stored (a params/ column, or the text), read back with its type, and the
    record read back is the one the generator made and paints the stored pixels."""
    ds = open_dataset(dataset_dir)
    fields = {f.name: f for f in dataclasses.fields(SampleParams)}
    with h5py.File(dataset_dir / ds.shards[0].file, "r") as f:
        assert set(f["params"]) | {"text"} == set(fields)
    gen = SampleGenerator(ds.config)
    for i in (0, 1, 199, 200, 450, 699):
        stored, made = ds[i].params, gen.params(i)
        assert stored == made
        for name in fields:
            assert type(getattr(stored, name)) is type(getattr(made, name)), name
        assert np.array_equal(gen.painter.paint(stored), ds[i].image)


def test_shuffled_batches_cover_every_sample_once_and_are_reproducible(dataset_dir):
    ds = open_dataset(dataset_dir)
    epoch0 = list(ds.batches(64, shuffle=True, seed=3))
    seen = np.concatenate([b["index"] for b in epoch0])
    assert sorted(seen.tolist()) == list(range(700))
    assert [len(b["index"]) for b in epoch0].count(64) == 10  # only one partial batch
    again = np.concatenate([b["index"] for b in ds.batches(64, shuffle=True, seed=3)])
    assert np.array_equal(seen, again)
    other = np.concatenate([b["index"] for b in ds.batches(64, shuffle=True, seed=3, epoch=1)])
    assert not np.array_equal(seen, other) and sorted(other.tolist()) == list(range(700))
    assert not np.array_equal(seen, np.arange(700))
    b = epoch0[0]
    assert b["images"].dtype == np.uint8 and b["images"].shape == (64, 32, 192)
    assert b["labels"].shape == (64, 8) and b["labels"].dtype == np.int32
    for k in range(64):  # batch rows belong together
        sample = ds[int(b["index"][k])]
        assert np.array_equal(b["images"][k], sample.image)
        assert np.array_equal(b["labels"][k, :b["label_length"][k]], sample.labels)
        assert np.all(b["labels"][k, b["label_length"][k]:] == -1)


def test_unshuffled_batches_are_in_order_and_drop_remainder_works(dataset_dir):
    ds = open_dataset(dataset_dir)
    order = np.concatenate([b["index"] for b in ds.batches(64, shuffle=False)])
    assert np.array_equal(order, np.arange(700))
    kept = list(ds.batches(64, shuffle=True, drop_remainder=True))
    assert all(len(b["index"]) == 64 for b in kept) and len(kept) == 10


def test_split_is_disjoint_and_complete(dataset_dir):
    ds = open_dataset(dataset_dir)
    train, val = ds.split(0.1)
    assert len(train) == 630 and len(val) == 70
    a = np.concatenate([b["index"] for b in train.batches(50)])
    b = np.concatenate([b["index"] for b in val.batches(50)])
    assert not set(a) & set(b) and sorted(np.concatenate([a, b]).tolist()) == list(range(700))
    train, val = ds.split([3])
    assert len(val) == 100 and len(train) == 600
    assert {r.index for r in val.shards} == {3}
    assert val[0].index == 600


def test_tf_dataset_gives_the_numpy_batches(dataset_dir):
    tf = pytest.importorskip("tensorflow")
    ds = open_dataset(dataset_dir)
    expected = list(ds.batches(64, shuffle=True, seed=5))
    tfds = ds.to_tf_dataset(64, shuffle=True, seed=5)
    assert isinstance(tfds, tf.data.Dataset)
    for ahead in (None, 1, 3):  # however many windows are read ahead: the batches of batches(), in its order
        got = list((tfds if ahead is None else ds.to_tf_dataset(64, shuffle=True, seed=5, parallel=ahead))
                   .as_numpy_iterator())
        assert len(got) == len(expected)
        for a, want in zip(got, expected):
            for key in want:
                assert np.array_equal(a[key], want[key]), key
    second_pass = [tuple(b["index"]) for b in tfds.as_numpy_iterator()]  # a new epoch, a new shuffle
    assert sorted(np.concatenate(second_pass).tolist()) == list(range(700))
    assert second_pass == [tuple(b["index"]) for b in ds.batches(64, shuffle=True, seed=5, epoch=1)]
    with pytest.raises(TextsynthError, match="parallel"):
        ds.to_tf_dataset(64, parallel=0)


def _assert_batch_is_the_samples(ds, batch):
    for image, i in zip(batch["images"], batch["index"]):
        assert np.array_equal(image, ds[int(i)].image), f"sample {i}"


@pytest.mark.parametrize("reader", ["numpy", "tf"])
def test_a_kept_batch_keeps_its_pixels_while_later_windows_reuse_memory(dataset_dir, monkeypatch, reader):
    """The reader recycles a window's memory once nothing refers to it; a batch (or tensor) a caller still holds
    is never written over by a later window, and every batch handed out holds its samples' pixels."""
    from textsynth import read_plan

    monkeypatch.setattr(read_plan, "BLOCK_SAMPLES", 32)
    monkeypatch.setattr(read_plan, "WINDOW_BLOCKS", 2)  # windows of up to 64 samples
    ds = open_dataset(dataset_dir)
    assert len(ds.windows(read_plan.ReadPlan(16, True, 4))) > 10
    if reader == "tf":
        pytest.importorskip("tensorflow")
        batches = ds.to_tf_dataset(16, shuffle=True, seed=4).as_numpy_iterator()
    else:
        batches = ds.batches(16, shuffle=True, seed=4)
    first = next(batches)
    seen = list(first["index"])
    for batch in batches:  # dropped as it goes: its window's memory is free for the next ones
        _assert_batch_is_the_samples(ds, {k: v[:2] for k, v in batch.items()})
        seen += list(batch["index"])
    assert sorted(seen) == list(range(700))
    _assert_batch_is_the_samples(ds, first)


def test_torch_dataloader_with_two_workers_gives_the_numpy_batches(dataset_dir):
    torch = pytest.importorskip("torch")
    ds = open_dataset(dataset_dir)
    ds[0]  # the parent has open handles: workers must not reuse them
    loader = torch.utils.data.DataLoader(ds.to_torch_dataset(64, seed=2), batch_size=None, num_workers=2)
    got = {tuple(b["index"].tolist()): b for b in loader}
    expected = list(ds.batches(64, seed=2))
    assert set(got) == {tuple(b["index"].tolist()) for b in expected}
    for want in expected:
        batch = got[tuple(want["index"].tolist())]
        assert np.array_equal(batch["images"].numpy(), want["images"])
        assert np.array_equal(batch["labels"].numpy(), want["labels"])


def test_verify_names_a_shard_with_a_flipped_image_byte(copy_of, run_cli):
    assert run_cli("verify", copy_of)[0] == 0
    shard = copy_of / "shard-00002.h5"
    with h5py.File(shard, "r") as f:
        offset = f["images"].id.get_chunk_info(0).byte_offset + 1000
    data = bytearray(shard.read_bytes())
    data[offset] ^= 0xFF
    shard.write_bytes(bytes(data))
    code, out, _ = run_cli("verify", copy_of)
    assert code == 1
    assert "BAD shard-00002.h5: sha256 differs" in out
    assert "shard-00000.h5" not in out and "1 of 4 shards" in out


def test_verify_catches_labels_that_disagree_with_the_text(copy_of, run_cli):
    with h5py.File(copy_of / "shard-00001.h5", "r+") as f:
        f["labels"][5, 0] = (f["labels"][5, 0] + 1) % 68
    code, out, _ = run_cli("verify", copy_of)
    assert code == 1 and "sample 205: labels say" in out


def test_lmdb_export_reads_back_equal(dataset_dir, tmp_path, run_cli):
    lmdb = pytest.importorskip("lmdb")
    from PIL import Image

    code, _, err = run_cli("export", dataset_dir, "--format", "lmdb", "--out", tmp_path / "lmdb", "--quiet")
    assert code == 0, err
    ds = open_dataset(dataset_dir)
    env = lmdb.open(str(tmp_path / "lmdb"), readonly=True, lock=False)
    with env.begin() as txn:
        assert int(txn.get(b"num-samples")) == 700
        for i in (0, 199, 200, 699):
            assert txn.get(b"label-%09d" % (i + 1)).decode() == ds[i].text
            image = np.asarray(Image.open(__import__("io").BytesIO(txn.get(b"image-%09d" % (i + 1)))))
            assert np.array_equal(image, ds[i].image)
        assert txn.get(b"image-%09d" % 0) is None and txn.get(b"image-%09d" % 701) is None


def test_folder_export_writes_pngs_and_labels(dataset_dir, tmp_path, run_cli):
    from PIL import Image

    code, _, err = run_cli("export", dataset_dir, "--format", "folder", "--out", tmp_path / "png", "--quiet")
    assert code == 0, err
    rows = (tmp_path / "png" / "labels.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 700
    path, label = rows[650].split("\t")
    ds = open_dataset(dataset_dir)
    assert label == ds[650].text
    assert np.array_equal(np.asarray(Image.open(tmp_path / "png" / path)), ds[650].image)


def test_inspect_and_preview(dataset_dir, tmp_path, run_cli):
    code, out, _ = run_cli("inspect", dataset_dir, "--json")
    d = json.loads(out)
    assert code == 0 and d["samples"] == 700 and d["shards"] == 4 and d["image_size"] == [32, 192]
    assert sum(d["label_lengths"].values()) == 700 and sum(d["fonts"].values()) == 700
    assert 0 < d["flips"]["mirror"] < 700 and d["flips"]["upside_down"] == 0
    code, out, _ = run_cli("inspect", dataset_dir)
    assert "label length histogram" in out
    code, out, err = run_cli("preview", dataset_dir, "--out", tmp_path / "p.png", "--n", "6", "--random")
    assert code == 0 and (tmp_path / "p.png").exists(), err


@pytest.mark.parametrize("change, message", [
    (lambda d: d["shards"][0].update(file="../outside.h5"), "must be a plain shard file name"),
    (lambda d: d["shards"][0].update(file="/etc/passwd"), "must be a plain shard file name"),
    (lambda d: d["shards"][0].update(count=10**12), "shards[0].count"),
    (lambda d: d.update(n=10**12), "field 'n' must be <="),
    (lambda d: d.pop("charset"), "field 'charset' is missing"),
    (lambda d: d.update(width="wide"), "field 'width' must be int"),
    (lambda d: d.update(format_version=7), "format_version"),
])
def test_hostile_or_malformed_manifests_are_refused(copy_of, change, message):
    edit_manifest(copy_of, change)
    with pytest.raises(TextsynthError) as err:
        open_dataset(copy_of)
    assert message in str(err.value)


def test_symlinked_shard_leading_outside_is_refused(copy_of, tmp_path):
    outside = tmp_path / "elsewhere.h5"
    shutil.move(copy_of / "shard-00001.h5", outside)
    (copy_of / "shard-00001.h5").symlink_to(outside)
    with pytest.raises(TextsynthError, match="leads outside the dataset folder"):
        open_dataset(copy_of)


def test_shard_whose_arrays_disagree_with_the_manifest_is_refused_before_reading(copy_of):
    edit_manifest(copy_of, lambda d: (d.update(height=1024), d["config"]["canvas"].update(height=1024)))
    ds = open_dataset(copy_of)
    with pytest.raises(TextsynthError, match="images is uint8 .* the manifest implies"):
        ds[0]


def test_unfinished_dataset_needs_consent(copy_of):
    edit_manifest(copy_of, lambda d: (d.update(complete=False), d["shards"].pop()))
    with pytest.raises(TextsynthError, match="unfinished render"):
        open_dataset(copy_of)
    assert len(open_dataset(copy_of, allow_incomplete=True)) == 600
