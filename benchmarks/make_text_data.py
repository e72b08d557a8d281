"""Build textsynth/data/ (the bundled natural text) from two Debian bookworm packages.

    apt-get download wamerican dict-devil
    dpkg-deb -x wamerican_*.deb x/wamerican; dpkg-deb -x dict-devil_*.deb x/dict-devil
    python benchmarks/make_text_data.py x

Writes `devils-dictionary.txt` (Ambrose Bierce, The Devil's Dictionary, 1911, public domain: one paragraph per
line, italics underscores and cross-reference braces removed) and `words.tsv` (word TAB count: the SCOWL
american-english word list of `wamerican` without possessives, each with its count in that running text,
most frequent first; words of the text missing from the list are added with their counts).
"""

from __future__ import annotations

import collections
import gzip
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "textsynth" / "data"


def devils_dictionary(root: Path) -> list[str]:
    raw = gzip.decompress((root / "dict-devil/usr/share/dictd/devil.dict.dz").read_bytes()).decode("latin-1")
    body = raw[raw.index("PREFACE"):]
    body = body[:body.rindex(" abcdefghijklmnopqrstuvwxyz")]
    paragraphs = []
    for block in re.split(r"\n\s*\n", body):
        text = " ".join(block.replace("_", "").replace("{", "").replace("}", "").split())
        if text:
            paragraphs.append(text)
    return paragraphs


def main(root: str) -> None:
    root_path = Path(root)
    paragraphs = devils_dictionary(root_path)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "devils-dictionary.txt").write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
    counts = collections.Counter(w for p in paragraphs for w in re.findall(r"[A-Za-z]+(?:'[a-z]+)?", p))
    lower = collections.Counter()
    for w, c in counts.items():
        lower[w.lower()] += c
    words = []
    for line in (root_path / "wamerican/usr/share/dict/american-english").read_text(encoding="utf-8").splitlines():
        w = line.strip()
        if w and not w.endswith("'s") and w.isascii() and (len(w) > 1 or w in ("a", "I")):
            words.append(w)
    known = set(words)
    known_lower = {w.lower() for w in words}
    for w, c in counts.items():
        if w.lower() not in known_lower and w not in known and c >= 2 and w.isalpha() and len(w) > 1:
            words.append(w.lower())
            known.add(w.lower())
            known_lower.add(w.lower())
    rows = sorted(((w, lower[w] if w.islower() else counts.get(w, 0)) for w in words),
                  key=lambda wc: (-wc[1], wc[0]))
    (OUT / "words.tsv").write_text("".join(f"{w}\t{c}\n" for w, c in rows), encoding="utf-8")
    print(f"{len(paragraphs)} paragraphs, {sum(counts.values())} running words; {len(rows)} words in the list")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/h10a_debs/x")
