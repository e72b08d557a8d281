"""Contact sheets: a grid of sample images, each with its label printed underneath."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from textsynth.errors import TextsynthError
from textsynth.fileio import commit_file, temp_path
from textsynth.fonts import bundled_fonts_dir

_LABEL_HEIGHT = 20
MAX_CAPTION_LINES = 3
MAX_SHEET_SAMPLES = 1000
MAX_SHEET_PIXELS = 2**27  # 128 MB of grayscale sheet
# The image formats a sheet can be written as (Pillow writes grayscale in each), by file suffix.
SHEET_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP",
                 ".webp": "WEBP"}


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


# Caption faces, first that draws a whole caption wins: Latin, Greek, Cyrillic, then the languages' own scripts.
_CAPTION_FONTS = ("DejaVuSansMono.ttf", "devanagari/NotoSansDevanagari-Regular.ttf",
                  "arabic/NotoSansArabic-Regular.ttf", "chinese/WenQuanYiMicroHei.ttf")


@lru_cache(maxsize=1)
def _caption_fonts(size: int = 14) -> tuple[tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, frozenset[int]], ...]:
    from fontTools.ttLib import TTFont

    fonts = []
    for name in _CAPTION_FONTS:
        path = bundled_fonts_dir() / name
        try:
            fonts.append((ImageFont.truetype(str(path), size), frozenset(TTFont(path, lazy=True).getBestCmap())))
        except Exception:  # the sheet is a convenience: a missing face is skipped
            continue
    return tuple(fonts) or ((ImageFont.load_default(), frozenset()),)


def _label_font(text: str = "") -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """The first caption face whose cmap has every character of `text` (else the first)."""
    fonts = _caption_fonts()
    needed = {ord(c) for c in text if not c.isspace()}
    return next((font for font, cmap in fonts if needed <= cmap), fonts[0][0])


# Box outlines alternate between these, so neighbouring characters' boxes stay apart; a dot marks the corner
# that was the glyph's top-left (it shows a flipped or turned line).
BOX_COLOURS = ((230, 40, 40), (30, 90, 230))


def _draw_boxes(draw: ImageDraw.ImageDraw, quads: np.ndarray, x: int, y: int) -> None:
    for k, quad in enumerate(quads):
        points = [(x + float(px), y + float(py)) for px, py in quad]
        colour = BOX_COLOURS[k % len(BOX_COLOURS)]
        draw.polygon(points, outline=colour)
        cx, cy = points[0]
        draw.ellipse((cx - 1.5, cy - 1.5, cx + 1.5, cy + 1.5), fill=colour)


def contact_sheet(images: Sequence[np.ndarray], labels: Sequence[str], columns: int = 2,
                  notes: Sequence[str] | None = None, boxes: Sequence[np.ndarray] | None = None) -> Image.Image:
    """Tile images (uint8, same shape) in a grid; each cell shows the image, then its label. `boxes`: per image
    its characters' quadrilaterals (n, 4, 2), outlined in colour."""
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    h, w = images[0].shape
    columns = max(1, min(columns, len(images)))
    texts = [label if notes is None else f"{label}   [{notes[k]}]" for k, label in enumerate(labels)]
    fonts = [_label_font(text) for text in texts]
    captions = [wrap_caption(text, font, w) for text, font in zip(texts, fonts)]
    lines = max(len(c) for c in captions)
    cell_h = h + _LABEL_HEIGHT * lines + 6
    mode, white, grey, black = ("RGB", (255,) * 3, (160,) * 3, (0,) * 3) if boxes is not None else ("L", 255, 160, 0)
    sheet = Image.new(mode, sheet_size(len(images), h, w, columns, lines), white)
    draw = ImageDraw.Draw(sheet)
    for k, (image, caption, font) in enumerate(zip(images, captions, fonts)):
        r, c = divmod(k, columns)
        x, y = 8 + c * (w + 8), 8 + r * cell_h
        sheet.paste(Image.fromarray(image).convert(mode), (x, y))
        draw.rectangle((x - 1, y - 1, x + w, y + h), outline=grey)
        if boxes is not None:
            _draw_boxes(draw, boxes[k], x, y)
        for n, line in enumerate(caption):
            draw.text((x, y + h + 3 + n * _LABEL_HEIGHT), line, fill=black, font=font)
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


def sheet_target(path: str | Path) -> tuple[Path, str]:
    """The file a sheet goes to and its Pillow format, decided before anything is opened: a format Pillow
    writes grayscale in, a path that is not a folder and not a dataset's own file; else a one-line error."""
    if str(path).strip() == "":
        raise TextsynthError("the output image path is empty")
    path = Path(path)
    Image.init()
    fmt = SHEET_FORMATS.get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        known = ", ".join(s for s, f in SHEET_FORMATS.items() if f in Image.SAVE)
        raise TextsynthError(f"cannot write {path}: a contact sheet is an image file ({known}), "
                             f"not {path.suffix or 'a name without a suffix'!r}")
    if path.is_dir():
        raise TextsynthError(f"cannot write {path}: it is a folder")
    for candidate in {path, path.resolve()}:  # a symlink is judged by what it points to as well
        if (candidate.parent / "manifest.json").exists() and candidate.name == "preview.png":
            raise TextsynthError(f"cannot write {path}: it is the preview sheet of the dataset in "
                                 f"{candidate.parent}; choose another name")
    return path, fmt


def save_sheet(path: str | Path, images: Sequence[np.ndarray], labels: Sequence[str], *, check: bool = True,
               **kwargs) -> Path:
    """Write the sheet through a temporary name, so a failed write never touches `path`; a path that cannot be
    written is a one-line error naming it. `check=False` skips the dataset-file check (a render writing
    its own preview sheet)."""
    if check:
        path, fmt = sheet_target(path)
    else:
        path, fmt = Path(path), "PNG"
    sheet = contact_sheet(images, labels, **kwargs)
    tmp = temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(tmp, format=fmt)
        commit_file(tmp, path)
    except (OSError, ValueError) as exc:  # ValueError: Pillow refusing the image for the format
        tmp.unlink(missing_ok=True)
        detail = getattr(exc, "strerror", None) or exc
        raise TextsynthError(f"cannot write {path}: {detail}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
