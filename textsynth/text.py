"""Text sources: where the strings to paint come from (random symbols, word lists, corpus lines)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textsynth.charset import Charset
from textsynth.errors import TextsynthError


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


class RandomText:
    """Uniform length in [min_len, max_len], symbols uniform over the charset; spaces never lead, trail or repeat."""

    def __init__(self, charset: Charset, min_len: int, max_len: int):
        self.charset, self.min_len, self.max_len = charset, min_len, max_len
        self._symbols = np.array(charset.symbols)
        self._space = charset.symbols.index(" ") if " " in charset else -1
        self._non_space = np.array([i for i in range(len(charset)) if i != self._space])
        if len(self._non_space) == 0:
            raise TextsynthError("the charset holds only a space: random text would be invisible")
        self.report = SkipReport()

    def sample(self, rng: np.random.Generator) -> str:
        length = int(rng.integers(self.min_len, self.max_len + 1))
        ids = rng.integers(0, len(self.charset), size=length)
        if self._space >= 0:
            # A space where it would be invisible (at an end, or doubled) is redrawn among the
            # other symbols: that is a uniform draw over the symbols allowed there.
            for k in range(length):
                if ids[k] == self._space and (k == 0 or k == length - 1 or ids[k - 1] == self._space):
                    ids[k] = self._non_space[rng.integers(len(self._non_space))]
        return "".join(self._symbols[ids])


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


TextSource = RandomText | WordsText | LinesText


def make_text_source(spec: str, charset: Charset, min_len: int, max_len: int) -> TextSource:
    """Build the source a config names: `random`, `words:PATH` or `lines:PATH`."""
    if spec == "random":
        return RandomText(charset, min_len, max_len)
    kind, _, path = spec.partition(":")
    if kind == "words" and path:
        return WordsText(path, charset, min_len, max_len)
    if kind == "lines" and path:
        return LinesText(path, charset, min_len, max_len)
    raise TextsynthError(f"text source must be random, words:PATH or lines:PATH, got {spec!r}")
