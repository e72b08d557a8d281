"""Contact sheets: a grid of sample images, each with its label printed underneath."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from textsynth.errors import TextsynthError
from textsynth.fonts import bundled_fonts_dir

_LABEL_HEIGHT = 20
MAX_CAPTION_LINES = 3
MAX_SHEET_SAMPLES = 1000
MAX_SHEET_PIXELS = 2**27  # 128 MB of grayscale sheet


def sheet_size(count: int, height: int, width: int, columns: int = 2,
               lines: int = MAX_CAPTION_LINES) -> tuple[int, int]:
    """(width, height) in pixels of a contact sheet of `count` images with captions of `lines` lines."""
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    return columns * (width + 8) + 8, rows * (height + _LABEL_HEIGHT * lines + 6) + 8


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
    font = _label_font()
    captions = [wrap_caption(label if notes is None else f"{label}   [{notes[k]}]", font, w)
                for k, label in enumerate(labels)]
    lines = max(len(c) for c in captions)
    cell_h = h + _LABEL_HEIGHT * lines + 6
    sheet = Image.new("L", sheet_size(len(images), h, w, columns, lines), 255)
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
                 max_lines: int = MAX_CAPTION_LINES) -> list[str]:
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
