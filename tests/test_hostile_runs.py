"""A run folder, an evaluation set or an image from anyone: every bad one is one line naming it, with a bounded
cost, never a crash or a traceback (issue 22's recognizer parts)."""

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest
from conftest import REPO, small_config

pytest.importorskip("tensorflow")

from reference_model import recognizer  # noqa: E402
from reference_model.cli import main as model_main  # noqa: E402
from textsynth.charset import Charset  # noqa: E402


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """An untrained tiny model on 128x32 lines: loading and reading it is all these tests need."""
    import keras

    from reference_model.model import build_model

    run = tmp_path_factory.mktemp("hostile") / "run"
    run.mkdir()
    info = {"charset": list(Charset.default().symbols), "width": 128, "height": 32, "preset": "tiny"}
    (run / recognizer.RUN_INFO).write_text(json.dumps(info))
    keras.utils.set_random_seed(0)
    build_model("tiny", 128, 32, len(Charset.default()) + 1).save(run / recognizer.MODEL_FILE)
    return run


@pytest.fixture(scope="module")
def line_png(tmp_path_factory):
    from PIL import Image

    path = tmp_path_factory.mktemp("hostile") / "line.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 128), dtype=np.uint8)).save(path)
    return path


def _one_line(args, capsys, code=2):
    assert model_main([str(a) for a in args]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err, err
    return err


def _info(run):
    return json.loads((run / recognizer.RUN_INFO).read_text())


RUN_INFO_VARIANTS = {
    "not JSON": lambda info: "{\"charset\": [",
    "a list": lambda info: "[1, 2]",
    "no charset": lambda info: json.dumps({k: v for k, v in info.items() if k != "charset"}),
    "charset a string": lambda info: json.dumps({**info, "charset": "abc"}),
    "charset with numbers": lambda info: json.dumps({**info, "charset": [1, 2, 3]}),
    "charset with duplicates": lambda info: json.dumps({**info, "charset": ["a", "a"]}),
    "width a string": lambda info: json.dumps({**info, "width": "128"}),
    "no height": lambda info: json.dumps({k: v for k, v in info.items() if k != "height"}),
    "width 60000": lambda info: json.dumps({**info, "width": 60000}),
    "height 60000": lambda info: json.dumps({**info, "height": 60000}),
    "size of another model": lambda info: json.dumps({**info, "width": 256}),
}


@pytest.mark.parametrize("variant", RUN_INFO_VARIANTS)
def test_a_malformed_run_json_is_one_line_naming_it(tiny_run, line_png, tmp_path, capsys, variant):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    (run / recognizer.RUN_INFO).write_text(RUN_INFO_VARIANTS[variant](_info(tiny_run)))
    err = _one_line(["predict", "--model", run, line_png], capsys)
    assert str(run / recognizer.RUN_INFO) in err


def _rezip(src, dest, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)


MODEL_VARIANTS = {
    "not a zip": None,
    "no config.json": lambda name, data: None if name == "config.json" else data,
    "config.json not JSON": lambda name, data: b"{oops" if name == "config.json" else data,
    "config.json of another class": lambda name, data: (json.dumps({"class_name": "Nothing", "config": {}}).encode()
                                                        if name == "config.json" else data),
    "weights cut short": lambda name, data: data[:100] if name.endswith(".h5") else data,
    "config.json inflating to 100 MB": lambda name, data: b" " * (100 << 20) if name == "config.json" else data,
}


@pytest.mark.parametrize("variant", MODEL_VARIANTS)
def test_a_malformed_model_keras_is_one_line_naming_it(tiny_run, line_png, tmp_path, capsys, variant):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(tiny_run / recognizer.RUN_INFO, run)
    target = run / recognizer.MODEL_FILE
    if MODEL_VARIANTS[variant] is None:
        target.write_bytes(b"PK\x03\x04 not really a zip")
    else:
        _rezip(tiny_run / recognizer.MODEL_FILE, target, MODEL_VARIANTS[variant])
    assert target.stat().st_size < 3 << 20  # small on disk, whatever it inflates to
    err = _one_line(["predict", "--model", run, line_png], capsys)
    assert str(target) in err


def _png_with_chunk(kind: bytes, payload: bytes) -> bytes:
    """A valid 8x8 grey PNG with one more ancillary chunk before its image data."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), 200).save(buf, format="PNG")
    png = buf.getvalue()
    chunk = len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


@pytest.mark.parametrize("kind", [b"zTXt", b"iCCP"])
def test_a_png_whose_chunk_inflates_to_50_mb_is_one_line(tiny_run, tmp_path, capsys, kind):
    bomb = zlib.compress(b"\0" * (50 << 20), 9)
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_with_chunk(kind, b"profile\0\0" + bomb))
    assert path.stat().st_size < 1 << 20
    err = _one_line(["predict", "--model", tiny_run, path], capsys)
    assert str(path) in err


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    from textsynth.pipeline import render

    out = tmp_path_factory.mktemp("hostile") / "ds"
    cfg = small_config(n=12, output__shard_size=12)
    cfg.canvas.width, cfg.canvas.height = 128, 32
    render(cfg, out, progress=False)
    return out


@pytest.mark.parametrize("damage", ["font_id 999", "no fonts"])
def test_a_dataset_with_a_font_id_past_its_fonts_is_one_line(tiny_run, small_dataset, tmp_path, capsys, damage):
    import h5py

    data = shutil.copytree(small_dataset, tmp_path / "ds")
    manifest = json.loads((data / "manifest.json").read_text())
    if damage == "no fonts":
        manifest["fonts"] = []
        (data / "manifest.json").write_text(json.dumps(manifest))
    else:
        with h5py.File(data / manifest["shards"][0]["file"], "r+") as f:
            f["params/font_id"][3] = 999
    err = _one_line(["evaluate", "--model", tiny_run, "--data", data], capsys, code=1)
    assert str(data) in err


def _folder(tmp_path, line_png, lines):
    data = tmp_path / "folder"
    (data / "images").mkdir(parents=True)
    shutil.copy(line_png, data / "images" / "a.png")
    (data / "labels.tsv").write_text(lines)
    return data


def test_a_nul_in_a_labels_tsv_name_is_one_line(tiny_run, line_png, tmp_path, capsys):
    data = _folder(tmp_path, line_png, "images/a.png\tabc\nimages/a\0.png\tabc\n")
    err = _one_line(["evaluate", "--model", tiny_run, "--data", data], capsys)
    assert "labels.tsv line 2" in err and "control character" in err


def test_a_labels_tsv_linked_out_of_the_folder_is_refused_unread(tiny_run, line_png, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-TOKEN-1234 no tab here\n")
    data = _folder(tmp_path, line_png, "")
    (data / "labels.tsv").unlink()
    (data / "labels.tsv").symlink_to(secret)
    err = _one_line(["evaluate", "--model", tiny_run, "--data", data], capsys)
    assert "leads outside" in err and "SECRET" not in err


def test_a_million_line_labels_tsv_is_read_only_as_far_as_the_limit(tiny_run, line_png, tmp_path, capsys):
    from reference_model.evaluate import evaluate

    data = _folder(tmp_path, line_png, "images/a.png\tabc\n" * 2 + "images/missing.png\tabc\n" * 1_000_000)
    assert evaluate(tiny_run, data, limit=2)["samples"] == 2
    assert "labels.tsv line 3: image images/missing.png does not exist" in _one_line(
        ["evaluate", "--model", tiny_run, "--data", data], capsys)


# A child that opens each damaged copy and reads every label and image: a bus error there kills only it.
_READ_ALL = """
import sys
from reference_model.sources import open_source
from textsynth.errors import TextsynthError
for path in sys.argv[1:]:
    try:
        source = open_source(path)
        for _ in source.batches(64):
            pass
        print("ok")
    except TextsynthError as exc:
        print(f"error {exc.exit_code} {str(exc).splitlines()[0]}")
"""


def test_a_damaged_lmdb_is_one_line_never_a_crash(small_dataset, tmp_path):
    pytest.importorskip("lmdb")
    import struct

    from textsynth import open_dataset
    from textsynth.export import export_lmdb

    clean = tmp_path / "clean"
    export_lmdb(open_dataset(small_dataset), clean, progress=False)
    raw = (clean / "data.mdb").read_bytes()
    psize = struct.unpack_from("<I", raw, 40)[0]
    variants = []

    def variant(name, data):
        out = tmp_path / name
        out.mkdir()
        (out / "data.mdb").write_bytes(data)
        variants.append(out)

    # the main B-tree's root moved past the end of the file, in both meta pages: mapping it reads beyond the file
    far = bytearray(raw)
    for meta in (0, psize):
        struct.pack_into("<Q", far, meta + 128, 10_000)
        struct.pack_into("<Q", far, meta + 136, 10_000)
    variant("far_root", bytes(far))
    variant("cut", raw[: 3 * psize])
    rng = np.random.default_rng(0)
    for k in range(40):  # one changed byte in a B-tree page
        data = bytearray(raw)
        at = int(rng.integers(2 * psize, len(raw)))
        data[at] ^= int(rng.integers(1, 256))
        variant(f"flip{k}", bytes(data))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _READ_ALL, *map(str, variants)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = done.stdout.splitlines()
    assert len(results) == len(variants)
    assert all(r == "ok" or r.startswith("error 1 ") for r in results), results
    assert results[0].startswith("error 1 ") and "damaged LMDB" in results[0] and str(variants[0]) in results[0]
    assert results[1].startswith("error 1 ")


def test_reference_model_commands_print_no_tensorflow_start_up_logging(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    done = subprocess.run([sys.executable, "-m", "reference_model", "evaluate", "--data", str(tmp_path / "none")],
                          capture_output=True, text=True, env={**env, "PYTHONPATH": str(REPO)}, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"reference_model: error: evaluation data {tmp_path / 'none'} is neither "
                                        "a folder nor a list file"], done.stderr
