"""The transfer benchmark's set builders: unseen fonts stay unseen, set 2 builds, degradations are seeded."""

import shutil
import sys

import numpy as np
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO))

from benchmarks.transfer.degrade import Degradation, degrade  # noqa: E402
from benchmarks.transfer.unseen_fonts import (  # noqa: E402
    UNSEEN_FONTS,
    UnseenFont,
    bundled_families,
    checked_unseen_fonts,
    missing_packages,
)
from textsynth import TextsynthError  # noqa: E402


def _fonts_installed_or_skip():
    missing = missing_packages()
    if missing:
        pytest.skip(f"unseen fonts not installed (apt-get install {' '.join(missing)})")


def test_no_unseen_family_is_bundled():
    bundled = bundled_families(REPO / "fonts")
    assert {"dejavu sans", "liberation serif"} <= bundled  # the check reads the real bundle
    families = [f.family for f in UNSEEN_FONTS]
    assert len(set(families)) == len(families) >= 10
    assert not {" ".join(f.casefold().split()) for f in families} & bundled
    assert {"serif", "mono", "condensed sans", "humanist sans"} <= {f.kind for f in UNSEEN_FONTS}


def test_installed_unseen_fonts_are_what_the_list_says():
    _fonts_installed_or_skip()
    assert checked_unseen_fonts(fonts_dir=REPO / "fonts") == UNSEEN_FONTS


def test_a_bundled_family_is_refused(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(REPO / "fonts" / "DejaVuSans.ttf", bundle)
    impostor = UnseenFont("DejaVu Sans", "sans", "fonts-dejavu-core", str(REPO / "fonts" / "DejaVuSans.ttf"))
    with pytest.raises(TextsynthError, match="DejaVu Sans .* is a family textsynth bundles"):
        checked_unseen_fonts((impostor,), fonts_dir=bundle)
    absent = UnseenFont("Nowhere", "sans", "fonts-nowhere", str(tmp_path / "nowhere.ttf"))
    with pytest.raises(TextsynthError, match="apt-get install fonts-nowhere"):
        checked_unseen_fonts((absent,), fonts_dir=bundle)


def test_degradations_are_seeded_and_stay_in_range():
    clean = np.full((60, 200), 255, np.uint8)
    clean[20:40, 30:170] = 0
    draws = [Degradation.draw(np.random.default_rng([5, i])) for i in range(200)]
    assert all(25 <= d.jpeg <= 90 and d.paper - d.ink >= 50 and abs(d.angle) <= 3 for d in draws)
    assert {d.severity for d in draws} == {"light", "medium", "heavy"}
    one = degrade(clean, draws[0], np.random.default_rng(1))
    assert np.array_equal(one, degrade(clean, draws[0], np.random.default_rng(1)))
    assert one.dtype == np.uint8 and one.shape[0] >= 20 and one.shape[1] >= 140  # the crop keeps all the ink


def test_set_2_builds_20_lines(tmp_path):
    if shutil.which("pango-view") is None or shutil.which("fc-match") is None:
        pytest.skip("pango-view is not installed (apt-get install pango1.0-tools)")
    _fonts_installed_or_skip()
    from PIL import Image

    from benchmarks.transfer.set_other_renderer import build_other_renderer
    from reference_model.sources import open_source

    out = tmp_path / "set2"
    assert build_other_renderer(out, 20, seed=7)
    source = open_source(out)
    assert len(source) == 20 and set(source.columns) == {"font", "kind", "degradation"}
    assert len(set(source.columns["font"])) >= 10 and set(source.columns["kind"]) == {"random", "word"}
    assert all(4 <= len(t) <= 16 for t in source.texts)
    first = (out / "images" / "000001.png").read_bytes()
    assert Image.open(out / "images" / "000001.png").size == (512, 64)
    assert not build_other_renderer(out, 20, seed=7)  # already built: kept
    assert build_other_renderer(tmp_path / "again", 20, seed=7)
    assert (tmp_path / "again" / "images" / "000001.png").read_bytes() == first


def test_set_1_renders_unseen_fonts_with_textsynth(tmp_path):
    _fonts_installed_or_skip()
    from benchmarks.transfer.set_unseen_fonts import build_unseen_fonts
    from reference_model.sources import open_source

    out = tmp_path / "set1"
    assert build_unseen_fonts(out, 20, seed=3)
    source = open_source(out)
    assert len(source) == 20 and source.columns["kind"].count("word") == 10
    assert set(source.columns["font"]) <= {f.family for f in UNSEEN_FONTS}
    assert not (tmp_path / "set1.render").exists()


def test_the_benchmark_names_missing_debian_packages(monkeypatch, capsys):
    from benchmarks.transfer import run

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert run.main(["--engines", "tesseract"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install" in err and "pango1.0-tools" in err and "tesseract-ocr" in err


def test_the_readme_lists_every_debian_package_the_benchmark_needs():
    from benchmarks.transfer.run import _all_packages

    readme = (REPO / "README.md").read_text()
    assert all(package in readme for package in _all_packages())


def test_the_benchmark_without_weights_says_how_to_go_on(monkeypatch, tmp_path, capsys):
    from benchmarks.transfer import run
    from reference_model import recognizer

    monkeypatch.setattr(recognizer, "SHIPPED_WEIGHTS", tmp_path)
    assert run.main(["--data", str(tmp_path / "sets")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --model RUN or --engines tesseract" in err
    assert not (tmp_path / "sets").exists()


def test_real_folders_join_the_table_as_sets_scored_without_case(monkeypatch, tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from PIL import Image

    from benchmarks.transfer import run
    from reference_model import ppocr

    real = tmp_path / "receipts"
    (real / "img").mkdir(parents=True)
    for k in range(3):
        Image.new("L", (60, 20), 255).save(real / "img" / f"{k}.png")
    (real / "gt.txt").write_text("img/0.png\tTOTAL  RM\nimg/1.png\ttotal rm\nimg/2.png\tCASH\n")

    class Engine:  # reads every line as "Total RM"
        def __call__(self, image, **_):
            return [["Total RM", 0.9]], [0.0]

    monkeypatch.setattr(ppocr, "_engine", lambda: Engine())
    monkeypatch.setattr(ppocr, "ppocr_version", lambda: "fake")
    monkeypatch.setattr(run.importlib.util, "find_spec", lambda name: object())
    results = tmp_path / "RESULTS.md"
    assert run.main(["--only-real", "--real", str(real), "--engines", "ppocr", "--results", str(results)]) == 0
    text = results.read_text()
    assert "| real: receipts | 3 | 35.00 % | 66.7 % |" in text  # "cash" read as "total rm": 7 edits of 20
    assert "PP-OCRv4 CER" in text and "scored case-insensitively" in text
    assert run.main(["--only-real", "--real", str(tmp_path / "nothing"), "--engines", "ppocr"]) == 2
    assert "nothing" in capsys.readouterr().err.splitlines()[-1]

    words = tmp_path / "signs"  # scene words, scored on letters and digits: "Total RM" is "totalrm"
    (words / "img").mkdir(parents=True)
    Image.new("L", (60, 20), 255).save(words / "img" / "0.png")
    Image.new("L", (60, 20), 255).save(words / "img" / "1.png")
    (words / "gt.txt").write_text("img/0.png\tTOTALRM\nimg/1.png\ttotal\n")
    assert run.main(["--only-real", "--real", str(real), "--real-words", str(words), "--engines", "ppocr",
                     "--results", str(results)]) == 0
    text = results.read_text()
    assert "| real: receipts | 3 | 35.00 % | 66.7 % |" in text
    assert "| real: signs | 2 | 16.67 % | 50.0 % |" in text  # "total" read "totalrm": 2 edits of 12
    assert "letters and digits only" in text


def test_script_faces_are_unseen_and_listed_once():
    from benchmarks.transfer.unseen_fonts import SCRIPT_FONTS, language_fonts

    bundled = bundled_families(REPO / "fonts")
    assert {"amiri", "noto sans devanagari"} <= bundled  # the script folders are part of the bundle
    for code, fonts in SCRIPT_FONTS.items():
        families = [" ".join(f.family.casefold().split()) for f in fonts]
        assert len(set(families)) == len(families) >= 3 and not set(families) & bundled, code
        assert language_fonts(code) == fonts
    assert language_fonts("en") == UNSEEN_FONTS


@pytest.mark.parametrize("code", ["ar", "hi", "ru", "zh"])
def test_a_language_set_2_is_its_script_in_unseen_faces(code, tmp_path):
    from benchmarks.transfer.unseen_fonts import language_fonts

    if shutil.which("pango-view") is None or shutil.which("fc-match") is None:
        pytest.skip("pango-view is not installed (apt-get install pango1.0-tools)")
    fonts = language_fonts(code)
    if missing_packages(fonts):
        pytest.skip(f"{code} unseen fonts not installed (apt-get install {' '.join(missing_packages(fonts))})")
    from benchmarks.transfer.set_other_renderer import build_other_renderer
    from reference_model.sources import open_source
    from textsynth.languages import config_charset

    out = tmp_path / code
    assert build_other_renderer(out, 12, seed=7, language=code)
    source = open_source(out)
    charset = set(config_charset("default", code).symbols)
    assert len(source) == 12 and set(source.columns["font"]) <= {f.family for f in fonts}
    assert all(set(t) <= charset and 1 <= len(t) <= 16 for t in source.texts)
    letters = "".join(source.texts)
    script = {"ar": ("\u0600", "\u06ff"), "hi": ("\u0900", "\u097f"), "ru": ("\u0400", "\u04ff"),
              "zh": ("\u4e00", "\u9fff")}[code]
    assert sum(script[0] <= c <= script[1] for c in letters) > len(letters) / 2
    assert not build_other_renderer(out, 12, seed=7, language=code)  # already built: kept
    if code == "zh":  # words run together
        assert not any(" " in t for t, kind in zip(source.texts, source.columns["kind"]) if kind == "word")
