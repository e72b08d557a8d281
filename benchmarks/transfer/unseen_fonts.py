"""The unseen fonts: families from Debian font packages that textsynth does not bundle, and the checks for it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

from textsynth.errors import TextsynthError
from textsynth.fonts import FONT_SUFFIXES, bundled_fonts_dir


@dataclass(frozen=True)
class UnseenFont:
    """One font file of a family textsynth never trains on."""

    family: str  # the typographic family (name ID 16, else 1): what "the same family" means
    kind: str  # serif, sans, mono, condensed, humanist, ...
    package: str  # the Debian package that installs it
    path: str
    index: int = 0  # the face in a font collection (.ttc)

    @property
    def file_name(self) -> str:
        return Path(self.path).name


# One regular face per family, so that every family weighs the same in each set.
UNSEEN_FONTS: tuple[UnseenFont, ...] = (
    UnseenFont("Carlito", "humanist sans", "fonts-crosextra-carlito",
               "/usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf"),
    UnseenFont("Caladea", "serif", "fonts-crosextra-caladea",
               "/usr/share/fonts/truetype/crosextra/Caladea-Regular.ttf"),
    UnseenFont("EB Garamond", "old-style serif", "fonts-ebgaramond",
               "/usr/share/fonts/opentype/ebgaramond/EBGaramond12-Regular.otf"),
    UnseenFont("Gentium", "serif", "fonts-sil-gentium", "/usr/share/fonts/truetype/gentium/Gentium-R.ttf"),
    UnseenFont("FreeSerif", "serif", "fonts-freefont-ttf", "/usr/share/fonts/truetype/freefont/FreeSerif.ttf"),
    UnseenFont("Open Sans", "humanist sans", "fonts-open-sans",
               "/usr/share/fonts/truetype/open-sans/OpenSans-Regular.ttf"),
    UnseenFont("Cantarell", "humanist sans", "fonts-cantarell",
               "/usr/share/fonts/opentype/cantarell/Cantarell-Regular.otf"),
    UnseenFont("Quicksand", "rounded sans", "fonts-quicksand",
               "/usr/share/fonts/truetype/quicksand/Quicksand-Regular.ttf"),
    UnseenFont("Roboto Condensed", "condensed sans", "fonts-roboto-unhinted",
               "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Regular.ttf"),
    UnseenFont("Hack", "mono", "fonts-hack", "/usr/share/fonts/truetype/hack/Hack-Regular.ttf"),
    UnseenFont("Inconsolata", "mono", "fonts-inconsolata", "/usr/share/fonts/truetype/inconsolata/Inconsolata.otf"),
)


_FREEFONT = "/usr/share/fonts/truetype/freefont/"
_ARABEYES = "/usr/share/fonts/truetype/fonts-arabeyes/ae_"
_DEVA_EXTRA = "/usr/share/fonts/truetype/fonts-deva-extra/"
# The unseen faces of the scripts textsynth draws with its own folders (fonts/devanagari, fonts/arabic): families
# it bundles in no folder, each checked by eye in pango-view. Left out: Samyak Devanagari (no digits or
# punctuation: Pango would take them from another font), KacstOne (draws ASCII digits as Arabic-Indic ones, so
# the image would not show its label) and FreeMono (no Arabic joining: isolated letters).
SCRIPT_FONTS: dict[str, tuple[UnseenFont, ...]] = {
    "hi": (
        UnseenFont("FreeSans", "sans", "fonts-freefont-ttf", _FREEFONT + "FreeSans.ttf"),
        UnseenFont("FreeSerif", "serif", "fonts-freefont-ttf", _FREEFONT + "FreeSerif.ttf"),
        UnseenFont("Sarai", "sans", "fonts-sarai", "/usr/share/fonts/truetype/Sarai/Sarai.ttf"),
        UnseenFont("Kalimati", "sans", "fonts-deva-extra", _DEVA_EXTRA + "kalimati.ttf"),
        UnseenFont("Samanata", "sans", "fonts-deva-extra", _DEVA_EXTRA + "samanata.ttf"),
        UnseenFont("Chandas", "serif", "fonts-deva-extra", _DEVA_EXTRA + "chandas1-2.ttf"),
    ),
    # Chinese: AR PL SungtiL GB and KaitiM GB are left out, the designs the bundled AR PL UMing and UKai come from
    "zh": (
        UnseenFont("WenQuanYi Zen Hei", "hei", "fonts-wqy-zenhei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
        UnseenFont("Noto Sans CJK SC", "hei", "fonts-noto-cjk",
                   "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
        UnseenFont("Noto Serif CJK SC", "song", "fonts-noto-cjk",
                   "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ),
    "ar": (
        UnseenFont("FreeSerif", "naskh", "fonts-freefont-ttf", _FREEFONT + "FreeSerif.ttf"),
        UnseenFont("AlArabiya", "naskh", "fonts-arabeyes", _ARABEYES + "AlArabiya.ttf"),
        UnseenFont("Furat", "naskh", "fonts-arabeyes", _ARABEYES + "Furat.ttf"),
        UnseenFont("Granada", "display", "fonts-arabeyes", _ARABEYES + "Granada.ttf"),
        UnseenFont("Hani", "naskh", "fonts-arabeyes", _ARABEYES + "Hani.ttf"),
        UnseenFont("Salem", "sans", "fonts-arabeyes", _ARABEYES + "Salem.ttf"),
    ),
}


def language_fonts(code: str) -> tuple[UnseenFont, ...]:
    """The unseen fonts of a language's sets: its script's own faces, or (a script the bundle's faces draw) the
    Latin list's faces that draw every symbol of the language's charset but its combining marks."""
    import unicodedata

    from textsynth.languages import config_charset

    if code in SCRIPT_FONTS:
        return SCRIPT_FONTS[code]
    if code == "en":
        return UNSEEN_FONTS
    symbols = [c for c in config_charset("default", code).symbols if c != " " and not unicodedata.combining(c)]
    return tuple(f for f in UNSEEN_FONTS if not Path(f.path).is_file()
                 or all(ord(c) in TTFont(f.path, lazy=True).getBestCmap() for c in symbols))


def font_names(path: str | Path, index: int = 0) -> tuple[str, str]:
    """(typographic family, legacy family) from the font's name table: name IDs 16 and 1."""
    try:
        names = TTFont(path, lazy=True, fontNumber=index)["name"]
    except Exception as exc:  # fontTools raises many unrelated types on a damaged file
        raise TextsynthError(f"font file {path} is not a readable TrueType/OpenType font ({exc})") from None
    legacy = names.getDebugName(1) or Path(path).stem
    return names.getDebugName(16) or legacy, legacy


def _key(family: str) -> str:
    return " ".join(family.casefold().split())


def bundled_families(fonts_dir: str | Path | None = None) -> set[str]:
    """The typographic families of the fonts textsynth bundles (its `fonts/` folder and the script folders in
    it), case-folded."""
    directory = Path(fonts_dir) if fonts_dir else bundled_fonts_dir()
    return {_key(font_names(p)[0]) for p in sorted(directory.rglob("*")) if p.suffix.lower() in FONT_SUFFIXES}


def missing_packages(fonts: tuple[UnseenFont, ...] = UNSEEN_FONTS) -> list[str]:
    """Debian packages whose font file is not installed."""
    return sorted({f.package for f in fonts if not Path(f.path).is_file()})


def checked_unseen_fonts(fonts: tuple[UnseenFont, ...] = UNSEEN_FONTS,
                         fonts_dir: str | Path | None = None) -> tuple[UnseenFont, ...]:
    """The fonts, after refusing any whose file is absent, whose family is not the one listed, or whose family
    textsynth bundles (read from the files in `fonts/` now, so the set stays unseen as the bundle grows)."""
    missing = missing_packages(fonts)
    if missing:
        raise TextsynthError(f"unseen fonts are not installed: apt-get install {' '.join(missing)}")
    bundled = bundled_families(fonts_dir)
    for font in fonts:
        family, _ = font_names(font.path, font.index)
        if _key(family) != _key(font.family):
            raise TextsynthError(f"{font.path} is family {family!r}, not {font.family!r}")
        if _key(family) in bundled:
            raise TextsynthError(f"{font.family} ({font.path}) is a family textsynth bundles: it is not unseen")
    return fonts
