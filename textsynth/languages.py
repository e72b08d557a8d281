"""Language presets: what `--language NAME` sets (the charset, the bundled word list, the writing direction)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from textsynth.charset import DEFAULT_SYMBOLS, NAMED_CHARSETS, Charset
from textsynth.errors import TextsynthError


def languages_dir() -> Path:
    """Each language's bundled data: data/languages/CODE/ (charset.txt, words.tsv, their licences)."""
    from textsynth.text import data_dir

    return data_dir() / "languages"


@dataclass(frozen=True)
class Language:
    code: str  # the --language name (ISO 639-1)
    name: str
    tesseract: str = ""  # Tesseract's language data name, for the transfer benchmark's engine column
    direction: str = "ltr"  # labels are always in logical (Unicode) order; this is how the line is drawn
    fonts: str = ""  # a folder of the bundled fonts holding this script's faces, added to the bundled ones
    syllabic: bool = False  # random text as random syllables (an abugida: marks attach to consonants)
    vowel_marks: bool = False  # has optional vowel marks that `text.vowel_marks` writes (Arabic's harakat)
    spaced: bool = True  # words are written apart (Chinese writes none between them)
    # the comma, colon and full stop its phrases use (Arabic's comma, Hindi's danda, Chinese full-width forms)
    punctuation: tuple[str, str, str] = (",", ":", ".")

    @property
    def folder(self) -> Path:
        return languages_dir() / self.code

    @cached_property
    def symbols(self) -> str:
        """The language's charset, in label-id order (English: the seed's 68 symbols)."""
        if self.code == "en":
            return DEFAULT_SYMBOLS
        return "".join(Charset.from_file(self.folder / "charset.txt").symbols)

    @property
    def words(self) -> Path:
        """The bundled word list (`word<TAB>count` lines; count 0: drawn uniformly)."""
        if self.code == "en":
            return languages_dir().parent / "words.tsv"
        return self.folder / "words.tsv"

    @property
    def font_folder(self) -> Path | None:
        """The script's own bundled faces (None: the bundled fonts already draw the language)."""
        if not self.fonts:
            return None
        from textsynth.fonts import bundled_fonts_dir

        return bundled_fonts_dir() / self.fonts

    @property
    def english(self) -> bool:
        """English alone has the bundled running text and shop texts (the `lines` and `shop` kinds)."""
        return self.code == "en"


LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (
    Language("en", "English", "eng"),
    Language("ru", "Russian (Cyrillic)", "rus"),
    Language("el", "Greek", "ell"),
    Language("hi", "Hindi (Devanagari)", "hin", fonts="devanagari", syllabic=True, punctuation=(",", ":", "।")),
    Language("ar", "Arabic", "ara", direction="rtl", fonts="arabic", vowel_marks=True,
             punctuation=("،", ":", ".")),
    Language("zh", "Chinese (simplified)", "chi_sim", fonts="chinese", spaced=False, punctuation=("，", "：", "。")),
)}


def get_language(code: str) -> Language:
    """The language `code` names; a one-line error listing the known ones otherwise."""
    lang = LANGUAGES.get(code) if isinstance(code, str) else None
    if lang is None:
        raise TextsynthError(f"unknown language {code!r} (choose from {', '.join(LANGUAGES)})")
    return lang


def config_charset(spec: str, language: str) -> Charset:
    """The charset a config's `text.charset` names: `default` is the language's own (English: the seed's 68),
    `printable` the 95 printable ASCII symbols, else a symbols file or the symbols themselves."""
    if spec == "default":
        return Charset.from_string(get_language(language).symbols)
    if spec in NAMED_CHARSETS:
        return Charset.from_string(NAMED_CHARSETS[spec])
    return Charset.from_spec(spec)
