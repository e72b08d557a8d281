"""Font sets: loading TTF/OTF files, deciding which charset characters each font really draws, and picking a
sample's font (by family, then by face) among the fonts that draw its whole text."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import PIL
from fontTools.ttLib import TTFont
from PIL import ImageFont

from textsynth.charset import Charset, describe_chars
from textsynth.errors import TextsynthError
from textsynth.fileio import file_sha256

FONT_SUFFIXES = (".ttf", ".otf")
# Size at which coverage is tested; large enough that a real glyph never rasterizes to nothing.
_PROBE_SIZE = 48
# Bump when the coverage probe changes: cached coverage of an older probe is then ignored.
_PROBE_VERSION = 3
# Larger font files are refused before they are read: the biggest real fonts (CJK, Unifont) are ~20-60 MB.
MAX_FONT_BYTES = 128 * 2**20
FAMILIES_FILE = "families.toml"  # optional per-folder metadata: family names, classes, licences
WEIGHTINGS = ("family", "face")


def bundled_fonts_dir() -> Path:
    """The `fonts/` folder shipped with textsynth (a source checkout, or package data in a wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "fonts", here / "_fonts"):
        if any(candidate.glob("*.ttf")):
            return candidate
    raise TextsynthError("the bundled fonts folder is missing from this installation; pass --fonts DIR")


# Words a `--fonts` value may use for folders shipped with textsynth, as subfolders of the bundled fonts/.
BUNDLED_FOLDERS = {"bundled": "", "bundled-print": "print"}


def font_dirs(spec: str | Path | Sequence[str | Path] | None) -> list[Path]:
    """The folders a `--fonts` value names: comma- or os.pathsep-separated, a list, `bundled` (fonts/),
    `bundled-print` (the receipt, dot-matrix and sign faces of fonts/print/), or empty = bundled."""
    if spec is None:
        parts: list[str] = []
    elif isinstance(spec, (str, Path)):
        parts = str(spec).replace(os.pathsep, ",").split(",")
    else:
        parts = [p for item in spec for p in str(item).replace(os.pathsep, ",").split(",")]
    parts = [p.strip() for p in parts if p.strip()]
    dirs: list[Path] = []
    for part in parts or ["bundled"]:
        sub = BUNDLED_FOLDERS.get(part)
        path = Path(part).expanduser() if sub is None else bundled_fonts_dir() / sub
        if path not in dirs:
            dirs.append(path)
    return dirs


@dataclass(frozen=True)
class FontInfo:
    """One font file and what the manifest says about it."""

    path: str
    name: str
    family: str
    style: str
    licence: str
    sha256: str
    font_class: str = ""  # serif, sans, monospace, ... from the folder's families.toml; empty if unknown

    def to_dict(self) -> dict:
        d = {"file": self.name, "family": self.family, "style": self.style,
             "licence": self.licence, "sha256": self.sha256}
        if self.font_class:
            d["class"] = self.font_class
        return d


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


def _open_font(path: Path) -> tuple[dict, set[int]]:
    """The name-table facts of a font file and its cmap's code points (those mapped to a real glyph)."""
    log = logging.getLogger("fontTools")
    level = log.level
    log.setLevel(logging.ERROR)  # harmless table quirks ("extra bytes in post.stringData") are no news to a user
    try:
        tt = TTFont(path, lazy=True, fontNumber=0)
        cmap = tt.getBestCmap()
        if cmap:  # a code point mapped to the .notdef glyph is not drawn, whatever the cmap says
            cmap = {cp: glyph for cp, glyph in cmap.items() if glyph != ".notdef"}
        names = tt["name"]
        facts = {"family": (names.getDebugName(16) or names.getDebugName(1) or path.stem).strip(),
                 "style": (names.getDebugName(17) or names.getDebugName(2) or "").strip(),
                 "licence": _licence_of(names)}
    except Exception as exc:  # fontTools raises many unrelated types on a damaged file
        raise TextsynthError(f"font file {path} is not a readable TrueType/OpenType font ({exc})") from None
    finally:
        log.setLevel(level)
    if not cmap:
        raise TextsynthError(f"font file {path} has no Unicode character map")
    return facts, set(cmap)


def _ink_of(font: ImageFont.FreeTypeFont, c: str, mask) -> tuple[int, int, np.ndarray]:
    """A glyph's ink: the top and bottom of its box against the baseline, and its mask as a boolean array
    cropped to the ink."""
    left, top, right, bottom = mask.getbbox()
    ink = np.frombuffer(bytes(mask), np.uint8).reshape(mask.size[1], mask.size[0]) >= 128
    _, box_top, _, box_bottom = font.getbbox(c)
    return box_top, box_bottom, ink[top:bottom, left:right]


def _same_glyph(a: tuple[int, int, np.ndarray], b: tuple[int, int, np.ndarray] | None, tolerance: float) -> bool:
    """Whether two glyphs draw one letter: the same place against the baseline and the same ink box within a
    pixel, and at most `tolerance` of their ink different (a real lower case is smaller, lower or another
    shape; an `i` differs from an `I` by the gap under its dot alone)."""
    if b is None or abs(a[0] - b[0]) > 1 or abs(a[1] - b[1]) > 1:
        return False
    ink, other = a[2], b[2]
    if abs(ink.shape[0] - other.shape[0]) > 1 or abs(ink.shape[1] - other.shape[1]) > 1:
        return False
    h, w = min(ink.shape[0], other.shape[0]), min(ink.shape[1], other.shape[1])
    differ = np.count_nonzero(ink[:h, :w] != other[:h, :w])
    return differ <= tolerance * max(np.count_nonzero(ink), np.count_nonzero(other), 1)


def _render_coverage(path: str, cmap: set[int], chars: Iterable[str]) -> frozenset[str]:
    """Characters the font draws: in the cmap AND rendering to real ink that is not the .notdef box."""
    try:
        font = ImageFont.truetype(path, _PROBE_SIZE, layout_engine=ImageFont.Layout.BASIC)
    except OSError as exc:
        raise TextsynthError(f"font file {path} cannot be rasterized ({exc})") from None
    # A code point the cmap lacks draws the .notdef box; a font mapping every code point has none to compare.
    missing_cp = next((cp for cp in range(0xE000, 0x110000) if cp not in cmap and not 0xD800 <= cp < 0xE000), None)
    notdef_key = None
    covered = set()
    masks: dict[str, tuple] = {}  # each drawn cased letter's glyph ink at the probe size (`_ink_of`)
    try:
        if missing_cp is not None:
            notdef = font.getmask(chr(missing_cp))
            notdef_key = (notdef.size, bytes(notdef))
        advance = 0.0
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
            key = (mask.size, bytes(mask))
            if key == notdef_key:
                continue
            covered.add(c)
            if c.upper() != c or c.lower() != c:
                masks[c] = _ink_of(font, c, mask)
            advance += font.getlength(c)
    except OSError as exc:  # FreeType: "raster overflow" from a glyph with absurd coordinates, and the like
        raise TextsynthError(f"font file {path} cannot be rasterized ({exc})") from None
    # An all-caps face (Bebas Neue) draws its lower-case letters as its capitals: a label `a` drawn as `A` is a
    # wrong label, so such letters count as not drawn (the face still serves upper-case text). Where most of a
    # face's lower case is near its capitals, all of it counts as capitals (Bebas's `t` is a lighter `T`);
    # elsewhere only a letter drawn exactly as its capital does.
    lower = [c for c in masks if c.upper() != c and c.upper() in masks]
    near = [c for c in lower if _same_glyph(masks[c], masks[c.upper()], 0.2)]
    if len(near) >= 0.75 * len(lower):
        covered -= set(lower)
    else:
        covered -= {c for c in near if _same_glyph(masks[c], masks[c.upper()], 0.0)}
    if covered and advance <= 0 and not all(c.isspace() for c in covered):
        raise TextsynthError(f"font file {path} gives every glyph a zero advance width: its letters would be "
                             "drawn on top of each other")
    return frozenset(covered)


# --- on-disk cache of the font facts and coverage, keyed by the file's sha256 ----------------------------

def cache_dir() -> Path | None:
    """Where font facts are cached: $TEXTSYNTH_CACHE_DIR, else the user cache dir; None when disabled ("")."""
    env = os.environ.get("TEXTSYNTH_CACHE_DIR")
    if env is not None:
        return Path(env) / "fonts" if env else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "textsynth" / "fonts"


def _charset_key(chars: Sequence[str]) -> str:
    probe = f"{_PROBE_VERSION}|{PIL.__version__}|{''.join(sorted(set(chars)))}"
    return hashlib.sha256(probe.encode("utf-8")).hexdigest()[:24]


def _cache_read(sha: str) -> dict:
    root = cache_dir()
    if root is None:
        return {}
    try:
        data = json.loads((root / f"{sha}.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _cache_write(sha: str, data: dict) -> None:
    root = cache_dir()
    if root is None:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{sha}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, root / f"{sha}.json")
    except OSError:
        pass  # a read-only home is no reason to fail a render: the cache is only a speed-up


def _font_facts(path: Path, sha: str, chars: tuple[str, ...]) -> tuple[dict, frozenset[str]]:
    """Name-table facts and coverage of `chars`, from the cache when this file content was seen before."""
    key = _charset_key(chars)
    cached = _cache_read(sha)
    facts, coverage = cached.get("facts"), cached.get("coverage", {})
    if isinstance(facts, dict) and isinstance(coverage, dict) and isinstance(coverage.get(key), str):
        return facts, frozenset(coverage[key]) & frozenset(chars)
    facts, cmap = _open_font(path)
    covered = _render_coverage(str(path), cmap, chars)
    coverage = coverage if isinstance(coverage, dict) else {}
    coverage[key] = "".join(sorted(covered))
    _cache_write(sha, {"file": path.name, "facts": facts, "coverage": coverage})
    return facts, covered


# --- folder metadata (families.toml) ----------------------------------------------------------------------

# The settings families.toml may hold, each a string unless noted: checked at load, so a bad file is one line
# naming the key instead of a dataset no reader accepts.
_FAMILY_KEYS = ("class", "package", "licence", "licence_file", "files")  # files: a list of font file names
_FACE_KEYS = ("class", "style", "family", "licence")


def read_families_file(directory: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """(families, faces) of a folder's families.toml: {family: {class, package, licence, licence_file, files}},
    {file: {class?, style?, family?, licence?}}; empty when the folder has none. Every key and value is checked:
    a problem is a one-line error naming the file and the key."""
    path = directory / FAMILIES_FILE
    if not path.is_file():
        return {}, {}
    from textsynth.config import read_toml

    data = read_toml(path, what="")

    def bad(key: str, why: str) -> TextsynthError:
        return TextsynthError(f"{path}: {key} {why}")

    unknown = sorted(set(data) - {"families", "faces"})
    if unknown:
        raise bad(repr(unknown[0]), "is not a setting of this file (it holds [families.NAME] and [faces.FILE] tables)")
    families, faces = data.get("families", {}), data.get("faces", {})
    if not isinstance(families, dict) or not isinstance(faces, dict):
        raise TextsynthError(f"{path}: [families] and [faces] must be tables")
    for table, entries, keys in (("families", families, _FAMILY_KEYS), ("faces", faces, _FACE_KEYS)):
        for name, entry in entries.items():
            where = f"{table}.{json.dumps(name, ensure_ascii=False)}"
            if not name.strip():
                raise bad(where, "must name a family or a font file")
            if not isinstance(entry, dict):
                raise bad(where, f"must be a table of {', '.join(keys)}, got {entry!r:.80}")
            for key, value in entry.items():
                if key not in keys:
                    raise bad(f"{where}.{key}", f"is not a setting (known: {', '.join(keys)})")
                if key == "files":
                    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                        raise bad(f"{where}.files", f"must be a list of font file names, got {value!r:.80}")
                elif not isinstance(value, str):
                    raise bad(f"{where}.{key}", f"must be a string, got {value!r:.80}")
    return families, faces


def _face_metadata(directory: Path) -> dict[str, dict]:
    """file name -> {family, class, licence, style?} from the folder's families.toml."""
    families, faces = read_families_file(directory)
    out: dict[str, dict] = {}
    for family, entry in families.items():
        for file in entry.get("files", []):
            out[file] = {"family": family, "class": entry.get("class", ""), "licence": entry.get("licence", "")}
    for file, entry in faces.items():
        out.setdefault(file, {}).update(entry)
    return out


@lru_cache(maxsize=32)
def _load_cached(directory: str, stamp: tuple, chars: tuple[str, ...]) -> tuple[tuple[FontInfo, ...],
                                                                               tuple[frozenset[str], ...]]:
    infos, coverage = [], []
    meta = _face_metadata(Path(directory))
    for name, _, _ in stamp:
        if name == FAMILIES_FILE:
            continue  # in the stamp so that editing it invalidates the in-process cache
        path = Path(directory) / name
        sha = file_sha256(path)
        facts, covered = _font_facts(path, sha, chars)
        m = meta.get(name, {})
        infos.append(FontInfo(path=str(path), name=name, family=m.get("family") or facts["family"],
                              style=m.get("style") or facts["style"], licence=m.get("licence") or facts["licence"],
                              sha256=sha, font_class=m.get("class", "")))
        coverage.append(covered)
    return tuple(infos), tuple(coverage)


def _load_dir(directory: Path, charset: Charset) -> tuple[tuple[FontInfo, ...], tuple[frozenset[str], ...]]:
    if not directory.is_dir():
        raise TextsynthError(f"fonts folder {directory} does not exist or is not a folder")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in FONT_SUFFIXES and p.is_file())
    if not files:
        raise TextsynthError(f"fonts folder {directory} holds no .ttf or .otf files")
    stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    for name, size, _ in stamp:
        if size > MAX_FONT_BYTES:
            raise TextsynthError(f"font file {directory / name} is {size / 2**20:,.0f} MiB, larger than any real font "
                                 f"(at most {MAX_FONT_BYTES >> 20} MiB)")
    meta_file = directory / FAMILIES_FILE
    if meta_file.is_file():
        stamp += ((FAMILIES_FILE, meta_file.stat().st_size, meta_file.stat().st_mtime_ns),)
    return _load_cached(str(directory.resolve()), stamp, charset.symbols)


# --- the font set -----------------------------------------------------------------------------------------

class FontSet:
    """The fonts of a render, each with the set of charset characters it can draw, and how they are picked.

    `sample(rng, text)` draws a font among those that draw every character of `text`: with `weighting="family"`
    a family first (weight `family_weights.get(family, 1.0)`), then one of its covering faces uniformly; with
    `weighting="face"` a face with weight `family_weights.get(family, 1.0)` (uniform when no weights are given).
    The choice tables are precomputed once per coverage pattern (the set of fonts covering a text).
    """

    def __init__(self, fonts: list[FontInfo], coverage: list[frozenset[str]], charset: Charset,
                 weighting: str = "family", family_weights: Mapping[str, float] | None = None):
        if weighting not in WEIGHTINGS:
            raise TextsynthError(f"font weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
        self.fonts = list(fonts)
        self.coverage = list(coverage)
        self.charset = charset
        self.weighting = weighting
        self.family_weights = dict(family_weights or {})
        unknown = sorted(set(self.family_weights) - {f.family for f in self.fonts})
        if unknown:
            raise TextsynthError(f"fonts.family_weights names families that are not loaded: {', '.join(unknown)}")
        if any(not isinstance(w, (int, float)) or isinstance(w, bool) or not 0 <= w < math.inf
               for w in self.family_weights.values()):
            raise TextsynthError("fonts.family_weights must be finite non-negative numbers")
        full = frozenset(charset.symbols)
        self._all_ids = tuple(range(len(self.fonts)))
        self._full_cover = all(cov >= full for cov in self.coverage)
        # Bit i of _char_mask[c] is set when font i draws c: a text's covering fonts are an AND over its characters.
        self._char_mask: dict[str, int] = {}
        for i, cov in enumerate(self.coverage):
            for c in cov:
                self._char_mask[c] = self._char_mask.get(c, 0) | (1 << i)
        self._everyone = (1 << len(self.fonts)) - 1
        self._tables: dict[int, tuple] = {}

    @classmethod
    def load(cls, directory: str | Path | Sequence[str | Path] | None, charset: Charset, *,
             families: Sequence[str] = (), weighting: str = "face",
             family_weights: Mapping[str, float] | None = None) -> FontSet:
        """Load every .ttf/.otf of the folders `directory` names (see `font_dirs`; None: the bundled fonts), keep
        the faces of `families` (all when empty), and test their coverage of `charset`."""
        infos: list[FontInfo] = []
        coverage: list[frozenset[str]] = []
        seen: set[str] = set()
        for d in font_dirs(directory):
            dir_infos, dir_cov = _load_dir(d, charset)
            for info, cov in zip(dir_infos, dir_cov):
                if info.sha256 not in seen:  # the same file in two folders counts once
                    seen.add(info.sha256)
                    infos.append(info)
                    coverage.append(cov)
        if families:
            wanted = set(families)
            missing = sorted(wanted - {f.family for f in infos})
            if missing:
                known = sorted({f.family for f in infos})
                raise TextsynthError(f"fonts.families names families that are not in the fonts folders: "
                                     f"{', '.join(missing)} (known: {', '.join(known)})")
            keep = [i for i, f in enumerate(infos) if f.family in wanted]
            infos, coverage = [infos[i] for i in keep], [coverage[i] for i in keep]
        return cls(infos, coverage, charset, weighting=weighting, family_weights=family_weights)

    @classmethod
    def from_config(cls, fonts_config, charset: Charset, language: str = "en") -> FontSet:
        """The font set a `FontConfig` describes. A language with its own bundled faces (Devanagari for `hi`)
        adds them when the bundled fonts are among the folders, and a `families` list that names none of them
        keeps them all (a look preset's families are Latin ones)."""
        from textsynth.languages import get_language

        folder = get_language(language).font_folder
        dirs = font_dirs(fonts_config.dir or None)
        families = tuple(fonts_config.families)
        if folder is not None and bundled_fonts_dir() in dirs and folder not in dirs:
            dirs.append(folder)
            own = {f.family for f in _load_dir(folder, charset)[0]}
            if families and not own & set(families):
                families += tuple(sorted(own))
        return cls.load(dirs, charset, families=families, weighting=fonts_config.weighting,
                        family_weights=dict(fonts_config.family_weights))

    def uncovered(self) -> list[str]:
        """Charset symbols that no font draws."""
        covered = frozenset().union(*self.coverage)
        return [c for c in self.charset.symbols if c not in covered]

    def require_full_charset(self) -> None:
        missing = self.uncovered()
        if missing:
            raise TextsynthError(f"no font draws these charset characters: {describe_chars(missing)}")

    def families(self) -> dict[str, list[int]]:
        """Family name -> ids of its faces, in font order."""
        out: dict[str, list[int]] = {}
        for i, f in enumerate(self.fonts):
            out.setdefault(f.family, []).append(i)
        return out

    def _mask(self, text: str) -> int:
        if self._full_cover:
            return self._everyone
        mask = self._everyone
        get = self._char_mask.get
        for c in set(text):
            mask &= get(c, 0)
        return mask

    def covering(self, text: str) -> tuple[int, ...]:
        """Ids of the fonts that draw every character of `text`."""
        if self._full_cover:
            return self._all_ids
        return self._table(self._mask(text))[0]

    def _table(self, mask: int) -> tuple:
        """(font ids, cumulative probabilities or None when uniform) for the fonts in `mask`."""
        table = self._tables.get(mask)
        if table is None:
            ids = tuple(i for i in range(len(self.fonts)) if mask >> i & 1)
            weight = {}
            if self.weighting == "family":
                per_family: dict[str, list[int]] = {}
                for i in ids:
                    per_family.setdefault(self.fonts[i].family, []).append(i)
                for family, members in per_family.items():
                    for i in members:
                        weight[i] = self.family_weights.get(family, 1.0) / len(members)
            else:
                for i in ids:
                    weight[i] = self.family_weights.get(self.fonts[i].family, 1.0)
            w = np.array([weight[i] for i in ids], dtype=np.float64)
            if ids and w.sum() <= 0:
                ids, w = (), w[:0]  # every covering family has weight 0: nothing may draw this text
            uniform = len(set(w.tolist())) <= 1
            cum = None if uniform else (np.cumsum(w) / w.sum()).tolist()
            table = self._tables[mask] = (ids, cum)
        return table

    def probabilities(self, text: str = "") -> dict[int, float]:
        """Font id -> probability that `sample` picks it for `text` (all fonts covering it)."""
        ids, cum = self._table(self._mask(text))
        if cum is None:
            return {i: 1 / len(ids) for i in ids}
        return {i: c - p for i, c, p in zip(ids, cum, [0.0, *cum[:-1]])}

    def sample(self, rng: np.random.Generator, text: str) -> int | None:
        """A font id for `text` drawn with `rng` (one draw), or None when no font draws all of it."""
        ids, cum = self._table(self._mask(text))
        if not ids:
            return None
        if cum is None:  # uniform: the same draw as textsynth 0.1, so seed-style renders keep their fonts
            return ids[int(rng.integers(len(ids)))]
        return ids[min(bisect_right(cum, rng.random()), len(ids) - 1)]

    def __len__(self) -> int:
        return len(self.fonts)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_tables"] = {}  # rebuilt lazily in the worker; keeps the pickle small
        return state
