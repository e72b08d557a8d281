"""Hostile datasets (issue 13): HDF5 links, virtual and external storage that lead outside the folder, memory and
CPU bombs, damaged files and manifests; every entry point gives one clear error and reads nothing outside."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import REPO, small_config

from textsynth import Charset, TextsynthError, open_dataset
from textsynth.errors import DatasetError
from textsynth.export import export_folder
from textsynth.fileio import file_sha256
from textsynth.manifest import MANIFEST_NAME
from textsynth.pipeline import render
from textsynth.stats import describe
from textsynth.verify import verify_dataset

SHARD = "shard-00000.h5"
MEMORY_LIMIT = 1 << 30


def tiny_config(**changes):
    # format 1 (raw or gzip images): the hostile edits below replace its images; format 3's own hostile shards
    # are in test_sensor_storage.py
    cfg = small_config(n=8, output__shard_size=4, **{"output__compression": "none", **changes})
    cfg.canvas.width, cfg.canvas.height = 48, 16
    cfg.text.min_len, cfg.text.max_len = 2, 4
    return cfg


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """8 samples, 48x16, in two shards of 4: the base every hostile dataset is made from."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    render(tiny_config(), out, progress=False)
    return out


def reseal(root: Path) -> None:
    """Rewrite each shard's sha256 and size in the manifest, as an attacker would."""
    data = json.loads((root / MANIFEST_NAME).read_text())
    for s in data["shards"]:
        s["sha256"], s["bytes"] = file_sha256(root / s["file"]), (root / s["file"]).stat().st_size
    (root / MANIFEST_NAME).write_text(json.dumps(data))


def edit_manifest(root: Path, change) -> None:
    data = json.loads((root / MANIFEST_NAME).read_text())
    change(data)
    (root / MANIFEST_NAME).write_text(json.dumps(data))


def gzip_bomb(mib: int) -> bytes:
    """A valid zlib stream of `mib` MiB of zeros (~1 KB per MiB), made in milliseconds from one repeated block."""
    zeros, c = bytes(1 << 20), zlib.compressobj(9)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    last = c.compress(zeros) + c.flush(zlib.Z_FINISH)
    n = mib << 20
    return first + block * (mib - 2) + last[:-4] + struct.pack(">I", ((n % 65521) << 16) | 1)


def _replace(f: h5py.File, name: str, **kwargs) -> h5py.Dataset:
    old = f[name]
    shape, dtype = kwargs.pop("shape", old.shape), kwargs.pop("dtype", old.dtype)
    del f[name]
    return f.create_dataset(name, shape, dtype, **kwargs)


def _set_label(f, row, col, value=None, length=None):
    if value is not None:
        f["labels"][row, col] = value
    if length is not None:
        f["label_length"][row] = length


def _bad_text(f):
    space = f["text"].id.get_space()
    space.select_hyperslab((1,), (1,))
    raw = np.array([b"\xff\xfe"], dtype=f"S{f['text'].dtype.itemsize}")
    f["text"].id.write(h5py.h5s.create_simple((1,)), space, raw, mtype=f["text"].id.get_type())


def _vds(f, target):
    shape = f["images"].shape
    layout = h5py.VirtualLayout(shape, np.uint8)
    layout[:] = h5py.VirtualSource(str(target), "images", shape)
    del f["images"]
    f.create_virtual_dataset("images", layout)


def _unknown_filter(f):
    shape = f["images"].shape
    del f["images"]
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(shape)
    dcpl.set_filter(32004, h5py.h5z.FLAG_OPTIONAL, (0,))  # lz4: a plugin this HDF5 does not have
    h5py.h5d.create(f.id, b"images", h5py.h5t.NATIVE_UINT8, h5py.h5s.create_simple(shape), dcpl=dcpl)


def _chunk_bomb(f):
    data = f["images"][:]
    images = _replace(f, "images", chunks=data.shape, compression="gzip")
    images[:] = data
    images.id.write_direct_chunk((0, 0, 0), gzip_bomb(2048))  # 2 GiB of zeros in 2.1 MB


def _small_chunk_bomb(f):
    """A chunk no larger than gzip could ever make it that still inflates to 3 MiB: stopped while inflating."""
    data = f["images"][:]
    images = _replace(f, "images", chunks=data.shape, compression="gzip")
    images[:] = data
    images.id.write_direct_chunk((0, 0, 0), gzip_bomb(3))


def _soft_to_external(f, target):
    f["evil"] = h5py.ExternalLink(str(target), "/labels")
    del f["labels"]
    f["labels"] = h5py.SoftLink("/evil")


def _params_external(f, target):
    del f["params"]
    f["params"] = h5py.ExternalLink(str(target), "/params")


def _link(name):
    def build(f, target):
        del f[name]
        f[name] = h5py.ExternalLink(str(target), f"/{name}")
    return build


def _external_storage(name, relative):
    def build(f, target):
        old = f[name]
        size = old.nbytes
        place = target.name if relative else str(target)
        _replace(f, name, external=[(place, 0, size)])
    return build


# name -> (build(h5py.File of shard 0, outside FIFO), words the error must contain)
IMAGES_ONLY = {"chunk_bomb_within_size"}  # found when images are read (inspect reads none and may succeed)
SHARD_CASES = {
    "external_link_labels": (_link("labels"), "external link"),
    "external_link_images": (_link("images"), "external link"),
    "external_link_params": (_params_external, "external link"),
    "soft_link_to_external": (_soft_to_external, "soft link"),
    "virtual_images": (_vds, "virtual"),
    "external_storage_absolute": (_external_storage("images", False), "external files"),
    "external_storage_relative": (_external_storage("labels", True), "external files"),
    "unknown_filter": (lambda f, t: _unknown_filter(f), "filter 32004"),
    "shape_bomb_labels": (lambda f, t: _replace(f, "labels", shape=(15000, 100000)), "the manifest implies"),
    "shape_bomb_images": (lambda f, t: _replace(f, "images", shape=(1000, 8192, 8192)), "the manifest implies"),
    "chunk_bomb": (lambda f, t: _chunk_bomb(f), "decompression bomb"),
    "chunk_bomb_within_size": (lambda f, t: _small_chunk_bomb(f), "inflates beyond its declared 3072 bytes"),
    "bad_utf8": (lambda f, t: _bad_text(f), "not valid UTF-8"),
    "format_version_list": (lambda f, t: f.attrs.__setitem__("format_version", [1, 1]), "format_version"),
    "format_version_text": (lambda f, t: f.attrs.__setitem__("format_version", "1"), "format_version"),
    "label_id_999": (lambda f, t: _set_label(f, 1, 0, value=999), "label id 999"),
    "label_id_negative": (lambda f, t: _set_label(f, 1, 0, value=-5), "label id -5"),
    "label_id_blank": (lambda f, t: _set_label(f, 1, 0, value=68), "label id 68"),
    "label_length_negative": (lambda f, t: _set_label(f, 2, 0, length=-3), "label_length -3"),
    "label_length_zero": (lambda f, t: _set_label(f, 2, 0, length=0), "label_length 0"),
    "label_length_too_long": (lambda f, t: _set_label(f, 2, 0, length=5), "label_length 5"),
}


def _sparse_canvas(root: Path) -> None:
    """A manifest claiming a 8192x1024 canvas and shards declaring (unstored) images to match: 64 MiB declared."""
    edit_manifest(root, lambda d: (d.update(width=8192, height=1024), d["config"]["canvas"].update(
        width=8192, height=1024)))
    for shard in ("shard-00000.h5", "shard-00001.h5"):
        with h5py.File(root / shard, "r+") as f:
            _replace(f, "images", shape=(4, 1024, 8192))


def _deep(root: Path) -> None:
    text = (root / MANIFEST_NAME).read_text()
    (root / MANIFEST_NAME).write_text(text[:-1] + ', "deep": ' + "[" * 200_000 + "]" * 200_000 + "}")


def _huge_number(root: Path) -> None:
    text = (root / MANIFEST_NAME).read_text()
    (root / MANIFEST_NAME).write_text(text[:-1] + ', "big": 1' + "0" * 5000 + "}")


# name -> (change the dataset folder, words the error must contain)
MANIFEST_CASES = {
    "sparse_big_canvas": (_sparse_canvas, "declares"),
    "manifest_deep": (_deep, "nested too deeply"),
    "manifest_huge_number": (_huge_number, "not readable JSON"),
    "config_empty": (lambda r: edit_manifest(r, lambda d: d.update(config={})), "config"),
    "config_text_5": (lambda r: edit_manifest(r, lambda d: d["config"].update(text=5)), "config"),
    "fonts_number": (lambda r: edit_manifest(r, lambda d: d.update(fonts=[5])), "fonts[0]"),
    "fonts_empty_object": (lambda r: edit_manifest(r, lambda d: d.update(fonts=[{}])), "fonts[0]"),
    "n_1e10_shard_size_1": (lambda r: edit_manifest(r, lambda d: d.update(n=10**10, shard_size=1)), "field 'n'"),
    "too_many_shards": (lambda r: edit_manifest(r, lambda d: d.update(n=10**9, shard_size=1)), "shard"),
    "manifest_symlink_outside": (lambda r: _symlink_manifest(r), "inside the dataset folder"),
}


def _symlink_manifest(root: Path) -> None:
    outside = root.parent / "outside-manifest.json"
    shutil.move(root / MANIFEST_NAME, outside)
    (root / MANIFEST_NAME).symlink_to(outside)


@pytest.fixture(scope="module")
def hostile(tiny, tmp_path_factory):
    """Every hostile dataset, and what each entry point did with it (one subprocess, 1 GiB address space, run
    from a folder outside the datasets that holds the FIFO every outside reference points at)."""
    base = tmp_path_factory.mktemp("hostile")
    outside = base / "outside"
    outside.mkdir()
    fifo = outside / "outside.fifo"
    os.mkfifo(fifo)  # opening it for reading blocks: a read outside the folder hangs the runner
    cases = []
    for name, (build, _) in SHARD_CASES.items():
        root = base / name
        shutil.copytree(tiny, root)
        with h5py.File(root / SHARD, "r+") as f:
            build(f, fifo)
        reseal(root)
        cases.append((name, str(root)))
    for name, (change, _) in MANIFEST_CASES.items():
        root = base / name
        shutil.copytree(tiny, root)
        change(root)
        if name == "sparse_big_canvas":
            reseal(root)
        cases.append((name, str(root)))
    (base / "cases.json").write_text(json.dumps(cases))

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, str(REPO / "tests" / "hostile_runner.py"), str(base / "cases.json"),
                               str(base / "results.json")], cwd=outside, env=env, preexec_fn=limit,
                              capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired as exc:
        last = (exc.stdout or b"").decode(errors="replace").strip().splitlines()[-1:]
        pytest.fail(f"the runner blocked (a read outside the folder opened the FIFO?) at {last}")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((base / "results.json").read_text())


def _one_line_error(result: dict, *words: str) -> None:
    assert result["code"] == 1, result
    err = result["err"]
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize("name", sorted(SHARD_CASES))
def test_hostile_shard_is_refused_by_every_entry_point(hostile, name):
    results, reason = hostile[name], SHARD_CASES[name][1]
    assert results["open"] == {"ok": True, "value": 8}  # opening reads no shard
    reading_images = name in IMAGES_ONLY
    for op in ("item", "batches", "describe", "export"):
        r = results[op]
        if reading_images and op == "describe":
            assert r == {"ok": True, "value": 8}
            continue
        assert not r["ok"] and r["type"] == "DatasetError", (op, r)
        assert SHARD in r["msg"] and reason in r["msg"], (op, r)
    reports = results["verify_api"]
    assert reports["ok"] and any(rep[0] == SHARD and any(reason in p for p in rep[1:]) for rep in reports["value"])
    for op in ("cli_inspect", "cli_preview", "cli_export"):
        if reading_images and op == "cli_inspect":
            assert results[op]["code"] == 0
            continue
        _one_line_error(results[op], SHARD, reason)
    verify = results["cli_verify"]
    assert verify["code"] == 1 and f"BAD {SHARD}" in verify["out"] and reason in verify["out"], verify
    assert "Traceback" not in verify["err"]


@pytest.mark.parametrize("name", sorted(MANIFEST_CASES))
def test_hostile_manifest_is_refused_by_every_entry_point(hostile, name):
    results, reason = hostile[name], MANIFEST_CASES[name][1]
    if name == "sparse_big_canvas":  # a consistent manifest: the shards are what is refused
        for op in ("item", "batches", "describe", "export"):
            assert not results[op]["ok"] and reason in results[op]["msg"], (op, results[op])
        for op in ("cli_inspect", "cli_preview", "cli_export"):
            _one_line_error(results[op], SHARD, reason)
        assert results["cli_verify"]["code"] == 1 and f"BAD {SHARD}" in results["cli_verify"]["out"]
        return
    r = results["open"]
    assert not r["ok"] and r["type"] == "DatasetError" and reason in r["msg"], r
    for op in ("cli_inspect", "cli_verify", "cli_preview", "cli_export"):
        _one_line_error(results[op], reason)


def test_hostile_datasets_stay_small_in_memory(hostile):
    """All of the above ran in one process limited to 1 GiB of address space; its peak RSS stays small."""
    assert hostile["_peak_rss_mb"] < 400, hostile["_peak_rss_mb"]


def test_relative_external_storage_was_not_resolved_against_the_working_directory(hostile):
    # The runner's working directory held `outside.fifo`, the relative external file: had HDF5 opened it, the
    # runner would have blocked and the fixture failed. Here: the refusal names the external storage.
    assert "external files" in hostile["external_storage_relative"]["item"]["msg"]


def test_huge_charset_is_checked_in_linear_time():
    import time

    symbols = [chr(0x4E00 + k) for k in range(20_000)] + [chr(0x20000 + k) for k in range(30_000)]
    started = time.perf_counter()
    assert len(Charset(symbols)) == 50_000
    assert time.perf_counter() - started < 2


# -- fuzz ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["gzip", "none", "zstd"])
def fuzz_base(tmp_path_factory, request):
    """One shard of 6 samples (16x16): mostly metadata, so most flips hit HDF5 structures."""
    out = tmp_path_factory.mktemp("fuzz") / "ds"
    cfg = small_config(n=6, output__shard_size=6)
    cfg.canvas.width, cfg.canvas.height = 16, 16
    cfg.text.min_len, cfg.text.max_len = 1, 2
    cfg.output.compression = request.param
    render(cfg, out, progress=False)
    return out


def _exercise(root: Path, scratch: Path) -> None:
    ds = open_dataset(root)
    for i in (0, len(ds) - 1):
        ds[i]
    for _ in ds.batches(4, seed=0):
        pass
    verify_dataset(root)
    describe(ds)
    export_folder(ds, scratch, progress=False)


def test_bit_flip_fuzz_raises_only_textsynth_errors(fuzz_base, tmp_path):
    """200 shards per compression with 1-8 random bits flipped (manifest resealed): only TextsynthError escapes."""
    rng = random.Random(13)
    root = tmp_path / "ds"
    shutil.copytree(fuzz_base, root)
    shard = root / "shard-00000.h5"
    pristine = shard.read_bytes()
    manifest = (root / MANIFEST_NAME).read_text()
    outcomes = {"ok": 0, "refused": 0}
    for trial in range(200):
        data = bytearray(pristine)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        shard.write_bytes(bytes(data))
        (root / MANIFEST_NAME).write_text(manifest)
        reseal(root)
        scratch = tmp_path / f"x{trial}"
        try:
            _exercise(root, scratch)
            outcomes["ok"] += 1
        except TextsynthError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
        shutil.rmtree(scratch, ignore_errors=True)
    assert outcomes["refused"] > 20 and sum(outcomes.values()) == 200, outcomes


def test_damaged_shard_from_the_issue_is_one_line(tiny, tmp_path, run_cli):
    root = tmp_path / "ds"
    shutil.copytree(tiny, root)
    data = bytearray((root / SHARD).read_bytes())
    data[172] = 0x97
    (root / SHARD).write_bytes(bytes(data))
    for args in (("verify", root), ("inspect", root), ("preview", root, "--out", tmp_path / "p.png"),
                 ("export", root, "--format", "folder", "--out", tmp_path / "e", "--quiet")):
        code, out, err = run_cli(*args)
        assert code == 1 and "Traceback" not in err, (args, err)
        assert err.count("\n") <= 1
        assert SHARD in out + err


# -- CLI: bad input is one line, exit 2; --debug shows the traceback -----------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["render", "--n", "10", "--workers", "²", "--out", "{tmp}/o"], "workers must be auto or a whole number"),
    (["render", "--n", "10", "--config", "{latin1}", "--out", "{tmp}/o"], "is not UTF-8"),
    (["render", "--n", "10", "--config", "{gray}", "--out", "{tmp}/o"], "background must be two gray levels"),
    (["render", "--n", "1e12", "--out", "{tmp}/o"], "n must be a whole number in 1..1,000,000,000"),
    (["render", "--config", "{huge_n}", "--out", "{tmp}/o"], "n must be a whole number in 1..1,000,000,000"),
    (["render", "--n", "10", "--out", ""], "--out is an empty path"),
    (["sample", "--n", "1e9", "--width", "8192", "--height", "1024", "--out", "{tmp}/s.png"], "--n 1000000000"),
    (["sample", "--n", "1", "--out", "/proc/textsynth-nowhere/p.png"], "cannot write /proc/textsynth-nowhere"),
    (["sample", "--n", "1", "--out", ""], "--out is an empty path"),
    (["preview", "{tiny}", "--out", "/proc/textsynth-nowhere/p.png"], "cannot write /proc/textsynth-nowhere"),
    (["preview", "{tiny}", "--out", ""], "--out is an empty path"),
    (["export", "{tiny}", "--format", "folder", "--out", "{file}"], "exists and is not a folder"),
    (["export", "{tiny}", "--format", "folder", "--out", ""], "--out is an empty path"),
])
def test_bad_cli_input_is_one_line_with_exit_2(tiny, tmp_path, run_cli, args, message):
    (tmp_path / "latin1.toml").write_bytes(b"seed = 1 # caf\xe9\n")
    (tmp_path / "gray.toml").write_text('[augment]\nbackground = ["a", "b"]\n')
    (tmp_path / "huge.toml").write_text("n = 1e99\n")
    (tmp_path / "a-file").write_text("x")
    places = {"tmp": tmp_path, "latin1": tmp_path / "latin1.toml", "gray": tmp_path / "gray.toml",
              "huge_n": tmp_path / "huge.toml", "file": tmp_path / "a-file", "tiny": tiny}
    code, _, err = run_cli(*[a.format(**places) for a in args])
    assert code == 2, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "o").exists()


def test_debug_flag_adds_the_traceback(tmp_path, run_cli):
    code, _, err = run_cli("inspect", tmp_path / "missing")
    assert code == 2 and "Traceback" not in err
    code, _, err = run_cli("inspect", tmp_path / "missing", "--debug")
    assert code == 2 and "Traceback" in err and err.strip().splitlines()[-1].startswith("textsynth: error:")


def test_reference_model_honours_debug(capsys):
    from reference_model.cli import main as reference_main

    assert reference_main(["frobnicate"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert reference_main(["--debug", "frobnicate"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_manifest_with_huge_n_is_refused_quickly_by_verify(tiny, tmp_path, run_cli):
    root = tmp_path / "ds"
    shutil.copytree(tiny, root)
    edit_manifest(root, lambda d: d.update(n=10**9, shard_size=10**4, complete=False))
    code, out, err = run_cli("verify", root)
    assert code == 1 and err.count("\n") == 1, (out, err)


def test_verify_lists_missing_shards_as_ranges(tiny, tmp_path, run_cli):
    root = tmp_path / "ds"
    shutil.copytree(tiny, root)
    edit_manifest(root, lambda d: (d["shards"].pop(), d.update(complete=False)))
    code, out, _ = run_cli("verify", root)
    assert code == 1 and "BAD shard 1: not rendered" in out


# -- crash safety ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("leftover", [".manifest.json.tmp", ".textsynth-write-test-4242",
                                      "shard-00000.h5.4242.partial"])
def test_leftovers_of_a_killed_first_write_do_not_block_the_rerun(tmp_path, leftover):
    out = tmp_path / "ds"
    out.mkdir()
    (out / leftover).write_text("{")  # what a kill during the very first manifest write leaves
    render(tiny_config(), out, progress=False)
    assert open_dataset(out) is not None and not (out / leftover).exists()


def test_kill_during_the_first_manifest_write_then_rerun(tmp_path):
    """The process dies (os._exit, like SIGKILL) right after writing .manifest.json.tmp, before the rename."""
    out = tmp_path / "ds"
    code = ("import os, sys\n"
            "import textsynth.fileio as fio\n"
            "def dying(path, text):\n"
            "    fio.temp_path(path).write_text(text[: len(text) // 2])\n"
            "    os._exit(137)\n"
            "fio.atomic_write_text = dying\n"
            "import textsynth.manifest as m; m.atomic_write_text = dying\n"
            "from textsynth.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    args = ["render", "--n", "8", "--shard-size", "4", "--width", "48", "--height", "16", "--min-len", "2",
            "--max-len", "4", "--workers", "1", "--quiet", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)
    # The lock file stays too (its lock died with the process): neither blocks the rerun.
    assert killed.returncode == 137 and sorted(p.name for p in out.iterdir()) == [".manifest.json.tmp",
                                                                                   ".textsynth.lock"]
    rerun = subprocess.run([sys.executable, "-m", "textsynth", *args], capture_output=True, text=True, env=env,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert len(open_dataset(out)) == 8 and not (out / ".manifest.json.tmp").exists()


def test_a_foreign_file_still_blocks_a_render(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(TextsynthError, match="not empty and holds no textsynth dataset"):
        render(tiny_config(), out, progress=False)


def _render_limited(out: Path, limit: int, *, no_reserve: bool = False, workers: int = 1):
    """`textsynth render` with a file size limit (SIGXFSZ ignored, so writes fail with EFBIG like a full disk).
    no_reserve: as on a file system without fallocate, HDF5 itself meets the limit mid-shard."""
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
            + ("import textsynth.shards as s; s.reserve_space = lambda path, n: None\n" if no_reserve else "")
            + "from textsynth.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    args = ["render", "--n", "300", "--shard-size", "100", "--width", "128", "--height", "32", "--workers",
            str(workers), "--seed", "5", "--quiet", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def _assert_write_failure(done: subprocess.CompletedProcess, shard: str) -> None:
    assert done.returncode == 1, (done.returncode, done.stderr)  # not 139: HDF5 never crashes
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"cannot write {shard}" in done.stderr and "run the same command again" in done.stderr


@pytest.fixture(scope="module")
def whole_render(tmp_path_factory):
    if not hasattr(signal, "SIGXFSZ"):
        pytest.skip("no RLIMIT_FSIZE/SIGXFSZ on this platform: cannot simulate a full disk")
    whole = tmp_path_factory.mktemp("whole") / "ds"
    done = _render_limited(whole, resource.RLIM_INFINITY)
    assert done.returncode == 0, done.stderr
    return whole


def _same_shards(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.glob("shard-*.h5"))
    assert names == sorted(p.name for p in b.glob("shard-*.h5")) and len(names) == 3
    for name in names:
        assert file_sha256(a / name) == file_sha256(b / name)


@pytest.mark.parametrize("no_reserve, workers", [(False, 1), (False, 2), (True, 1)])
def test_disk_full_is_one_line_and_the_render_resumes_identically(whole_render, tmp_path, no_reserve, workers):
    out = tmp_path / "full"
    _assert_write_failure(_render_limited(out, 300_000, no_reserve=no_reserve, workers=workers), "shard-0000")
    assert not out.exists() or not list(out.glob("*.partial"))
    again = _render_limited(out, resource.RLIM_INFINITY)
    assert again.returncode == 0, again.stderr
    _same_shards(whole_render, out)


def test_disk_full_during_a_resume_keeps_the_finished_shards(whole_render, tmp_path):
    out = tmp_path / "resume"
    shutil.copytree(whole_render, out)
    victim = out / "shard-00001.h5"
    victim.write_bytes(victim.read_bytes()[:1000])  # damaged: rendered again on resume
    _assert_write_failure(_render_limited(out, 300_000), "shard-00001.h5")
    listed = [s["file"] for s in json.loads((out / MANIFEST_NAME).read_text())["shards"]]
    assert listed == ["shard-00000.h5", "shard-00002.h5"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("shard")) == listed
    assert _render_limited(out, resource.RLIM_INFINITY).returncode == 0
    _same_shards(whole_render, out)


def test_size_estimate_is_an_upper_bound(tmp_path):
    from textsynth.pipeline import estimate_bytes

    cfg = small_config(n=300, output__shard_size=100)
    for compression in ("none", "gzip", "zstd"):
        cfg.output.compression = compression
        out = tmp_path / compression
        result = render(cfg, out, progress=False)
        written = sum(p.stat().st_size for p in out.iterdir())
        assert written <= estimate_bytes(cfg, Charset.default(), [100, 100, 100])
        assert result.manifest.complete


def test_failed_render_leaves_no_partial_or_unlisted_shard(tmp_path, monkeypatch):
    from textsynth.generator import SampleGenerator

    params = SampleGenerator.params

    def failing(self, index):  # sample 238 can never fit: the render stops in the middle of shard 4
        if index == 238:
            raise TextsynthError("no text of 4-30 characters fits the canvas")
        return params(self, index)

    monkeypatch.setattr(SampleGenerator, "params", failing)
    cfg = small_config(n=400, seed=2, output__shard_size=50)
    out = tmp_path / "ds"
    with pytest.raises(TextsynthError, match="no text of"):
        render(cfg, out, progress=False)
    listed = {s["file"] for s in json.loads((out / MANIFEST_NAME).read_text())["shards"]}
    assert {p.name for p in out.glob("shard-*")} == listed and len(listed) == 4


def test_dataset_error_is_a_textsynth_error():
    assert issubclass(DatasetError, TextsynthError) and DatasetError.exit_code == 1
