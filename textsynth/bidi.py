"""Right-to-left lines: the runs a line mixing Arabic letters and numbers is drawn in, and its visual order.

The rule is the Unicode bidirectional algorithm (UAX #9) for the lines textsynth makes, whose strong
characters are all right-to-left (letters, no Latin): a line whose first strong character is right-to-left is
a right-to-left paragraph; in it each number is a left-to-right run and everything else, spaces and punctuation
included, is right-to-left. A number is digits joined by single separators: before the first letter (European
numbers, rule W4) by any of `. , : / ، - +`; after it (W2 makes them Arabic numbers) by `. , : / ،` only, so
`سعر 1-2` is the numbers 1 and 2 around a right-to-left hyphen. Runs are laid out right to left; a number reads
left to right inside its run. Labels stay in logical (Unicode) order. `visual_order` gives the order in which
the characters appear from left to right, which a left-to-right CTC recognizer must be trained on, and
`logical_order` undoes it (a combining mark moves with its base character).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_EUROPEAN = re.compile(r"[0-9]+(?:[.,:/\u060c+\-][0-9]+)*")  # W4: a single CS or ES between European numbers
_ARABIC = re.compile(r"[0-9]+(?:[.,:/\u060c][0-9]+)*")  # W4: only a single CS between Arabic numbers


@lru_cache(maxsize=65536)
def is_rtl(text: str) -> bool:
    """Whether the first strong character of `text` is right-to-left (False for a text without one)."""
    return _first_strong(text)[1]


def _first_strong(text: str) -> tuple[int, bool]:
    """(index, right_to_left) of the first strong character; (len, False) without one."""
    for k, char in enumerate(text):
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return k, True
        if kind == "L":
            return k, False
    return len(text), False


def _numbers(text: str) -> list[tuple[int, int]]:
    """(start, stop) of each number of a right-to-left line, in logical order."""
    first = _first_strong(text)[0]
    spans = [m.span() for m in _EUROPEAN.finditer(text, 0, first)]
    return spans + [m.span() for m in _ARABIC.finditer(text, first)]


def runs(text: str) -> list[tuple[int, int, bool]]:
    """(start, stop, right_to_left) runs of `text` in logical order; one left-to-right run unless `is_rtl`."""
    if not is_rtl(text):
        return [(0, len(text), False)] if text else []
    out: list[tuple[int, int, bool]] = []
    at = 0
    for start, stop in _numbers(text):
        if start > at:
            out.append((at, start, True))
        out.append((start, stop, False))
        at = stop
    if at < len(text):
        out.append((at, len(text), True))
    return out


def _reversed_units(text: str) -> str:
    """`text` backwards by character, each combining mark staying after its base."""
    units: list[str] = []
    for char in text:
        if units and unicodedata.combining(char):
            units[-1] += char
        else:
            units.append(char)
    return "".join(reversed(units))


def _numbers_reversed(text: str) -> str:
    """`text` with each number of a right-to-left line written backwards (its own inverse: a reversed number
    is found again at the same place)."""
    out, at = [], 0
    for start, stop in _numbers(text):
        out += [text[at:start], text[start:stop][::-1]]
        at = stop
    return "".join(out) + text[at:]


def visual_order(text: str) -> str:
    """The characters of `text` from left to right as drawn: a left-to-right text unchanged; a right-to-left one
    backwards except its numbers."""
    if not is_rtl(text):
        return text
    return _reversed_units(_numbers_reversed(text))


def logical_order(visual: str) -> str:
    """The text whose `visual_order` is `visual` (a right-to-left line read left to right, as a recognizer
    trained on visual order writes it); a line without right-to-left letters, or with left-to-right ones (which
    textsynth's right-to-left charsets do not hold), is unchanged."""
    kinds = {unicodedata.bidirectional(c) for c in visual}
    if "L" in kinds or not kinds & {"R", "AL"}:
        return visual
    return _numbers_reversed(_reversed_units(visual))
