"""Labelled line images to evaluate on: a textsynth dataset, an image folder with labels.tsv, or an LMDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textsynth.charset import Charset, describe_chars
from textsynth.errors import TextsynthError
from textsynth.text import TEXT_KINDS

LABELS_FILE = "labels.tsv"
META_FILE = "meta.tsv"
MAX_SAMPLES = 10_000_000
MAX_LABEL_CHARS = 1000
MAX_IMAGE_BYTES = 32 << 20  # a text-line crop is kilobytes; anything this large is not one
MAX_TSV_BYTES = 1 << 30

# One image as a source hands it out: an 8-bit (H, W) array, or the bytes of a PNG/JPEG file.
ImageItem = np.ndarray | bytes


@dataclass
class LineSource:
    """Reference texts, per-sample columns to break results down by, and the images in order, batch by batch."""

    location: str
    kind: str  # dataset | folder | lmdb
    texts: list[str]
    columns: dict[str, list[str]] = field(default_factory=dict)
    line_numbers: list[int] = field(default_factory=list)  # of each sample in labels.tsv (folders)
    # batch size -> the images in order, in batches of that size: uint8 (N, H, W) arrays or lists of ImageItems
    stream: Callable[[int], Iterator[np.ndarray | list[ImageItem]]] = lambda size: iter(())
    close: Callable[[], None] = lambda: None

    def __len__(self) -> int:
        return len(self.texts)

    def batches(self, batch_size: int) -> Iterator[np.ndarray | list[ImageItem]]:
        """The images of the first len(self) samples, in order."""
        left = len(self)
        for images in self.stream(batch_size):
            if left <= 0:
                return
            yield images[:left]
            left -= len(images)

    def head(self, limit: int | None) -> LineSource:
        """The first `limit` samples only."""
        if limit is None or limit >= len(self):
            return self
        if limit < 1:
            raise TextsynthError(f"--limit must be positive, got {limit}")
        return LineSource(self.location, self.kind, self.texts[:limit],
                          {k: v[:limit] for k, v in self.columns.items()}, self.line_numbers[:limit],
                          self.stream, self.close)

    def check_charset(self, charset: Charset) -> None:
        """Refuse a label the model cannot write, naming where it comes from."""
        allowed = set(charset.symbols)
        for k, text in enumerate(self.texts):
            bad = sorted(set(text) - allowed)
            if bad:
                raise TextsynthError(f"{self.where(k)}: label {text[:60]!r} has characters outside the model's "
                                     f"charset: {describe_chars(bad)}")

    def where(self, k: int) -> str:
        if self.kind == "folder":
            return f"{Path(self.location) / LABELS_FILE} line {self.line_numbers[k]}"
        if self.kind == "lmdb":
            return f"{self.location} key label-{k + 1:09d}"
        return f"{self.location} sample {k}"


def open_source(path: str | Path) -> LineSource:
    """Detect the layout of `path`: manifest.json (textsynth), labels.tsv (image folder) or data.mdb (LMDB)."""
    root = Path(path)
    if not root.is_dir():
        raise TextsynthError(f"evaluation data {root} is not a folder")
    if (root / "manifest.json").is_file():
        return _dataset_source(root)
    if (root / LABELS_FILE).is_file():
        return _folder_source(root)
    if (root / "data.mdb").is_file():
        return _lmdb_source(root)
    raise TextsynthError(f"{root} is neither a textsynth dataset (manifest.json), an image folder "
                         f"({LABELS_FILE}) nor an LMDB (data.mdb)")


def _dataset_source(root: Path) -> LineSource:
    from textsynth.dataset import open_dataset

    ds = open_dataset(root)
    texts = [t.decode("utf-8") for t in ds.column("text")]
    fonts = [ds.manifest.fonts[i]["file"] for i in ds.column("params/font_id")]
    mirror, upside = ds.column("params/mirror").astype(bool), ds.column("params/upside_down").astype(bool)
    flips = np.where(mirror & upside, "mirror+upside_down", np.where(mirror, "mirror",
                     np.where(upside, "upside_down", "none")))

    kinds = [TEXT_KINDS[k] if k < len(TEXT_KINDS) else f"kind {k}" for k in ds.column("params/text_kind").tolist()]

    def stream(size: int) -> Iterator[np.ndarray]:
        for batch in ds.batches(size, shuffle=False):
            yield batch["images"]

    columns = {"font": fonts, "flip": flips.tolist(), "text": kinds, "effects": _effect_counts(ds)}
    return LineSource(str(root), "dataset", texts, columns, [], stream, ds.close)


def _effect_counts(ds) -> list[str]:
    """How many degradation effects each sample got, in buckets (none, 1-2, 3-4, 5+)."""
    from textsynth.effects.registry import EFFECT_FIELDS, OFF

    count = np.zeros(len(ds), np.int64)
    for name in EFFECT_FIELDS.values():
        count += ds.column(f"params/{name}") != OFF[name]
    return np.select([count == 0, count <= 2, count <= 4], ["none", "1-2", "3-4"], "5+").tolist()


def _read_tsv(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of the non-empty lines of a UTF-8 TSV file."""
    try:
        if path.stat().st_size > MAX_TSV_BYTES:
            raise TextsynthError(f"{path} is larger than {MAX_TSV_BYTES >> 20} MB")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TextsynthError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise TextsynthError(f"cannot read {path}: {exc.strerror or exc}") from None
    return [(n, line.rstrip("\r").split("\t")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]


def _inside(root: Path, name: str, where: str) -> Path:
    path = (root / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(root.resolve()):
        raise TextsynthError(f"{where}: image path {name!r} leads outside the folder")
    if not path.is_file():
        raise TextsynthError(f"{where}: image {name} does not exist")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise TextsynthError(f"{where}: image {name} is larger than {MAX_IMAGE_BYTES >> 20} MB")
    return path


def _folder_source(root: Path) -> LineSource:
    labels = root / LABELS_FILE
    names, texts, paths, numbers = [], [], [], []
    for n, fields in _read_tsv(labels):
        where = f"{labels} line {n}"
        if len(fields) < 2:
            raise TextsynthError(f"{where}: expected name<TAB>text")
        name, text = fields[0], "\t".join(fields[1:])
        _check_label(text, where)
        paths.append(_inside(root, name, where))
        names.append(name)
        texts.append(text)
        numbers.append(n)
        if len(texts) > MAX_SAMPLES:
            raise TextsynthError(f"{labels} has more than {MAX_SAMPLES:,} lines")
    if not texts:
        raise TextsynthError(f"{labels} holds no labelled images")
    columns = _read_meta(root / META_FILE, names) if (root / META_FILE).is_file() else {}

    def stream(size: int) -> Iterator[list[bytes]]:
        for start in range(0, len(paths), size):
            yield [p.read_bytes() for p in paths[start:start + size]]

    return LineSource(str(root), "folder", texts, columns, numbers, stream)


def _check_label(text: str, where: str) -> None:
    if not text.strip():
        raise TextsynthError(f"{where}: empty label")
    if len(text) > MAX_LABEL_CHARS:
        raise TextsynthError(f"{where}: label longer than {MAX_LABEL_CHARS} characters")


def _read_meta(path: Path, names: Sequence[str]) -> dict[str, list[str]]:
    """meta.tsv: a header `name<TAB>column...`, then one row per image of labels.tsv (any order)."""
    rows = _read_tsv(path)
    if not rows or rows[0][1][0] != "name" or len(rows[0][1]) < 2:
        raise TextsynthError(f"{path} line 1: expected a header name<TAB>column[<TAB>column...]")
    header = rows[0][1][1:]
    if len(set(header)) != len(header) or not all(header):
        raise TextsynthError(f"{path} line 1: column names must be distinct and non-empty")
    values: dict[str, list[str]] = {}
    for n, fields in rows[1:]:
        if len(fields) != len(header) + 1:
            raise TextsynthError(f"{path} line {n}: expected {len(header) + 1} tab-separated fields, "
                                 f"got {len(fields)}")
        if fields[0] in values:
            raise TextsynthError(f"{path} line {n}: {fields[0]} appears twice")
        values[fields[0]] = fields[1:]
    missing = [name for name in names if name not in values]
    if missing:
        raise TextsynthError(f"{path} has no row for {missing[0]} ({len(missing)} labelled images lack one)")
    return {col: [values[name][k] for name in names] for k, col in enumerate(header)}


def _lmdb_source(root: Path) -> LineSource:
    try:
        import lmdb
    except ImportError:
        raise TextsynthError("reading LMDB needs the lmdb package: pip install 'textsynth[lmdb]'") from None
    try:
        env = lmdb.open(str(root), readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as exc:
        raise TextsynthError(f"{root} is not a readable LMDB ({exc})") from None
    with env.begin() as txn:
        raw = txn.get(b"num-samples")
        try:
            n = int(raw)
        except (TypeError, ValueError):
            env.close()
            raise TextsynthError(f"{root}: num-samples is missing or not a number") from None
        if not 1 <= n <= MAX_SAMPLES:
            env.close()
            raise TextsynthError(f"{root}: num-samples {n} is outside 1..{MAX_SAMPLES:,}")
        texts = []
        for k in range(1, n + 1):
            where = f"{root} key label-{k:09d}"
            label = txn.get(b"label-%09d" % k)
            if label is None:
                env.close()
                raise TextsynthError(f"{where} is missing")
            try:
                text = label.decode("utf-8")
            except UnicodeDecodeError:
                env.close()
                raise TextsynthError(f"{where} is not UTF-8") from None
            _check_label(text, where)
            texts.append(text)

    def stream(size: int) -> Iterator[list[bytes]]:
        for start in range(0, n, size):
            yield _read_images(start, min(n, start + size))

    def _read_images(start: int, stop: int) -> list[bytes]:
        out = []
        with env.begin() as txn:
            for k in range(start + 1, stop + 1):
                image = txn.get(b"image-%09d" % k)
                if image is None:
                    raise TextsynthError(f"{root} key image-{k:09d} is missing")
                if len(image) > MAX_IMAGE_BYTES:
                    raise TextsynthError(f"{root} key image-{k:09d} is larger than {MAX_IMAGE_BYTES >> 20} MB")
                out.append(bytes(image))
        return out

    return LineSource(str(root), "lmdb", texts, {}, [], stream, env.close)
