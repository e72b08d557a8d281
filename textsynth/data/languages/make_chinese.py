"""Chinese (simplified) data for `--language zh`: the charset and the word list from jieba's dictionary (Debian
`python3-jieba`, Expat licence), and the bundled faces, subset to that charset, from Debian's
`fonts-wqy-microhei` (Apache-2.0) and `fonts-arphic-ukai` / `fonts-arphic-uming` (Arphic Public License).

    apt-get install python3-jieba fonts-wqy-microhei fonts-arphic-ukai fonts-arphic-uming
    python make_chinese.py    # here: writes zh/charset.txt, zh/words.tsv and ../../../fonts/chinese/*.ttf
"""
from collections import Counter
from datetime import date
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
DICTIONARY = Path("/usr/lib/python3/dist-packages/jieba/dict.txt")
HANZI = 3500  # the most frequent characters: 99.0 % of the dictionary's frequency mass (3,000: 98.5 %)
WORDS = 30000
# after the characters: digits, then the space and the punctuation a line of Chinese print uses
TAIL = list("0123456789") + [" ", ".", ",", "-", ":", "，", "。", "、", "：", "；", "！", "？", "（", "）", "《", "》",
                             "“", "”"]
FACES = {  # output file: (collection, face index)
    "WenQuanYiMicroHei.ttf": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    "ARPLUKaiCN.ttf": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    "ARPLUMingCN.ttf": ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
}


def is_hanzi(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


entries = []
for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
    word, count, _ = line.split()
    if all(map(is_hanzi, word)):
        entries.append((word, int(count)))
weight = Counter()
for word, count in entries:
    for c in word:
        weight[c] += count
hanzi = [c for c, _ in weight.most_common(HANZI)]
(HERE / "zh" / "charset.txt").write_text("".join(f"{c}\n" for c in hanzi + TAIL), encoding="utf-8")
allowed = set(hanzi)
kept = sorted(((w, n) for w, n in entries if set(w) <= allowed and len(w) <= 8), key=lambda e: (-e[1], e[0]))
(HERE / "zh" / "words.tsv").write_text("".join(f"{w}\t{n}\n" for w, n in kept[:WORDS]), encoding="utf-8")
print(f"{len(hanzi)} characters, {min(WORDS, len(kept))} of {len(kept)} words")

fonts = HERE.parents[2] / "fonts" / "chinese"
fonts.mkdir(exist_ok=True)
text = "".join(hanzi + TAIL)
for name, (path, index) in FACES.items():
    font = TTCollection(path).fonts[index]
    options = subset.Options()
    options.drop_tables += ["EBDT", "EBLC", "EBSC", "vhea", "vmtx"]  # embedded bitmaps (never drawn), vertical
    options.name_IDs, options.name_languages = ["*"], ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    # the notice of change the Arphic Public License asks for (section 2a), in every subset face alike
    font["name"].setName(f"Subset by textsynth on {date.today().isoformat()} to the {len(text)} symbols of its Chinese "
                         "charset (textsynth/data/languages/make_chinese.py); embedded bitmaps and vertical "
                         "metrics removed. Otherwise the original font.", 10, 3, 1, 0x409)
    font.save(fonts / name)
    print(name, (fonts / name).stat().st_size)
