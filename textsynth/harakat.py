"""Arabic harakat: the optional vowel marks, written on a share of the texts (fully, as children's books, the
Quran and dictionaries vocalize, or partly, as ordinary print marks a few letters), within the label width."""

from __future__ import annotations

import bisect
import unicodedata

import numpy as np

FATHATAN, DAMMATAN, KASRATAN, FATHA, DAMMA, KASRA, SHADDA, SUKUN = (chr(c) for c in range(0x64B, 0x653))
HARAKAT = FATHATAN + DAMMATAN + KASRATAN + FATHA + DAMMA + KASRA + SHADDA + SUKUN
# The letters that carry a mark: hamza, the consonants and the hamza carriers; not alef, alef maqsura or tatweel,
# which lengthen the vowel before them
_CARRIERS = frozenset(chr(c) for c in range(0x621, 0x64B)) - {"\u0627", "\u0649", "\u0640"}
_LETTERS = _CARRIERS | {"\u0627", "\u0649"}
# (marks, weight) inside a word and at its end (where the tanwin goes); sukun never starts a word
_INSIDE = ((FATHA, 34), (KASRA, 22), (DAMMA, 16), (SUKUN, 14), (SHADDA + FATHA, 8), (SHADDA + KASRA, 3),
           (SHADDA + DAMMA, 3))
_END = ((FATHA, 26), (KASRA, 22), (DAMMA, 16), (SUKUN, 14), (FATHATAN, 8), (KASRATAN, 8), (DAMMATAN, 6))
_FULL, _PARTLY = 0.9, 0.3  # share of the carriers that get a mark in a fully or partly vocalized text


def _table(choices: tuple) -> tuple[list[float], list[str]]:
    weights = np.cumsum([w for _, w in choices], dtype=np.float64)
    return (weights / weights[-1]).tolist(), [m for m, _ in choices]


_TABLES = {False: _table(_INSIDE), True: _table(_END)}


def vocalize(text: str, rng: np.random.Generator, full: bool, budget: int) -> str:
    """`text` with harakat on a share of its letters (NFC: a shadda's vowel comes first), adding at most `budget`
    characters. Draws two uniforms per character of `text`."""
    u = rng.random((len(text), 2)).tolist()
    rate = _FULL if full else _PARTLY
    out, added = [], 0
    for k, char in enumerate(text):
        out.append(char)
        if char not in _CARRIERS or u[k][0] >= rate:
            continue
        cum, marks = _TABLES[k + 1 == len(text) or text[k + 1] not in _LETTERS]  # at a word's end: tanwin too
        mark = marks[bisect.bisect_right(cum, u[k][1])]
        if mark == SUKUN and (k == 0 or text[k - 1] not in _LETTERS):
            mark = FATHA  # a word does not start with a silent letter
        if added + len(mark) <= budget:
            out.append(mark)
            added += len(mark)
    return unicodedata.normalize("NFC", "".join(out))


def missing_harakat(symbols: set[str] | frozenset[str]) -> list[str]:
    """The harakat a charset lacks, as U+XXXX."""
    return [f"U+{ord(m):04X}" for m in HARAKAT if m not in symbols]
