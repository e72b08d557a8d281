"""Right-to-left lines: the runs a line mixing Arabic letters and numbers is drawn in, and its visual order.

The rule (the Unicode bidirectional algorithm's outcome for the lines textsynth makes): a line whose first
strong character is right-to-left (Arabic, Hebrew) is a right-to-left paragraph; inside it, each number (digits,
with single `. , : / -` between digits) is a left-to-right run and everything else, spaces and punctuation
included, is right-to-left. Runs are laid out right to left; a number reads left to right inside its run.
Labels stay in logical (Unicode) order; `visual_order` gives the order in which the characters appear from left
to right, which a left-to-right CTC recognizer must be trained on (it is its own inverse).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NUMBER = re.compile(r"[0-9]+(?:[.,:/\-][0-9]+)*")


@lru_cache(maxsize=65536)
def is_rtl(text: str) -> bool:
    """Whether the first strong character of `text` is right-to-left (False for a text without one)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def runs(text: str) -> list[tuple[int, int, bool]]:
    """(start, stop, right_to_left) runs of `text` in logical order; one left-to-right run unless `is_rtl`."""
    if not is_rtl(text):
        return [(0, len(text), False)] if text else []
    out: list[tuple[int, int, bool]] = []
    at = 0
    for m in _NUMBER.finditer(text):
        if m.start() > at:
            out.append((at, m.start(), True))
        out.append((m.start(), m.end(), False))
        at = m.end()
    if at < len(text):
        out.append((at, len(text), True))
    return out


def visual_order(text: str) -> str:
    """The characters of `text` from left to right as drawn (its own inverse): a left-to-right text unchanged;
    in a right-to-left one, the runs in reverse and each right-to-left run's characters reversed."""
    if not is_rtl(text):
        return text
    return "".join(text[a:b][::-1] if rtl else text[a:b] for a, b, rtl in reversed(runs(text)))
