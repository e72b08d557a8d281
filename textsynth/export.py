"""Export to the layouts other OCR toolkits read: LMDB (deep-text-recognition-benchmark, PaddleOCR) and PNG folders."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from textsynth.dataset import Dataset
from textsynth.errors import Interrupted, TextsynthError
from textsynth.fileio import fsync_dir
from textsynth.folder_lock import LOCK_NAME, folder_lock
from textsynth.format import CHAR_BOXES

_BATCH = 512


def _png(image) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _samples(ds: Dataset, progress: bool):
    """(position, image, text, character boxes or None) in dataset order, read in contiguous batches; images cut
    to their true width (the boxes lie within it)."""
    bar = tqdm(total=len(ds), unit="samples", unit_scale=True, disable=not progress, desc="export")
    position = 0
    try:
        for batch in ds.batches(_BATCH, shuffle=False):
            texts = ds.charset.decode_batch(batch["labels"], batch["label_length"])
            boxes = batch.get(CHAR_BOXES)
            for k, (image, width, text) in enumerate(zip(batch["images"], batch["width"], texts)):
                quads = boxes[k, :batch["label_length"][k]] if boxes is not None else None
                yield position, image[:, :width], text, quads
                position += 1
            bar.update(len(batch["index"]))
    finally:
        bar.close()


def synthtiger_coords(quads: np.ndarray) -> str:
    """SynthTIGER's `coords.txt` field: each character's upright box `x1,y1,x2,y2` (whole pixels holding its
    quadrilateral), tab-separated."""
    lo, hi = np.floor(quads.min(axis=1)).astype(int), np.ceil(quads.max(axis=1)).astype(int)
    return "\t".join(f"{a},{b},{c},{d}" for (a, b), (c, d) in zip(lo.tolist(), hi.tolist()))


def quads_json(quads: np.ndarray) -> str:
    """Each character's quadrilateral as JSON: [[[x, y] x 4] per character], to a hundredth of a pixel."""
    return json.dumps(np.round(quads.astype(np.float64), 2).tolist(), separators=(",", ":"))


def _check_out(path: str | Path) -> Path:
    """An export folder that does not exist yet or is empty; anything else is a one-line error naming it."""
    if str(path).strip() == "":
        raise TextsynthError("export folder is an empty path")
    out = Path(path)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise TextsynthError(f"export folder {out} exists and is not a folder")
    try:
        if out.exists() and any(out.iterdir()):
            raise TextsynthError(f"export folder {out} is not empty")
    except OSError as exc:
        raise TextsynthError(f"cannot read export folder {out}: {exc.strerror or exc}") from None
    return out


def partial_path(out: Path) -> Path:
    """The hidden sibling an export is built in before it is renamed to `out`."""
    return out.with_name(f".{out.name}.export-partial")


@contextlib.contextmanager
def _building(path: str | Path) -> Iterator[Path]:
    """A locked, empty folder to build the export of `path` in, renamed to `path` when the block ends well and
    removed when it does not: `path` is then either absent (or the empty folder it was) or a whole export,
    never a partial one. A build folder left by a killed export is our own: it is cleared and started over."""
    out = _check_out(path)
    if not Path(os.path.abspath(out)).name:
        raise TextsynthError(f"export folder {out} must be a named folder, not the file system's root")
    build = partial_path(Path(os.path.abspath(out)))
    if build.is_symlink() or (build.exists() and not build.is_dir()):
        raise TextsynthError(f"{build} is in the way of the export to {out}; remove it")
    with folder_lock(build, "export", shown=out):
        try:
            for stale in build.iterdir():
                if stale.name != LOCK_NAME:
                    shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
            yield build
            _check_out(out)  # still absent or empty: nobody wrote there meanwhile
            (build / LOCK_NAME).unlink()  # still held through the open file; a newcomer finds it gone and retries
            os.replace(build, out)  # an empty folder at `out` is replaced too
            fsync_dir(out.parent)
        except KeyboardInterrupt as exc:
            shutil.rmtree(build, ignore_errors=True)
            raise Interrupted(getattr(exc, "exit_code", 130),
                              f"nothing was exported to {out} (the partial copy was removed); run the same "
                              "command again to export from the start") from None
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise


def export_lmdb(ds: Dataset, out: str | Path, progress: bool = True) -> int:
    """Keys `image-%09d` (PNG bytes), `label-%09d` (UTF-8) and `num-samples`, counted from 1; a dataset with
    character boxes adds `coords-%09d` (SynthTIGER's boxes, as in `coords.txt`) and `quads-%09d` (JSON)."""
    try:
        import lmdb
    except ImportError:
        raise TextsynthError("LMDB export needs the lmdb package: pip install 'textsynth[lmdb]'") from None
    map_size = max(1 << 30, len(ds) * (ds.width * ds.height * 2 + 4096))
    with _building(out) as build:
        try:
            env = lmdb.open(str(build), map_size=map_size)
        except lmdb.Error as exc:
            raise TextsynthError(f"cannot create the LMDB database in {out}: {exc}") from None
        try:
            txn = env.begin(write=True)
            for position, image, text, quads in _samples(ds, progress):
                key = position + 1
                txn.put(b"image-%09d" % key, _png(image))
                txn.put(b"label-%09d" % key, text.encode("utf-8"))
                if quads is not None:
                    txn.put(b"coords-%09d" % key, synthtiger_coords(quads).encode())
                    txn.put(b"quads-%09d" % key, quads_json(quads).encode())
                if key % 10_000 == 0:
                    txn.commit()
                    txn = env.begin(write=True)
            txn.put(b"num-samples", str(len(ds)).encode())
            txn.commit()
            env.sync(True)
        finally:
            env.close()
    return len(ds)


def export_folder(ds: Dataset, out: str | Path, progress: bool = True) -> int:
    """PNG files plus `labels.tsv` (`path<TAB>label`), paths relative to the folder; a dataset with character
    boxes adds `coords.txt` (SynthTIGER's: `path<TAB>x1,y1,x2,y2<TAB>...`) and `char_boxes.jsonl` (per line
    `{"image": path, "text": label, "quads": [[[x, y] x 4] per character]}`)."""
    with _building(out) as build:
        (build / "images").mkdir()
        with contextlib.ExitStack() as files:
            tsv = files.enter_context(open(build / "labels.tsv", "w", encoding="utf-8"))
            coords = jsonl = None
            if ds.has_char_boxes:
                coords = files.enter_context(open(build / "coords.txt", "w", encoding="utf-8"))
                jsonl = files.enter_context(open(build / "char_boxes.jsonl", "w", encoding="utf-8"))
            for position, image, text, quads in _samples(ds, progress):
                name = f"images/{position:09d}.png"
                (build / name).write_bytes(_png(image))
                tsv.write(f"{name}\t{text}\n")
                if quads is not None:
                    coords.write(f"{name}\t{synthtiger_coords(quads)}\n")
                    jsonl.write(f'{{"image":"{name}","text":{json.dumps(text, ensure_ascii=False)},'
                                f'"quads":{quads_json(quads)}}}\n')
            for f in (tsv, coords, jsonl):
                if f is not None:
                    f.flush()
                    os.fsync(f.fileno())
    return len(ds)
