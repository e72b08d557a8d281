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
    font = _label_font()
    captions = [wrap_caption(label if notes is None else f"{label}   [{notes[k]}]", font, w)
                for k, label in enumerate(labels)]
    lines = max(len(c) for c in captions)
    cell_h = h + _LABEL_HEIGHT * lines + 6
    sheet = Image.new("L", (columns * (w + 8) + 8, rows * cell_h + 8), 255)
    draw = ImageDraw.Draw(sheet)
    for k, (image, caption) in enumerate(zip(images, captions)):
        r, c = divmod(k, columns)
        x, y = 8 + c * (w + 8), 8 + r * cell_h
        sheet.paste(Image.fromarray(image), (x, y))
        draw.rectangle((x - 1, y - 1, x + w, y + h), outline=160)
        for n, line in enumerate(caption):
            draw.text((x, y + h + 3 + n * _LABEL_HEIGHT), line, fill=0, font=font)
    return sheet


def wrap_caption(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int,
                 max_lines: int = 3) -> list[str]:
    """`text` broken at spaces into lines that stay inside a cell `width` pixels wide (the last one
    shortened with an ellipsis if even `max_lines` are not enough)."""
    lines: list[str] = []
    words = text.split(" ")
    while words and len(lines) < max_lines - 1:
        line = words.pop(0)
        while words and font.getlength(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        if font.getlength(line) > width:  # one word wider than the cell: cut it
            words.insert(0, line)
            break
        lines.append(line)
    if words:
        lines.append(fit_caption(" ".join(words), font, width))
    return lines


def fit_caption(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int) -> str:
    """`text` shortened with an ellipsis so it stays inside a cell `width` pixels wide."""
    if font.getlength(text) <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(text[:mid] + "…") <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…"


def save_sheet(path: str | Path, images: Sequence[np.ndarray], labels: Sequence[str], **kwargs) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(images, labels, **kwargs).save(path)
    return path
