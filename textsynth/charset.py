"""The alphabet: symbols, their label ids, and text <-> id conversion."""

from __future__ import annotations

import json
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from textsynth.errors import TextsynthError

# The seed prototype's 68-symbol alphabet, in its id order. The CTC blank is not a symbol:
# models put it at index len(charset).
DEFAULT_SYMBOLS = string.ascii_lowercase + string.ascii_uppercase + string.digits + " .,-':"
# `--charset printable`: the 95 printable ASCII symbols. The seed's 68 keep their ids; the other 27
# (! " # $ % & ( ) * + / ; < = > ? @ [ \ ] ^ _ ` { | } ~) follow in ASCII order.
PRINTABLE_SYMBOLS = DEFAULT_SYMBOLS + "".join(c for c in map(chr, range(0x20, 0x7F)) if c not in DEFAULT_SYMBOLS)
NAMED_CHARSETS = {"default": DEFAULT_SYMBOLS, "printable": PRINTABLE_SYMBOLS}


def describe_chars(chars: Iterable[str], limit: int = 20) -> str:
    """The characters for a message: quoted, or as U+XXXX when invisible; after `limit`, only how many more."""
    chars = list(chars)
    shown = ", ".join(repr(c) if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}" for c in chars[:limit])
    return shown + (f" and {len(chars) - limit:,} more" if len(chars) > limit else "")


@lru_cache(maxsize=1)
def _compositions() -> dict[str, dict[str, str]]:
    """mark -> {base: the one character NFC makes of base + mark}, for every canonical pair (all lie below
    U+20000)."""
    table: dict[str, dict[str, str]] = {}
    for cp in range(0x20000):
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            base, mark = chr(int(parts[0], 16)), chr(int(parts[1], 16))
            if unicodedata.normalize("NFC", base + mark) == chr(cp):
                table.setdefault(mark, {})[base] = chr(cp)
    return table


def _check_marks(symbols: Sequence[str]) -> None:
    """Refuse a combining mark that Unicode normalization joins with another symbol into a character the charset
    lacks: a text drawn from the charset could then not be labelled (found up front, not mid-render)."""
    marks = [s for s in symbols if unicodedata.category(s).startswith("M")]
    if not marks:
        return
    present = set(symbols)
    for mark in marks:
        for base, composed in _compositions().get(mark, {}).items():
            if base in present and composed not in present:
                raise TextsynthError(f"charset symbol U+{ord(mark):04X} (a combining mark) joins {base!r} into "
                                     f"{composed!r} under Unicode normalization, and {composed!r} is not in the "
                                     "charset: add it, or remove the mark")


class Charset:
    """An ordered set of single-character symbols; a symbol's id is its position."""

    def __init__(self, symbols: Sequence[str]):
        symbols = [unicodedata.normalize("NFC", s) for s in symbols]
        if not symbols:
            raise TextsynthError("charset is empty")
        bad = [s for s in symbols if len(s) != 1]
        if bad:
            raise TextsynthError(f"charset symbols must be single characters, got {bad[:5]!r:.200}")
        dupes = sorted(s for s, k in Counter(symbols).items() if k > 1)  # linear: charsets can be huge
        if dupes:
            raise TextsynthError(f"charset has duplicate symbols: {describe_chars(dupes)}")
        controls = [s for s in symbols if unicodedata.category(s).startswith("C")]
        if controls:
            raise TextsynthError(f"charset has control/unassigned characters: {describe_chars(controls)}")
        _check_marks(symbols)
        self.symbols: tuple[str, ...] = tuple(symbols)
        self._ids = {s: i for i, s in enumerate(self.symbols)}

    @classmethod
    def default(cls) -> Charset:
        return cls(DEFAULT_SYMBOLS)

    @classmethod
    def from_string(cls, symbols: str) -> Charset:
        return cls(list(unicodedata.normalize("NFC", symbols)))

    @classmethod
    def from_file(cls, path: str | Path) -> Charset:
        """One symbol per line; a line holding a single space is the space symbol."""
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise TextsynthError(f"cannot read charset file {path}: {exc}") from None
        symbols = [line.rstrip("\r") for line in lines]
        symbols = [s if s == " " else s.strip() for s in symbols]
        return cls([s for s in symbols if s != ""])

    @classmethod
    def from_spec(cls, spec: str) -> Charset:
        """`default`, `printable`, a path to a symbols file, or the symbols themselves."""
        if spec in NAMED_CHARSETS:
            return cls.from_string(NAMED_CHARSETS[spec])
        try:
            is_file = Path(spec).is_file()
        except (OSError, ValueError):  # too long for a file name (or a NUL in it): the symbols themselves
            is_file = False
        if is_file:
            return cls.from_file(spec)
        return cls.from_string(spec)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, char: str) -> bool:
        return char in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Charset) and other.symbols == self.symbols

    def __hash__(self) -> int:
        return hash(self.symbols)

    def __repr__(self) -> str:
        return f"Charset({''.join(self.symbols)!r})"

    @property
    def blank(self) -> int:
        """The CTC blank index models use: one past the last symbol."""
        return len(self.symbols)

    def missing(self, text: str) -> list[str]:
        """Characters of (NFC-normalized) text that are not symbols, in order of first appearance."""
        seen: dict[str, None] = {}
        for c in unicodedata.normalize("NFC", text):
            if c not in self._ids:
                seen[c] = None
        return list(seen)

    def encode(self, text: str) -> list[int]:
        text = unicodedata.normalize("NFC", text)
        try:
            return [self._ids[c] for c in text]
        except KeyError:
            raise TextsynthError(
                f"text {text!r} has characters outside the charset: {describe_chars(self.missing(text))}"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """Ids to text; negative ids (padding) and the blank are skipped."""
        n = len(self.symbols)
        out = []
        for i in ids:
            i = int(i)
            if 0 <= i < n:
                out.append(self.symbols[i])
            elif i > n:
                raise TextsynthError(f"label id {i} is outside the charset of {n} symbols")
        return "".join(out)

    def decode_batch(self, labels: Iterable[Sequence[int]], lengths: Iterable[int]) -> list[str]:
        """Texts of a batch of -1-padded label rows with their lengths."""
        return [self.decode(row[:n]) for row, n in zip(labels, lengths)]

    def to_json(self) -> str:
        return json.dumps(list(self.symbols), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Charset:
        try:
            symbols = json.loads(data)
        except json.JSONDecodeError as exc:
            raise TextsynthError(f"charset JSON is malformed: {exc}") from None
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            raise TextsynthError("charset JSON must be a list of one-character strings")
        return cls(symbols)
