"""Scene backgrounds made procedurally (`backgrounds = "textures"`): brick, tiles, wood, stone, foliage, awning
stripes, bokeh, fabric, brushed metal, shop-front clutter, sky and gravel, made once per process from a fixed
seed, so a sign gets a world behind it without an image licence, a download or a file to ship.

Every texture is a gray float32 image in 0..255 with its own mean level and contrast; the `backdrop` effect
crops a window of one at a recorded offset and adds its deviation from its mean to the paper, as it does with
a user's photographs. Nothing here looks like a letter (no glyph shapes, no thin strokes in a row), so a
backdrop never reads as text the label does not have.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

KEYWORD = "textures"  # `backgrounds = "textures"`: this bank instead of a folder of images
_SEED = 0x74787472  # a fixed seed: the same bank in every process, run and machine


def texture_bank(width: int, height: int) -> list[np.ndarray]:
    """The bank for a canvas: one image per maker, each at least the canvas's size plus room to move a window
    (about 1 MB each for a 512x64 canvas)."""
    rows, cols = max(256, 2 * height), max(1024, width + 256)
    rng = np.random.default_rng(_SEED)
    bank = []
    for make in MAKERS:
        image = make(rng, rows, cols)
        bank.append(np.clip(image, 0, 255).astype(np.float32))
    return bank


def _smooth(rng: np.random.Generator, rows: int, cols: int, cell: float) -> np.ndarray:
    """Smooth noise in 0..1 with features about `cell` pixels across."""
    grid = rng.random((max(2, math.ceil(rows / cell) + 1), max(2, math.ceil(cols / cell) + 1))).astype(np.float32)
    return np.clip(cv2.resize(grid, (cols, rows), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def _fractal(rng: np.random.Generator, rows: int, cols: int, cells: tuple[float, ...]) -> np.ndarray:
    """Octaves of smooth noise, coarse ones weighing most, normalized to 0..1."""
    total = sum(_smooth(rng, rows, cols, c) * (c / cells[0]) ** 0.6 for c in cells)
    lo, hi = float(total.min()), float(total.max())
    return (total - lo) / max(hi - lo, 1e-6)


def _grain(rng: np.random.Generator, rows: int, cols: int, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(rng.normal(0.0, 1.0, (rows, cols)).astype(np.float32), (0, 0), sigma)


def _cells(rows: int, cols: int, cell_h: int, cell_w: int, stagger: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel: its cell's row, its cell's column, and its distance in pixels to the nearest cell edge."""
    y = np.arange(rows)[:, None]
    x = np.arange(cols)[None, :]
    row = y // cell_h
    shift = (row % 2) * (cell_w // 2) if stagger else 0
    xs = x + shift
    col = xs // cell_w
    across = np.minimum(y % cell_h, cell_h - 1 - y % cell_h)
    edge = np.minimum(across, np.minimum(xs % cell_w, cell_w - 1 - xs % cell_w))
    return row, col, edge


def _per_cell(rng: np.random.Generator, row: np.ndarray, col: np.ndarray, spread: float) -> np.ndarray:
    row, col = np.broadcast_arrays(row, col)
    levels = rng.normal(0.0, spread, (int(row.max()) + 1, int(col.max()) + 1)).astype(np.float32)
    return levels[row, col]


def _brick(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    h = int(rng.integers(14, 30))
    row, col, edge = _cells(rows, cols, h, int(h * rng.uniform(2.2, 3.2)), stagger=True)
    base = rng.uniform(70, 150)
    brick = base + _per_cell(rng, row, col, 18.0) + 10 * _grain(rng, rows, cols, 1.0)
    mortar = base + rng.choice([-45.0, 55.0])
    return np.where(edge < int(rng.integers(1, 4)), mortar, brick)


def _tiles(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    side = int(rng.integers(24, 64))
    row, col, edge = _cells(rows, cols, side, side, stagger=False)
    base = rng.uniform(120, 220)
    tile = base + _per_cell(rng, row, col, 10.0) + 30 * _smooth(rng, rows, cols, 200) + 3 * _grain(rng, rows, cols, 0.8)
    return np.where(edge < 2, base - rng.uniform(40, 90), tile)


def _wood(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    y = np.arange(rows, dtype=np.float32)[:, None]
    warp = 40 * _fractal(rng, rows, cols, (300.0, 90.0))
    period = rng.uniform(7, 16)
    rings = 0.5 + 0.5 * np.sin(2 * math.pi * (y + warp) / period)
    fibre = cv2.blur(rng.normal(0, 1, (rows, cols)).astype(np.float32), (41, 1))
    return rng.uniform(80, 170) + 35 * rings ** 2 + 12 * fibre


def _stone(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    image = rng.uniform(90, 180) + 70 * (_fractal(rng, rows, cols, (120.0, 40.0, 12.0, 4.0)) - 0.5)
    image += 8 * _grain(rng, rows, cols, 0.7)
    for _ in range(int(rng.integers(2, 6))):  # cracks: random walks, drawn dark
        x, y = rng.uniform(0, cols), rng.uniform(0, rows)
        points = [(x, y)]
        angle = rng.uniform(0, 2 * math.pi)
        for _ in range(int(rng.integers(8, 30))):
            angle += rng.normal(0, 0.5)
            x, y = x + 9 * math.cos(angle), y + 9 * math.sin(angle)
            points.append((x, y))
        cv2.polylines(image, [np.round(np.array(points)).astype(np.int32)], False, float(rng.uniform(20, 60)), 1,
                      cv2.LINE_AA)
    return image


def _foliage(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    image = np.full((rows, cols), rng.uniform(30, 80), np.float32)
    count = rows * cols // 60
    centres = np.column_stack([rng.integers(0, cols, count), rng.integers(0, rows, count)])
    axes = rng.integers(4, 14, (count, 2))
    for (x, y), (a, b), angle, level in zip(centres, axes, rng.uniform(0, 180, count), rng.uniform(40, 200, count)):
        cv2.ellipse(image, (int(x), int(y)), (int(a), int(b) // 2 + 1), float(angle), 0, 360, float(level), -1)
    return cv2.GaussianBlur(image, (0, 0), 0.8)


def _stripes(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    angle = rng.choice([0.0, math.pi / 2, rng.uniform(0, math.pi)])
    along = x * math.cos(angle) + y * math.sin(angle)
    width = rng.uniform(18, 60)
    band = (np.floor(along / width) % 2).astype(np.float32)
    low, high = sorted(rng.uniform(40, 230, 2))
    return cv2.GaussianBlur(low + (high - low) * band, (0, 0), 0.7) + 20 * (_smooth(rng, rows, cols, 150) - 0.5)


def _bokeh(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    image = 30 + 60 * _smooth(rng, rows, cols, 250)
    lights = np.zeros((rows, cols), np.float32)
    for _ in range(rows * cols // 2500):
        cv2.circle(lights, (int(rng.integers(0, cols)), int(rng.integers(0, rows))), int(rng.integers(6, 30)),
                   float(rng.uniform(40, 160)), -1, cv2.LINE_AA)
    return image + cv2.GaussianBlur(lights, (0, 0), 3.0)


def _fabric(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    pitch = rng.uniform(3.0, 7.0)
    weave = np.sin(2 * math.pi * x / pitch) * np.sin(2 * math.pi * y / pitch)
    patches = 25 * (_smooth(rng, rows, cols, 80) - 0.5)
    return rng.uniform(90, 200) + 14 * weave + patches + 5 * _grain(rng, rows, cols, 0.6)


def _metal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    brushed = cv2.blur(rng.normal(0, 1, (rows, cols)).astype(np.float32), (81, 1))
    sheen = 60 * _smooth(rng, rows, cols, 400)
    return rng.uniform(100, 180) + 25 * brushed + sheen - 30


def _clutter(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A shop front: panels, window frames, shelves and poles as filled and outlined rectangles."""
    image = np.full((rows, cols), rng.uniform(60, 200), np.float32)
    for _ in range(int(rows * cols / 6000)):
        x0, y0 = int(rng.integers(-40, cols)), int(rng.integers(-40, rows))
        w, h = int(rng.integers(20, 260)), int(rng.integers(20, 200))
        thickness = -1 if rng.random() < 0.6 else int(rng.integers(2, 9))
        cv2.rectangle(image, (x0, y0), (x0 + w, y0 + h), float(rng.uniform(20, 240)), thickness)
    return cv2.GaussianBlur(image, (0, 0), 1.2) + 4 * _grain(rng, rows, cols, 0.7)


def _sky(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    clouds = _fractal(rng, rows, cols, (300.0, 120.0, 40.0))
    return rng.uniform(140, 210) + 70 * (clouds - 0.5) + np.linspace(-20, 20, rows, dtype=np.float32)[:, None]


def _gravel(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    stones = rng.random((rows // 3 + 1, cols // 3 + 1)).astype(np.float32)
    stones = cv2.resize(stones, (cols, rows), interpolation=cv2.INTER_NEAREST)
    return rng.uniform(80, 160) + 80 * (cv2.GaussianBlur(stones, (0, 0), 1.0) - 0.5) + 10 * _grain(rng, rows, cols, 0.5)


MAKERS: tuple[Callable[[np.random.Generator, int, int], np.ndarray], ...] = (
    _brick, _tiles, _wood, _stone, _foliage, _stripes, _bokeh, _fabric, _metal, _clutter, _sky, _gravel)
