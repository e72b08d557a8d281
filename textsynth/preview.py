"""Contact sheets: a grid of sample images, each with its label printed underneath."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from textsynth.errors import TextsynthError
from textsynth.fonts import bundled_fonts_dir

_LABEL_HEIGHT = 20
MAX_SHEET_SAMPLES = 1000
MAX_SHEET_PIXELS = 2**27  # 128 MB of grayscale sheet


def sheet_size(count: int, height: int, width: int, columns: int = 2) -> tuple[int, int]:
    """(width, height) in pixels of a contact sheet of `count` images."""
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    return columns * (width + 8) + 8, rows * (height + _LABEL_HEIGHT + 6) + 8


def check_sheet(count: int, height: int, width: int, columns: int = 2, flag: str = "--n") -> None:
    """Refuse a sheet that would be huge before any image is made or read."""
    if count > MAX_SHEET_SAMPLES:
        raise TextsynthError(f"{flag} {count} is more than a contact sheet holds (at most {MAX_SHEET_SAMPLES})")
    w, h = sheet_size(count, height, width, columns)
    if w * h > MAX_SHEET_PIXELS:
        raise TextsynthError(f"{flag} {count}: a sheet of {count} {width}x{height} images would be {w}x{h} pixels, "
                             f"more than {MAX_SHEET_PIXELS:,}; ask for fewer")


def _label_font(size: int = 14) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(str(bundled_fonts_dir() / "DejaVuSansMono.ttf"), size)
    except Exception:  # the sheet is a convenience: fall back to Pillow's own font
        return ImageFont.load_default()


def contact_sheet(images: Sequence[np.ndarray], labels: Sequence[str], columns: int = 2,
                  notes: Sequence[str] | None = None) -> Image.Image:
    """Tile images (uint8, same shape) in a grid; each cell shows the image, then its label."""
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    h, w = images[0].shape
    columns = max(1, min(columns, len(images)))
    cell_h = h + _LABEL_HEIGHT + 6
    sheet = Image.new("L", sheet_size(len(images), h, w, columns), 255)
    draw = ImageDraw.Draw(sheet)
    font = _label_font()
    for k, (image, label) in enumerate(zip(images, labels)):
        r, c = divmod(k, columns)
        x, y = 8 + c * (w + 8), 8 + r * cell_h
        sheet.paste(Image.fromarray(image), (x, y))
        draw.rectangle((x - 1, y - 1, x + w, y + h), outline=160)
        text = label if notes is None else f"{label}   [{notes[k]}]"
        draw.text((x, y + h + 3), text, fill=0, font=font)
    return sheet


def save_sheet(path: str | Path, images: Sequence[np.ndarray], labels: Sequence[str], **kwargs) -> Path:
    """Write the sheet as PNG; a path that cannot be written is a one-line error naming it."""
    if str(path) == "":
        raise TextsynthError("the output PNG path is empty")
    path = Path(path)
    sheet = contact_sheet(images, labels, **kwargs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path)
    except OSError as exc:
        raise TextsynthError(f"cannot write {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # Pillow: unknown extension and the like
        raise TextsynthError(f"cannot write {path}: {exc}") from None
    return path
