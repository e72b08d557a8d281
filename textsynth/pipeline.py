"""The render pipeline: plan shards, render missing ones in parallel workers, keep the manifest current."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm import tqdm

from textsynth.card import write_card
from textsynth.char_boxes import place_boxes, plan_boxes
from textsynth.charset import Charset
from textsynth.config import RenderConfig, content_settings
from textsynth.errors import DatasetError, TextsynthError
from textsynth.fileio import file_sha256
from textsynth.folder_lock import LOCK_NAME, folder_lock
from textsynth.fonts import FontSet
from textsynth.format import shard_bytes_bound, storage_version
from textsynth.generator import SampleGenerator
from textsynth.manifest import MANIFEST_NAME, Manifest, ShardRecord
from textsynth.preview import save_sheet
from textsynth.shards import PARTIAL_SUFFIX, ShardWriter, shard_name
from textsynth.speckle import painter_speckle
from textsynth.text import TEXT_KINDS
from textsynth.version import __version__

BLOCK = 256  # samples rendered between two writes: bounds a worker's memory whatever the shard size
PREVIEW_SAMPLES = 16
_OUR_FILES = ("manifest.json", "README.md", "preview.png")
# What a killed render can leave before its first manifest exists: never a reason to refuse the folder.
_LEFTOVER = re.compile(r"^(\.(manifest\.json|README\.md|preview\.png)\.tmp|\.textsynth-write-test-\d+|"
                       r"shard-\d+\.h5(\.\d+)?" + re.escape(PARTIAL_SUFFIX) + r")$")
_SHARD_FILE = re.compile(r"^shard-\d{5,}\.h5$")  # the names shard_name() gives
_DATASET_EXTRAS = 2**20  # manifest, card and preview sheet, generously


@dataclass(frozen=True)
class RenderResult:
    """What a render did: the final manifest and how long the missing shards took."""

    manifest: Manifest
    out: Path
    rendered: int
    seconds: float
    workers: int

    def summary(self) -> str:
        m = self.manifest
        rate = self.rendered / self.seconds if self.seconds > 0 and self.rendered else 0.0
        total = sum(r.bytes for r in m.shards)
        redrawn = sum(m.text_source.get("redrawn_not_fitting", {}).values())
        note = f"; {redrawn} drawn texts did not fit the canvas and were redrawn" if redrawn else ""
        workers = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        return (f"{m.n} samples, {len(m.shards)} shards, {_human(total)} in {self.out}; rendered {self.rendered} "
                f"in {self.seconds:.1f} s = {rate:,.0f} samples/s with {workers}{note}")


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs to render one shard; small and picklable (no pixels travel)."""

    config: dict
    fontset: FontSet
    out: str
    index: int
    first: int
    count: int


_GENERATORS: dict[str, SampleGenerator] = {}


# A worker's bounded caches (glyph bitmaps up to layout.GLYPH_CACHE_BYTES, with their Python objects about twice
# that; faces, banks) grow its memory by some 300-400 MB over a long render. loky takes growth past 300 MB since a
# worker's first task for a leak and replaces the worker (a "worker stopped" warning, and every cache made again).
WORKER_GROWTH_BYTES = 1 << 30


def _allow_cache_growth() -> None:
    """Raise loky's leak threshold in this worker process to WORKER_GROWTH_BYTES (a real leak still trips it)."""
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # another joblib layout: its own rules apply
        return
    if getattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", WORKER_GROWTH_BYTES) < WORKER_GROWTH_BYTES:
        process_executor._MAX_MEMORY_LEAK_SIZE = WORKER_GROWTH_BYTES


def _generator(job: ShardJob) -> SampleGenerator:
    """One generator per worker process and config, so glyph caches outlive a single shard."""
    key = json.dumps(job.config, sort_keys=True)
    gen = _GENERATORS.get(key)
    if gen is None:
        _allow_cache_growth()
        _GENERATORS.clear()
        gen = _GENERATORS[key] = SampleGenerator(RenderConfig.from_dict(job.config), job.fontset.charset,
                                                 job.fontset)
    return gen


def max_text_bytes(charset: Charset, max_len: int) -> int:
    return max_len * max(len(s.encode("utf-8")) for s in charset.symbols)


def render_shard(job: ShardJob) -> tuple[ShardRecord, int]:
    """Render samples [first, first + count) into shard `index` under `out`; runs in a worker.
    Returns the shard's record and how many drawn texts were redrawn for not fitting the canvas."""
    gen = _generator(job)
    redrawn_before = gen.redrawn
    cfg = gen.config
    h, w = cfg.canvas.height, cfg.canvas.width
    path = Path(job.out) / shard_name(job.index)
    try:
        writer = ShardWriter(path, count=job.count, width=w, height=h, max_len=cfg.text.max_len,
                             max_text_bytes=max_text_bytes(gen.charset, cfg.text.max_len),
                             charset_json=gen.charset.to_json(), shard_index=job.index, first_index=job.first,
                             compression=cfg.output.compression, partial_tag=str(os.getpid()),
                             speckle=painter_speckle(w, h, cfg.seed) if cfg.output.compression == "residual" else None,
                             sensor=gen.painter.compositor.sensor, char_boxes=cfg.output.char_boxes)
        sensor = cfg.output.compression != "zstd"  # a zstd shard stores the lines before the sensor stage
        images = np.empty((min(BLOCK, job.count), h, w), np.uint8)
        with writer:
            for start in range(0, job.count, BLOCK):
                n = min(BLOCK, job.count - start)
                params, labels, plans = [], [], []
                for k in range(n):
                    p, _ = gen.sample(job.first + start + k, out=images[k], sensor=sensor)
                    params.append(p)
                    labels.append(gen.charset.encode(p.text))
                    if cfg.output.char_boxes:
                        plans.append(plan_boxes(gen.painter, p))
                writer.write(start, images[:n], labels, params, place_boxes(plans) if plans else None)
            sha, size = writer.close()
    except (OSError, RuntimeError) as exc:  # h5py reports a failed flush as RuntimeError
        raise write_failure(job.out, path.name, exc) from None
    record = ShardRecord(file=path.name, index=job.index, first=job.first, count=job.count, sha256=sha, bytes=size)
    return record, gen.redrawn - redrawn_before


def write_failure(out: str | Path, name: str, exc: Exception) -> DatasetError:
    """The one-line error of a shard that could not be written (disk full, file too large, I/O error)."""
    why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exhausted",
           errno.EFBIG: "the file is too large for this file system or the file size limit (ulimit -f)"}
    code = getattr(exc, "errno", None)
    if code is None:  # h5py's RuntimeError carries the errno in its text
        found = re.search(r"errno = (\d+)", str(exc))
        code = int(found.group(1)) if found else None
    detail = getattr(exc, "strerror", None) or " ".join(str(exc).split())[:160]
    return DatasetError(f"cannot write {name} in {out}: {why.get(code, 'write failed')} ({detail}); finished "
                        "shards are kept: make room and run the same command again to resume")


def estimate_bytes(config: RenderConfig, charset: Charset, counts: list[int]) -> int:
    """An upper bound of the bytes that shards of these sizes take, plus the manifest, card and preview."""
    text_bytes = max_text_bytes(charset, config.text.max_len)
    return _DATASET_EXTRAS + sum(shard_bytes_bound(c, config.canvas.width, config.canvas.height,
                                                   config.text.max_len, text_bytes, config.output.compression,
                                                   config.output.char_boxes)
                                 for c in counts)


def _human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1000 or unit == "TB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1000
    return f"{nbytes:.1f} TB"


def _diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out


def _prepare_output(out: Path, overwrite: bool) -> tuple[Manifest | None, list[Path]]:
    """Check the output folder can take the dataset: returns an existing manifest to resume from, and (with
    `overwrite`) the files of the dataset there that the new one replaces."""
    if out.exists() and not out.is_dir():
        raise TextsynthError(f"output path {out} exists and is not a folder")
    if not out.exists():
        return None, []
    existing, damaged = None, False
    if (out / MANIFEST_NAME).exists() or (out / MANIFEST_NAME).is_symlink():
        try:
            existing = Manifest.read(out)
        except TextsynthError:
            if not overwrite:
                raise TextsynthError(f"{out} holds a damaged {MANIFEST_NAME}; pass --overwrite to replace it") from None
            damaged = True
    elif any(not _LEFTOVER.match(p.name) and p.name != LOCK_NAME for p in out.iterdir()) and not overwrite:
        raise TextsynthError(f"output folder {out} is not empty and holds no textsynth dataset; "
                             "choose another folder or pass --overwrite")
    return existing, (_replaced_files(out, existing, damaged) if overwrite else [])


def _replaced_files(out: Path, existing: Manifest | None, damaged: bool) -> list[Path]:
    """What --overwrite removes: the files the folder's own manifest lists (its shards, its own manifest, card
    and preview sheet) and the leftovers of a killed render. A damaged manifest lists nothing readable, so its
    files are those with the names a render gives. Anything else in the folder is not textsynth's to delete:
    a one-line error listing it."""
    ours: set[str] = set()
    if existing is not None:
        ours = {MANIFEST_NAME, *_OUR_FILES, *(r.file for r in existing.shards),
                *(shard_name(i) for i in range(existing.shard_count))}  # finished but not yet listed when killed
    foreign, remove = [], []
    for path in sorted(out.iterdir()):
        name = path.name
        mine = _LEFTOVER.match(name) or name in ours or (damaged and (name in _OUR_FILES or _SHARD_FILE.match(name)))
        if name == LOCK_NAME:
            continue
        if mine and (path.is_file() or path.is_symlink()):
            remove.append(path)
        else:
            foreign.append(name + ("/" if path.is_dir() else ""))
    if foreign:
        shown = ", ".join(foreign[:10]) + (f" and {len(foreign) - 10} more" if len(foreign) > 10 else "")
        raise TextsynthError(f"--overwrite only replaces a textsynth dataset's own files, and {out} also holds "
                             f"{shown}; move them away or choose another folder")
    return remove


def _claim_output(out: Path, need: int, client) -> None:
    """Check the (locked, so existing) output folder is writable (by every Dask worker too) and has room."""
    try:
        probe = out / f".textsynth-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise TextsynthError(f"cannot create output folder {out}: {exc.strerror or exc}") from None
    free = shutil.disk_usage(out).free
    if need > free:
        raise TextsynthError(f"not enough disk space in {out}: the dataset needs about {_human(need)}, "
                             f"{_human(free)} is free")
    if client is not None:
        from textsynth.distributed import check_workers_can_write

        check_workers_can_write(client, out)


def _clear_dataset(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)


def _intact(out: Path, record: ShardRecord) -> bool:
    path = out / record.file
    try:
        return path.stat().st_size == record.bytes and file_sha256(path) == record.sha256
    except OSError:
        return False


def _new_manifest(config: RenderConfig, gen: SampleGenerator, command: str) -> Manifest:
    return Manifest(
        config=config.to_dict(), charset=list(gen.charset.symbols),
        fonts=[f.to_dict() for f in gen.fontset.fonts], seed=config.seed, n=config.n,
        width=config.canvas.width, height=config.canvas.height, max_len=config.text.max_len,
        shard_size=config.output.shard_size, textsynth_version=__version__, command=command,
        format_version=storage_version(config.output.compression),
        text_source={"spec": config.text.source, "kept": gen.source.report.kept,
                     "skipped": gen.source.report.skipped, "kinds": list(TEXT_KINDS)},
    )


def _import_worker_modules() -> int:
    import textsynth.pipeline  # noqa: F401  (the import is the point: it warms the worker)

    return os.getpid()


def _start_workers(config: RenderConfig, workers: int) -> threading.Thread | None:
    """Spawn the loky workers in the background so their start overlaps the parent's own checks."""
    if config.output.backend != "loky" or workers < 2:
        return None
    n_jobs = min(workers, -(-config.n // config.output.shard_size))
    if n_jobs < 2:
        return None
    thread = threading.Thread(target=lambda: Parallel(n_jobs=n_jobs, backend="loky")(
        delayed(_import_worker_modules)() for _ in range(n_jobs)), daemon=True)
    thread.start()
    return thread


def _run_jobs(jobs: list[ShardJob], n_jobs: int, backend: str):
    """Yield each job's (ShardRecord, redraws) as it finishes, on the given joblib backend."""
    if not jobs:
        return
    n_jobs = min(n_jobs, len(jobs))
    if backend == "loky" and n_jobs == 1:
        for job in jobs:
            yield render_shard(job)
        return
    # The dask backend is routed by the joblib.parallel_config the caller entered.
    yield from Parallel(n_jobs=n_jobs, backend=None if backend == "dask" else backend,
                        return_as="generator_unordered")(delayed(render_shard)(job) for job in jobs)


def render(config: RenderConfig, out: str | Path, *, overwrite: bool = False, resume: bool = True,
           progress: bool = True, command: str = "", scheduler: str | None = None) -> RenderResult:
    """Render `config.n` samples into `out`, resuming a compatible partial dataset there.

    With `config.output.backend == "dask"`, shards render on the Dask cluster at `scheduler`
    (`tcp://HOST:PORT`, or None / "local" for a LocalCluster of `workers` processes).
    """
    config.validate()
    parallel = config.workers_count(len(os.sched_getaffinity(0)))
    with contextlib.ExitStack() as stack:
        client = None
        if config.output.backend == "dask":
            from textsynth.distributed import dask_cluster

            client, parallel = stack.enter_context(dask_cluster(scheduler, parallel))
        return _render(config, Path(out), overwrite, resume, progress, command, client, parallel)


def _render(config: RenderConfig, out: Path, overwrite: bool, resume: bool, progress: bool, command: str,
            client, workers: int) -> RenderResult:
    warming = _start_workers(config, workers)
    gen = SampleGenerator(config)  # fonts, charset and text source are checked before anything is written
    preview = [gen.sample(i) for i in range(min(PREVIEW_SAMPLES, config.n))]
    if out.exists() and not out.is_dir():
        raise TextsynthError(f"output path {out} exists and is not a folder")
    # One render (or export) at a time per folder, from the first look at it to the last write.
    with folder_lock(out, "render"):
        return _render_locked(config, out, overwrite, resume, progress, command, client, workers, warming, gen,
                              preview)


def _render_locked(config: RenderConfig, out: Path, overwrite: bool, resume: bool, progress: bool, command: str,
                   client, workers: int, warming: threading.Thread | None, gen: SampleGenerator,
                   preview: list) -> RenderResult:
    existing, replaced = _prepare_output(out, overwrite)
    reuse = None if overwrite else existing
    if reuse is not None:
        _check_compatible(out, reuse, config, resume)

    manifest = _new_manifest(config, gen, command)
    # Texts redrawn because they could not fit the canvas, per shard: never silent, even for corpora.
    redraws = manifest.text_source.setdefault("redrawn_not_fitting", {})
    done: dict[int, ShardRecord] = {}
    if reuse is not None:
        earlier = reuse.text_source.get("redrawn_not_fitting")
        if isinstance(earlier, dict):  # only well-formed counts are carried over
            redraws.update({k: v for k, v in earlier.items() if isinstance(v, int) and not isinstance(v, bool)})
        done = _intact_shards(out, reuse, workers)
    size = config.output.shard_size
    missing = [i for i in range(manifest.shard_count) if i not in done]  # O(shards): n is never enumerated
    need = estimate_bytes(config, gen.charset, [min(size, config.n - i * size) for i in missing])
    _claim_output(out, need, client)  # the space check comes before anything proportional to n
    _clear_dataset(replaced)
    _remove_partials(out)
    manifest.set_shards(done.values())
    try:
        manifest.write(out)
        save_sheet(out / "preview.png", [img for _, img in preview], [p.text for p, _ in preview], check=False)
    except OSError as exc:
        _clean_failed(out, manifest, fresh=reuse is None)
        raise write_failure(out, MANIFEST_NAME, exc) from None
    except BaseException:
        _clean_failed(out, manifest, fresh=reuse is None)
        raise
    jobs = [ShardJob(config.to_dict(), gen.fontset, str(out), i, i * size, min(size, config.n - i * size))
            for i in missing]

    if warming is not None:
        warming.join()
    started = time.perf_counter()
    rendered = sum(j.count for j in jobs)
    bar = tqdm(total=rendered, unit="samples", unit_scale=True, disable=not progress, file=sys.stderr,
               desc=f"render {out.name}", dynamic_ncols=True)
    try:
        for record, redrawn in _run_jobs(jobs, workers, config.output.backend):
            done[record.index] = record
            redraws[str(record.index)] = redrawn
            manifest.set_shards(done.values())
            manifest.write(out)
            bar.update(record.count)
    except OSError as exc:  # the manifest could not be rewritten
        _clean_failed(out, manifest, fresh=reuse is None)
        raise write_failure(out, MANIFEST_NAME, exc) from None
    except BaseException:
        _clean_failed(out, manifest, fresh=reuse is None)
        raise
    finally:
        bar.close()
    elapsed = time.perf_counter() - started
    _remove_partials(out)  # left by a worker that died mid-shard
    write_card(out, manifest)
    return RenderResult(manifest, out, rendered, elapsed, workers)


# Settings added to a section after datasets were made with it, and the value that is what those datasets did.
_LATER_SETTINGS = {("output", "char_boxes"): False, ("text", "vowel_marks"): 0.0, ("typeset", "tight"): 0.0}


def _check_compatible(out: Path, existing: Manifest, config: RenderConfig, resume: bool) -> None:
    """A dataset already in `out` may only be finished by the config that started it."""
    # A top-level setting added since the dataset was started (such as `language`) is the default it then had,
    # and so are the settings that were off before they existed.
    stored = {**{k: v for k, v in RenderConfig().content_dict().items() if not isinstance(v, dict)},
              **content_settings(existing.config)}
    for (section, name), off in _LATER_SETTINGS.items():
        if isinstance(stored.get(section), dict):
            stored[section] = {name: off, **stored[section]}
    differences = _diff(stored, config.content_dict())
    if differences:
        raise TextsynthError(f"{out} holds a dataset made with another config ({'; '.join(differences)}); "
                             "pass --overwrite to replace it")
    if not resume and not existing.complete:
        raise TextsynthError(f"{out} holds an unfinished render; pass --resume to finish it or --overwrite")


def _intact_shards(out: Path, existing: Manifest, workers: int) -> dict[int, ShardRecord]:
    """The listed shards whose size and sha256 still match the manifest, checked in parallel threads."""
    checks = Parallel(n_jobs=min(workers, max(1, len(existing.shards))), prefer="threads")(
        delayed(_intact)(out, r) for r in existing.shards)
    return {r.index: r for r, ok in zip(existing.shards, checks) if ok}


def _clean_failed(out: Path, manifest: Manifest, fresh: bool) -> None:
    """After a failed render: no partial files and no finished-but-unlisted shards of this render stay behind; a
    new dataset that lists no shard yet is removed altogether (its folder too, by the lock, when this render
    created it), so the same command starts afresh. Best effort: cleaning never hides the error that stopped
    the render."""
    with contextlib.suppress(OSError):
        _remove_partials(out)
        listed = {r.file for r in manifest.shards}
        for path in out.iterdir():  # O(files), never O(shard_count)
            name = path.name
            if _SHARD_FILE.match(name) and name not in listed and int(name[6:-3]) < manifest.shard_count:
                path.unlink(missing_ok=True)
        if fresh and not manifest.shards:
            for name in _OUR_FILES:
                (out / name).unlink(missing_ok=True)


def _remove_partials(out: Path) -> None:
    """Partial shards and the other leftovers of a killed render (temporary manifest, write probes)."""
    for stale in out.iterdir():
        if _LEFTOVER.match(stale.name) and stale.is_file():
            stale.unlink(missing_ok=True)
