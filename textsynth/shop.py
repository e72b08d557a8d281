"""The `shop` text kind: receipt, price-tag and shop-sign lines (amounts with currency prefixes, item lines,
codes, dates and times, label-value pairs), mostly upper case, written only with the charset's symbols."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from textsynth.charset import Charset
from textsynth.errors import TextsynthError

_DRAWS = 24  # uniforms per attempt: each line reads its own numbers from one block
_PROBES = 2000  # tries made when the source is built, to check its length bounds can be met


def _vocabulary(path: Path) -> dict[str, list[str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TextsynthError(f"cannot read the shop vocabulary {path}: {exc}") from None
    return {k: v for k, v in data.items() if isinstance(v, list)}


def _pick(items: list[str], u: float) -> str:
    return items[min(int(u * len(items)), len(items) - 1)]


class ShopText:
    """Receipt and sign lines from a few templates; every component the charset cannot write is left out up
    front (a date separator, a currency sign, a word), so the lines lie in the charset by construction."""

    kind: int  # set in text.py, where the kinds are numbered

    def __init__(self, path: str | Path, charset: Charset, min_len: int, max_len: int):
        from textsynth.text import SkipReport

        self.min_len, self.max_len = min_len, max_len
        self.report = SkipReport()
        allowed = frozenset(charset.symbols)
        self._allowed = allowed
        if not set("0123456789") <= allowed:
            raise TextsynthError("the shop text source needs the digits 0-9 in the charset")

        def usable(name: str, words: list[str]) -> list[str]:
            kept = [w for w in words if set(w) <= allowed]
            for _ in range(len(words) - len(kept)):
                self.report.skip(f"{name} outside the charset")
            return kept

        vocab = _vocabulary(Path(path))
        self._labels = usable("label", vocab.get("labels", []))
        self._items = usable("item", vocab.get("items", []))
        self._units = usable("unit", vocab.get("units", []))
        self._shop_words = usable("shop word", vocab.get("shop_words", []))
        self._suffixes = usable("shop suffix", vocab.get("shop_suffixes", []))
        self._names = usable("name", vocab.get("names", []))
        self._currencies = [""] + usable("currency", vocab.get("currencies", []))
        self._space = " " in allowed
        self._lower = set("abcdefghijklmnopqrstuvwxyz") <= allowed
        self._decimal = "." if "." in allowed else ("," if "," in allowed else "")
        self._group = "," if "," in allowed and self._decimal == "." else ""
        self._date_seps = [s for s in "/-." if s in allowed]
        self._colon = ":" in allowed
        self._label_seps = [s for s in (" : ", ": ", " :", ":", " ") if set(s) <= allowed]
        self.report.kept = sum(map(len, (self._labels, self._items, self._shop_words, self._names)))
        templates: list[Callable[[list[float]], str]] = [self._amount, self._code]
        if self._items:
            templates.append(self._item_line)
        if self._labels and self._label_seps:
            templates += [self._label_value, self._label_value]  # the commonest receipt line
        if self._date_seps or self._colon:
            templates.append(self._date_time)
        if self._shop_words and self._suffixes and self._space:
            templates.append(self._shop_name)
        if self._colon and self._space:
            templates.append(self._bare_value)
        self._templates = templates
        # Bounds that (almost) no line meets would make every draw search at length: refuse them up front, so a
        # mix leaves shop text out (and says so) and a shop source alone is a one-line error.
        probe, fits, tries = np.random.default_rng(0), 0, 0
        while fits < _PROBES // 100 and tries < _PROBES:  # enough lines fit: stop looking
            fits += self._attempt(probe) is not None
            tries += 1
        if fits < _PROBES // 100:
            raise TextsynthError(f"shop texts of {min_len}-{max_len} characters are too rare to draw "
                                 f"({fits} of {_PROBES} tries fit); raise --max-len")

    # --- components: each reads the uniforms it is given ------------------------------------------------------

    def _money(self, r: list[float]) -> str:
        whole = int(r[0] * 10 ** (1 + int(r[1] * 4))) if r[2] < 0.9 else int(r[0] * 10)
        text = f"{whole:,}".replace(",", self._group) if self._group else str(whole)
        if self._decimal:
            cents = int(r[3] * 100) if r[4] < 0.7 else int(r[3] * 20) * 5  # prices often end in 0 or 5
            text += f"{self._decimal}{cents:02d}"
        return text

    def _amount(self, r: list[float]) -> str:
        prefix = _pick(self._currencies, r[5]) if r[6] < 0.6 else ""
        negative = "-" if "-" in self._allowed and r[7] < 0.08 else ""
        return f"{negative}{prefix}{self._money(r)}" if r[8] < 0.7 else f"{prefix}{negative}{self._money(r)}"

    def _digits(self, r: list[float], count: int) -> str:
        zeros = int(r[1] * (count - 2)) if r[2] < 0.5 else 0  # receipts pad codes with leading zeros
        body = str(int(r[0] * 10 ** (count - zeros))).zfill(count - zeros)
        return "0" * zeros + body

    def _code(self, r: list[float]) -> str:
        digits = self._digits(r, 6 + int(r[3] * 9))
        if r[4] < 0.3 and self._space:
            qty = f"{1 + int(r[5] * 9)}{'X' if 'X' in self._allowed else ''}"
            return f"{qty} {digits}"
        if r[4] < 0.5 and "-" in self._allowed:
            return f"{digits[:6]}-{'ABCDEFGHKMPRTUVWX'[int(r[6] * 17)]}" if "A" in self._allowed else digits
        return digits

    def _item_line(self, r: list[float]) -> str:
        item = _pick(self._items, r[9])
        qty = str(1 + int(r[10] ** 2 * 20))
        if not self._space:
            return item.replace(" ", "")
        form = r[11]
        if form < 0.3 and "X" in self._allowed:
            return f"{qty}X {item}" if r[12] < 0.5 else f"{qty} X {item}"
        if form < 0.5 and self._units:
            return f"{item} {qty} {_pick(self._units, r[12])}"
        if form < 0.75:
            return f"{item} {self._money(r)}"
        if form < 0.85 and "x" in self._allowed:
            return f"{item} x{qty}"
        return item

    def _value(self, r: list[float]) -> str:
        kind = r[13]
        if kind < 0.4:
            return self._amount(r)
        if kind < 0.6:
            return self._digits(r, 4 + int(r[14] * 11))
        if kind < 0.75 and self._names:
            return _pick(self._names, r[15])
        if kind < 0.9 and (self._date_seps or self._colon):
            return self._date_time(r)
        return str(1 + int(r[14] * 99))

    def _label_value(self, r: list[float]) -> str:
        label = _pick(self._labels, r[16])
        return f"{label}{_pick(self._label_seps, r[17])}{self._value(r)}"

    def _date_time(self, r: list[float]) -> str:
        day, month, year = 1 + int(r[18] * 28), 1 + int(r[19] * 12), 1995 + int(r[20] * 35)
        parts = []
        if self._date_seps and (r[21] < 0.75 or not self._colon):
            sep = _pick(self._date_seps, r[22])
            short = r[23] < 0.2
            y = f"{year % 100:02d}" if short else str(year)
            parts.append(f"{y}{sep}{month:02d}{sep}{day:02d}" if r[21] < 0.15 else f"{day:02d}{sep}{month:02d}{sep}{y}")
        if self._colon and (r[21] >= 0.45 or not parts):
            hour, minute, second = int(r[0] * 24), int(r[1] * 60), int(r[3] * 60)
            if r[2] < 0.4 and set("APM") <= self._allowed and self._space:
                clock = f"{1 + hour % 12}:{minute:02d}:{second:02d} {'AM' if hour < 12 else 'PM'}"
            else:
                clock = f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if r[4] < 0.5 else "")
            parts.append(clock)
        return " ".join(parts) if self._space else "".join(parts)

    def _shop_name(self, r: list[float]) -> str:
        return f"{_pick(self._shop_words, r[9])} {_pick(self._suffixes, r[10])}"

    def _bare_value(self, r: list[float]) -> str:
        return f": {self._value(r)}"  # a value whose label is cut off by the crop, as line detectors leave it

    # --- a line ------------------------------------------------------------------------------------------------

    def _case(self, text: str, u: float) -> str:
        if not self._lower or u < 0.8:
            return text
        return " ".join(w[:1] + w[1:].lower() for w in text.split(" "))  # Title Case, as some printers write

    def _attempt(self, rng: np.random.Generator) -> str | None:
        r = rng.random(_DRAWS + 2).tolist()
        text = self._templates[min(int(r[_DRAWS] * len(self._templates)), len(self._templates) - 1)](r)
        text = self._case(text, r[_DRAWS + 1])
        return text if self.min_len <= len(text) <= self.max_len and set(text) <= self._allowed else None

    def sample(self, rng: np.random.Generator) -> str:
        for _ in range(100 * _PROBES):  # at least 1 % of tries fit (checked when built): never runs out
            text = self._attempt(rng)
            if text is not None:
                return text
        raise TextsynthError(f"cannot build shop texts of {self.min_len}-{self.max_len} characters")
