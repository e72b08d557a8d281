"""The painter: sample a replayable record for a text, then draw that record into a uint8 text-line image."""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from textsynth.bidi import is_rtl
from textsynth.config import RenderConfig
from textsynth.draws import between_f32, pick
from textsynth.effects.compose import Compositor, ink_growth, ink_key, ink_steps, shape_ink
from textsynth.errors import TextsynthError
from textsynth.fonts import FontSet
from textsynth.layout import Layout
from textsynth.record import EffectParams, SampleParams

_STRIP_SIZE = 48  # px: the size neighbouring-line strips are drawn at, then scaled
_FIT_SLACK_EM = 0.02  # hinting and pixel rounding beyond the outlines' extents


class InkLayout(NamedTuple):
    """How a sample's ink mask was made: the laid-out text's mask shape, the placed mask's shape, the ink stage's
    steps (`ink_steps`), and per character the box (x0, y0, x1, y1) of its cluster in the laid-out mask, one after
    another in a flat list."""

    laid_out_shape: tuple[int, int]
    shape: tuple[int, int]
    steps: list
    boxes: list | None


class TextDoesNotFit(TextsynthError):
    """The text cannot fit the canvas even at the smallest allowed font size."""


_LIGATURES = "fi fl ff ffi ffl"  # shaped to glyphs of their own by many Latin faces


class Painter:
    """Draws text lines on a canvas from `SampleParams` records: HarfBuzz layout, glyph bitmaps cached by id."""

    def __init__(self, config: RenderConfig, fontset: FontSet):
        self.config = config
        self.fontset = fontset
        self.width, self.height = config.canvas.width, config.canvas.height
        self.margin = config.canvas.margin
        self.variable_width = config.canvas.variable_width
        self.typeset = config.typeset
        self.min_size = max(1, round(config.fonts.min_size * self.height))
        self.max_size = max(self.min_size, round(config.fonts.max_size * self.height))
        self.fill_size = 2 * self.height  # a tight line's largest size: capitals and x-heights fill the height too
        self.size_step = config.fonts.size_step
        self.compositor = Compositor(self.width, self.height, config.seed, config.augment, config.effects)
        self._neighbour_strips: dict[int, np.ndarray] = {}  # per font: a line of random symbols, for clutter
        self.layout = Layout([f.path for f in fontset.fonts])
        self._last: tuple | None = None  # (key, mask, ...): sample_params' mask, reused by the next paint
        # with character boxes on, the layout's boxes are kept with the mask (`ink_layout`)
        self.keeps_boxes = config.output.char_boxes

    def warm_caches(self) -> int:
        """Rasterize every character each font covers at every size this painter draws, with the space and the
        Latin ligatures natural text shapes most: the glyph caches as a long render holds them (what benchmarks
        call warm). Returns the number of (font, size) pairs."""
        pairs = 0
        for font_id in range(len(self.fontset.fonts)):
            covered = self.fontset.coverage[font_id]
            chars = "".join(sorted(c for c in covered if not c.isspace()))
            if chars:
                ligatures = _LIGATURES if set("fil") <= covered else ""
                text = chars + (" " + ligatures if " " in covered else "")
                for size in range(self.min_size, self.max_size + 1, self.size_step):
                    self.layout.text_mask(font_id, text, size, 0.0, 1.0)
                    pairs += 1
        return pairs

    def _predicted_max_size(self, font_id: int, text: str, tracking: float, word_spacing: float, angle: float,
                            pad: int, fx: EffectParams) -> int:
        """Largest size whose warped, rotated ink box should fit, from the shaped outlines' extents in em."""
        box = self.layout.shape(font_id, text).ink_box(tracking, word_spacing)
        if box is None:
            raise TextDoesNotFit(f"text {text!r} has no visible ink")
        left, right, top, bottom = box
        slant, taller, grown = ink_growth(fx)
        pad += grown
        height_per_px = top - bottom + _FIT_SLACK_EM
        width_per_px = right - left + _FIT_SLACK_EM + slant * height_per_px
        height_per_px *= taller
        cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
        room_w = self.width - 2 * self.margin - 2 * pad - 2
        room_h = self.height - 2 * self.margin - 2 * pad - 2
        size = min(room_w / max(width_per_px * cos + height_per_px * sin, 1e-6),
                   room_h / max(width_per_px * sin + height_per_px * cos, 1e-6))
        return int(math.floor(size))

    def _ink(self, font_id: int, size: int, text: str, tracking: float, word_spacing: float, angle: float,
             fx: EffectParams) -> np.ndarray:
        """The text's ink mask as placed: laid out, through the ink effects and rotated (the last one is cached)."""
        key = (font_id, size, text, tracking, word_spacing, angle, ink_key(fx))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        boxes = [] if self.keeps_boxes else None
        laid_out = self.layout.text_mask(font_id, text, size, tracking, word_spacing, boxes)
        steps = ink_steps(fx, angle)
        mask = shape_ink(laid_out, fx, angle, steps)
        self._last = (key, mask, InkLayout(laid_out.shape, mask.shape, steps, boxes))
        return mask

    def ink_mask(self, p: SampleParams) -> np.ndarray:
        """The sample's ink mask as placed (cached: the one just painted costs nothing)."""
        return self._ink(p.font_id, p.font_size, p.text, p.tracking, p.word_spacing, p.angle, p)

    def ink_layout(self, p: SampleParams) -> InkLayout:
        """How the sample's ink was made (`InkLayout`); its boxes are kept from painting `p` when the painter keeps
        boxes, else the text is laid out again for them."""
        self.ink_mask(p)
        made = self._last[2]
        if made.boxes is None:
            boxes: list = []
            self.layout.text_mask(p.font_id, p.text, p.font_size, p.tracking, p.word_spacing, boxes)
            made = made._replace(boxes=boxes)
        return made

    def _fits(self, mask: np.ndarray) -> bool:
        h, w = mask.shape
        return w <= self.width - 2 * self.margin and h <= self.height - 2 * self.margin

    def sample_params(self, rng: np.random.Generator, text: str, index: int = 0, text_kind: int = 0) -> SampleParams:
        """Draw a record for `text`: font, size, spacing, position, augmentations and effects.
        Raises TextDoesNotFit."""
        font_id = self.fontset.sample(rng, text)
        if font_id is None:
            raise TextDoesNotFit(f"no font draws every character of {text!r}")
        if not self.layout.draws(font_id, text):  # covered by cmap, but shaped to .notdef or an empty glyph
            fonts = tuple(f for f in self.fontset.covering(text) if self.layout.draws(f, text))
            if not fonts:
                raise TextDoesNotFit(f"no font shapes {text!r} without .notdef or empty glyphs")
            font_id = fonts[int(rng.integers(len(fonts)))]
        sampler = self.compositor.sampler
        angle, classic = sampler.draw_augment(rng)
        ts = self.typeset
        # [tracking, word spacing, size, left-aligned or not, indent, x, y]: one block, each in a fixed place
        u = rng.random(7).tolist()
        tracking = between_f32(ts.tracking, u[0])
        word_spacing = between_f32(ts.word_spacing, u[1]) if self.layout.shape(font_id, text).has_space else 1.0
        classic.update(sampler.draw_effects(rng))
        fx = EffectParams.switched_on(classic)
        # The size's uniform: its top `tight` share draws the largest size that fits (a tight crop), the rest is
        # spread over the range (the same sizes as before when tight is 0).
        tight = u[2] >= 1 - ts.tight
        largest = min(self.fill_size if tight else self.max_size,
                      self._predicted_max_size(font_id, text, tracking, word_spacing, angle, 0, fx))
        if largest < self.min_size:
            raise TextDoesNotFit(self._no_fit_message(text))
        step = self.size_step
        sizes = (largest - self.min_size) // step + 1
        size = self.min_size + step * (sizes - 1 if tight else pick(u[2] / (1 - ts.tight), sizes))
        mask = self._ink(font_id, size, text, tracking, word_spacing, angle, fx)
        while not self._fits(mask):  # the prediction was a pixel or two optimistic
            size -= step
            if size < self.min_size:
                raise TextDoesNotFit(self._no_fit_message(text))
            mask = self._ink(font_id, size, text, tracking, word_spacing, angle, fx)
        h, w = mask.shape
        if self.variable_width or u[3] < ts.left_aligned:
            x = self.margin + round(between_f32(ts.indent, u[4]) * self.height)
            limit = (self.width - w) // 2 if self.variable_width else self.width - self.margin - w
            x = max(self.margin, min(x, limit))
            if not self.variable_width and is_rtl(text):  # a right-to-left line starts at the right margin
                x = self.width - w - x
        else:
            x = self.margin + pick(u[5], self.width - 2 * self.margin - w + 1)
        y = self.margin + pick(u[6], self.height - 2 * self.margin - h + 1)
        width = min(self.width, 2 * x + w) if self.variable_width else self.width
        return SampleParams.compose(index=index, text=text, font_id=font_id, font_size=size, x=x, y=y,
                                    width=width, angle=angle, tracking=tracking, word_spacing=word_spacing,
                                    effects=fx, text_kind=text_kind)

    def _no_fit_message(self, text: str) -> str:
        return (f"text {text!r} ({len(text)} characters) does not fit a {self.width}x{self.height} canvas "
                f"even at the smallest font size ({self.min_size} px)")

    def paint(self, p: SampleParams, out: np.ndarray | None = None, sensor: bool = True) -> np.ndarray:
        """The sample's pixels: uint8 (height, width), dark ink on a light background (written into `out` if given).

        A variable-width sample fills columns [0, p.width); the columns after it are plain paper. `sensor=False`:
        the line before the sensor stage (speckle, paper texture), as a format 3 shard stores it.
        """
        mask = self.ink_mask(p)
        h, w = mask.shape
        if not 0 < p.width <= self.width:
            raise TextsynthError(f"sample {p.index}: width {p.width} is outside 1..{self.width}")
        if p.x < 0 or p.y < 0 or p.x + w > p.width or p.y + h > self.height:
            raise TextsynthError(f"sample {p.index}: text box {w}x{h} at ({p.x}, {p.y}) leaves the canvas")
        image = self.compositor.compose(p, mask, lambda rng: self._neighbour_ink(p, rng), sensor)
        if out is None:
            return image
        out[...] = image
        return out

    def _neighbour_ink(self, p: SampleParams, rng: np.random.Generator) -> np.ndarray:
        """Ink of a neighbouring line of the sample's font and size: a random window of that font's line of
        random symbols, drawn once per process at a reference size and scaled (a bank, not a fresh layout)."""
        strip = self._neighbour_strips.get(p.font_id)
        if strip is None:
            covered = sorted(c for c in self.fontset.coverage[p.font_id] if not c.isspace())
            symbols = np.array(covered if covered else ["x"])
            pick = np.random.default_rng([p.font_id, 0x6E656967]).integers(len(symbols), size=60)
            strip = self._neighbour_strips[p.font_id] = self.layout.text_mask(
                p.font_id, "".join(symbols[pick]), _STRIP_SIZE, 0.0, 1.0)
        scale = p.font_size / _STRIP_SIZE
        span = min(strip.shape[1], int(rng.integers(self.width // 4, self.width + 1) / scale))  # strip pixels
        start = int(rng.integers(0, strip.shape[1] - span + 1))
        size = (max(1, round(span * scale)), max(1, round(strip.shape[0] * scale)))
        return cv2.resize(strip[:, start:start + span], size, interpolation=cv2.INTER_LINEAR)
