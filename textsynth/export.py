"""Export to the layouts other OCR toolkits read: LMDB (deep-text-recognition-benchmark, PaddleOCR) and PNG folders."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from textsynth.dataset import Dataset
from textsynth.errors import TextsynthError

_BATCH = 512


def _png(image) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _samples(ds: Dataset, progress: bool):
    """(position, image, text) in dataset order, read in contiguous batches; images cut to their true width."""
    bar = tqdm(total=len(ds), unit="samples", unit_scale=True, disable=not progress, desc="export")
    position = 0
    try:
        for batch in ds.batches(_BATCH, shuffle=False):
            texts = ds.charset.decode_batch(batch["labels"], batch["label_length"])
            for image, width, text in zip(batch["images"], batch["width"], texts):
                yield position, image[:, :width], text
                position += 1
            bar.update(len(batch["index"]))
    finally:
        bar.close()


def _prepare_out(path: str | Path) -> Path:
    """An export folder that does not exist yet or is empty; anything else is a one-line error naming it."""
    if str(path).strip() == "":
        raise TextsynthError("export folder is an empty path")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise TextsynthError(f"export folder {out} exists and is not a folder")
    try:
        if out.exists() and any(out.iterdir()):
            raise TextsynthError(f"export folder {out} is not empty")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TextsynthError(f"cannot create export folder {out}: {exc.strerror or exc}") from None
    return out


def export_lmdb(ds: Dataset, out: str | Path, progress: bool = True) -> int:
    """Keys `image-%09d` (PNG bytes), `label-%09d` (UTF-8) and `num-samples`, counted from 1."""
    try:
        import lmdb
    except ImportError:
        raise TextsynthError("LMDB export needs the lmdb package: pip install 'textsynth[lmdb]'") from None
    out = _prepare_out(out)
    map_size = max(1 << 30, len(ds) * (ds.width * ds.height * 2 + 4096))
    try:
        env = lmdb.open(str(out), map_size=map_size)
    except lmdb.Error as exc:
        raise TextsynthError(f"cannot create the LMDB database in {out}: {exc}") from None
    try:
        txn = env.begin(write=True)
        for position, image, text in _samples(ds, progress):
            key = position + 1
            txn.put(b"image-%09d" % key, _png(image))
            txn.put(b"label-%09d" % key, text.encode("utf-8"))
            if key % 10_000 == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.put(b"num-samples", str(len(ds)).encode())
        txn.commit()
    finally:
        env.close()
    return len(ds)


def export_folder(ds: Dataset, out: str | Path, progress: bool = True) -> int:
    """PNG files plus `labels.tsv` (`path<TAB>label`), paths relative to the folder."""
    out = _prepare_out(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    with open(out / "labels.tsv", "w", encoding="utf-8") as tsv:
        for position, image, text in _samples(ds, progress):
            name = f"images/{position:09d}.png"
            (out / name).write_bytes(_png(image))
            tsv.write(f"{name}\t{text}\n")
    return len(ds)
