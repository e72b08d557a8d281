"""Text from a dataset, a config or a run made safe to print: control and format characters shown as escapes."""

from __future__ import annotations

import re
import unicodedata

# Controls (C0, DEL, C1: terminal escapes), format characters (bidi overrides, zero-width marks: text that reads
# as something else), surrogates, and line/paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CANDIDATE = re.compile("[^\x20-\x7e]")  # printable ASCII is always safe; everything else is looked up


def _escape(char: str, json: bool) -> str:
    code = ord(char)
    if not json and code > 0xFFFF:
        return f"\\U{code:08x}"
    if json or code > 0xFF:
        if code > 0xFFFF:  # JSON has no \U escape: a surrogate pair
            high, low = divmod(code - 0x10000, 0x400)
            return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
        return f"\\u{code:04x}"
    return f"\\x{code:02x}"


def printable(text: str, *, json: bool = False, keep_newlines: bool = False) -> str:
    """`text` with every character that could drive or fool a terminal (controls, escapes, bidi overrides,
    zero-width characters) written as a visible escape (`\\x1b`, `\\u202e`); other text, non-ASCII letters
    included, unchanged. `json=True` writes `\\uXXXX` escapes, so JSON text stays valid JSON of the same value
    (apply it to the dumped text, where these characters can only be inside strings; its own line breaks stay).
    `keep_newlines` leaves the line breaks of a multi-line report."""

    def sub(match: re.Match) -> str:
        char = match.group()
        if ((keep_newlines or json) and char == "\n") or unicodedata.category(char) not in _UNSAFE_CATEGORIES:
            return char
        return _escape(char, json)

    return _CANDIDATE.sub(sub, str(text))
