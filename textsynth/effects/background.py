"""Paper: user background images, procedural paper texture (a bank made once per process), gradients,
ruled lines (the flat gray level is the classic `background`)."""

from __future__ import annotations

import math
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from textsynth.draws import pick
from textsynth.effects.spec import Canvas, EffectSpec, amount, detail_draw, f32, whole, whole_amount
from textsynth.effects.textures import KEYWORD as TEXTURES
from textsynth.effects.textures import texture_bank
from textsynth.errors import TextsynthError

try:  # the compiled ramps (textsynth/_lines.c); absent where the package was built without a C compiler
    from textsynth._lines import ramp as _compiled_ramp
except ImportError:  # (or by a textsynth before it: a stale build is an old one, not an error)
    _compiled_ramp = None

_GRADIENT, _FALLOFF, _SHADOW_EDGE = 0, 1, 2  # _lines.ramp's kinds


class PaperBank:
    """A block of zero-mean, unit-deviation paper texture: low-frequency blotches, fibres and fine grain.

    Made once per process from the render seed; each sample takes a window at a recorded offset, so a
    texture costs one slice and one multiply-add instead of a fresh synthesis per image. About 1 MB for a
    512x64 canvas: a bank that stays in the CPU's cache makes that read several times cheaper.
    """

    @staticmethod
    def shape_for(width: int, height: int) -> tuple[int, int]:
        """The bank's shape for a canvas (known without making the bank, for sampling offsets)."""
        return max(256, 4 * height), width + 512

    def __init__(self, width: int, height: int, seed: int):
        rows, cols = self.shape_for(width, height)
        rng = np.random.default_rng([seed, 0x7061706572])  # its own stream, apart from every sample's
        blotches = _smooth_noise(rng, rows, cols, 48) + 0.5 * _smooth_noise(rng, rows, cols, 12)
        fibres = _fibres(rng, rows, cols)
        grain = rng.standard_normal((rows, cols), dtype=np.float32)
        texture = blotches / blotches.std() + 0.6 * fibres / max(fibres.std(), 1e-6) + 0.35 * grain
        self.bank = ((texture - texture.mean()) / texture.std()).astype(np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        return self.bank.shape

    def window(self, row: int, col: int, height: int, width: int) -> np.ndarray:
        return self.bank[row:row + height, col:col + width]


def _smooth_noise(rng: np.random.Generator, rows: int, cols: int, scale: int) -> np.ndarray:
    coarse = rng.standard_normal((rows // scale + 2, cols // scale + 2)).astype(np.float32)
    img = Image.fromarray(coarse, mode="F").resize((cols, rows), Image.Resampling.BICUBIC)
    return np.asarray(img, np.float32)


def _fibres(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    img = Image.new("L", (cols, rows), 0)
    draw = ImageDraw.Draw(img)
    for _ in range(rows * cols // 400):
        x, y = rng.uniform(0, cols), rng.uniform(0, rows)
        length, angle = rng.uniform(3, 14), rng.uniform(0, math.pi)
        draw.line((x, y, x + length * math.cos(angle), y + length * math.sin(angle)),
                  fill=int(rng.integers(40, 120)), width=1)
    return np.asarray(img.filter(ImageFilter.GaussianBlur(0.7)), np.float32)


class Backdrops:
    """The images of a `--backgrounds` folder, gray, each at least as large as the canvas (and at most
    `MAX_SIDE` pixels on a side, to bound a worker's memory), in file-name order; or, for the folder name
    `textures`, the procedural scene textures (`textsynth.effects.textures`)."""

    SUFFIXES = (".png", ".jpg", ".jpeg")
    MAX_SIDE = 2048
    MAX_PIXELS = 2**26  # 67 million (8192x8192) decoded pixels at most (after a JPEG's reduced decode)

    def __init__(self, folder: str, width: int, height: int):
        if folder == TEXTURES:  # a folder of that name is ./textures
            self.images = texture_bank(width, height)
            return
        directory = Path(folder)
        if not directory.is_dir():
            raise TextsynthError(f"backgrounds folder {folder} does not exist or is not a folder")
        files = sorted(p for p in directory.iterdir() if p.suffix.lower() in self.SUFFIXES and p.is_file())
        if not files:
            raise TextsynthError(f"backgrounds folder {folder} holds no .png or .jpg images")
        self.images = [self._load(path, width, height) for path in files]

    def _load(self, path: Path, width: int, height: int) -> np.ndarray:
        """The image, gray, scaled to cover the canvas and to at most MAX_SIDE a side (or the canvas's, if
        larger); an image whose scale-up would make one side longer than that is first cut to the part that
        becomes it, so a 1x2000 strip costs a few MB, not GB. Huge or hostile files are one-line errors."""
        try:
            with warnings.catch_warnings():  # our own bound below replaces Pillow's two-line warning
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(path) as img:
                    img.draft("L", (self.MAX_SIDE, self.MAX_SIDE))  # JPEGs decode at a reduced size right away
                    if img.width * img.height > self.MAX_PIXELS:
                        raise TextsynthError(f"background image {path} is {img.width}x{img.height} pixels, more "
                                             f"than the {self.MAX_PIXELS:,} a background may have; scale it down")
                    img = img.convert("L")
        except (OSError, ValueError, Image.DecompressionBombError, SyntaxError, zlib.error) as exc:
            # ValueError: Pillow refusing a text or ICC chunk that inflates past its limit
            raise TextsynthError(f"background image {path} cannot be read ({' '.join(str(exc).split())[:160]})") \
                from None
        scale = min(self.MAX_SIDE / max(img.size), 1.0)
        scale = max(scale, width / img.width, height / img.height)  # never smaller than the canvas
        limit_w, limit_h = max(self.MAX_SIDE, width), max(self.MAX_SIDE, height)
        if img.width * scale > limit_w or img.height * scale > limit_h:  # a strip: keep the middle that fits
            keep_w = min(img.width, max(1, math.ceil(limit_w / scale)))
            keep_h = min(img.height, max(1, math.ceil(limit_h / scale)))
            left, top = (img.width - keep_w) // 2, (img.height - keep_h) // 2
            img = img.crop((left, top, left + keep_w, top + keep_h))
        if scale != 1.0:
            img = img.resize((max(width, min(limit_w, round(img.width * scale))),
                              max(height, min(limit_h, round(img.height * scale)))), Image.Resampling.BILINEAR)
        return np.asarray(img, np.float32)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return [im.shape for im in self.images]


class Coordinates:
    """Centred pixel coordinates of the canvas, scaled to [-1, 1] along the width, made once; and the light
    ramps laid over a float32 canvas with them (each in one compiled pass where built, else numpy's two or three:
    the same float32 operations in the same order, so the same bytes)."""

    def __init__(self, width: int, height: int):
        half = width / 2
        self.x = ((np.arange(width, dtype=np.float32) + 0.5 - half) / half)[None, :]
        self.y = ((np.arange(height, dtype=np.float32) + 0.5 - height / 2) / half)[:, None]
        self.y_slanted = self.y * np.float32(0.3)  # a shadow's edge leans 0.3 px across per px down

    def ramp_parts(self, angle_degrees: float, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """`scale` x a linear ramp across the canvas in the given direction (-1 .. 1 along the width), as a
        (1, width) row and a (height, 1) column that add up to it: added to an image one after the other,
        they cost two passes and no canvas-sized temporary."""
        a = math.radians(angle_degrees)
        return self.x * np.float32(scale * math.cos(a)), self.y * np.float32(scale * math.sin(a))

    def add_gradient(self, image: np.ndarray, angle_degrees: float, scale: float) -> None:
        """image += the ramp (`ramp_parts`), in place."""
        along, across = self.ramp_parts(angle_degrees, scale)
        if not _ramp(image, along, across, _GRADIENT):
            image += along
            image += across

    def fall_off(self, image: np.ndarray, angle_degrees: float, scale: float, level: np.float32) -> None:
        """image *= (ramp + level), in place: an illumination falloff."""
        along, across = self.ramp_parts(angle_degrees, scale)
        if not _ramp(image, along, across, _FALLOFF, level):
            image *= (along + level) + across

    def shade(self, image: np.ndarray, edge: np.float32, strength: np.float32) -> None:
        """image *= 1 - strength x cover, in place, where cover rises from 0 to 1 over a few pixels across a
        slanted edge at `edge` (-1 .. 1 along the width): a shadow."""
        if not _ramp(image, self.x, self.y_slanted, _SHADOW_EDGE, edge, strength):
            cover = np.clip((self.x + self.y_slanted - edge) * np.float32(12) + np.float32(0.5), 0, 1)
            image *= 1 - strength * cover


def _ramp(image: np.ndarray, row: np.ndarray, column: np.ndarray, kind: int, k: float = 0.0, s: float = 0.0) -> bool:
    """A `Coordinates` ramp in one compiled pass (`_lines.ramp`); False: do it with numpy."""
    if (_compiled_ramp is None or image.dtype != np.float32 or not image.flags.c_contiguous
            or image.shape != (column.shape[0], row.shape[1])):
        return False
    _compiled_ramp(image, image.shape[1], image.shape[0], row, column, kind, float(k), float(s))
    return True


def _paper(frame) -> None:  # the sensor stage: texture in whole gray levels over paper and ink alike, added last
    p = frame.p
    frame.env.sensor.paper.add(frame.image, p.paper, p.paper_row, p.paper_col, p.width)


def _backdrop(frame) -> None:
    p, height, width = frame.p, frame.height, frame.width
    crop = frame.env.backdrops.images[p.backdrop - 1][p.backdrop_row:p.backdrop_row + height,
                                                       p.backdrop_col:p.backdrop_col + width]
    frame.image += np.float32(p.backdrop_amount) * (crop - np.float32(crop.mean()))


def _gradient(frame) -> None:
    frame.env.coords.add_gradient(frame.image, frame.p.gradient_angle, frame.p.gradient / 2)


def _rules(frame) -> None:
    p, out = frame.p, frame.image
    line = np.float32(min(70.0, 0.45 * (p.background - p.foreground)))
    out[p.rules_offset::p.rules_spacing, :] -= line
    if p.rules == 2:
        out[:, p.rules_offset::p.rules_spacing] -= line


def _draw_backdrop(e, u: list[float], c: Canvas) -> dict:
    k = pick(u[2], len(c.backdrops))
    rows, cols = c.backdrops[k]
    return {"backdrop": k + 1, "backdrop_amount": amount(e, u),
            "backdrop_row": pick(u[3], rows - c.height + 1), "backdrop_col": pick(u[4], cols - c.width + 1)}


def _draw_rules(e, u: list[float], c: Canvas) -> dict:
    spacing = whole_amount(e, u)
    return {"rules": 2 if u[2] < 0.3 else 1, "rules_spacing": spacing, "rules_offset": pick(u[3], spacing)}


# Pixel order: the flat level (classic `background`), then the background image, the gradient, the rules; the
# paper texture comes last of all, in the sensor stage (a format 3 shard stores the line without it).
EFFECTS = (
    EffectSpec(
        "backdrop", 0,
        {"backdrop": whole("int32"), "backdrop_row": whole("int32"), "backdrop_col": whole("int32"),
         "backdrop_amount": f32()}, _draw_backdrop, "paper", _backdrop, step=30, p=0.5, amount=(0.3, 1.0),
        bounds=(0.0, 2.0), doc="share of a background image's own contrast kept; needs `backgrounds` (`backdrop`: "
        "1 + the number of the image cropped, 0 none)"),
    EffectSpec(
        "paper", 6, {"paper": f32(), "paper_row": whole("int32"), "paper_col": whole("int32")},
        # whole gray levels: a few discrete amounts, each one's integer term made once per process (sensor)
        lambda e, u, c: {"paper": float(max(1, round(amount(e, u)))),
                         "paper_row": pick(u[2], c.paper_shape[0] - c.height + 1),
                         "paper_col": pick(u[3], c.paper_shape[1] - c.width + 1)},
        "sensor", _paper, step=20, p=0.4, amount=(2.0, 12.0), bounds=(0.0, 40.0),
        doc="gray levels (standard deviation) of paper texture"),
    EffectSpec(
        "gradient", 7, {"gradient": f32(), "gradient_angle": f32()},
        detail_draw("gradient", "gradient_angle", -180.0, 180.0), "paper", _gradient, step=40, p=0.25,
        amount=(-60.0, 60.0), bounds=(-150.0, 150.0), doc="gray levels the paper changes across the line"),
    EffectSpec(
        "rules", 8, {"rules": whole("uint8"), "rules_spacing": whole("uint8"), "rules_offset": whole("uint8")},
        _draw_rules, "paper", _rules, step=50, p=0.05, amount=(8.0, 24.0), bounds=(4.0, 64.0),
        doc="ruled (`rules` 1) or grid (2) paper, line spacing in pixels"),
)
