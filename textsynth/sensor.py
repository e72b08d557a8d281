"""The sensor stage: speckle and paper texture, added last to the finished uint8 line from banks made from the
seed, as whole gray levels, so a shard can store the line before them (format 3) and a reader add them back."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator

import cv2
import numpy as np

try:  # the compiled line decoding (textsynth/_lines.c); absent where the package was built without a C compiler
    from textsynth import _lines
except ImportError:
    _lines = None

# Speckle severities a render draws: `augment.noise` x k / NOISE_STEPS, k = 1..NOISE_STEPS. A few discrete
# levels keep each level's integer term cached (the painter and the reader add one window, no float math).
NOISE_STEPS = 16
_CACHED_TERMS = 48  # per bank: the levels a default render uses many times over, bounded for any shard


class SensorTerm:
    """One regenerable noise bank and its integer terms: clip(rint(bank x amount), -255, 255) as the uint8
    parts above and below zero, so adding a window is two saturating uint8 operations."""

    def __init__(self, bank: np.ndarray):
        self.bank = bank  # float32 (rows, cols)
        self._terms: OrderedDict[float, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()  # a reader's decoding threads share the cache

    @functools.cached_property
    def sha256(self) -> str:
        """Fingerprint of the bank: a reader whose numpy regenerates another bank must refuse, not guess."""
        return hashlib.sha256(np.ascontiguousarray(self.bank).tobytes()).hexdigest()

    def limits(self, height: int, width: int) -> tuple[int, int]:
        """The largest window offsets (row, col) inside the bank for a canvas of this size."""
        return self.bank.shape[0] - height, self.bank.shape[1] - width

    def term(self, amount: float) -> tuple[np.ndarray, np.ndarray]:
        """(above, below) zero of rint(bank x amount), each uint8 and saturated at 255 (a term beyond 255
        saturates any pixel anyway). The float32 product and the rounding are exact IEEE-754 operations."""
        key = float(np.float32(amount))
        with self._lock:
            hit = self._terms.get(key)
            if hit is not None:
                self._terms.move_to_end(key)
                return hit
        t = self.bank * np.float32(key)
        np.rint(t, out=t)
        np.clip(t, -255, 255, out=t)
        parts = (np.maximum(t, 0).astype(np.uint8), np.maximum(-t, 0).astype(np.uint8))
        with self._lock:
            self._terms[key] = parts
            if len(self._terms) > _CACHED_TERMS:
                self._terms.popitem(last=False)
        return parts

    def add(self, image: np.ndarray, amount: float, row: int, col: int, width: int) -> None:
        """Add the term's window at (row, col) to columns [0, width) of `image` (uint8, in place), saturating:
        clip(image + rint(window x amount), 0, 255)."""
        above, below = self.term(amount)
        h = image.shape[0]
        if _lines is not None and image.flags.c_contiguous and image.ndim == 2:  # one compiled pass, same bytes
            cols = above.shape[1]
            _lines.add_terms(image, h, image.shape[1], width, above, below, cols, row * cols + col)
            return
        region = image[:, :width]
        window = np.s_[row:row + h, col:col + width]
        done = cv2.subtract(cv2.add(region, above[window], dst=region), below[window], dst=region)
        if done is not region:  # OpenCV made a new array (a view it could not write through)
            region[...] = done


class Sensor:
    """The sensor stage's banks for a canvas and seed: speckle (`effects.classic.NoiseBank`) and paper texture
    (`effects.background.PaperBank`), each made on first use."""

    def __init__(self, width: int, height: int, seed: int):
        self.width, self.height, self.seed = width, height, seed
        self._noise: SensorTerm | None = None
        self._paper: SensorTerm | None = None

    @property
    def noise(self) -> SensorTerm:
        if self._noise is None:
            from textsynth.effects.classic import NoiseBank

            self._noise = SensorTerm(NoiseBank(self.width, self.height, self.seed).bank)
        return self._noise

    @property
    def paper(self) -> SensorTerm:
        if self._paper is None:
            from textsynth.effects.background import PaperBank

            self._paper = SensorTerm(PaperBank(self.width, self.height, self.seed).bank)
        return self._paper

    def add(self, image: np.ndarray, noise: tuple[float, int, int], paper: tuple[float, int, int],
            width: int) -> None:
        """The stage on one line (uint8, in place): speckle (level, row, col), then paper texture (amount, row,
        col), each skipped when its amount is 0; columns past `width` (a variable-width line's padding) stay."""
        if noise[0] > 0:
            self.noise.add(image, noise[0], noise[1], noise[2], width)
        if paper[0] > 0:
            self.paper.add(image, paper[0], paper[1], paper[2], width)


# The record columns the stage reads (format names: FORMAT.md).
NOISE_COLUMNS = ("params/noise_level", "params/noise_row", "params/noise_col")
PAPER_COLUMNS = ("params/paper", "params/paper_row", "params/paper_col")


def add_sensor(images: np.ndarray, cols: dict[str, np.ndarray], first: int, sensor: Sensor) -> None:
    """The stage on samples [first, first + len) of a format 3 shard's stored lines, in place (checked columns):
    what `Sensor.add` does line by line, with each block's terms looked up once; both terms in one compiled pass a
    line where textsynth/_lines.c is built."""
    if _lines is not None and images.flags.c_contiguous:
        _add_sensor_compiled(images, cols, first, sensor)
    else:
        add_sensor_numpy(images, cols, first, sensor)


def _term_windows(cols: dict[str, np.ndarray], first: int, count: int,
                  sensor: Sensor) -> Iterator[tuple[int, np.ndarray, np.ndarray, int, int]]:
    """(line, above, below, row, col) for each term that lines [first, first + count) get, speckle before paper
    texture, each term looked up once per block."""
    stop = first + count
    for term, names in ((sensor.noise, NOISE_COLUMNS), (sensor.paper, PAPER_COLUMNS)):
        amounts, rows, columns = (cols[c][first:stop].tolist() for c in names)
        terms: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        for k, amount in enumerate(amounts):
            if amount > 0:
                above, below = terms.get(amount) or terms.setdefault(amount, term.term(amount))
                yield k, above, below, rows[k], columns[k]


def _add_sensor_compiled(images: np.ndarray, cols: dict[str, np.ndarray], first: int, sensor: Sensor) -> None:
    _, height, width = images.shape
    widths = cols["params/width"][first:first + len(images)].tolist()
    per_line: list[list] = [[] for _ in range(len(images))]
    for k, above, below, row, col in _term_windows(cols, first, len(images), sensor):
        bank_cols = above.shape[1]
        per_line[k] += (above, below, bank_cols, row * bank_cols + col)
    for k, args in enumerate(per_line):
        if args:
            _lines.add_terms(images[k], height, width, widths[k], *args)


def add_sensor_numpy(images: np.ndarray, cols: dict[str, np.ndarray], first: int, sensor: Sensor) -> None:
    """`add_sensor` without the compiled module: two saturating OpenCV passes a term."""
    widths = cols["params/width"][first:first + len(images)].tolist()
    for k, above, below, row, col in _term_windows(cols, first, len(images), sensor):
        region = images[k, :, :widths[k]]
        window = np.s_[row:row + region.shape[0], col:col + widths[k]]
        done = cv2.subtract(cv2.add(region, above[window], dst=region), below[window], dst=region)
        if done is not region:
            region[...] = done
