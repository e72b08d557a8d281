"""Labelled line images to evaluate on: a textsynth dataset, an image folder with labels.tsv, a gt.txt or tag-file
list, ICDAR-style page annotations, or an LMDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textsynth.charset import Charset
from textsynth.errors import DatasetError, TextsynthError
from textsynth.text import TEXT_KINDS

LABELS_FILE = "labels.tsv"
META_FILE = "meta.tsv"
LIST_FILE = "gt.txt"  # DTRB / PaddleOCR: path<TAB>text per line
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
    kind: str  # dataset | folder | list | pages | lmdb
    texts: list[str]
    columns: dict[str, list[str]] = field(default_factory=dict)
    # sample k -> where it comes from, for error messages ("labels.tsv line 7")
    where: Callable[[int], str] = lambda k: f"sample {k}"
    # batch size -> the images in order, in batches of that size: uint8 (N, H, W) arrays or lists of ImageItems
    stream: Callable[[int], Iterator[np.ndarray | list[ImageItem]]] = lambda size: iter(())
    close: Callable[[], None] = lambda: None
    skipped: dict[str, int] = field(default_factory=dict)  # annotations left out, by reason
    language: str = "en"  # the textsynth language a dataset was rendered in (other layouts: English)

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
        _check_limit(limit)
        return LineSource(self.location, self.kind, self.texts[:limit],
                          {k: v[:limit] for k, v in self.columns.items()}, self.where, self.stream, self.close,
                          dict(self.skipped), self.language)

    def unknown(self, charset: Charset) -> list[int]:
        """The samples whose text holds a character `charset` lacks."""
        allowed = set(charset.symbols)
        return [k for k, text in enumerate(self.texts) if not allowed.issuperset(text)]

    def without(self, drop: Sequence[int], reason: str) -> LineSource:
        """The same source without the samples `drop`, counted in `skipped` under `reason`."""
        if not drop:
            return self
        gone = set(drop)
        keep = [k for k in range(len(self)) if k not in gone]
        inner = self

        def stream(size: int) -> Iterator[np.ndarray | list[ImageItem]]:
            start = 0
            for images in inner.batches(size):
                picked = [k - start for k in range(start, start + len(images)) if k not in gone]
                start += len(images)
                if picked:
                    yield images[picked] if isinstance(images, np.ndarray) else [images[i] for i in picked]

        return LineSource(self.location, self.kind, [self.texts[k] for k in keep],
                          {c: [v[k] for k in keep] for c, v in self.columns.items()},
                          lambda k: inner.where(keep[k]), stream, self.close,
                          {**self.skipped, reason: self.skipped.get(reason, 0) + len(gone)})


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise TextsynthError(f"--limit must be positive, got {limit}")


def open_source(path: str | Path, limit: int | None = None, crop_margin: float | None = None) -> LineSource:
    """Detect the layout of `path`: manifest.json (textsynth), labels.tsv (image folder), data.mdb (LMDB), gt.txt
    or a list file given itself (path<TAB>text or path text), or page images with same-stem .txt/.csv annotations
    (ICDAR). Lists are read only up to `limit` samples; `crop_margin` is for page annotations (a share of the
    line height; default 1/8)."""
    from reference_model import pages

    _check_limit(limit)
    root = Path(path)
    if root.is_file():
        return _list_source(root.parent, root, limit)
    if not root.is_dir():
        raise TextsynthError(f"evaluation data {root} is neither a folder nor a list file")
    if (root / "manifest.json").is_file():
        return _dataset_source(root).head(limit)
    if (root / LABELS_FILE).is_file():
        return _folder_source(root, limit)
    if (root / "data.mdb").is_file():
        return _lmdb_source(root, limit)
    if (root / LIST_FILE).is_file():
        return _list_source(root, root / LIST_FILE, limit)
    found = pages.find_pages(root)
    if found:
        return pages.page_source(root, found, limit, pages.DEFAULT_CROP_MARGIN if crop_margin is None else crop_margin)
    raise TextsynthError(f"{root} is neither a textsynth dataset (manifest.json), an image folder "
                         f"({LABELS_FILE}), a list ({LIST_FILE}), page images with same-stem .txt/.csv annotations "
                         f"nor an LMDB (data.mdb)")


def _dataset_source(root: Path) -> LineSource:
    from textsynth.dataset import open_dataset

    ds = open_dataset(root)
    try:
        texts = [t.decode("utf-8") for t in ds.column("text")]
        font_ids = ds.column("params/font_id")
        fonts = ds.manifest.fonts
        bad = np.flatnonzero((font_ids < 0) | (font_ids >= len(fonts)))
        if len(bad):
            raise DatasetError(f"{root}: sample {int(bad[0])} has params/font_id {int(font_ids[bad[0]])}, but the "
                               f"manifest lists {len(fonts)} font(s)")
        names = [str(f.get("file", "?")) if isinstance(f, dict) else "?" for f in fonts]
        font_column = [names[i] for i in font_ids.tolist()]
        mirror, upside = ds.column("params/mirror").astype(bool), ds.column("params/upside_down").astype(bool)
        flips = np.where(mirror & upside, "mirror+upside_down", np.where(mirror, "mirror",
                         np.where(upside, "upside_down", "none")))
        kinds = [TEXT_KINDS[k] if 0 <= k < len(TEXT_KINDS) else f"kind {k}"
                 for k in ds.column("params/text_kind").tolist()]
        effects = _effect_counts(ds)
    except BaseException:
        ds.close()
        raise

    def stream(size: int) -> Iterator[np.ndarray]:
        for batch in ds.batches(size, shuffle=False):
            yield batch["images"]

    columns = {"font": font_column, "flip": flips.tolist(), "text": kinds, "effects": effects}
    return LineSource(str(root), "dataset", texts, columns, lambda k: f"{root} sample {k}", stream, ds.close,
                      language=ds.config.language)


def _effect_counts(ds) -> list[str]:
    """How many degradation effects each sample got, in buckets (none, 1-2, 3-4, 5+)."""
    from textsynth.effects.registry import EFFECT_FIELDS, OFF

    count = np.zeros(len(ds), np.int64)
    for name in EFFECT_FIELDS.values():
        count += ds.column(f"params/{name}") != OFF[name]
    return np.select([count == 0, count <= 2, count <= 4], ["none", "1-2", "3-4"], "5+").tolist()


def own_file(root: Path, path: Path) -> Path:
    """`path`, refused when it (a symlink, say) leads outside `root`: its content is never read or echoed."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise TextsynthError(f"{path} leads outside {root} (a link?); refusing to read it")
    return path


def read_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """(line number, line) of the non-empty lines of a text file, read as they are needed (a list of millions
    of lines costs nothing before the lines a --limit keeps)."""
    try:
        if path.stat().st_size > MAX_TSV_BYTES:
            raise TextsynthError(f"{path} is larger than {MAX_TSV_BYTES >> 20} MB")
        with open(path, encoding=encoding, newline="") as f:
            n = 0
            for n, line in enumerate(f, 1):  # noqa: B007 (n names the line an error is on)
                line = line.rstrip("\r\n")
                if line.strip():
                    yield n, line
    except UnicodeDecodeError as exc:
        raise TextsynthError(f"{path} is not UTF-8 text ({exc.reason} after line {n})") from None
    except OSError as exc:
        raise TextsynthError(f"cannot read {path}: {exc.strerror or exc}") from None


def _read_tsv(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of the non-empty lines of a UTF-8 TSV file."""
    for n, line in read_lines(path):
        yield n, line.split("\t")


def image_path(root: Path, name: str, where: str) -> Path:
    """root/name, checked: inside the folder, an existing file of a text line's size."""
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise TextsynthError(f"{where}: image path {name!r} holds a control character")
    try:
        path = (root / name).resolve()
        if Path(name).is_absolute() or not path.is_relative_to(root.resolve()):
            raise TextsynthError(f"{where}: image path {name!r} leads outside the folder")
        if not path.is_file():
            raise TextsynthError(f"{where}: image {name} does not exist")
        size = path.stat().st_size
    except (OSError, ValueError) as exc:
        raise TextsynthError(f"{where}: image path {name[:80]!r} cannot be used ({exc})") from None
    if size > MAX_IMAGE_BYTES:
        raise TextsynthError(f"{where}: image {name} is larger than {MAX_IMAGE_BYTES >> 20} MB")
    return path


def _files_stream(paths: list[Path]) -> Callable[[int], Iterator[list[bytes]]]:
    def stream(size: int) -> Iterator[list[bytes]]:
        for start in range(0, len(paths), size):
            yield [p.read_bytes() for p in paths[start:start + size]]

    return stream


def _folder_source(root: Path, limit: int | None) -> LineSource:
    labels = own_file(root, root / LABELS_FILE)
    names, texts, paths, numbers = [], [], [], []
    for n, fields in _read_tsv(labels):
        if limit is not None and len(texts) >= limit:
            break
        where = f"{labels} line {n}"
        if len(fields) < 2:
            raise TextsynthError(f"{where}: expected name<TAB>text")
        name, text = fields[0], "\t".join(fields[1:])
        _check_label(text, where)
        paths.append(image_path(root, name, where))
        names.append(name)
        texts.append(text)
        numbers.append(n)
        if len(texts) > MAX_SAMPLES:
            raise TextsynthError(f"{labels} has more than {MAX_SAMPLES:,} lines")
    if not texts:
        raise TextsynthError(f"{labels} holds no labelled images")
    meta = root / META_FILE
    columns = _read_meta(own_file(root, meta), names) if meta.is_file() else {}
    return LineSource(str(root), "folder", texts, columns, lambda k: f"{labels} line {numbers[k]}",
                      _files_stream(paths))


def _list_source(root: Path, listing: Path, limit: int | None) -> LineSource:
    """A gt.txt list (path<TAB>text) or a tag file (path text, split at the first space); paths are relative to
    the list's folder and stay inside it."""
    own_file(root, listing)
    texts, paths, numbers = [], [], []
    for n, line in read_lines(listing, encoding="utf-8-sig"):
        if limit is not None and len(texts) >= limit:
            break
        where = f"{listing} line {n}"
        name, sep, text = line.partition("\t") if "\t" in line else line.partition(" ")
        if not sep:
            raise TextsynthError(f"{where}: expected path<TAB>text (or path text)")
        _check_label(text, where)
        paths.append(image_path(root, name, where))
        texts.append(text)
        numbers.append(n)
        if len(texts) > MAX_SAMPLES:
            raise TextsynthError(f"{listing} has more than {MAX_SAMPLES:,} lines")
    if not texts:
        raise TextsynthError(f"{listing} holds no labelled images")
    return LineSource(str(listing), "list", texts, {}, lambda k: f"{listing} line {numbers[k]}", _files_stream(paths))


def _check_label(text: str, where: str) -> None:
    if not text.strip():
        raise TextsynthError(f"{where}: empty label")
    if len(text) > MAX_LABEL_CHARS:
        raise TextsynthError(f"{where}: label longer than {MAX_LABEL_CHARS} characters")


def _read_meta(path: Path, names: Sequence[str]) -> dict[str, list[str]]:
    """meta.tsv: a header `name<TAB>column...`, then one row per image of labels.tsv (any order)."""
    rows = _read_tsv(path)
    first = next(rows, None)
    if first is None or first[1][0] != "name" or len(first[1]) < 2:
        raise TextsynthError(f"{path} line 1: expected a header name<TAB>column[<TAB>column...]")
    header = first[1][1:]
    if len(set(header)) != len(header) or not all(header):
        raise TextsynthError(f"{path} line 1: column names must be distinct and non-empty")
    wanted = set(names)
    values: dict[str, list[str]] = {}
    for n, fields in rows:
        if len(fields) != len(header) + 1:
            raise TextsynthError(f"{path} line {n}: expected {len(header) + 1} tab-separated fields, "
                                 f"got {len(fields)}")
        if fields[0] in values:
            raise TextsynthError(f"{path} line {n}: {fields[0]} appears twice")
        if fields[0] in wanted:  # rows of images past a --limit are not kept
            values[fields[0]] = fields[1:]
    missing = [name for name in names if name not in values]
    if missing:
        raise TextsynthError(f"{path} has no row for {missing[0]} ({len(missing)} labelled images lack one)")
    return {col: [values[name][k] for name in names] for k, col in enumerate(header)}


def _lmdb_source(root: Path, limit: int | None) -> LineSource:
    try:
        import lmdb
    except ImportError:
        raise TextsynthError("reading LMDB needs the lmdb package: pip install 'textsynth[lmdb]'") from None
    from reference_model.lmdb_check import check_lmdb

    check_lmdb(root)
    try:
        env = lmdb.open(str(root), readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as exc:
        raise DatasetError(f"{root} is not a readable LMDB ({exc})") from None
    try:
        texts = _lmdb_labels(root, env, limit)
    except lmdb.Error as exc:
        env.close()
        raise DatasetError(f"{root} is a damaged LMDB: {type(exc).__name__}: {exc}") from None
    except BaseException:
        env.close()
        raise
    n = len(texts)

    def stream(size: int) -> Iterator[list[bytes]]:
        for start in range(0, n, size):
            try:
                yield _read_images(start, min(n, start + size))
            except lmdb.Error as exc:
                raise DatasetError(f"{root} is a damaged LMDB: {type(exc).__name__}: {exc}") from None

    def _read_images(start: int, stop: int) -> list[bytes]:
        out = []
        with env.begin() as txn:
            for k in range(start + 1, stop + 1):
                image = txn.get(b"image-%09d" % k)
                if image is None:
                    raise DatasetError(f"{root} key image-{k:09d} is missing")
                if len(image) > MAX_IMAGE_BYTES:
                    raise DatasetError(f"{root} key image-{k:09d} is larger than {MAX_IMAGE_BYTES >> 20} MB")
                out.append(bytes(image))
        return out

    return LineSource(str(root), "lmdb", texts, {}, lambda k: f"{root} key label-{k + 1:09d}", stream, env.close)


def _lmdb_labels(root: Path, env, limit: int | None) -> list[str]:
    with env.begin() as txn:
        raw = txn.get(b"num-samples")
        try:
            n = int(raw)
        except (TypeError, ValueError):
            raise DatasetError(f"{root}: num-samples is missing or not a number") from None
        if not 1 <= n <= MAX_SAMPLES:
            raise DatasetError(f"{root}: num-samples {n} is outside 1..{MAX_SAMPLES:,}")
        texts = []
        for k in range(1, min(n, limit or n) + 1):
            where = f"{root} key label-{k:09d}"
            label = txn.get(b"label-%09d" % k)
            if label is None:
                raise DatasetError(f"{where} is missing")
            try:
                text = label.decode("utf-8")
            except UnicodeDecodeError:
                raise DatasetError(f"{where} is not UTF-8") from None
            _check_label(text, where)
            texts.append(text)
    return texts
