import unicodedata
from pathlib import Path

import numpy as np
import pytest
import uharfbuzz as hb
from fontTools.ttLib import TTFont

from textsynth import RenderConfig, SampleGenerator
from textsynth.charset import DEFAULT_SYMBOLS
from textsynth.cli import main
from textsynth.dataset import open_dataset
from textsynth.languages import LANGUAGES, config_charset, get_language
from textsynth.pipeline import render
from textsynth.text import KIND_IDS

OTHERS = [code for code in LANGUAGES if code != "en"]


@pytest.fixture(scope="module", params=OTHERS)
def generator(request):
    return SampleGenerator(RenderConfig.from_dict({"language": request.param, "n": 1}))


def test_english_keeps_the_seed_charset_and_ids():
    assert config_charset("default", "en").symbols == tuple(DEFAULT_SYMBOLS)
    assert config_charset("default", "en").encode("ab:") == [0, 1, 67]
    assert RenderConfig().language == "en"


@pytest.mark.parametrize("code", OTHERS)
def test_a_language_charset_is_its_letters_digits_and_punctuation_in_a_fixed_order(code):
    charset = config_charset("default", code)
    lang = get_language(code)
    assert charset.symbols == tuple(lang.symbols) and len(set(charset.symbols)) == len(charset)
    assert set("0123456789 .,-:") <= set(charset.symbols)
    letters = [c for c in charset.symbols if c.isalpha()]
    assert len(letters) >= 30 and not any(c.isascii() for c in letters)
    # the label ids are the file's order: the first lower-case letter is id 0, its capital follows the lower case
    assert charset.encode(letters[0]) == [0]
    assert config_charset("printable", code).symbols[:68] == tuple(DEFAULT_SYMBOLS)


def test_every_sample_is_drawn_by_a_font_that_draws_all_its_characters(generator):
    charset, painter = generator.charset, generator.painter
    kinds = set()
    for i in range(120):
        p = generator.params(i)
        kinds.add(p.text_kind)
        assert not charset.missing(p.text)
        assert painter.layout.draws(p.font_id, p.text), (p.text, generator.fontset.fonts[p.font_id].name)
        assert set(p.text) <= generator.fontset.coverage[p.font_id] | {" "}
    assert {KIND_IDS["random"], KIND_IDS["words"], KIND_IDS["numbers"]} <= kinds


def test_every_letter_of_the_charset_is_inked_by_the_fonts_chosen_for_it(generator):
    fontset, layout = generator.fontset, generator.painter.layout
    generator.fontset.require_full_charset()
    for char in generator.charset.symbols:
        if char == " ":
            continue
        fonts = fontset.covering(char)
        assert fonts, char
        for font in fonts[:: max(1, len(fonts) // 4)]:
            assert layout.draws(font, char), (char, fontset.fonts[font].name)


def test_natural_text_comes_from_the_language_word_list(generator):
    words = {line.split("\t")[0] for line in get_language(generator.config.language).words.read_text(
        encoding="utf-8").splitlines()}
    folded = {w.lower() for w in words}
    found = 0
    for i in range(200):
        p = generator.params(i)
        if p.text_kind != KIND_IDS["words"]:
            continue
        if get_language(generator.config.language).spaced:
            tokens = [t.strip(".,:-") for t in p.text.replace(",", " ").replace(":", " ").split()]
            found += sum(t.lower() in folded for t in tokens if t)
        else:  # words run together: every stretch between punctuation is a sequence of listed words
            for stretch in p.text.replace("，", " ").replace("、", " ").replace("：", " ").replace("。", " ").split():
                ends = {0}
                for end in range(1, len(stretch) + 1):
                    if any(start in ends and stretch[start:end] in words for start in range(max(0, end - 8), end)):
                        ends.add(end)
                assert len(stretch) in ends, p.text
                found += 1
    assert found > 50


def test_a_language_composes_with_a_look_preset():
    cfg = RenderConfig.from_dict({"preset": "scan", "language": "ru", "n": 1})
    assert cfg.language == "ru"
    assert cfg.to_dict()["effects"] == RenderConfig.from_dict({"preset": "scan"}).to_dict()["effects"]
    gen = SampleGenerator(cfg)
    texts = [gen.params(i).text for i in range(40)]
    assert any(set(t) & set("абвгдежзиклмнопрстуфхцчшщыэюя") for t in texts)


def test_english_only_sources_are_left_out_of_another_languages_mix_and_refused_alone():
    gen = SampleGenerator(RenderConfig.from_dict({"preset": "receipt", "language": "el", "n": 1}))
    assert all(gen.params(i).text_kind != KIND_IDS["shop"] for i in range(30))
    cfg = RenderConfig.from_dict({"language": "el", "n": 1, "text": {"source": "lines"}})
    with pytest.raises(Exception, match="English; Greek has none"):
        SampleGenerator(cfg)


def test_unknown_language_is_one_line_naming_it(capsys, tmp_path):
    assert main(["render", "--n", "4", "--language", "xx", "--out", str(tmp_path / "d")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'xx'" in err and "ru" in err
    assert not (tmp_path / "d").exists()


def test_a_language_dataset_stores_its_language_and_charset_and_reads_back(tmp_path):
    cfg = RenderConfig.from_dict({"language": "ru", "n": 24, "seed": 5})
    cfg.output.shard_size, cfg.output.workers = 12, "1"
    render(cfg, tmp_path / "ru", progress=False)
    ds = open_dataset(tmp_path / "ru")
    assert ds.config.language == "ru" and ds.charset == config_charset("default", "ru")
    sample = ds[3]
    assert ds.charset.decode(sample.labels.tolist()) == sample.text
    again = SampleGenerator(ds.config)
    assert np.array_equal(again.sample(3)[1], sample.image)


def test_a_devanagari_conjunct_keeps_both_consonants_and_the_virama_in_its_label():
    charset = config_charset("default", "hi")
    ids = charset.encode("क्ष")  # drawn as one conjunct glyph
    assert charset.decode(ids) == "क्ष" and len(ids) == 3
    gen = SampleGenerator(RenderConfig.from_dict({"language": "hi", "n": 1}))
    assert gen.painter.layout.draws(gen.fontset.covering("क्षमा")[0], "क्षमा")


def _dotted_circles(font_path: Path, text: str) -> int:
    """How many dotted circles HarfBuzz inserts shaping `text` (its sign of a broken cluster)."""
    font = hb.Font(hb.Face(hb.Blob(font_path.read_bytes())))
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf)
    circle = TTFont(font_path, lazy=True).getBestCmap()[0x25CC]
    glyph_id = TTFont(font_path, lazy=True).getGlyphID(circle)
    return sum(g.codepoint == glyph_id for g in buf.glyph_infos)


def test_random_hindi_text_is_syllables_never_broken_clusters():
    lang = get_language("hi")
    gen = SampleGenerator(RenderConfig.from_dict({"language": "hi", "n": 1, "text": {"source": "random"}}))
    noto = lang.font_folder / "NotoSansDevanagari-Regular.ttf"
    texts = [gen.params(i).text for i in range(150)]
    assert len(set(texts)) == 150 and all(2 <= len(t) <= 16 for t in texts)
    for text in texts:
        for word in text.split(" "):
            assert unicodedata.category(word[0]) not in ("Mn", "Mc"), text  # no mark without its consonant
        assert _dotted_circles(noto, text) == 0, text
    assert _dotted_circles(noto, "\u093f\u093fक") > 0  # what symbols drawn uniformly would make


def test_a_script_with_its_own_faces_keeps_them_under_a_presets_families():
    gen = SampleGenerator(RenderConfig.from_dict({"preset": "receipt", "language": "hi", "n": 1}))
    families = {f.family for f in gen.fontset.fonts}
    assert "Noto Sans Devanagari" in families and "DejaVu Sans Mono" in families
    english = SampleGenerator(RenderConfig.from_dict({"n": 1}))
    assert not any("Devanagari" in f.family for f in english.fontset.fonts)


def test_visual_order_follows_the_bidi_algorithm_and_logical_order_undoes_it():
    from textsynth.bidi import logical_order, runs, visual_order

    assert visual_order("abc 12") == "abc 12"  # a left-to-right line is drawn as written
    assert visual_order("سعر 12.50") == "12.50 رعس"
    assert runs("سعر 1,234 و 3") == [(0, 4, True), (4, 9, False), (9, 12, True), (12, 13, False)]
    # after an Arabic letter a hyphen does not join numbers (UAX #9 W2, W4); before any letter it does
    assert visual_order("تاريخ 2006-07-22") == "22-07-2006 خيرات"
    assert visual_order("2006-07-22 تاريخ") == "خيرات 2006-07-22"
    assert visual_order("بَيت") == "تيبَ"  # a mark stays after its base
    gen = SampleGenerator(RenderConfig.from_dict({"language": "ar", "n": 1}))
    for i in range(300):
        text = gen.params(i).text
        drawn = visual_order(text)
        assert logical_order(drawn) == text and sorted(drawn) == sorted(text)


def test_an_arabic_line_is_drawn_right_to_left_with_its_numbers_left_to_right():
    gen = SampleGenerator(RenderConfig.from_dict({"language": "ar", "n": 1}))
    text = "بيت 12"
    font = next(f for f in gen.fontset.covering(text) if "Amiri-Regular" in gen.fontset.fonts[f].name)
    layout = gen.painter.layout.font(font)
    cmap = TTFont(layout.path, lazy=True).getBestCmap()
    glyph_id = TTFont(layout.path, lazy=True).getGlyphID
    shaped = layout.shape(text)
    one, two = glyph_id(cmap[ord("1")]), glyph_id(cmap[ord("2")])
    assert list(shaped.gids[:2]) == [one, two]  # the number comes first from the left, reading left to right
    assert gen.painter.layout.draws(font, text)
    assert not any(shaped.tracked)  # no letter spacing inside joined Arabic
    ink = gen.painter.layout.text_mask(font, text, 40, 0.0, 1.0)
    columns = np.flatnonzero(ink.max(axis=0) > 0)
    assert columns.size and gen.config.language == "ar"


def test_a_right_to_left_model_learns_visual_order_and_decodes_to_logical():
    pytest.importorskip("tensorflow")
    from reference_model.recognizer import Recognizer
    from reference_model.train import visual_labels

    charset = config_charset("default", "ar")
    text = "سعر 12.50"
    labels = np.full((1, 16), -1, np.int32)
    labels[0, :len(text)] = charset.encode(text)
    visual = visual_labels(charset, labels, np.array([len(text)]))
    assert charset.decode(visual[0, :len(text)]) == "12.50 رعس" and (visual[0, len(text):] == -1).all()
    steps = 2 * len(text) + 1
    logits = np.full((1, steps, len(charset) + 1), -10.0, np.float32)
    logits[0, :, len(charset)] = 0.0  # blank everywhere but one step per label
    for k, label in enumerate(visual[0, :len(text)].tolist()):
        logits[0, 2 * k, label] = 10.0
    assert Recognizer(None, charset, 512, 64, "visual").decode(logits) == [text]
    assert Recognizer(None, charset, 512, 64).decode(logits) == ["12.50 رعس"]


def test_a_dataset_started_before_languages_existed_still_resumes(tmp_path):
    from textsynth.manifest import Manifest
    from textsynth.pipeline import _check_compatible

    cfg = RenderConfig.from_dict({"n": 4})
    cfg.output.workers = "1"
    render(cfg, tmp_path / "d", progress=False)
    existing = Manifest.read(tmp_path / "d")
    existing.config.pop("language")  # as a 0.2 manifest holds it
    _check_compatible(tmp_path / "d", existing, cfg, resume=True)
    with pytest.raises(Exception, match="language: 'en' -> 'ru'"):
        _check_compatible(tmp_path / "d", existing, RenderConfig.from_dict({"n": 4, "language": "ru"}), resume=True)


def test_hindi_texts_are_nfc_so_labels_and_stored_text_agree():
    gen = SampleGenerator(RenderConfig.from_dict({"language": "hi", "n": 1, "text": {"source": "random"}}))
    texts = [gen.params(i).text for i in range(3000)]
    assert any("\u0929" in t or "\u0931" in t for t in texts)  # a nukta after न or र, composed
    for text in texts:
        assert unicodedata.normalize("NFC", text) == text and 2 <= len(text) <= 16
        assert gen.charset.decode(gen.charset.encode(text)) == text


def test_the_english_character_model_is_refused_for_another_language():
    pytest.importorskip("tensorflow")
    from reference_model.recognizer import Recognizer

    charset = config_charset("default", "ru")
    logits = np.zeros((1, 4, len(charset) + 1), np.float32)
    with pytest.raises(Exception, match="--lm is for English runs"):
        Recognizer(None, charset, 512, 64, language="ru").decode(logits, lm=object())


def test_an_aligned_right_to_left_line_starts_at_the_right_margin():
    cfg = RenderConfig.from_dict({"language": "ar", "n": 1, "text": {"source": "words"},
                                  "typeset": {"left_aligned": 1.0, "indent": [0.0, 0.0]}})
    gen = SampleGenerator(cfg)
    for i in range(20):
        p = gen.params(i)
        w = gen.painter._ink(p.font_id, p.font_size, p.text, p.tracking, p.word_spacing, p.angle, p).shape[1]
        assert p.x + w == cfg.canvas.width - cfg.canvas.margin, p.text
    english = SampleGenerator(RenderConfig.from_dict({"n": 1, "typeset": {"left_aligned": 1.0, "indent": [0, 0]}}))
    assert all(english.params(i).x == english.config.canvas.margin for i in range(20))


def test_a_language_font_folder_joins_any_font_list_holding_the_bundled_fonts():
    from textsynth.fonts import FontSet, bundled_fonts_dir

    extra = RenderConfig.from_dict({"language": "hi", "n": 1, "fonts": {"dir": f"bundled,{bundled_fonts_dir()}"}})
    charset = config_charset("default", "hi")
    families = {f.family for f in FontSet.from_config(extra.fonts, charset, "hi").fonts}
    assert "Lohit Devanagari" in families
    one = RenderConfig.from_dict({"language": "hi", "n": 1, "fonts": {"families": ["Lohit Devanagari", "Go"]}})
    families = {f.family for f in FontSet.from_config(one.fonts, charset, "hi").fonts}
    assert families == {"Lohit Devanagari", "Go"}  # a list naming one of the script's families is kept as it is


@pytest.mark.parametrize("code", ["hi", "ar", "zh"])
def test_a_complex_script_dataset_is_byte_identical_with_one_or_two_workers(code, tmp_path):
    from conftest import small_config

    from textsynth.fileio import file_sha256

    for workers in ("1", "2"):
        cfg = small_config(n=60, output__shard_size=30)
        cfg.language, cfg.output.workers = code, workers
        render(cfg, tmp_path / workers, progress=False)
    for name in ("shard-00000.h5", "shard-00001.h5"):
        assert file_sha256(tmp_path / "1" / name) == file_sha256(tmp_path / "2" / name)


def test_arabic_harakat_follow_the_letters_ids_and_fit_the_label():
    charset = config_charset("default", "ar")
    assert len(charset) == 67 and charset.encode("\u064b\u0652") == [59, 66]  # after the 59 ids it always had
    assert charset.encode("ء") == [0] and charset.encode("»") == [58]
    gen = SampleGenerator(RenderConfig.from_dict({"language": "ar", "n": 1, "text": {"vowel_marks": 1.0}}))
    carriers = {chr(c) for c in range(0x621, 0x64B)} - {"\u0627", "\u0649", "\u0640"}
    texts = [gen.params(i).text for i in range(300)]
    marked = [t for t in texts if any(unicodedata.combining(c) for c in t)]
    assert len(marked) > 150 and all(len(t) <= 16 for t in texts)
    for text in texts:
        assert text == unicodedata.normalize("NFC", text)
        for k, char in enumerate(text):
            if unicodedata.combining(char):  # on a letter that carries one, at most a vowel and a shadda
                base = text[k - 1] if not unicodedata.combining(text[k - 1]) else text[k - 2]
                assert base in carriers, text
                assert text[k - 1] in carriers or text[k] == "\u0651", text
    # both fully vocalized texts (most letters marked) and partly vocalized ones
    shares = [sum(c != "\u0651" and unicodedata.combining(c) > 0 for c in t) / sum(c in carriers for c in t)
              for t in marked]
    assert max(shares) > 0.7 and min(shares) < 0.4


def test_vocalized_arabic_is_shaped_without_dotted_circles_and_random_text_never_strands_a_mark():
    lang = get_language("ar")
    gen = SampleGenerator(RenderConfig.from_dict({"language": "ar", "n": 1, "text": {"vowel_marks": 1.0}}))
    texts = [gen.params(i).text for i in range(150)]
    for name in ("NotoNaskhArabic-Regular.ttf", "Amiri-Regular.ttf"):
        for text in texts:
            assert _dotted_circles(lang.font_folder / name, text) == 0, (name, text)
    plain = SampleGenerator(RenderConfig.from_dict({"language": "ar", "n": 1, "text": {"source": "random"}}))
    assert not any(unicodedata.combining(c) for i in range(200) for c in plain.params(i).text)


def test_vowel_marks_are_refused_for_a_language_without_them(capsys):
    assert main(["sample", "--vowel-marks", "0.5", "--n", "1", "--out", "/tmp/never.png"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "vowel_marks" in err and "English" in err


def test_chinese_is_3500_characters_by_frequency_and_words_run_together():
    charset = config_charset("default", "zh")
    hanzi = [c for c in charset.symbols if "\u4e00" <= c <= "\u9fff"]
    assert len(hanzi) == 3500 and charset.symbols[:3500] == tuple(hanzi) and len(charset) == 3528
    assert max(charset.encode("一是人了不")) < 5 and "鹦" not in charset.symbols  # ids by frequency
    assert set("0123456789，。、：；！？（）《》") <= set(charset.symbols)
    gen = SampleGenerator(RenderConfig.from_dict({"language": "zh", "n": 1, "text": {"source": "words"}}))
    texts = [gen.params(i).text for i in range(100)]
    assert not any(" " in t for t in texts) and all(2 <= len(t) <= 16 for t in texts)
    assert sum("，" in t or "、" in t or "：" in t for t in texts) > 5 and sum(t.endswith("。") for t in texts) > 5
    families = {gen.fontset.fonts[gen.params(i).font_id].family for i in range(100)}
    assert {"WenQuanYi Micro Hei", "AR PL UKai CN", "AR PL UMing CN"} <= families  # the bundled Chinese faces


@pytest.mark.parametrize("code, own, foreign", [("ar", "،", ","), ("hi", "।", "."), ("zh", "，", ",")])
def test_phrases_take_the_languages_own_punctuation(code, own, foreign):
    gen = SampleGenerator(RenderConfig.from_dict({"language": code, "n": 1,
                                                  "text": {"source": "words", "min_len": 4}}))  # room for a comma
    texts = [gen.params(i).text for i in range(300)]
    assert sum(own in t for t in texts) > 5 and not any(foreign in t for t in texts)
