import numpy as np
import pytest

from textsynth import Charset, TextsynthError
from textsynth.text import (
    KIND_IDS,
    TEXT_KINDS,
    LinesText,
    RandomText,
    WordsText,
    data_dir,
    draw_text,
    make_text_source,
    parse_source_spec,
)


def test_random_text_never_has_invisible_spaces():
    cs = Charset.from_string("ab ")  # a third of the draws are spaces: every rule gets exercised
    source = RandomText(cs, 1, 12)
    rng = np.random.default_rng(0)
    for _ in range(3000):
        text = source.sample(rng)
        assert 1 <= len(text) <= 12
        assert not text.startswith(" ") and not text.endswith(" ")
        assert "  " not in text


def test_random_text_uses_every_symbol_uniformly():
    cs = Charset.default()
    source = RandomText(cs, 16, 16)
    rng = np.random.default_rng(1)
    text = "".join(source.sample(rng) for _ in range(4000))
    counts = np.array([text.count(s) for s in cs.symbols if s != " "])
    assert counts.min() > 0.8 * counts.mean() and counts.max() < 1.2 * counts.mean()


def test_words_source_joins_words_and_counts_skips(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("alpha\nbeta\ngamma\ncafé\nsupercalifragilistic\n\n", encoding="utf-8")
    source = WordsText(words, Charset.default(), 5, 16)
    assert source.report.kept == 3
    assert source.report.skipped == {"outside the charset": 1, "longer than max-len": 1}
    rng = np.random.default_rng(0)
    for _ in range(200):
        text = source.sample(rng)
        assert 5 <= len(text) <= 16
        assert all(w in ("alpha", "beta", "gamma") for w in text.split(" "))


def test_lines_source_skips_what_does_not_fit(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("Hello world\n  spaced   out  \nnaïve line\nx\n" + "y" * 40 + "\n", encoding="utf-8")
    source = LinesText(corpus, Charset.default(), 3, 20)
    assert source.report.kept == 2
    assert source.report.skipped == {"outside the charset": 1, "outside the length bounds": 2}
    texts = {source.sample(np.random.default_rng(i)) for i in range(50)}
    assert texts == {"Hello world", "spaced out"}


def test_missing_words_file_is_a_clear_error(tmp_path):
    with pytest.raises(TextsynthError, match="does not exist"):
        make_text_source(f"words:{tmp_path / 'nope.txt'}", Charset.default(), 4, 16)


# --- bundled natural text, numbers and mixes ---------------------------------------------------------------

def draws(source, n, seed=0):
    return [draw_text(source, np.random.default_rng([seed, i])) for i in range(n)]


def test_mix_proportions_bounds_charset_and_determinism():
    cs = Charset.default()
    source = make_text_source("mix:random=0.4,words=0.3,lines=0.2,numbers=0.1", cs, 4, 16)
    out = draws(source, 4000)
    kinds = np.bincount([k for k, _ in out], minlength=len(TEXT_KINDS)) / len(out)
    assert np.allclose(kinds, [0.4, 0.3, 0.2, 0.1, 0.0], atol=0.03), kinds
    symbols = set(cs.symbols)
    for _, text in out:
        assert 4 <= len(text) <= 16 and set(text) <= symbols, text
        assert text == text.strip() and "  " not in text
    assert draws(source, 50) == out[:50]  # text i depends only on (seed, i)
    assert draws(source, 50, seed=1) != out[:50]


def test_words_make_phrases_with_case_variants_and_punctuation():
    cs = Charset.default()
    texts = [t for _, t in draws(make_text_source("words", cs, 4, 24), 3000)]
    assert all(4 <= len(t) <= 24 and not cs.missing(t) for t in texts)
    assert sum(t.isupper() for t in texts) > 150  # UPPER CASE phrases
    assert sum(t.istitle() and " " in t for t in texts) > 100  # Title Case phrases
    assert sum(t[0].islower() for t in texts) > 1000  # most as listed
    assert sum("," in t for t in texts) > 30 and sum(t.endswith(".") for t in texts) > 300
    common = sum(w in ("the", "of", "and", "a", "to", "in") for t in texts for w in t.lower().split())
    assert common > 300  # drawn by frequency, not uniformly over 75k words


def test_lines_are_stretches_of_the_bundled_running_text():
    cs = Charset.default()
    texts = [t for _, t in draws(make_text_source("lines", cs, 8, 30), 500)]
    corpus = " ".join((data_dir() / "devils-dictionary.txt").read_text(encoding="utf-8").split())
    assert all(8 <= len(t) <= 30 and not cs.missing(t) for t in texts)
    assert sum(t in corpus for t in texts) > 400  # verbatim, but for punctuation mapped into the charset


def test_numbers_dates_and_codes_stay_in_the_charset():
    cs = Charset.default()
    texts = [t for _, t in draws(make_text_source("numbers", cs, 4, 16), 1000)]
    assert all(4 <= len(t) <= 16 and not cs.missing(t) and any(c.isdigit() for c in t) for t in texts)
    assert any(":" in t for t in texts) and any("-" in t for t in texts) and any("," in t for t in texts)
    digits = Charset.from_string("0123456789 ")
    only_digits = [t for _, t in draws(make_text_source("numbers", digits, 3, 10), 200)]
    assert all(set(t) <= set("0123456789 ") and 3 <= len(t) <= 10 for t in only_digits)


def test_a_mix_leaves_out_bundled_sources_the_charset_cannot_write():
    source = make_text_source("mix:random=0.5,numbers=0.5", Charset.from_string("abc "), 3, 8)
    assert {k for k, _ in draws(source, 100)} == {KIND_IDS["random"]}
    assert any("numbers: left out" in why for why in source.report.skipped)
    with pytest.raises(TextsynthError, match="needs digits"):
        make_text_source("numbers", Charset.from_string("abc"), 3, 8)


@pytest.mark.parametrize("spec, message", [
    ("mix:random", "KIND=WEIGHT"), ("mix:random=x", "KIND=WEIGHT"), ("mix:random=0", "add up to 0"),
    ("mix:poems=1", "text source must be"), ("numbers:x.txt", "text source must be"), ("words:", "must be"),
    ("mix:random=1,random=2", "once"),
])
def test_bad_source_specs_are_one_line_errors(spec, message):
    with pytest.raises(TextsynthError, match=message):
        parse_source_spec(spec)


def test_default_config_mixes_natural_text_and_records_the_kind(tmp_path):
    from textsynth import RenderConfig, SampleGenerator

    cfg = RenderConfig()
    assert {k for k, _, _ in parse_source_spec(cfg.text.source)} == {"random", "words", "lines", "numbers", "shop"}
    gen = SampleGenerator(cfg)
    records = [gen.params(i) for i in range(400)]
    assert {p.text_kind for p in records} == {0, 1, 2, 3, 4}
    assert gen.params(5) == gen.params(5)
    # 0.3's default: about a quarter of the natural texts in capitals (receipts, signs), and texts of 2-3
    # characters (`RM`, `5X`) among them
    natural = [p.text for p in records if p.text_kind != KIND_IDS["random"] and any(c.isalpha() for c in p.text)]
    shouted = sum(t == t.upper() for t in natural) / len(natural)
    assert 0.2 < shouted < 0.5  # capitals drawn for the share, and some texts are capitals anyway (shop text)
    assert any(len(p.text) < 4 for p in records)


# --- shop text, upper-case share, printable charset --------------------------------------------------------

@pytest.mark.parametrize("spec", ["default", "printable", "0123456789 .:"])
def test_shop_text_lies_in_the_charset_and_bounds(spec):
    cs = Charset.from_spec(spec)
    out = draws(make_text_source("shop", cs, 3, 20), 1500)
    symbols = set(cs.symbols)
    assert {k for k, _ in out} == {KIND_IDS["shop"]}
    for _, text in out:
        assert 3 <= len(text) <= 20 and set(text) <= symbols, text
        assert not text.startswith(" ") and not text.endswith(" ") and "  " not in text, text
    texts = [t for _, t in out]
    assert len(set(texts)) > 1200  # varied, not a few templates repeated
    if spec != "default":
        return
    upper = sum(t == t.upper() for t in texts) / len(texts)
    assert upper > 0.7, upper  # receipts and signs are mostly upper case
    # the shop looks the issue names: amounts with a prefix, label-value pairs, times, long zero-padded codes
    assert any(t.startswith("RM") and t[-3] == "." for t in texts)
    assert any(" : " in t or ": " in t for t in texts)
    assert any(t.startswith(": ") for t in texts)
    assert any(t.count(":") == 2 and t.replace(":", "").isdigit() for t in texts)
    assert any(t.startswith("00") and t.isdigit() and len(t) >= 8 for t in texts)


def test_shop_text_uses_slashes_and_currency_signs_only_where_the_charset_has_them():
    default = [t for _, t in draws(make_text_source("shop", Charset.default(), 4, 24), 2000)]
    printable = [t for _, t in draws(make_text_source("shop", Charset.from_spec("printable"), 4, 24), 2000)]
    assert not any("/" in t or "$" in t for t in default)
    assert any("/" in t for t in printable) and any("$" in t for t in printable)


def test_shop_text_needs_digits():
    with pytest.raises(TextsynthError, match="digits"):
        make_text_source("shop", Charset.from_string("abc "), 3, 8)


def test_upper_share_upper_cases_natural_text_only():
    cs = Charset.default()
    plain = draws(make_text_source("mix:random=0.5,words=0.5", cs, 4, 16), 400)
    shouted = draws(make_text_source("mix:random=0.5,words=0.5", cs, 4, 16, upper=1.0), 400)
    words = [t for k, t in shouted if k == KIND_IDS["words"]]
    assert words and all(t == t.upper() for t in words)
    assert any(t != t.upper() for k, t in shouted if k == KIND_IDS["random"])  # random strings keep their case
    assert draws(make_text_source("words", cs, 4, 16, upper=0.0), 50) == draws(make_text_source("words", cs, 4, 16),
                                                                                50)
    assert [k for k, _ in plain] != [] and len(plain) == len(shouted)


def test_printable_charset_keeps_the_seed_ids():
    printable = Charset.from_spec("printable")
    assert len(printable) == 95 and set(printable.symbols) == {chr(c) for c in range(0x20, 0x7F)}
    assert printable.symbols[:68] == Charset.default().symbols
    assert printable.encode("pIm6idNRDQwTn") == [15, 34, 12, 58, 8, 3, 39, 43, 29, 42, 22, 45, 13]
    assert printable.encode("/%&()#@+*!?") == [printable.symbols.index(c) for c in "/%&()#@+*!?"]


def test_shop_kind_is_recorded_per_sample():
    from textsynth import RenderConfig, SampleGenerator

    config = RenderConfig()
    config.text.source = "mix:words=0.5,shop=0.5"
    config.effects.enabled = False
    gen = SampleGenerator(config)
    kinds = {gen.params(i).text_kind for i in range(30)}
    assert kinds == {KIND_IDS["words"], KIND_IDS["shop"]} and TEXT_KINDS[KIND_IDS["shop"]] == "shop"


def test_shop_text_bounds_no_line_meets_leave_it_out_of_a_mix_or_are_one_line():
    cs = Charset.default()
    mix = make_text_source("mix:words=0.5,shop=0.5", cs, 2, 3)  # no receipt line is 3 characters or fewer
    assert {k for k, _ in draws(mix, 50)} == {KIND_IDS["words"]}
    assert any(why.startswith("shop: left out of the mix") for why in mix.report.skipped)
    with pytest.raises(TextsynthError, match="shop texts of 2-3 characters are too rare"):
        make_text_source("shop", cs, 2, 3)
