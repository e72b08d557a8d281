"""ICDAR-style page annotations: page images with same-stem .txt/.csv files of `x1,y1,...,x4,y4,transcript`
lines, each quadrilateral cut out as an upright line image (perspective-rectified, with a margin)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference_model.sources import MAX_LABEL_CHARS, MAX_SAMPLES, LineSource, own_file, read_lines
from textsynth.errors import TextsynthError

PAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
ANNOTATION_SUFFIXES = (".txt", ".csv")
DEFAULT_CROP_MARGIN = 0.125  # of the line height on every side: a detector's box is looser than an annotator's
MAX_CROP_MARGIN = 2.0
MAX_PAGES = 100_000
MAX_PAGE_PIXELS = 64_000_000  # a 600-dpi A3 scan; anything larger is not a page
MAX_PAGE_BYTES = 256 << 20
UNREADABLE = "###"  # ICDAR's mark for a box whose text the annotator could not read


@dataclass(frozen=True)
class Box:
    page: int  # index into the page list
    corners: np.ndarray  # (4, 2) float32: x1,y1 (the text's top left), then clockwise
    where: str


def find_pages(root: Path) -> list[tuple[Path, Path]]:
    """(page image, annotation) pairs of a folder, in name order; [] when it holds none."""
    pairs = []
    with os.scandir(root) as entries:
        names = {}
        for count, entry in enumerate(entries):
            if count > 4 * MAX_PAGES:
                raise TextsynthError(f"{root} holds more than {4 * MAX_PAGES:,} files")
            names[entry.name] = entry
    for name in sorted(names):
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in PAGE_SUFFIXES:
            continue
        for ext in ANNOTATION_SUFFIXES:
            if stem + ext in names:
                pairs.append((root / name, root / (stem + ext)))
                break
    if len(pairs) > MAX_PAGES:
        raise TextsynthError(f"{root} holds more than {MAX_PAGES:,} annotated pages")
    return pairs


def _page_size(path: Path) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        if path.stat().st_size > MAX_PAGE_BYTES:
            raise TextsynthError(f"page {path} is larger than {MAX_PAGE_BYTES >> 20} MB")
        with Image.open(path) as img:
            size = img.size
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise TextsynthError(f"cannot read page {path}: {exc}") from None
    if size[0] * size[1] > MAX_PAGE_PIXELS:
        raise TextsynthError(f"page {path} is {size[0]}x{size[1]}: more than {MAX_PAGE_PIXELS:,} pixels")
    return size


def _load_page(path: Path) -> np.ndarray:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, MAX_PAGE_PIXELS)  # the size was checked above
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise TextsynthError(f"cannot read page {path}: {exc}") from None


def _parse(line: str, where: str) -> tuple[np.ndarray, str]:
    fields = next(csv.reader([line]))
    if len(fields) < 9:
        raise TextsynthError(f"{where}: expected x1,y1,x2,y2,x3,y3,x4,y4,transcript")
    try:
        numbers = [float(v) for v in fields[:8]]
    except ValueError:
        raise TextsynthError(f"{where}: the first eight fields must be numbers") from None
    if not all(math.isfinite(v) for v in numbers):
        raise TextsynthError(f"{where}: a corner is not a finite number")
    return np.array(numbers, np.float32).reshape(4, 2), ",".join(fields[8:]).strip()


def _sides(corners: np.ndarray) -> tuple[float, float]:
    """Width and height of the upright line a quadrilateral becomes (its longer opposite sides)."""
    c = corners.astype(np.float64)
    width = max(np.linalg.norm(c[1] - c[0]), np.linalg.norm(c[2] - c[3]))
    height = max(np.linalg.norm(c[3] - c[0]), np.linalg.norm(c[2] - c[1]))
    return float(width), float(height)


def rectify(page: np.ndarray, corners: np.ndarray, margin: float) -> np.ndarray:
    """The quadrilateral `corners` of `page`, mapped onto an upright rectangle, with `margin` x its height added
    on every side (taken from the page around it; the page's edge pixels repeated past its border)."""
    import cv2

    width, height = _sides(corners)
    pad = margin * height
    out_w, out_h = max(1, round(width + 2 * pad)), max(1, round(height + 2 * pad))
    target = np.array([[pad, pad], [pad + width, pad], [pad + width, pad + height], [pad, pad + height]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(page, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def page_source(root: Path, pairs: list[tuple[Path, Path]], limit: int | None, margin: float) -> LineSource:
    """The annotated lines of the pages, in page then line order. Skipped and counted: `###` and empty
    transcripts, boxes with no area, and boxes reaching outside their page by more than their margin."""
    if not (math.isfinite(margin) and 0 <= margin <= MAX_CROP_MARGIN):
        raise TextsynthError(f"--crop-margin must be in 0..{MAX_CROP_MARGIN:g} (a share of the line height), "
                             f"got {margin}")
    boxes: list[Box] = []
    texts: list[str] = []
    skipped = {"unreadable (###)": 0, "empty transcript": 0, "no area": 0, "outside the page": 0}
    pages: list[Path] = []
    for image, annotation in pairs:
        if limit is not None and len(texts) >= limit:
            break
        own_file(root, image)
        own_file(root, annotation)
        page_w, page_h = _page_size(image)
        pages.append(image)
        for n, line in read_lines(annotation, encoding="utf-8-sig"):
            if limit is not None and len(texts) >= limit:
                break
            where = f"{annotation} line {n}"
            corners, text = _parse(line, where)
            if text == UNREADABLE:
                skipped["unreadable (###)"] += 1
                continue
            if not text:
                skipped["empty transcript"] += 1
                continue
            if len(text) > MAX_LABEL_CHARS:
                raise TextsynthError(f"{where}: transcript longer than {MAX_LABEL_CHARS} characters")
            width, height = _sides(corners)
            if width < 1 or height < 1:
                skipped["no area"] += 1
                continue
            slack = max(2.0, margin * height)
            if (corners[:, 0].min() < -slack or corners[:, 1].min() < -slack or
                    corners[:, 0].max() > page_w + slack or corners[:, 1].max() > page_h + slack):
                skipped["outside the page"] += 1
                continue
            boxes.append(Box(len(pages) - 1, corners, where))
            texts.append(text)
            if len(texts) > MAX_SAMPLES:
                raise TextsynthError(f"{root} annotates more than {MAX_SAMPLES:,} lines")
    if not texts:
        raise TextsynthError(f"{root}: its page annotations hold no readable line")

    def stream(size: int) -> Iterator[list[np.ndarray]]:
        batch: list[np.ndarray] = []
        loaded: tuple[int, np.ndarray] | None = None
        for box in boxes:
            if loaded is None or loaded[0] != box.page:
                loaded = (box.page, _load_page(pages[box.page]))
            batch.append(rectify(loaded[1], box.corners, margin))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    return LineSource(str(root), "pages", texts, {}, lambda k: boxes[k].where, stream,
                      skipped={k: v for k, v in skipped.items() if v})
