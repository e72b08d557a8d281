"""The character language model and the CTC beam search that fuses it with a recognizer's logits."""

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")  # reference_model's package imports Keras

from reference_model.ctc import greedy_decode  # noqa: E402
from reference_model.language_model import LM_FILE, CharLM, FusedDecoder, LMSettings, lm_beam_decode  # noqa: E402
from textsynth import TextsynthError  # noqa: E402
from textsynth.charset import Charset  # noqa: E402

CHARSET = Charset.default()


@pytest.fixture(scope="module")
def lm():
    return CharLM.bundled(CHARSET, texts=20_000)


def _logits(spans: list[dict[str, float]], steps_per_char: int = 3) -> np.ndarray:
    """Logits of a line: for each character a few steps with the given probabilities, then blanks."""
    blank = len(CHARSET)
    rows = []
    for probs in spans:
        row = np.full(blank + 1, 1e-6)
        for char, p in probs.items():
            row[CHARSET.encode(char)[0]] = p
        rows += [row] * steps_per_char + [np.eye(blank + 1)[blank] * 0.999999 + 1e-6]
    return np.log(np.array(rows))[None].astype(np.float32)


def test_probabilities_over_the_charset_and_the_end_sum_to_one(lm):
    for context in ("", "th", "the q", "1999,", "zzzzz"):
        probs = np.exp(lm.log_probs(lm.context(context)))
        assert probs.shape == (len(CHARSET) + 1,) and probs.sum() == pytest.approx(1.0)
    uniform = lm.with_uniform(0.5)
    assert np.exp(uniform.log_probs(lm.context("zzzz"))).min() >= 0.5 / (len(CHARSET) + 1)


def test_english_scores_above_its_shuffled_letters(lm):
    assert lm.score("the house is on the hill") > lm.score("hte hosue si no eht lihl") + 10
    assert lm.score("It is") > lm.score("lt is")
    assert lm.score("in 2019") > lm.score("in 2O19")


def test_context_settles_what_the_glyphs_leave_open(lm):
    # 'I' and 'l' equally likely from the pixels, then a confident "t is": English says "It is".
    logits = _logits([{"I": 0.5, "l": 0.5}, {"t": 1.0}, {" ": 1.0}, {"i": 1.0}, {"s": 1.0}])
    assert CHARSET.decode(greedy_decode(logits)[0]) in {"It is", "lt is"}
    assert CHARSET.decode(lm_beam_decode(logits, lm.with_uniform(0.3), weight=0.5, bonus=1.0)[0]) == "It is"
    # '0' and 'O' alike between digits: a year
    logits = _logits([{"2": 1.0}, {"0": 0.5, "O": 0.5}, {"1": 1.0}, {"9": 1.0}])
    assert CHARSET.decode(lm_beam_decode(logits, lm.with_uniform(0.3), weight=0.5, bonus=1.0)[0]) == "2019"


def test_confident_random_strings_are_kept(lm):
    text = "qX7:kZ9w"
    logits = _logits([{c: 0.97} for c in text])
    assert CHARSET.decode(lm_beam_decode(logits, lm.with_uniform(0.3), weight=0.4, bonus=1.5)[0]) == text


def test_weight_zero_is_a_plain_beam_search(lm):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (6, 20, len(CHARSET) + 1)).astype(np.float32)
    logits[..., -1] += 2.0  # blanks mostly: short, clear readings
    peaked = logits * 4
    assert lm_beam_decode(peaked, lm, weight=0.0, bonus=0.0, beam_width=8) == greedy_decode(peaked)


def test_settings_round_trip_and_bad_files_are_one_line_errors(tmp_path):
    assert LMSettings.of_run(tmp_path) == LMSettings()
    tuned = LMSettings(weight=0.3, bonus=2.0, uniform=0.2)
    tuned.save(tmp_path)
    assert LMSettings.of_run(tmp_path) == tuned
    assert "beam 12 + character 5-gram LM (weight 0.3, bonus 2" in FusedDecoder(CHARSET, tuned).describe()
    for bad in ("[1, 2]", '{"weight": "x"}', '{"temperature": 1}', '{"uniform": 1.5}', "{"):
        (tmp_path / LM_FILE).write_text(bad)
        with pytest.raises(TextsynthError, match=LM_FILE):
            LMSettings.of_run(tmp_path)
    (tmp_path / LM_FILE).write_text(json.dumps({"order": 0}))
    with pytest.raises(TextsynthError, match="order must be in 1..10"):
        LMSettings.of_run(tmp_path)


@pytest.mark.parametrize("settings", ['{"order": 40}', '{"order": 1e30}', '{"beam_width": 1e9}',
                                      '{"beam_width": Infinity}', '{"weight": NaN}', '{"order": true}'])
def test_settings_that_would_exhaust_memory_are_refused_at_load(tmp_path, settings):
    (tmp_path / LM_FILE).write_text(settings)
    with pytest.raises(TextsynthError, match=LM_FILE):
        LMSettings.of_run(tmp_path)
