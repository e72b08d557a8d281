"""Contact sheets: a grid of sample images, each with its label printed underneath."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from textsynth.fonts import bundled_fonts_dir

_LABEL_HEIGHT = 20


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
    rows = -(-len(images) // columns)
    cell_h = h + _LABEL_HEIGHT + 6
    sheet = Image.new("L", (columns * (w + 8) + 8, rows * cell_h + 8), 255)
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(images, labels, **kwargs).save(path)
    return path
