"""The painter: sample a replayable record for a text, then draw that record into a uint8 text-line image."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from textsynth.augment import NoiseBank, apply_flips, blur_mask, blur_padding, rotate_mask, sample_augment
from textsynth.config import RenderConfig
from textsynth.effects import Degrader, geometry_growth, warp_ink
from textsynth.effects.compose import has_effects
from textsynth.errors import TextsynthError
from textsynth.fonts import FontSet
from textsynth.record import EffectParams, SampleParams

_REF_SIZE = 100  # font size whose advances predict the largest size that fits


class TextDoesNotFit(TextsynthError):
    """The text cannot fit the canvas even at the smallest allowed font size."""


@dataclass(frozen=True)
class _Glyph:
    mask: np.ndarray  # ink coverage, 0..255
    left: int  # ink box offset from the pen position on the baseline
    top: int
    advance: float


class _FontAtSize:
    """One font at one pixel size: every charset glyph rasterized at first use, then the face is closed.

    An open FreeType face costs ~180 KB and a render touches hundreds of (font, size) pairs, so keeping
    the rasterized glyphs instead of the faces bounds a worker's memory; rasterizing a pair's whole
    charset at once (~2.5 ms) means no face is ever opened twice.
    """

    def __init__(self, path: str, size: int, symbols: tuple[str, ...]):
        self.path, self.size, self.symbols = path, size, symbols
        self.glyphs: dict[str, _Glyph] = {}

    def glyph(self, char: str) -> _Glyph:
        g = self.glyphs.get(char)
        if g is None:
            font = ImageFont.truetype(self.path, self.size, layout_engine=ImageFont.Layout.BASIC)
            for c in {*self.symbols, char}:
                self.glyphs[c] = self._rasterize(font, c)
            g = self.glyphs[char]
        return g

    @staticmethod
    def _rasterize(font: ImageFont.FreeTypeFont, char: str) -> _Glyph:
        left, top, right, bottom = font.getbbox(char, anchor="ls")
        advance = font.getlength(char)
        if right > left and bottom > top and not char.isspace():
            img = Image.new("L", (right - left, bottom - top), 0)
            ImageDraw.Draw(img).text((-left, -top), char, font=font, fill=255, anchor="ls")
            mask = np.asarray(img)
        else:
            mask = np.zeros((0, 0), np.uint8)
        return _Glyph(mask, left, top, advance)

    def text_mask(self, text: str) -> np.ndarray:
        """The ink of `text` laid out on one baseline, cropped to its ink box."""
        placed = []
        pen = 0.0
        for char in text:
            g = self.glyph(char)
            if g.mask.size:
                placed.append((round(pen) + g.left, g.top, g.mask))
            pen += g.advance
        if not placed:
            raise TextsynthError(f"text {text!r} has no visible ink")
        x0 = min(p[0] for p in placed)
        y0 = min(p[1] for p in placed)
        x1 = max(p[0] + p[2].shape[1] for p in placed)
        y1 = max(p[1] + p[2].shape[0] for p in placed)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        for x, y, m in placed:
            h, w = m.shape
            region = mask[y - y0:y - y0 + h, x - x0:x - x0 + w]
            np.maximum(region, m, out=region)
        return mask


class Painter:
    """Draws text lines on a fixed canvas from `SampleParams` records, with per-font glyph caches."""

    def __init__(self, config: RenderConfig, fontset: FontSet):
        self.config = config
        self.fontset = fontset
        self.width, self.height = config.canvas.width, config.canvas.height
        self.margin = config.canvas.margin
        self.min_size = max(1, round(config.fonts.min_size * self.height))
        self.max_size = max(self.min_size, round(config.fonts.max_size * self.height))
        self.noise = NoiseBank(self.width, self.height, config.seed)
        self.degrader = Degrader(self.width, self.height, config.seed,
                                 config.effects.backgrounds if config.effects.enabled else "")
        self._drawable: dict[int, np.ndarray] = {}  # per font: the visible symbols it draws (for clutter)
        self._fonts: dict[tuple[int, int], _FontAtSize] = {}
        self._ref: dict[int, tuple[dict[str, float], float]] = {}
        self._last: tuple | None = None  # (key, mask): sample_params' mask, reused by the next paint

    def _font(self, font_id: int, size: int) -> _FontAtSize:
        key = (font_id, size)
        f = self._fonts.get(key)
        if f is None:
            f = self._fonts[key] = _FontAtSize(self.fontset.fonts[font_id].path, size, self.fontset.charset.symbols)
        return f

    def _predicted_max_size(self, font_id: int, text: str, angle: float, pad: int, fx: EffectParams) -> int:
        """Largest size whose warped, rotated box should fit, from advances at a reference size."""
        ref = self._ref.get(font_id)
        if ref is None:
            font = ImageFont.truetype(self.fontset.fonts[font_id].path, _REF_SIZE,
                                      layout_engine=ImageFont.Layout.BASIC)
            ascent, descent = font.getmetrics()
            advances = {c: font.getlength(c) / _REF_SIZE for c in self.fontset.charset.symbols}
            ref = self._ref[font_id] = (advances, (ascent + descent) / _REF_SIZE)
        advances, height_per_px = ref
        slant, taller, grown = geometry_growth(fx)
        pad += grown
        width_per_px = 0.0
        for char in text:
            width_per_px += advances[char]
        width_per_px += 0.15 + slant * height_per_px  # italic overhang and side bearings beyond the advances
        height_per_px *= taller
        cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
        room_w = self.width - 2 * self.margin - 2 * pad - 2
        room_h = self.height - 2 * self.margin - 2 * pad - 2
        size = min(room_w / (width_per_px * cos + height_per_px * sin),
                   room_h / (width_per_px * sin + height_per_px * cos))
        return int(math.floor(size))

    def _ink(self, font_id: int, size: int, text: str, blur: float, angle: float, fx: EffectParams) -> np.ndarray:
        """The text's ink mask as placed: laid out, warped, blurred and rotated (the last one is cached)."""
        key = (font_id, size, text, blur, angle, fx.ink_weight, fx.shear, fx.perspective, fx.curve,
               fx.curve_period, fx.curve_phase, fx.elastic, fx.effect_seed)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        mask = warp_ink(self._font(font_id, size).text_mask(text), fx)
        mask = rotate_mask(blur_mask(mask, blur), angle)
        self._last = (key, mask)
        return mask

    def _fits(self, mask: np.ndarray) -> bool:
        h, w = mask.shape
        return w <= self.width - 2 * self.margin and h <= self.height - 2 * self.margin

    def sample_params(self, rng: np.random.Generator, text: str, index: int = 0, text_kind: int = 0) -> SampleParams:
        """Draw a record for `text`: font, size, position and augmentations. Raises TextDoesNotFit."""
        font_id = self.fontset.sample(rng, text)
        if font_id is None:
            raise TextDoesNotFit(f"no font draws every character of {text!r}")
        aug = sample_augment(rng, self.config.augment, self.noise)
        fx = self.degrader.sample(rng, self.config.effects)
        pad = blur_padding(aug.blur)
        largest = min(self.max_size, self._predicted_max_size(font_id, text, aug.angle, pad, fx))
        if largest < self.min_size:
            raise TextDoesNotFit(self._no_fit_message(text))
        size = int(rng.integers(self.min_size, largest + 1))
        mask = self._ink(font_id, size, text, aug.blur, aug.angle, fx)
        while not self._fits(mask):  # the prediction was a pixel or two optimistic
            size -= 1
            if size < self.min_size:
                raise TextDoesNotFit(self._no_fit_message(text))
            mask = self._ink(font_id, size, text, aug.blur, aug.angle, fx)
        h, w = mask.shape
        x = int(rng.integers(self.margin, self.width - self.margin - w + 1))
        y = int(rng.integers(self.margin, self.height - self.margin - h + 1))
        return SampleParams.compose(index=index, text=text, font_id=font_id, font_size=size, x=x, y=y, augment=aug,
                                    effects=fx, text_kind=text_kind)

    def _no_fit_message(self, text: str) -> str:
        return (f"text {text!r} ({len(text)} characters) does not fit a {self.width}x{self.height} canvas "
                f"even at the smallest font size ({self.min_size} px)")

    def paint(self, p: SampleParams, out: np.ndarray | None = None) -> np.ndarray:
        """The sample's pixels: uint8 (height, width), dark ink on a light background (written into `out` if given)."""
        mask = self._ink(p.font_id, p.font_size, p.text, p.blur, p.angle, p)
        h, w = mask.shape
        if p.x < 0 or p.y < 0 or p.x + w > self.width or p.y + h > self.height:
            raise TextsynthError(f"sample {p.index}: text box {w}x{h} at ({p.x}, {p.y}) leaves the canvas")
        if has_effects(p):
            image = self.degrader.compose(p, mask, self.noise, lambda rng: self._neighbour_ink(p, rng))
        else:
            canvas = np.full((self.height, self.width), p.background, np.uint8)
            contrast = p.background - p.foreground
            ink = (mask.astype(np.uint16) * contrast + 127) // 255
            canvas[p.y:p.y + h, p.x:p.x + w] = p.background - ink.astype(np.uint8)
            image = self.noise.apply(canvas, p.noise_level, p.noise_row, p.noise_col)
        image = apply_flips(image, p.mirror, p.upside_down)
        if out is None:
            return image
        out[...] = image
        return out

    def _neighbour_ink(self, p: SampleParams, rng: np.random.Generator) -> np.ndarray:
        """Ink of a random line of the sample's font and size: what a neighbouring line of text looks like."""
        symbols = self._drawable.get(p.font_id)
        if symbols is None:
            covered = self.fontset.coverage[p.font_id]
            symbols = self._drawable[p.font_id] = np.array(sorted(c for c in covered if not c.isspace()))
        text = "".join(symbols[rng.integers(len(symbols), size=int(rng.integers(6, 30)))])
        return self._font(p.font_id, p.font_size).text_mask(text)
