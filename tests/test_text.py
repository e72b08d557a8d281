import numpy as np
import pytest

from textsynth import Charset, TextsynthError
from textsynth.text import LinesText, RandomText, WordsText, make_text_source


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
