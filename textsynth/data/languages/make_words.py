"""Bundled word lists of textsynth's language presets, from Debian's hunspell dictionaries (see README.md there).

    apt-get install hunspell-ru hunspell-el hunspell-hi hunspell-ar && python make_words.py OUT_DIR
"""
import random
import sys
import unicodedata
from pathlib import Path

SOURCES = {  # language: (dictionary, its encoding, letters a word may use, words kept)
    "ru": ("/usr/share/hunspell/ru_RU.dic", "utf-8",
           "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ-", 30000),
    "hi": ("/usr/share/hunspell/hi_IN.dic", "utf-8",
           "अआइईउऊऋएऐऑओऔकखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसहािीुूृेैॉोौ्ंँः़", 30000),
    # the Ayaspell list: stems and forms, without harakat (the charset has none)
    "ar": ("/usr/share/hunspell/ar.dic", "utf-8", "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي", 30000),
    # ΐ and ΰ are left out of the words: their upper case is two code points (Ϊ́), outside the charset
    "el": ("/usr/share/hunspell/el_GR.dic", "iso-8859-7",
           "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩΆΈΉΊΌΎΏΪΫ", 30000),
}

out = Path(sys.argv[1])
for code, (path, encoding, letters, keep) in SOURCES.items():
    allowed = set(letters)
    words = set()
    with open(path, encoding=encoding) as f:
        next(f)  # the entry count
        for line in f:
            word = unicodedata.normalize("NFC", line.split("/")[0].split("\t")[0].strip())
            if 2 <= len(word) <= 15 and set(word) <= allowed and not word.startswith("-") and not word.endswith("-"):
                words.add(word)
    chosen = sorted(random.Random(0).sample(sorted(words), min(keep, len(words))))
    (out / code / "words.tsv").write_text("".join(f"{w}\t0\n" for w in chosen), encoding="utf-8")
    print(code, len(words), "->", len(chosen))
