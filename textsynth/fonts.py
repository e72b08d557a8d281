"""Font sets: loading TTF/OTF files and deciding which charset characters each font really draws."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

from textsynth.charset import Charset, describe_chars
from textsynth.errors import TextsynthError

FONT_SUFFIXES = (".ttf", ".otf")
# Size at which coverage is tested; large enough that a real glyph never rasterizes to nothing.
_PROBE_SIZE = 48


def bundled_fonts_dir() -> Path:
    """The `fonts/` folder shipped with textsynth (a source checkout, or package data in a wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "fonts", here / "_fonts"):
        if any(candidate.glob("*.ttf")):
            return candidate
    raise TextsynthError("the bundled fonts folder is missing from this installation; pass --fonts DIR")


@dataclass(frozen=True)
class FontInfo:
    """One font file and what the manifest says about it."""

    path: str
    name: str
    family: str
    style: str
    licence: str
    sha256: str

    def to_dict(self) -> dict:
        return {"file": self.name, "family": self.family, "style": self.style,
                "licence": self.licence, "sha256": self.sha256}


def _licence_of(names) -> str:
    text = (names.getDebugName(13) or "").strip()
    url = (names.getDebugName(14) or "").strip()
    if "Open Font License" in text or "OFL" in url:
        return "OFL-1.1"
    if "Bitstream" in text:
        return "Bitstream-Vera (DejaVu changes public domain)"
    if "Apache" in text:
        return "Apache-2.0"
    first = text.splitlines()[0][:80] if text else ""
    return first or url or "unknown (no licence in the font's name table)"


def _read_font(path: Path) -> tuple[FontInfo, set[int]]:
    data = path.read_bytes()
    try:
        tt = TTFont(path, lazy=True, fontNumber=0)
        cmap = tt.getBestCmap()
        names = tt["name"]
        info = FontInfo(
            path=str(path), name=path.name,
            family=names.getDebugName(1) or path.stem, style=names.getDebugName(2) or "",
            licence=_licence_of(names), sha256=hashlib.sha256(data).hexdigest(),
        )
    except Exception as exc:  # fontTools raises many unrelated types on a damaged file
        raise TextsynthError(f"font file {path} is not a readable TrueType/OpenType font ({exc})") from None
    if not cmap:
        raise TextsynthError(f"font file {path} has no Unicode character map")
    return info, set(cmap)


def _render_coverage(path: str, cmap: set[int], chars: tuple[str, ...]) -> frozenset[str]:
    """Characters the font draws: in the cmap AND rendering to real ink that is not the .notdef box."""
    try:
        font = ImageFont.truetype(path, _PROBE_SIZE, layout_engine=ImageFont.Layout.BASIC)
    except OSError as exc:
        raise TextsynthError(f"font file {path} cannot be rasterized ({exc})") from None
    missing_cp = next(cp for cp in range(0xE000, 0x10FFFF) if cp not in cmap)
    notdef = font.getmask(chr(missing_cp))
    notdef_key = (notdef.size, bytes(notdef))
    covered = set()
    for c in chars:
        if ord(c) not in cmap:
            continue
        if c.isspace():
            if font.getlength(c) > 0:
                covered.add(c)
            continue
        mask = font.getmask(c)
        if mask.getbbox() is None:
            continue
        if (mask.size, bytes(mask)) == notdef_key:
            continue
        covered.add(c)
    return frozenset(covered)


@lru_cache(maxsize=32)
def _load_cached(directory: str, stamp: tuple,
                 chars: tuple[str, ...]) -> tuple[tuple[FontInfo, ...], tuple[frozenset[str], ...]]:
    infos, coverage = [], []
    for path in sorted(Path(directory).iterdir()):
        if path.suffix.lower() not in FONT_SUFFIXES or not path.is_file():
            continue
        info, cmap = _read_font(path)
        infos.append(info)
        coverage.append(_render_coverage(info.path, cmap, chars))
    return tuple(infos), tuple(coverage)


class FontSet:
    """The fonts of a render, each with the set of charset characters it can draw."""

    def __init__(self, fonts: list[FontInfo], coverage: list[frozenset[str]], charset: Charset):
        self.fonts = list(fonts)
        self.coverage = list(coverage)
        self.charset = charset
        full = frozenset(charset.symbols)
        self._all_ids = tuple(range(len(self.fonts)))
        self._full_cover = all(cov >= full for cov in self.coverage)

    @classmethod
    def load(cls, directory: str | Path | None, charset: Charset) -> FontSet:
        """Load every .ttf/.otf in `directory` (the bundled fonts when None) and test their coverage."""
        directory = Path(directory) if directory else bundled_fonts_dir()
        if not directory.is_dir():
            raise TextsynthError(f"fonts folder {directory} does not exist or is not a folder")
        files = sorted(p for p in directory.iterdir() if p.suffix.lower() in FONT_SUFFIXES and p.is_file())
        if not files:
            raise TextsynthError(f"fonts folder {directory} holds no .ttf or .otf files")
        stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        infos, coverage = _load_cached(str(directory.resolve()), stamp, charset.symbols)
        return cls(list(infos), list(coverage), charset)

    def uncovered(self) -> list[str]:
        """Charset symbols that no font draws."""
        covered = frozenset().union(*self.coverage)
        return [c for c in self.charset.symbols if c not in covered]

    def require_full_charset(self) -> None:
        missing = self.uncovered()
        if missing:
            raise TextsynthError(f"no font draws these charset characters: {describe_chars(missing)}")

    def covering(self, text: str) -> tuple[int, ...]:
        """Ids of the fonts that draw every character of `text`."""
        if self._full_cover:
            return self._all_ids
        chars = set(text)
        return tuple(i for i, cov in enumerate(self.coverage) if chars <= cov)

    def __len__(self) -> int:
        return len(self.fonts)
