"""`evaluate` on any labelled lines: textsynth datasets, image folders (labels.tsv, meta.tsv), LMDB; Tesseract;
the shipped weights."""

import json

import numpy as np
import pytest
from conftest import small_config

pytest.importorskip("tensorflow")

from reference_model import recognizer  # noqa: E402
from reference_model.cli import main as model_main  # noqa: E402
from reference_model.evaluate import evaluate  # noqa: E402
from reference_model.model import build_model  # noqa: E402
from reference_model.tesseract import tesseract_binary  # noqa: E402
from textsynth import TextsynthError, open_dataset  # noqa: E402
from textsynth.charset import Charset  # noqa: E402
from textsynth.config import RenderConfig  # noqa: E402
from textsynth.export import export_folder  # noqa: E402
from textsynth.pipeline import render  # noqa: E402

FIGURES = ("samples", "cer", "exact", "ned", "edits", "chars", "by_length")


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    """40 samples on a 128x32 canvas."""
    out = tmp_path_factory.mktemp("eval") / "shard"
    cfg = small_config(n=40, output__shard_size=25)
    cfg.canvas.width, cfg.canvas.height = 128, 32
    render(cfg, out, progress=False)
    return out


@pytest.fixture(scope="module")
def untrained_run(shard, tmp_path_factory):
    """An untrained tiny model: its (arbitrary) readings are a deterministic function of the pixels, which is all
    that comparing layouts needs, with no training. The first initialization seed whose readings of the shard
    vary is kept (an untrained model often reads every line alike)."""
    import keras

    run = tmp_path_factory.mktemp("eval") / "run"
    run.mkdir()
    info = {"charset": list(Charset.default().symbols), "width": 128, "height": 32, "preset": "tiny"}
    (run / recognizer.RUN_INFO).write_text(json.dumps(info))
    for seed in range(20):
        keras.utils.set_random_seed(seed)
        build_model("tiny", 128, 32, len(Charset.default()) + 1).save(run / recognizer.MODEL_FILE)
        if len({e["hyp"] for e in evaluate(run, shard, batch_size=16)["examples"]}) >= 3:
            break
    return run


@pytest.fixture(scope="module")
def folder(shard, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "folder"
    export_folder(open_dataset(shard), out, progress=False)
    return out


def _copy_folder(folder, dest):
    import shutil

    shutil.copytree(folder, dest)
    return dest


def test_folder_and_lmdb_give_the_figures_of_the_shard(shard, folder, untrained_run, tmp_path):
    pytest.importorskip("lmdb")
    from textsynth.export import export_lmdb

    export_lmdb(open_dataset(shard), tmp_path / "lmdb", progress=False)
    reports = {layout: evaluate(untrained_run, path, batch_size=16)
               for layout, path in (("dataset", shard), ("folder", folder), ("lmdb", tmp_path / "lmdb"))}
    assert {r["layout"] for r in reports.values()} == {"dataset", "folder", "lmdb"}
    hyps = [e["hyp"] for e in reports["dataset"]["examples"]]
    assert len(set(hyps)) >= 3, "the model must read varied text for the comparison to mean anything"
    for key in FIGURES:
        assert reports["folder"][key] == reports["dataset"][key] == reports["lmdb"][key], key
    assert reports["folder"]["examples"] == reports["dataset"]["examples"] == reports["lmdb"]["examples"]
    assert "by_font" in reports["dataset"] and "by_font" not in reports["folder"]


def test_a_meta_column_becomes_a_breakdown(folder, untrained_run, tmp_path, capsys):
    data = _copy_folder(folder, tmp_path / "meta")
    names = [line.split("\t")[0] for line in (data / "labels.tsv").read_text().splitlines()]
    rows = [f"{name}\t{'word' if k % 4 == 0 else 'random'}\tFont {k % 3}" for k, name in enumerate(names)]
    (data / "meta.tsv").write_text("name\tkind\tfamily\n" + "\n".join(reversed(rows)) + "\n")
    report = evaluate(untrained_run, data, limit=30)
    assert report["samples"] == 30
    assert {k: v["samples"] for k, v in report["by_kind"].items()} == {"word": 8, "random": 22}
    assert set(report["by_family"]) == {"Font 0", "Font 1", "Font 2"}
    assert model_main(["evaluate", "--model", str(untrained_run), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "by kind:" in out and "by family:" in out and "Font 2" in out


def _break(data, what):
    labels = data / "labels.tsv"
    lines = labels.read_text().splitlines()
    if what == "missing image":
        (data / lines[4].split("\t")[0]).unlink()
    elif what == "no tab":
        lines[6] = lines[6].replace("\t", " ")
    elif what == "escapes folder":
        lines[1] = "../../etc/passwd\tabc"
    elif what == "not an image":
        (data / lines[3].split("\t")[0]).write_bytes(b"not a png")
    elif what == "meta row missing":
        (data / "meta.tsv").write_text("name\tkind\n" + "".join(f"{ln.split(chr(9))[0]}\tx\n" for ln in lines[1:]))
    elif what == "meta bad line":
        meta = ["name\tkind"] + [f"{ln.split(chr(9))[0]}\tx" for ln in lines]
        meta[5] += "\textra"
        (data / "meta.tsv").write_text("\n".join(meta) + "\n")
    labels.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("what, message", [
    ("missing image", r"labels.tsv line 5: image images/000000004.png does not exist"),
    ("no tab", r"labels.tsv line 7: expected name<TAB>text"),
    ("escapes folder", r"labels.tsv line 2: image path '../../etc/passwd' leads outside the folder"),
    ("not an image", r"labels.tsv line 4: cannot read image: cannot identify image file"),
    ("meta row missing", r"meta.tsv has no row for images/000000000.png \(1 labelled images lack one\)"),
    ("meta bad line", r"meta.tsv line 6: expected 2 tab-separated fields, got 3"),
])
def test_a_bad_folder_is_a_one_line_error(folder, untrained_run, tmp_path, capsys, what, message):
    import re

    data = _copy_folder(folder, tmp_path / "bad")
    _break(data, what)
    assert model_main(["evaluate", "--model", str(untrained_run), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(message, err), err


def test_unknown_layouts_and_missing_weights_are_one_line_errors(untrained_run, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    assert model_main(["evaluate", "--model", str(untrained_run), "--data", str(tmp_path / "empty")]) == 2
    assert "neither a textsynth dataset (manifest.json), an image folder (labels.tsv), a list (gt.txt)" in \
        capsys.readouterr().err
    monkeypatch.setattr(recognizer, "SHIPPED_WEIGHTS", tmp_path / "empty")
    assert model_main(["predict", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no shipped weights in" in err and "pass --model" in err


def _word_folder(out, words):
    from PIL import Image, ImageDraw, ImageFont

    from textsynth.fonts import bundled_fonts_dir

    font = ImageFont.truetype(str(bundled_fonts_dir() / "DejaVuSans.ttf"), 36)
    (out / "images").mkdir(parents=True)
    with open(out / "labels.tsv", "w") as tsv:
        for k, word in enumerate(words):
            image = Image.new("L", (40 + 26 * len(word), 64), 255)
            ImageDraw.Draw(image).text((20, 10), word, font=font, fill=0)
            image.save(out / "images" / f"{k}.png")
            tsv.write(f"images/{k}.png\t{word}\n")
    return out


def test_tesseract_reads_five_clean_words(tmp_path):
    try:
        tesseract_binary()
    except TextsynthError as exc:
        pytest.skip(f"no Tesseract here: {exc}")
    data = _word_folder(tmp_path / "words", ["garden", "Morning", "station", "letter", "window"])
    report = evaluate(None, data, engine="tesseract")
    assert report["engine"] == "tesseract" and report["samples"] == 5
    assert report["cer"] <= 0.05 and report["exact"] >= 0.8, report["examples"]


def test_a_missing_tesseract_names_the_debian_packages(tmp_path, monkeypatch, capsys):
    import shutil

    data = _word_folder(tmp_path / "words", ["garden"])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert model_main(["evaluate", "--engine", "tesseract", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install tesseract-ocr tesseract-ocr-eng" in err


@pytest.mark.skipif(not (recognizer.SHIPPED_WEIGHTS / recognizer.MODEL_FILE).is_file(),
                    reason="reference_model/weights/small/model.keras is not there yet (the trained `small` run "
                           "is committed there at merge)")
def test_the_shipped_weights_read_fresh_default_samples(tmp_path):
    out = tmp_path / "fresh"
    info = json.loads((recognizer.SHIPPED_WEIGHTS / recognizer.RUN_INFO).read_text())
    # fresh samples of the config the weights learnt from, at a seed no documented train or test set uses
    cfg = RenderConfig.from_dict({**info["data_config"], "n": 200, "seed": 20_261_124})
    cfg.output.workers = "1"
    render(cfg, out, progress=False)
    report = evaluate(None, out)
    assert report["samples"] == 200
    # the weights' documented in-distribution CER is 5.4 % greedy, 4.5 % with the language model
    assert report["cer"] < 0.08, report["examples"]
    assert evaluate(None, out, lm=True)["cer"] < 0.07
    image = tmp_path / "line.png"
    from PIL import Image

    Image.fromarray(open_dataset(out)[0].image).save(image)
    assert model_main(["predict", str(image)]) == 0


def test_prepare_image_takes_paths_bytes_and_arrays(tmp_path):
    from PIL import Image

    array = np.random.default_rng(0).integers(0, 256, (40, 300), dtype=np.uint8)
    Image.fromarray(array).save(tmp_path / "a.png")
    from_path = recognizer.prepare_image(tmp_path / "a.png", 128, 32)
    assert from_path.shape == (32, 128)
    assert np.array_equal(from_path, recognizer.prepare_image((tmp_path / "a.png").read_bytes(), 128, 32))
    assert np.array_equal(from_path, recognizer.prepare_image(array, 128, 32))


def test_tune_lm_stores_the_settings_that_evaluate_lm_uses(shard, untrained_run, tmp_path, capsys, monkeypatch):
    import shutil

    import reference_model.evaluate as evaluation
    from reference_model.language_model import LM_FILE, LMSettings

    grid = {"TUNE_WEIGHTS": (0.0, 0.3), "TUNE_BONUSES": (1.0, 2.0), "TUNE_UNIFORMS": (0.2, 0.3)}
    for name, values in grid.items():  # a small grid: an untrained model's flat logits make every beam wide
        monkeypatch.setattr(evaluation, name, values)
    run = shutil.copytree(untrained_run, tmp_path / "run")
    assert model_main(["tune-lm", "--model", str(run), "--data", str(shard), "--limit", "6"]) == 0
    out = capsys.readouterr().out
    assert "greedy decoding: CER" in out and f"-> {run / LM_FILE}" in out and out.count("CER") == 1 + 4 + 1 + 1
    tuned = LMSettings.of_run(run)
    assert (tuned.weight, tuned.bonus, tuned.uniform) in {(w, b, u) for w in grid["TUNE_WEIGHTS"]
                                                          for b in grid["TUNE_BONUSES"] for u in grid["TUNE_UNIFORMS"]}
    report = evaluate(run, shard, limit=6, lm=True)
    assert report["decoder"].startswith(f"beam {tuned.beam_width} + character 5-gram LM (weight {tuned.weight:g}")
    assert model_main(["evaluate", "--engine", "tesseract", "--lm", "--data", str(shard)]) == 2
    assert "--lm is for --engine model" in capsys.readouterr().err
