"""Random text for an abugida (Devanagari): random syllables, so that each vowel sign and mark sits on a consonant
as in real writing (symbols drawn uniformly make broken clusters that fonts draw with dotted circles)."""

from __future__ import annotations

import unicodedata

import numpy as np

from textsynth.charset import Charset
from textsynth.errors import TextsynthError

# Devanagari's classes of code points (Unicode's block layout).
_VOWELS = range(0x0904, 0x0915)  # independent vowels: a syllable of their own
_CONSONANTS = (*range(0x0915, 0x093A), *range(0x0958, 0x0960))
_VOWEL_SIGNS = (*range(0x093E, 0x094D), *range(0x0955, 0x0958), 0x0962, 0x0963)  # matras: after a consonant
_VIRAMA, _NUKTA = "\u094d", "\u093c"
_FINALS = ("\u0901", "\u0902", "\u0903")  # candrabindu, anusvara, visarga: close a syllable


class SyllableText:
    """Syllables (consonant, an optional nukta, a conjunct with a second consonant now and then, a vowel sign
    two times in three, a closing mark now and then, or an independent vowel), with the charset's digits and
    punctuation between them and single spaces; the length in code points (the label's) within the bounds."""

    def __init__(self, charset: Charset, min_len: int, max_len: int):
        self.min_len, self.max_len = min_len, max_len
        symbols = set(charset.symbols)
        self._consonants = [chr(c) for c in _CONSONANTS if chr(c) in symbols]
        self._vowels = [chr(c) for c in _VOWELS if chr(c) in symbols]
        self._signs = [chr(c) for c in _VOWEL_SIGNS if chr(c) in symbols]
        self._finals = [c for c in _FINALS if c in symbols]
        self._virama, self._nukta = _VIRAMA in symbols, _NUKTA in symbols
        devanagari = {chr(c) for c in range(0x0900, 0x0980)}
        self._others = [c for c in charset.symbols if c not in devanagari or c in "\u0964\u0965"]
        self._space = " " in symbols
        if " " in self._others:
            self._others.remove(" ")
        if not self._consonants:
            raise TextsynthError("syllable text needs Devanagari consonants in the charset")
        from textsynth.text import SkipReport

        self.report = SkipReport(kept=len(self._consonants) + len(self._vowels))

    def _syllable(self, r: list[float]) -> str:
        if self._vowels and r[0] < 0.12:
            text = self._vowels[int(r[1] * len(self._vowels))]
        else:
            pick = self._consonants
            text = pick[int(r[1] * len(pick))]
            if self._nukta and r[2] < 0.04:
                text += _NUKTA
            if self._virama and r[3] < 0.18:
                text += _VIRAMA + pick[int(r[4] * len(pick))]
            if self._signs and r[5] < 0.65:
                text += self._signs[int(r[6] * len(self._signs))]
        if self._finals and r[7] < 0.12:
            text += self._finals[int(r[8] * len(self._finals))]
        return text

    def sample(self, rng: np.random.Generator) -> str:
        for _ in range(1000):
            target = int(rng.integers(self.min_len, self.max_len + 1))
            parts: list[str] = []
            length = 0
            while length < target:
                r = rng.random(10).tolist()
                if self._space and parts and parts[-1] != " " and r[9] < 0.12:
                    part = " "
                elif self._others and r[9] > 0.94:
                    part = self._others[int(r[0] * len(self._others))]
                else:
                    part = self._syllable(r)
                if length + len(part) > self.max_len:
                    break
                parts.append(part)
                length += len(part)
            while parts and parts[-1] == " ":
                parts.pop()
            # NFC, as labels are: a nukta after न or र composes into one code point (ऩ, ऱ)
            text = unicodedata.normalize("NFC", "".join(parts))
            if self.min_len <= len(text) <= self.max_len:
                return text
        raise TextsynthError("cannot build syllable texts within the length bounds")
