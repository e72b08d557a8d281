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
    # the weights' documented in-distribution CER (data/test5k-04, 5,000 lines of 0.4's default) is 9.42 %
    # greedy, 8.49 % with the language model; on these 200 lines 12.3 % and 9.6 %
    # (reference_model/weights/small/README.md)
    assert report["cer"] < 0.14, report["examples"]
    assert evaluate(None, out, lm=True)["cer"] < 0.115
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


# --- real data in the formats it comes in: lists, tag files, ICDAR page annotations ---

def _labels(folder):
    return [line.split("\t", 1) for line in (folder / "labels.tsv").read_text().splitlines()]


def _without_labels(folder, dest):
    import shutil

    shutil.copytree(folder / "images", dest / "images")
    return dest


def _pages_of(folder, dest, lines_per_page=10):
    """The folder's crops pasted onto grey pages, each page's boxes in a same-stem .txt (.csv for the first page),
    with one `###` box and one empty transcript that must be skipped."""
    import csv

    from PIL import Image

    rows = _labels(folder)
    dest.mkdir()
    for page, start in enumerate(range(0, len(rows), lines_per_page)):
        chunk = rows[start:start + lines_per_page]
        crops = [Image.open(folder / name) for name, _ in chunk]
        canvas = Image.new("L", (max(c.width for c in crops) + 40, 20 + 50 * len(crops)), 170)
        boxes = []
        for k, ((_, text), crop) in enumerate(zip(chunk, crops)):
            x, y = 20, 10 + 50 * k
            canvas.paste(crop, (x, y))
            boxes.append([x, y, x + crop.width, y, x + crop.width, y + crop.height, x, y + crop.height, text])
        if page == 0:
            boxes.insert(1, [1, 1, 9, 1, 9, 5, 1, 5, "###"])
            boxes.append([2, 2, 8, 2, 8, 6, 2, 6, ""])
        canvas.save(dest / f"page{page}.png")
        with open(dest / f"page{page}.{'csv' if page == 0 else 'txt'}", "w", newline="") as f:
            csv.writer(f).writerows(boxes)
    return dest


def test_lists_tag_files_and_page_folders_give_the_figures_of_the_folder(folder, untrained_run, tmp_path):
    rows = _labels(folder)
    lists = _without_labels(folder, tmp_path / "lists")
    (lists / "gt.txt").write_text("".join(f"{name}\t{text}\n" for name, text in rows))
    (lists / "tags.txt").write_text("".join(f"{name} {text}\n" for name, text in rows))
    pages = _pages_of(folder, tmp_path / "pages")
    want = evaluate(untrained_run, folder, batch_size=16)
    got = {"list": evaluate(untrained_run, lists, batch_size=16),
           "tag file": evaluate(untrained_run, lists / "tags.txt", batch_size=16),
           "pages": evaluate(untrained_run, pages, batch_size=16, crop_margin=0)}
    assert len({e["hyp"] for e in want["examples"]}) >= 3
    for layout, report in got.items():
        for key in FIGURES:
            assert report[key] == want[key], (layout, key)
        assert report["examples"] == want["examples"], layout
    assert got["pages"]["layout"] == "pages"
    assert got["pages"]["skipped"] == {"unreadable (###)": 1, "empty transcript": 1}
    assert want["skipped"] == {}
    from reference_model.sources import open_source

    tight, loose = (next(open_source(pages, crop_margin=m).batches(1))[0] for m in (0, None))
    pad = 2 * round(tight.shape[0] / 8)
    assert loose.shape == (tight.shape[0] + pad, tight.shape[1] + pad)


def _fake_ppocr(monkeypatch, reading):
    from reference_model import ppocr

    class Engine:
        def __call__(self, image, use_det, use_cls, use_rec):
            assert (use_det, use_cls, use_rec) == (False, False, True) and image.dtype == np.uint8
            return [[reading, 0.9]], [0.01]

    monkeypatch.setattr(ppocr, "_engine", lambda: Engine())
    monkeypatch.setattr(ppocr, "ppocr_version", lambda: "fake")


def _relabelled(folder, dest, texts: list[str]):
    """The folder's first len(texts) images as a gt.txt list with these transcripts."""
    data = _without_labels(folder, dest)
    names = [name for name, _ in _labels(folder)[:len(texts)]]
    (data / "gt.txt").write_text("".join(f"{n}\t{t}\n" for n, t in zip(names, texts)))
    return data


def test_ignore_case_folds_case_and_spaces(folder, tmp_path, monkeypatch):
    data = _relabelled(folder, tmp_path / "cased", ["HELLO  World", " hello world", "Hello World", "hello, world"])
    _fake_ppocr(monkeypatch, "hello world")
    kept = evaluate(None, data, engine="ppocr")
    folded = evaluate(None, data, engine="ppocr", ignore_case=True)
    assert kept["exact"] == 0 and kept["case"] == "kept"
    assert folded["exact"] == 0.75 and folded["edits"] == 1 and folded["case"].startswith("ignored")


def test_alphanumeric_scores_letters_and_digits_only(folder, tmp_path, monkeypatch):
    # the scene-word protocol: a word read with a stray dot, quote or space is right; a wrong letter is not
    data = _relabelled(folder, tmp_path / "words", ["HERO", "WEVE", "hero", "HER0"])
    _fake_ppocr(monkeypatch, "'He ro.")
    folded = evaluate(None, data, engine="ppocr", ignore_case=True)
    words = evaluate(None, data, engine="ppocr", alphanumeric=True)
    assert folded["exact"] == 0
    assert words["exact"] == 0.5 and words["edits"] == 3 + 1 and words["case"] == "ignored, letters and digits only"


def test_unknown_characters_are_counted_and_scored_or_skipped(folder, tmp_path, monkeypatch):
    data = _relabelled(folder, tmp_path / "unknown", ["naïve", "naive", "日本"])
    _fake_ppocr(monkeypatch, "naive")
    scored = evaluate(None, data, engine="ppocr")
    skipped = evaluate(None, data, engine="ppocr", skip_unknown=True)
    assert scored["samples"] == 3 and scored["unknown_lines"] == 2 and scored["unknown_policy"] == "scored as they are"
    assert skipped["samples"] == 1 and skipped["exact"] == 1 and skipped["unknown_policy"] == "skipped"
    assert skipped["skipped"] == {"characters outside the charset": 2}


def test_a_column_with_a_value_per_row_gets_no_breakdown(folder, untrained_run, tmp_path):
    data = _copy_folder(folder, tmp_path / "meta")
    rows = _labels(folder)
    (data / "meta.tsv").write_text("name\ttext\tkind\n" + "".join(
        f"{n}\tline {k}\t{'a' if k % 2 else 'b'}\n" for k, (n, _) in enumerate(rows)))
    import reference_model.evaluate as evaluation

    limit = evaluation.MAX_LONE_GROUPS
    try:
        evaluation.MAX_LONE_GROUPS = 10  # the 40-line folder stands for a 1,000-line set
        report = evaluate(untrained_run, data, batch_size=16)
    finally:
        evaluation.MAX_LONE_GROUPS = limit
    assert "by_kind" in report and "by_text" not in report and report["breakdowns_left_out"] == ["text"]


def _rotated_word_page(tmp_path, word="garden", angle=25.0):
    """A clean rendered word rotated by `angle` degrees on a white page, with its box's four corners."""
    from PIL import Image, ImageDraw, ImageFont

    from textsynth.fonts import bundled_fonts_dir

    font = ImageFont.truetype(str(bundled_fonts_dir() / "DejaVuSans.ttf"), 40)
    line = Image.new("L", (40 + 28 * len(word), 64), 255)
    ImageDraw.Draw(line).text((20, 8), word, font=font, fill=0)
    page = Image.new("L", (500, 400), 255)
    page.paste(line, (250 - line.width // 2, 200 - line.height // 2))
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)  # counter-clockwise about the centre
    w, h = line.width, line.height
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    a = np.deg2rad(angle)
    turn = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # image y points down
    corners = corners @ turn.T + [250 - (line.width % 2) / 2, 200 - (line.height % 2) / 2]
    out = tmp_path / "rotated"
    out.mkdir()
    page.save(out / "page.png")
    (out / "page.txt").write_text(",".join(f"{v:.2f}" for v in corners.ravel()) + f",{word}\n")
    return out, np.asarray(line)


def test_a_rotated_box_is_rectified_into_the_upright_line(tmp_path):
    from reference_model.sources import open_source

    data, line = _rotated_word_page(tmp_path)
    crop = next(open_source(data, crop_margin=0).batches(1))[0]
    assert abs(crop.shape[0] - line.shape[0]) <= 1 and abs(crop.shape[1] - line.shape[1]) <= 1
    h, w = min(crop.shape[0], line.shape[0]), min(crop.shape[1], line.shape[1])
    a, b = crop[:h, :w].astype(float), line[:h, :w].astype(float)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9  # the ink lies where the upright line has it
    pytest.importorskip("rapidocr_onnxruntime")
    assert evaluate(None, data, engine="ppocr", ignore_case=True)["exact"] == 1.0


def test_ppocr_reads_clean_words_and_a_missing_package_is_named(tmp_path, monkeypatch, capsys):
    import sys

    data = _word_folder(tmp_path / "words", ["garden", "Morning", "station"])
    if __import__("importlib").util.find_spec("rapidocr_onnxruntime"):
        report = evaluate(None, data, engine="ppocr")
        assert report["samples"] == 3 and report["cer"] <= 0.1, report["examples"]
    from reference_model import ppocr

    ppocr._engine.cache_clear()
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    assert model_main(["evaluate", "--engine", "ppocr", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rapidocr-onnxruntime" in err and "Traceback" not in err
    ppocr._engine.cache_clear()


def _cli_error(args, capsys, code=2):
    assert model_main([str(a) for a in args]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err, err
    return err


def test_hostile_annotations_are_one_line_or_counted(folder, untrained_run, tmp_path, capsys):
    pages = _pages_of(folder, tmp_path / "pages")
    with open(pages / "page1.txt", "a") as f:
        f.write("5000,5000,5100,5000,5100,5040,5000,5040,far away\n-9e9,0,9e9,0,9e9,30,-9e9,30,too wide\n")
    report = evaluate(untrained_run, pages, batch_size=16)
    assert report["skipped"]["outside the page"] == 2 and report["samples"] == 40
    for bad, message in (("1,2,3,4,oops", "expected x1,y1"), ("a,b,c,d,e,f,g,h,text", "must be numbers"),
                         ("inf,0,10,0,10,10,0,10,x", "not a finite number")):
        (pages / "page2.txt").write_text(bad + "\n")
        err = _cli_error(["evaluate", "--model", untrained_run, "--data", pages], capsys)
        assert "page2.txt line 1" in err and message in err
    assert "--crop-margin must be in" in _cli_error(["evaluate", "--model", untrained_run, "--data", pages,
                                                     "--crop-margin", "nan"], capsys)
    lists = _without_labels(folder, tmp_path / "lists")
    (lists / "gt.txt").write_text("images/../../../etc/passwd\troot\n")
    assert "leads outside the folder" in _cli_error(["evaluate", "--model", untrained_run, "--data", lists], capsys)
    # a 10^6-line list: read only as far as --limit needs (every line past the third is malformed)
    name = _labels(folder)[0][0]
    (lists / "gt.txt").write_text(f"{name}\tabc\n" * 3 + "no-tab-or-space-on-this-line\n" * 1_000_000)
    assert evaluate(untrained_run, lists, limit=3)["samples"] == 3
    assert "gt.txt line 4: expected path<TAB>text" in _cli_error(
        ["evaluate", "--model", untrained_run, "--data", lists], capsys)
