"""Text layout: HarfBuzz shaping per (font, text) in font units; glyph bitmaps cached per (font, size) by id."""

from __future__ import annotations

import bisect
import ctypes
import math
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import freetype
import numpy as np
import uharfbuzz as hb

from textsynth.bidi import is_rtl, runs
from textsynth.errors import TextsynthError

try:  # the compiled glyph placing (textsynth/_lines.c); absent where the package was built without a C compiler
    from textsynth._lines import ink_span as _ink_span
    from textsynth._lines import pen_run as _pen_run
    from textsynth._lines import place as _place
    from textsynth._lines import shape_run as _shape_run
except ImportError:  # (or by a textsynth before it)
    _ink_span = _pen_run = _place = _shape_run = None

SHAPE_CACHE = 2048  # shaped (font, text) pairs kept per process (few: every cached object slows Python's GC)
# Glyph bitmaps kept per process, all fonts and sizes together (a render with 20 fonts at 24-61 px holds
# ~45 MB when every glyph has been drawn); past it every glyph cache is emptied and refills on demand.
GLYPH_CACHE_BYTES = 192 << 20
_GLYPH_OVERHEAD = 200  # bytes of Python objects per cached glyph besides its pixels
# Scripts whose letters join (cursive, or hung from one headline as Devanagari, Bengali and Gurmukhi are):
# letter spacing would break them apart, so it is left out.
CURSIVE_SCRIPTS = frozenset({"Arab", "Syrc", "Nkoo", "Mong", "Adlm", "Rohg", "Mand", "Phag", "Sogd", "Hmnp",
                             "Deva", "Beng", "Guru"})
_LOAD_FLAGS = freetype.FT_LOAD_RENDER | freetype.FT_LOAD_TARGET_LIGHT | freetype.FT_LOAD_NO_BITMAP
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
_FT_LOAD_GLYPH = freetype.raw.FT_Load_Glyph
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Shaped:
    """HarfBuzz's glyphs for one text in one font, in visual (left-to-right) order; lengths in em."""

    gids: tuple[int, ...]
    clusters: tuple[int, ...]  # per glyph: the index of the first character of its cluster (logical order)
    advance: tuple[float, ...]  # pen advance after each glyph
    x_offset: tuple[float, ...]
    y_offset: tuple[float, ...]  # up
    space: tuple[bool, ...]  # the glyph draws a space: word spacing scales its advance
    tracked: tuple[bool, ...]  # letter spacing follows this glyph (a cluster boundary, not in a cursive script)
    ink_x: tuple[tuple[float, float] | None, ...]  # per glyph: its outline's left and right from the pen
    top: float | None  # highest and lowest outline point of the whole text (None: no ink at all)
    bottom: float | None
    has_space: bool
    drawable: bool  # no .notdef glyph, and every cluster with a visible character has ink

    def ink_box(self, tracking: float, word_spacing: float) -> tuple[float, float, float, float] | None:
        """(left, right, top, bottom) of the outlines in em, y up from the baseline; None without ink."""
        if self.top is None:
            return None
        if _ink_span is not None:  # the loop below, compiled
            left, right = _ink_span(self.advance, self.ink_x, self.space, self.tracked, tracking, word_spacing)
            return left, right, self.top, self.bottom
        pen, left, right = 0.0, math.inf, -math.inf
        for adv, ext, space, tracked in zip(self.advance, self.ink_x, self.space, self.tracked):
            if ext is not None:
                if pen + ext[0] < left:
                    left = pen + ext[0]
                if pen + ext[1] > right:
                    right = pen + ext[1]
            pen += adv * word_spacing if space else adv
            if tracked:
                pen += tracking
        return left, right, self.top, self.bottom


class Glyph(NamedTuple):
    mask: np.ndarray | None  # ink coverage, 0..255; None for a glyph without ink
    left: int  # bitmap offset from the pen position on the baseline (x right, y down)
    top: int
    width: int
    height: int


@lru_cache(maxsize=4096)
def _visible(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in _INVISIBLE_CATEGORIES


@lru_cache(maxsize=256)
def _in_order(n: int) -> tuple[int, ...]:
    return tuple(range(n))


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
        self._ink_em: dict[int, tuple[tuple[float, float], float, float] | None] = {}  # gid -> `_glyph_ink_em`
        self.glyphs: dict[int, dict[int, Glyph]] = {}  # size -> glyph id -> bitmap
        self.size_bytes: dict[int, int] = {}  # size -> bytes of its cached glyphs

    def glyph_ink(self, gid: int) -> tuple[int, int, int, int] | None:
        ink = self._ink.get(gid, False)
        if ink is False:
            e = self.hb_font.get_glyph_extents(gid)
            ink = self._ink[gid] = (e.x_bearing, e.y_bearing, e.width, e.height) if e and e.width and e.height \
                else None
        return ink

    def _glyph_ink_em(self, gid: int) -> tuple[tuple[float, float], float, float] | None:
        """((left, right), top, bottom) of the glyph's outline in em from its pen position, y up; None: no ink."""
        e = self.glyph_ink(gid)
        em = 1.0 / self.upem
        ink = self._ink_em[gid] = None if e is None else (
            (e[0] * em, (e[0] + e[2]) * em), e[1] * em, (e[1] + e[3]) * em)
        return ink

    def shape(self, text: str) -> Shaped:
        """HarfBuzz's glyphs for `text` (not cached here: `Layout.shape` caches per (font, text))."""
        has_space = _WHITESPACE.search(text) is not None
        fields = None
        if is_rtl(text):  # a right-to-left line: its runs shaped apart, laid out right to left (textsynth.bidi)
            gids_l, clusters_l, positions, cursive = [], [], [], False
            for start, stop, rtl in reversed(runs(text)):
                buf = self._shaped_buffer(text[start:stop], "rtl" if rtl else "ltr")
                cursive = cursive or buf.script in CURSIVE_SCRIPTS
                gids_l += [i.codepoint for i in buf.glyph_infos]
                clusters_l += [start + i.cluster for i in buf.glyph_infos]
                positions += buf.glyph_positions
        else:
            buf = self._shaped_buffer(text, None)
            cursive = buf.script in CURSIVE_SCRIPTS
            infos, positions = buf.glyph_infos, buf.glyph_positions
            if _shape_run is not None:  # the loops below, compiled, once every glyph's outline is measured
                fields = _shape_run(infos, positions, self._ink_em, self.upem, text)
            if fields is None:
                gids_l = [i.codepoint for i in infos]
                clusters_l = [i.cluster for i in infos]
        if fields is None:
            fields = self._glyph_fields(text, tuple(gids_l), tuple(clusters_l), positions, has_space)
        gids, clusters, advance, x_offset, y_offset, ink_x, top, bottom, ink, space = fields
        n = len(gids)
        simple = clusters == _in_order(n)  # one glyph per character, in order
        if cursive or n == 0:
            tracked = (False,) * n
        elif simple:
            tracked = (True,) * (n - 1) + (False,)
        else:
            tracked = tuple([clusters[k + 1] != clusters[k] for k in range(n - 1)] + [False])
        if 0 in gids:
            drawable = False
        elif simple and n == len(text):
            drawable = all([e is not None or not _visible(c) for e, c in zip(ink, text)])
        else:
            drawable = _every_visible_cluster_inked(text, clusters, ink)
        return Shaped(gids=gids, clusters=clusters, advance=advance, x_offset=x_offset, y_offset=y_offset,
                      space=space if has_space else (False,) * n, tracked=tracked, ink_x=ink_x, top=top,
                      bottom=bottom, has_space=has_space, drawable=drawable)

    def _glyph_fields(self, text: str, gids: tuple, clusters: tuple, positions: list, has_space: bool) -> tuple:
        """(gids, clusters, advance, x_offset, y_offset, ink_x, top, bottom, ink, space) of shaped glyphs in em
        (`_lines.shape_run` compiles this), measuring outlines not seen before."""
        n = len(gids)
        known = self._ink_em
        ink = tuple([known[g] if g in known else self._glyph_ink_em(g) for g in gids])
        em = 1.0 / self.upem
        x_raw = [p.x_offset for p in positions]
        y_raw = [p.y_offset for p in positions]
        if any(x_raw) or any(y_raw):  # marks, kerning by offset: each extent moved by its glyph's offset
            x_offset = tuple([v * em for v in x_raw])
            y_offset = tuple([v * em for v in y_raw])
            ink_x = tuple([None if e is None else (xo + e[0][0], xo + e[0][1]) for e, xo in zip(ink, x_offset)])
            tops = [yo + e[1] for e, yo in zip(ink, y_offset) if e is not None]
            bottoms = [yo + e[2] for e, yo in zip(ink, y_offset) if e is not None]
        else:  # most lines: no offsets, the glyphs' own extents (0.0 + v is v)
            x_offset = y_offset = (0.0,) * n
            ink_x = tuple([None if e is None else e[0] for e in ink])
            tops = [e[1] for e in ink if e is not None]
            bottoms = [e[2] for e in ink if e is not None]
        return (gids, clusters, tuple([p.x_advance * em for p in positions]), x_offset, y_offset, ink_x,
                max(tops) if tops else None, min(bottoms) if bottoms else None, ink,
                tuple([text[c].isspace() for c in clusters]) if has_space else (False,) * n)

    def _shaped_buffer(self, text: str, direction: str | None) -> hb.Buffer:
        buf = hb.Buffer()
        buf.add_codepoints([ord(c) for c in text])  # clusters are character indices
        buf.guess_segment_properties()
        if direction is not None:
            buf.direction = direction
        hb.shape(self.hb_font, buf)
        return buf

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
            self._charge(size, mask.nbytes + _GLYPH_OVERHEAD)
            return Glyph(mask, slot.bitmap_left, -slot.bitmap_top, width, rows)
        self._charge(size, _GLYPH_OVERHEAD)
        return Glyph(None, 0, 0, 0, 0)

    def _charge(self, size: int, nbytes: int) -> None:
        self.budget.used += nbytes
        self.size_bytes[size] = self.size_bytes.get(size, 0) + nbytes

    def drop_size(self, size: int) -> None:
        """Forget the glyphs at `size` (they are rasterized again, identically, when next needed)."""
        self.glyphs.pop(size, None)
        self.budget.used -= self.size_bytes.pop(size, 0)

    def _size_cache(self, size: int) -> dict[int, Glyph]:
        """The glyphs at `size`, rasterized one by one as texts need them (~7 us each): with dozens of fonts at
        dozens of sizes, most (font, size) pairs only ever draw a few texts."""
        cache = self.glyphs.get(size)
        if cache is None:
            cache = self.glyphs[size] = {}
        return cache

    def glyph(self, gid: int, size: int) -> Glyph:
        cache = self._size_cache(size)
        g = cache.get(gid)
        if g is None:
            g = cache[gid] = self._rasterize(gid, size)
        return g

    def text_mask(self, text: str, size: int, tracking: float = 0.0, word_spacing: float = 1.0,
                  shaped: Shaped | None = None, boxes: list | None = None) -> np.ndarray:
        """The ink of `text` (shaped here unless given) on one baseline at `size` px per em, cropped to its ink.
        `boxes`: a list that receives each character's box in the mask, flat (`_cluster_boxes`)."""
        shaped = shaped or self.shape(text)
        cache = self.glyphs.get(size) or self._size_cache(size)
        if boxes is None and _pen_run is not None:  # the loop below, compiled, when every glyph is cached
            run = _pen_run(cache, shaped.gids, shaped.advance, shaped.x_offset, shaped.y_offset, shaped.space,
                           shaped.tracked, size, tracking, word_spacing)
            if run is not None:
                placed, x0, y0, x1, y1 = run
                mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
                _place(mask, placed, x0, y0)
                return mask
        placed = []
        cells = [] if boxes is not None else None  # (cluster, pen before, pen after) of each glyph without ink
        pen = 0.0
        for gid, cluster, adv, xo, yo, space, tracked in zip(shaped.gids, shaped.clusters, shaped.advance,
                                                             shaped.x_offset, shaped.y_offset, shaped.space,
                                                             shaped.tracked):
            g = cache.get(gid)
            if g is None:
                g = cache[gid] = self._rasterize(gid, size)
            step = adv * word_spacing if space else adv
            if g[0] is not None:
                x = round((pen + xo) * size) + g[1]
                y = g[2] - round(yo * size) if yo else g[2]
                placed.append((x, y, x + g[3], y + g[4], g[0], cluster))
            elif cells is not None:
                cells.append((cluster, pen, pen + step))
            pen += step
            if tracked:
                pen += tracking
        if not placed:
            raise TextsynthError(f"text {text!r} has no visible ink")
        xs, ys, x1s, y1s, _, _ = zip(*placed)
        x0, y0 = min(xs), min(ys)
        mask = np.zeros((max(y1s) - y0, max(x1s) - x0), np.uint8)
        if boxes is not None:
            boxes.extend(_cluster_boxes(len(text), shaped.clusters, placed, cells, size, x0, y0, max(y1s)))
        if _place is not None:  # the loop below, compiled (same bytes)
            _place(mask, placed, x0, y0)
            return mask
        right = -math.inf  # right edge of the bitmaps placed so far
        for x, y, x1, y1, m, _ in placed:
            if x >= right:  # clear of every bitmap before it: a copy (half the cost of a maximum)
                mask[y - y0:y1 - y0, x - x0:x1 - x0] = m
            else:  # overlapping bitmaps (kerning, marks, tight tracking, right-to-left): keep the darker ink
                region = mask[y - y0:y1 - y0, x - x0:x1 - x0]
                np.maximum(region, m, out=region)
            if x1 > right:
                right = x1
        return mask


def _cluster_boxes(length: int, clusters: tuple[int, ...], placed: list, cells: list, size: int, x0: int, y0: int,
                   bottom: int) -> list[int]:
    """Per character (of a text of `length`), the box (x0, y0, x1, y1) of its cluster in the text's mask, one after
    another in a flat list: the
    union of the cluster's glyph bitmaps (`placed`), so characters HarfBuzz draws as one cluster (a conjunct, a
    ligature, a base and its marks) share one box; a cluster without ink (a space) gets the pen's advance over
    its glyphs (`cells`), at least a pixel wide, across the text's height."""
    if not cells and len(placed) == length == len(set(clusters)):
        boxes: list = [None] * length  # one inked glyph per character: its bitmap is the box
        for x, y, x1, y1, _, c in placed:
            boxes[c] = (x - x0, y - y0, x1 - x0, y1 - y0)
        return [v for box in boxes for v in box]
    union: dict[int, list[int]] = {}
    for x, y, x1, y1, _, c in placed:
        box = union.get(c)
        if box is None:
            union[c] = [x - x0, y - y0, x1 - x0, y1 - y0]
        else:
            box[0], box[1] = min(box[0], x - x0), min(box[1], y - y0)
            box[2], box[3] = max(box[2], x1 - x0), max(box[3], y1 - y0)
    advance: dict[int, list[int]] = {}
    for c, before, after in cells:
        if c not in union:
            a, b = round(before * size) - x0, round(after * size) - x0
            span = advance.setdefault(c, [min(a, b), max(a, b)])
            span[0], span[1] = min(span[0], a, b), max(span[1], a, b)
    for c, (a, b) in advance.items():
        union[c] = [a, 0, max(b, a + 1), bottom - y0]
    starts = sorted(set(clusters))
    if len(starts) == length:
        return [v for c in starts for v in union[c]]
    return [v for j in range(length) for v in union[starts[bisect.bisect_right(starts, j) - 1]]]


class Layout:
    """Every font of a render, opened on first use."""

    def __init__(self, paths: list[str], glyph_cache_bytes: int = GLYPH_CACHE_BYTES):
        self.paths = list(paths)
        self.budget = _Budget(glyph_cache_bytes)
        self._fonts: dict[int, FontLayout] = {}
        self._recent: OrderedDict[tuple[int, int], None] = OrderedDict()  # (font, size) pairs, least recent first
        self.shape = lru_cache(maxsize=SHAPE_CACHE)(self._shape)

    def _evict(self) -> None:
        """Drop the least recently drawn (font, size) pairs until the glyphs fit 3/4 of the budget. Runs between
        texts, so no text loses glyphs it is being drawn with."""
        while self.budget.used > self.budget.limit * 3 // 4 and self._recent:
            font_id, size = self._recent.popitem(last=False)[0]
            self._fonts[font_id].drop_size(size)

    def font(self, font_id: int) -> FontLayout:
        if self.budget.used > self.budget.limit:
            self._evict()
        f = self._fonts.get(font_id)
        if f is None:
            f = self._fonts[font_id] = FontLayout(self.paths[font_id], self.budget)
        return f

    def _shape(self, font_id: int, text: str) -> Shaped:
        return self.font(font_id).shape(text)

    def text_mask(self, font_id: int, text: str, size: int, tracking: float, word_spacing: float,
                  boxes: list | None = None) -> np.ndarray:
        font = self.font(font_id)
        self._recent[(font_id, size)] = None
        self._recent.move_to_end((font_id, size))
        return font.text_mask(text, size, tracking, word_spacing, self.shape(font_id, text), boxes)

    def draws(self, font_id: int, text: str) -> bool:
        """Whether the font's shaped text has no .notdef glyph and ink for every visible character."""
        return self.shape(font_id, text).drawable
