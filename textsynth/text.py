"""Text sources: where the strings to paint come from (random symbols, word lists, corpus lines, running text,
numbers and dates, or a weighted mix of them). Every source draws only from the sample's rng."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from textsynth.charset import Charset
from textsynth.errors import TextsynthError
from textsynth.harakat import missing_harakat, vocalize
from textsynth.languages import Language, get_language
from textsynth.shop import ShopText
from textsynth.syllables import SyllableText


@dataclass
class SkipReport:
    """How many input entries a file-backed source kept and why it skipped the others."""

    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def summary(self) -> str:
        parts = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        return f"{self.kept} kept, skipped: {parts}"


# Text kinds, recorded per sample as `params/text_kind` (the index here) and listed in the manifest.
TEXT_KINDS = ("random", "words", "lines", "numbers", "shop")  # append only: the ids are stored
KIND_IDS = {name: i for i, name in enumerate(TEXT_KINDS)}


def data_dir() -> Path:
    """The bundled text data (textsynth/data/: word frequencies and public-domain running text)."""
    return Path(__file__).resolve().parent / "data"


class RandomText:
    """Uniform length in [min_len, max_len], symbols uniform over the charset; spaces never lead, trail or repeat."""

    def __init__(self, charset: Charset, min_len: int, max_len: int):
        self.charset, self.min_len, self.max_len = charset, min_len, max_len
        # A combining mark is never drawn on its own (after a space or a digit fonts draw it on a dotted circle):
        # Arabic's harakat come with `text.vowel_marks`, on letters.
        drawn = [s for s in charset.symbols if not unicodedata.combining(s)]
        self._symbols = drawn
        self._space = drawn.index(" ") if " " in drawn else -1
        self._non_space = [i for i in range(len(drawn)) if i != self._space]
        if len(self._non_space) == 0:
            raise TextsynthError("the charset holds only a space (and marks): random text would be invisible")
        self.report = SkipReport()

    def sample(self, rng: np.random.Generator) -> str:
        length = int(rng.integers(self.min_len, self.max_len + 1))
        ids = rng.integers(0, len(self._symbols), size=length).tolist()
        space = self._space
        if space >= 0 and space in ids:
            # A space where it would be invisible (at an end, or doubled) is redrawn among the
            # other symbols: that is a uniform draw over the symbols allowed there.
            for k in range(length):
                if ids[k] == space and (k == 0 or k == length - 1 or ids[k - 1] == space):
                    ids[k] = self._non_space[int(rng.integers(len(self._non_space)))]
        symbols = self._symbols
        return "".join([symbols[i] for i in ids])


def _clean_line(line: str) -> str:
    return " ".join(unicodedata.normalize("NFC", line).split())


def _read_entries(path: Path, kind: str) -> list[str]:
    if not path.is_file():
        raise TextsynthError(f"{kind} file {path} does not exist")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TextsynthError(f"{kind} file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise TextsynthError(f"cannot read {kind} file {path}: {exc.strerror or exc}") from None


class WordsText:
    """Random words from a word list joined with single spaces, the total length within the bounds."""

    def __init__(self, path: str | Path, charset: Charset, min_len: int, max_len: int):
        self.min_len, self.max_len = min_len, max_len
        self.report = SkipReport()
        words = []
        for raw in _read_entries(Path(path), "words"):
            word = _clean_line(raw)
            if not word:
                continue
            if " " in word:
                self.report.skip("holding spaces")
            elif charset.missing(word):
                self.report.skip("outside the charset")
            elif len(word) > max_len:
                self.report.skip("longer than max-len")
            else:
                words.append(word)
        self.report.kept = len(words)
        if not words:
            raise TextsynthError(f"words file {path} has no usable word ({self.report.summary()})")
        self._words = words
        if all(len(w) < min_len for w in words) and " " not in charset:
            raise TextsynthError(f"words file {path}: every word is shorter than min-len and the charset has no space")

    def sample(self, rng: np.random.Generator) -> str:
        words = self._words
        for _ in range(1000):
            target = int(rng.integers(self.min_len, self.max_len + 1))
            text = words[rng.integers(len(words))]
            for _ in range(64):
                if len(text) >= target:
                    break
                word = words[rng.integers(len(words))]
                if len(text) + 1 + len(word) <= self.max_len:
                    text = f"{text} {word}"
            if self.min_len <= len(text) <= self.max_len:
                return text
        raise TextsynthError("cannot build texts within the length bounds from this word list")


class LinesText:
    """Lines of a corpus file, drawn uniformly at random; lines that do not fit are skipped and counted."""

    def __init__(self, path: str | Path, charset: Charset, min_len: int, max_len: int):
        self.report = SkipReport()
        lines = []
        for raw in _read_entries(Path(path), "lines"):
            line = _clean_line(raw)
            if not line:
                self.report.skip("empty")
            elif charset.missing(line):
                self.report.skip("outside the charset")
            elif not min_len <= len(line) <= max_len:
                self.report.skip("outside the length bounds")
            else:
                lines.append(line)
        self.report.kept = len(lines)
        if not lines:
            raise TextsynthError(f"lines file {path} has no usable line ({self.report.summary()})")
        self._lines = lines

    def sample(self, rng: np.random.Generator) -> str:
        return self._lines[rng.integers(len(self._lines))]


# --- natural text from the bundled data --------------------------------------------------------------------

_PUNCT_MAP = {";": ",", "!": ".", "?": ".", '"': "'", "`": "'", "\u2019": "'", "\u2018": "'", "\u201c": "'",
              "\u201d": "'", "\u2014": "-", "\u2013": "-"}


def _normalizer(charset: Charset):
    """A function mapping a string into the charset: common punctuation to its nearest charset symbol, the rest
    of the characters outside the charset removed."""
    allowed = set(charset.symbols)
    table = {ord(a): (b if b in allowed else None) for a, b in _PUNCT_MAP.items() if a not in allowed}

    def normalize(text: str) -> str:
        text = text.translate(table)
        if set(text) <= allowed:
            return text
        return "".join(c for c in text if c in allowed)

    return normalize


@lru_cache(maxsize=4)
def _word_table(path: str) -> tuple[tuple[str, ...], np.ndarray]:
    words, counts = [], []
    for line in _read_entries(Path(path), "words"):
        word, _, count = line.partition("\t")
        word = word.strip()
        if word:
            words.append(word)
            counts.append(int(count) if count.strip().isdigit() else 0)
    return tuple(words), np.array(counts, dtype=np.float64)


class PhraseText:
    """Phrases of words drawn by frequency (70 %) or uniformly from the list (30 %), with the case variants of
    real text (as listed, Sentence, Title, UPPER) and punctuation (commas, colons, hyphenated pairs, a full
    stop at the end) wherever the charset has those symbols."""

    kind = KIND_IDS["words"]
    _CASES = (0.55, 0.75, 0.88)  # cumulative: as listed, Sentence case, Title Case, then UPPER CASE

    def __init__(self, path: str | Path, charset: Charset, min_len: int, max_len: int, spaced: bool = True,
                 punctuation: tuple[str, str, str] = (",", ":", ".")):
        self.min_len, self.max_len = min_len, max_len
        self.report = SkipReport()
        words, counts = _word_table(str(path))
        allowed = set(charset.symbols)
        every_char_ok = set("".join(words)) <= allowed  # the common case: no per-word charset test
        keep = []
        for i, w in enumerate(words):
            if not every_char_ok and not set(w) <= allowed:
                self.report.skip("outside the charset")
            elif len(w) > max_len:
                self.report.skip("longer than max-len")
            else:
                keep.append(i)
        if not keep:
            raise TextsynthError(f"words file {path} has no usable word ({self.report.summary()})")
        self.report.kept = len(keep)
        self._words = [words[i] for i in keep]
        c = counts[keep]
        p = 0.3 / len(keep) + (0.7 * c / c.sum() if c.sum() > 0 else np.full(len(keep), 0.7 / len(keep)))
        cum = np.cumsum(p / p.sum())
        cum[-1] = 1.0
        self._cum = cum.tolist()  # bisect on a list beats a numpy call for the few words a phrase needs
        self._upper_ok = set("".join(self._words).upper()) <= allowed
        # Words apart (a space between them, the language's comma or colon or a hyphen now and then) or, in a
        # script written without spaces (Chinese), run together with its comma, enumeration comma and colon
        comma, colon, stop = punctuation
        self._joiner = " " if spaced else ""
        self._joinable = " " in allowed or not spaced
        gaps = (f"{comma} ", f"{colon} ", "-") if spaced else (comma, "、", colon)
        self._gaps = [g for g in gaps if set(g) <= allowed]
        self._stop = stop if stop in allowed else ""
        if not self._joinable and min_len > max(len(w) for w in self._words):
            raise TextsynthError(f"words file {path}: every word is shorter than min-len and the charset has no space")

    def _case(self, words: list[str], r: float) -> list[str]:
        if not self._upper_ok or r < self._CASES[0]:
            return words
        if r < self._CASES[1]:
            return [words[0][:1].upper() + words[0][1:], *words[1:]]
        if r < self._CASES[2]:
            return [w[:1].upper() + w[1:] for w in words]
        return [w.upper() for w in words]

    def sample(self, rng: np.random.Generator) -> str:
        words, max_len, cum = self._words, self.max_len, self._cum
        for _ in range(1000):
            r = rng.random(24).tolist()
            target = self.min_len + int(r[0] * (max_len - self.min_len + 1))
            chosen = [words[bisect_right(cum, r[1])]]
            seps = []
            length = len(chosen[0])
            for k in range(1, 10):
                if length >= target or not self._joinable:
                    break
                g = r[11 + k]
                sep = self._joiner
                if self._gaps and g < 0.12:
                    sep = self._gaps[int(g / 0.12 * len(self._gaps))]
                w = words[bisect_right(cum, r[1 + k])]
                if length + len(sep) + len(w) > max_len:
                    continue
                seps.append(sep)
                chosen.append(w)
                length += len(sep) + len(w)
            chosen = self._case(chosen, r[22])
            text = chosen[0] + "".join(s + w for s, w in zip(seps, chosen[1:]))
            if self._stop and r[23] < 0.2 and len(text) < max_len:
                text += self._stop
            if self.min_len <= len(text) <= max_len:
                return text
        raise TextsynthError("cannot build texts within the length bounds from this word list")


@lru_cache(maxsize=4)
def _corpus_tokens(path: str, symbols: tuple[str, ...]) -> tuple[str, ...]:
    normalize = _normalizer(Charset(list(symbols)))
    tokens = []
    for line in _read_entries(Path(path), "lines"):
        for token in _clean_line(line).replace("--", " - ").split(" "):
            token = normalize(token)
            if token.strip():
                tokens.append(token)
    return tuple(tokens)


class CorpusText:
    """Stretches of running text: a random word of the corpus and the words that follow it, up to a length
    drawn uniformly in the bounds (never cutting a word); punctuation outside the charset is mapped to the
    nearest charset symbol (; to , and ! ? to .) or dropped."""

    kind = KIND_IDS["lines"]

    def __init__(self, path: str | Path, charset: Charset, min_len: int, max_len: int):
        self.min_len, self.max_len = min_len, max_len
        self.report = SkipReport()
        tokens = _corpus_tokens(str(path), charset.symbols)
        self._tokens = tokens
        self._space = " " in charset
        self.report.kept = len(tokens)
        if not any(len(t) <= max_len for t in tokens):
            raise TextsynthError(f"text file {path} has no word of at most {max_len} characters in the charset")

    def sample(self, rng: np.random.Generator) -> str:
        tokens, max_len = self._tokens, self.max_len
        for _ in range(1000):
            r = rng.random(2).tolist()
            target = self.min_len + int(r[0] * (max_len - self.min_len + 1))
            i = int(r[1] * len(tokens))
            text = tokens[i]
            if len(text) > max_len:
                continue
            while len(text) < target and self._space:
                i += 1
                if i >= len(tokens) or len(text) + 1 + len(tokens[i]) > max_len:
                    break
                text = f"{text} {tokens[i]}"
            if self.min_len <= len(text) <= max_len:
                return text
        raise TextsynthError("cannot cut texts within the length bounds from this running text")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "SEK")
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _thousands(n: int) -> str:
    return f"{n:,}"


# Each format maps 8 uniform numbers in [0, 1) to a string.
_NUMBER_FORMATS = {
    "integer": lambda r: str(int(r[0] * 10 ** (1 + int(r[1] * 5)))),
    "grouped": lambda r: _thousands(int(r[0] * 10 ** (4 + int(r[1] * 4)))),
    "decimal": lambda r: f"{r[0] * 10 ** int(r[1] * 4):.{1 + int(r[2] * 3)}f}",
    "price": lambda r: (f"{_thousands(int(r[0] * 10 ** int(1 + r[1] * 4)))}.{int(r[2] * 100):02d}"
                        + (f" {_CURRENCIES[int(r[3] * 6)]}" if r[4] < 0.5 else "")),
    "iso_date": lambda r: f"{1900 + int(r[0] * 130)}-{1 + int(r[1] * 12):02d}-{1 + int(r[2] * 28):02d}",
    "dotted_date": lambda r: f"{1 + int(r[0] * 28):02d}.{1 + int(r[1] * 12):02d}.{1900 + int(r[2] * 130)}",
    "long_date": lambda r: f"{1 + int(r[0] * 28)} {_MONTHS[int(r[1] * 12)]} {1900 + int(r[2] * 130)}",
    "short_date": lambda r: f"{_MONTHS[int(r[1] * 12)][:3]} {1 + int(r[0] * 28)}, {1900 + int(r[2] * 130)}",
    "time": lambda r: f"{int(r[0] * 24):02d}:{int(r[1] * 60):02d}" + (f":{int(r[2] * 60):02d}" if r[3] < 0.3 else ""),
    "code": lambda r: (f"{_LETTERS[int(r[0] * 24)]}{_LETTERS[int(r[1] * 24)]}-{int(r[2] * 10000):04d}"
                       + (f"-{_LETTERS[int(r[3] * 24)]}" if r[4] < 0.4 else "")),
    "phone": lambda r: f"0{int(r[0] * 900) + 100}-{int(r[1] * 9000000) + 1000000}",
    "ordinal": lambda r: _ordinal(1 + int(r[0] * 10 ** (1 + int(r[1] * 3)))),
    "number_label": lambda r: f"No. {1 + int(r[0] * 10 ** (1 + int(r[1] * 4)))}",
    "version": lambda r: f"v{int(r[0] * 10)}.{int(r[1] * 20)}.{int(r[2] * 30)}",
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class NumbersText:
    """Numbers, amounts, prices, dates, times, codes and ordinals, several joined by spaces up to a length drawn
    in the bounds; formats whose output the charset cannot write are left out."""

    kind = KIND_IDS["numbers"]

    def __init__(self, charset: Charset, min_len: int, max_len: int):
        self.min_len, self.max_len = min_len, max_len
        self.report = SkipReport()
        allowed = set(charset.symbols)
        probe = np.random.default_rng(0).random((50, 8))
        self._formats = []
        for name, fmt in _NUMBER_FORMATS.items():
            if all(set(fmt(r)) <= allowed for r in probe):
                self._formats.append(fmt)
            else:
                self.report.skip(f"format {name} outside the charset")
        self.report.kept = len(self._formats)
        if not self._formats:
            raise TextsynthError("the numbers text source needs digits in the charset")
        self._space = " " in allowed
        self._allowed = frozenset(allowed)

    def sample(self, rng: np.random.Generator) -> str:
        formats, max_len = self._formats, self.max_len
        for _ in range(1000):
            r = rng.random(42).tolist()
            target = self.min_len + int(r[0] * (max_len - self.min_len + 1))
            text = ""
            for k in range(4):
                item = formats[int(r[1 + k] * len(formats))](r[10 + 8 * k:18 + 8 * k])
                candidate = f"{text} {item}" if text else item
                if len(candidate) > max_len:
                    break
                text = candidate
                if len(text) >= target or not self._space:
                    break
            if self.min_len <= len(text) <= max_len and set(text) <= self._allowed:
                return text
        raise TextsynthError("cannot build number texts within the length bounds")


# --- specs and the mix ------------------------------------------------------------------------------------

_SPEC_HELP = ("random, words[:PATH], lines[:PATH], numbers, shop[:PATH], or mix:KIND[:PATH]=WEIGHT,... "
              "(e.g. mix:random=0.5,words=0.5)")
_SPEC_RE = re.compile(r"^(random|numbers|words|lines|shop)(?::(.+))?$")


def parse_source_spec(spec: str) -> list[tuple[str, str | None, float]]:
    """[(kind, path or None, weight)] of a text source spec; a one-line error if it is malformed."""
    if not isinstance(spec, str) or not spec.strip():
        raise TextsynthError(f"text source must be {_SPEC_HELP}, got {spec!r}")
    spec = spec.strip()
    if spec.startswith("mix:"):
        items = [item.strip() for item in spec[4:].split(",") if item.strip()]
        if not items:
            raise TextsynthError(f"text source {spec!r}: mix: needs KIND=WEIGHT items")
        parts = []
        for item in items:
            name, eq, weight_text = item.rpartition("=")
            try:
                weight = float(weight_text)
            except ValueError:
                weight = -1.0
            if not eq or not weight >= 0 or weight == float("inf"):
                raise TextsynthError(f"text source {spec!r}: {item!r} must be KIND=WEIGHT with a weight >= 0")
            kind, path = _parse_single(name, spec)
            parts.append((kind, path, weight))
        if sum(w for _, _, w in parts) <= 0:
            raise TextsynthError(f"text source {spec!r}: the weights add up to 0")
        kinds = [k for k, _, _ in parts]
        if len(set(kinds)) != len(kinds):
            raise TextsynthError(f"text source {spec!r}: each kind may appear once")
        return parts
    kind, path = _parse_single(spec, spec)
    return [(kind, path, 1.0)]


def _parse_single(text: str, spec: str) -> tuple[str, str | None]:
    m = _SPEC_RE.match(text.strip())
    if not m or (m.group(1) in ("random", "numbers") and m.group(2)):
        raise TextsynthError(f"text source must be {_SPEC_HELP}, got {spec!r}")
    return m.group(1), m.group(2)


def _make_single(kind: str, path: str | None, charset: Charset, min_len: int, max_len: int,
                 language: Language | None = None):
    language = language or get_language("en")
    if kind == "random":
        return SyllableText(charset, min_len, max_len) if language.syllabic else RandomText(charset, min_len, max_len)
    if kind == "numbers":
        return NumbersText(charset, min_len, max_len)
    if kind in ("shop", "lines") and not path and not language.english:
        raise TextsynthError(f"the bundled {kind} texts are English; {language.name} has none (give a file)")
    if kind == "shop":
        return ShopText(path or data_dir() / "shop.toml", charset, min_len, max_len)
    if kind == "words":
        return WordsText(path, charset, min_len, max_len) if path else \
            PhraseText(language.words, charset, min_len, max_len, language.spaced, language.punctuation)
    if path:
        return LinesText(path, charset, min_len, max_len)
    return CorpusText(data_dir() / "devils-dictionary.txt", charset, min_len, max_len)


RandomText.kind = KIND_IDS["random"]
WordsText.kind = KIND_IDS["words"]
LinesText.kind = KIND_IDS["lines"]
ShopText.kind = KIND_IDS["shop"]
SyllableText.kind = KIND_IDS["random"]


class MixText:
    """Each sample's text from one of several sources, picked with the spec's weights (one uniform draw)."""

    def __init__(self, parts: list[tuple[object, float]]):
        self.sources = [s for s, _ in parts]
        weights = np.array([w for _, w in parts], dtype=np.float64)
        self._cum = (np.cumsum(weights) / weights.sum()).tolist()
        self._cum[-1] = 1.0
        self.weights = (weights / weights.sum()).tolist()
        self.report = SkipReport(kept=sum(s.report.kept for s in self.sources))
        for s in self.sources:
            for why, n in s.report.skipped.items():
                self.report.skipped[f"{TEXT_KINDS[s.kind]}: {why}"] = n

    def draw(self, rng: np.random.Generator) -> tuple[int, str]:
        source = self.sources[bisect_right(self._cum, rng.random())]
        return source.kind, source.sample(rng)

    def sample(self, rng: np.random.Generator) -> str:
        return self.draw(rng)[1]


class UpperShare:
    """Writes a share of another source's natural texts (every kind but random strings) in upper case, as signs
    and receipts are; one extra uniform per sample, drawn only when the share is above 0."""

    def __init__(self, source: object, share: float, charset: Charset):
        self.source, self.share = source, share
        self.report = source.report
        self._allowed = frozenset(charset.symbols)

    def draw(self, rng: np.random.Generator) -> tuple[int, str]:
        kind, text = draw_text(self.source, rng)
        if rng.random() < self.share and kind != KIND_IDS["random"]:
            upper = text.upper()
            if len(upper) == len(text) and set(upper) <= self._allowed:
                return kind, upper
        return kind, text

    def sample(self, rng: np.random.Generator) -> str:
        return self.draw(rng)[1]


class VowelMarks:
    """Writes a share of another source's texts with Arabic harakat (`textsynth.harakat`), half of them fully
    vocalized and half partly, within `max_len`; two extra uniforms per sample (and two per character of a text
    written so), drawn only when the share is above 0."""

    def __init__(self, source: object, share: float, charset: Charset, max_len: int):
        missing = missing_harakat(frozenset(charset.symbols))
        if missing:
            raise TextsynthError(f"text.vowel_marks needs the harakat in the charset; it lacks {', '.join(missing)}")
        self.source, self.share, self.max_len = source, share, max_len
        self.report = source.report

    def draw(self, rng: np.random.Generator) -> tuple[int, str]:
        kind, text = draw_text(self.source, rng)
        on, full = rng.random(2).tolist()
        if on < self.share:
            return kind, vocalize(text, rng, full < 0.5, self.max_len - len(text))
        return kind, text

    def sample(self, rng: np.random.Generator) -> str:
        return self.draw(rng)[1]


TextSource = (RandomText | SyllableText | WordsText | LinesText | PhraseText | CorpusText | NumbersText | ShopText
              | MixText | UpperShare | VowelMarks)


def make_text_source(spec: str, charset: Charset, min_len: int, max_len: int, upper: float = 0.0,
                     language: str = "en", vowel_marks: float = 0.0) -> TextSource:
    """Build the source a config names (see `parse_source_spec`); one kind alone is that source itself;
    `upper` > 0 writes that share of the natural texts in upper case; `vowel_marks` > 0 that share of the texts
    with the language's optional vowel marks; `language` picks the bundled word list."""
    lang = get_language(language)
    source = _make_source(spec, charset, min_len, max_len, lang)
    if upper > 0:
        source = UpperShare(source, upper, charset)
    if vowel_marks > 0:
        if not lang.vowel_marks:
            raise TextsynthError(f"text.vowel_marks: {lang.name} has no optional vowel marks (only Arabic does: "
                                 "its harakat)")
        source = VowelMarks(source, vowel_marks, charset, max_len)
    return source


def _make_source(spec: str, charset: Charset, min_len: int, max_len: int, language: Language) -> TextSource:
    parts = parse_source_spec(spec)
    if len(parts) == 1:
        kind, path, _ = parts[0]
        return _make_single(kind, path, charset, min_len, max_len, language)
    # In a mix, a bundled source this charset cannot write (numbers without digits, words without letters) is
    # left out and reported; a file the spec names must work.
    built, dropped = [], {}
    for kind, path, weight in parts:
        if weight <= 0:
            continue
        try:
            built.append((_make_single(kind, path, charset, min_len, max_len, language), weight))
        except TextsynthError as exc:
            if path:
                raise
            dropped[f"{kind}: left out of the mix ({exc})"] = 1
    if not built:
        raise TextsynthError(f"text source {spec!r}: no part of the mix can write this charset "
                             f"({'; '.join(dropped)})")
    mix = MixText(built)
    mix.report.skipped.update(dropped)
    return mix


def draw_text(source: TextSource, rng: np.random.Generator) -> tuple[int, str]:
    """(text kind id, text) of one draw from any source."""
    if isinstance(source, (MixText, UpperShare, VowelMarks)):
        return source.draw(rng)
    return source.kind, source.sample(rng)
