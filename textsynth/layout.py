"""Text layout: HarfBuzz shaping per (font, text) in font units; glyph bitmaps cached per (font, size) by id."""

from __future__ import annotations

import bisect
import ctypes
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import freetype
import numpy as np
import uharfbuzz as hb

from textsynth.errors import TextsynthError

SHAPE_CACHE = 4096  # shaped (font, text) pairs kept per font
# Glyph bitmaps kept per process, all fonts and sizes together (a render with 20 fonts at 24-61 px holds
# ~45 MB when every glyph has been drawn); past it every glyph cache is emptied and refills on demand.
GLYPH_CACHE_BYTES = 96 << 20
_GLYPH_OVERHEAD = 200  # bytes of Python objects per cached glyph besides its pixels
# Scripts whose letters join: letter spacing would break the joins, so tracking is not applied inside them.
CURSIVE_SCRIPTS = frozenset({"Arab", "Syrc", "Nkoo", "Mong", "Adlm", "Rohg", "Mand", "Phag", "Sogd", "Hmnp"})
_LOAD_FLAGS = freetype.FT_LOAD_RENDER | freetype.FT_LOAD_TARGET_LIGHT | freetype.FT_LOAD_NO_BITMAP
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
_FT_LOAD_GLYPH = freetype.raw.FT_Load_Glyph
_NO_INK = np.zeros((0, 0), np.uint8)


@dataclass(frozen=True)
class Shaped:
    """HarfBuzz's glyphs for one text in one font, in visual (left-to-right) order, in font units."""

    gids: tuple[int, ...]
    x_advance: tuple[int, ...]
    x_offset: tuple[int, ...]
    y_offset: tuple[int, ...]
    space: tuple[bool, ...]  # the glyph draws a space: word spacing scales its advance
    tracked: tuple[bool, ...]  # letter spacing follows this glyph (a cluster boundary, not in a cursive script)
    ink: tuple[tuple[int, int, int, int] | None, ...]  # per glyph (x_bearing, y_bearing, width, height)
    upem: int
    drawable: bool  # no .notdef glyph, and every cluster with a visible character has ink

    def pen_positions(self, tracking: float, word_spacing: float) -> list[float]:
        """Each glyph's pen x in em (before its offset), with letter and word spacing applied."""
        pens, pen, upem = [], 0.0, self.upem
        for adv, space, tracked in zip(self.x_advance, self.space, self.tracked):
            pens.append(pen)
            pen += adv / upem * (word_spacing if space else 1.0) + (tracking if tracked else 0.0)
        return pens

    def ink_box(self, tracking: float, word_spacing: float) -> tuple[float, float, float, float] | None:
        """(left, right, top, bottom) of the outlines in em, y up from the baseline; None without ink."""
        upem = self.upem
        box = None
        for pen, ink, xo, yo in zip(self.pen_positions(tracking, word_spacing), self.ink, self.x_offset,
                                    self.y_offset):
            if ink is None:
                continue
            xb, yb, w, h = ink
            left, right = pen + (xo + xb) / upem, pen + (xo + xb + w) / upem
            top, bottom = (yo + yb) / upem, (yo + yb + h) / upem
            box = (left, right, top, bottom) if box is None else (
                min(box[0], left), max(box[1], right), max(box[2], top), min(box[3], bottom))
        return box


@dataclass(frozen=True)
class Glyph:
    mask: np.ndarray  # ink coverage, 0..255; empty for a glyph without ink
    left: int  # bitmap offset from the pen position on the baseline (x right, y down)
    top: int


@lru_cache(maxsize=4096)
def _visible(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def _every_visible_cluster_inked(text: str, clusters: list[int], ink: tuple) -> bool:
    """Whether each cluster holding a visible character has at least one glyph with an outline."""
    inked = {c for c, i in zip(clusters, ink) if i is not None}
    starts = None
    for j, char in enumerate(text):
        if j in inked or not _visible(char):
            continue
        if starts is None:
            starts = sorted(set(clusters))
        k = bisect.bisect_right(starts, j) - 1
        if k < 0 or starts[k] not in inked:
            return False
    return True


class _Budget:
    """Bytes of glyph bitmaps held by the fonts of one `Layout`."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0


class FontLayout:
    """One font file: its HarfBuzz font (font units) and FreeType face stay open; glyph bitmaps per size by id."""

    def __init__(self, path: str, budget: _Budget | None = None):
        self.path = path
        self.budget = budget or _Budget(GLYPH_CACHE_BYTES)
        data = open(path, "rb").read()
        face = hb.Face(hb.Blob(data))
        self.upem = face.upem
        self.hb_font = hb.Font(face)  # scale = upem: positions in font units
        self._ft: freetype.Face | None = None
        self._ft_size = 0
        self._ink: dict[int, tuple[int, int, int, int] | None] = {}
        self.glyphs: dict[int, dict[int, Glyph]] = {}  # size -> glyph id -> bitmap
        self.shape = lru_cache(maxsize=SHAPE_CACHE)(self._shape)

    def glyph_ink(self, gid: int) -> tuple[int, int, int, int] | None:
        ink = self._ink.get(gid, False)
        if ink is False:
            e = self.hb_font.get_glyph_extents(gid)
            ink = self._ink[gid] = (e.x_bearing, e.y_bearing, e.width, e.height) if e and e.width and e.height \
                else None
        return ink

    def _shape(self, text: str) -> Shaped:
        buf = hb.Buffer()
        buf.add_codepoints([ord(c) for c in text])  # clusters are character indices
        buf.guess_segment_properties()
        hb.shape(self.hb_font, buf)
        infos, positions = buf.glyph_infos, buf.glyph_positions
        gids = tuple([i.codepoint for i in infos])
        clusters = [i.cluster for i in infos]
        n = len(gids)
        ink_of = self.glyph_ink
        ink = tuple([ink_of(g) for g in gids])
        if buf.script in CURSIVE_SCRIPTS or n == 0:
            tracked = (False,) * n
        else:
            tracked = tuple([clusters[k + 1] != clusters[k] for k in range(n - 1)] + [False])
        return Shaped(
            gids=gids,
            x_advance=tuple([p.x_advance for p in positions]),
            x_offset=tuple([p.x_offset for p in positions]),
            y_offset=tuple([p.y_offset for p in positions]),
            space=tuple([text[c].isspace() for c in clusters]),
            tracked=tracked, ink=ink, upem=self.upem,
            drawable=0 not in gids and _every_visible_cluster_inked(text, clusters, ink))

    def _rasterize(self, gid: int, size: int) -> Glyph:
        if self._ft is None:
            self._ft = freetype.Face(self.path)
        face = self._ft
        if self._ft_size != size:
            face.set_pixel_sizes(0, size)
            self._ft_size = size
        error = _FT_LOAD_GLYPH(face._FT_Face, gid, _LOAD_FLAGS)  # the raw call: no wrapper objects per glyph
        if error:
            raise TextsynthError(f"font file {self.path}: FreeType cannot load glyph {gid} (error {error})")
        slot = face._FT_Face.contents.glyph.contents
        bm = slot.bitmap
        rows, width, pitch = bm.rows, bm.width, bm.pitch
        if rows and width and self.glyph_ink(gid) is not None:
            raw = ctypes.string_at(bm.buffer, rows * abs(pitch))
            mask = np.frombuffer(raw, np.uint8).reshape(rows, abs(pitch))[:, :width]
            if pitch < 0:
                mask = mask[::-1]
            mask = np.ascontiguousarray(mask)
            self.budget.used += mask.nbytes + _GLYPH_OVERHEAD
            return Glyph(mask, slot.bitmap_left, -slot.bitmap_top)
        self.budget.used += _GLYPH_OVERHEAD
        return Glyph(_NO_INK, 0, 0)

    def glyph(self, gid: int, size: int) -> Glyph:
        cache = self.glyphs.get(size)
        if cache is None:
            cache = self.glyphs[size] = {}
        g = cache.get(gid)
        if g is None:
            g = cache[gid] = self._rasterize(gid, size)
        return g

    def text_mask(self, text: str, size: int, tracking: float = 0.0, word_spacing: float = 1.0) -> np.ndarray:
        """The ink of `text` shaped on one baseline at `size` px per em, cropped to its ink box."""
        shaped = self.shape(text)
        cache = self.glyphs.get(size)
        if cache is None:
            cache = self.glyphs[size] = {}
        placed = []
        scale = size / self.upem
        pen = 0.0
        track_px = tracking * size
        for gid, adv, xo, yo, space, tracked in zip(shaped.gids, shaped.x_advance, shaped.x_offset,
                                                    shaped.y_offset, shaped.space, shaped.tracked):
            g = cache.get(gid)
            if g is None:
                g = cache[gid] = self._rasterize(gid, size)
            if g.mask.size:
                placed.append((round(pen + xo * scale) + g.left, g.top - round(yo * scale), g.mask))
            pen += adv * scale * (word_spacing if space else 1.0) + (track_px if tracked else 0.0)
        if not placed:
            raise TextsynthError(f"text {text!r} has no visible ink")
        x0 = min([p[0] for p in placed])
        y0 = min([p[1] for p in placed])
        x1 = max([p[0] + p[2].shape[1] for p in placed])
        y1 = max([p[1] + p[2].shape[0] for p in placed])
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for x, y, m in placed:
            h, w = m.shape
            region = mask[y - y0:y - y0 + h, x - x0:x - x0 + w]
            np.maximum(region, m, out=region)
        return mask


class Layout:
    """Every font of a render, opened on first use."""

    def __init__(self, paths: list[str], glyph_cache_bytes: int = GLYPH_CACHE_BYTES):
        self.paths = list(paths)
        self.budget = _Budget(glyph_cache_bytes)
        self._fonts: dict[int, FontLayout] = {}

    def font(self, font_id: int) -> FontLayout:
        if self.budget.used > self.budget.limit:  # between texts, so no text loses glyphs it is being drawn with
            for font in self._fonts.values():
                font.glyphs.clear()
            self.budget.used = 0
        f = self._fonts.get(font_id)
        if f is None:
            f = self._fonts[font_id] = FontLayout(self.paths[font_id], self.budget)
        return f

    def shape(self, font_id: int, text: str) -> Shaped:
        return self.font(font_id).shape(text)

    def draws(self, font_id: int, text: str) -> bool:
        """Whether the font's shaped text has no .notdef glyph and ink for every visible character."""
        return self.shape(font_id, text).drawable
