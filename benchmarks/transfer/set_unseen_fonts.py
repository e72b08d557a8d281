"""Set 1: textsynth's own renderer and default config, with fonts it does not bundle; random and word text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.transfer.folder import is_built, renderer_fingerprint, write_folder
from benchmarks.transfer.unseen_fonts import UNSEEN_FONTS, UnseenFont, checked_unseen_fonts
from textsynth.charset import Charset, describe_chars
from textsynth.config import RenderConfig
from textsynth.errors import TextsynthError
from textsynth.version import __version__

WORDS = Path(__file__).resolve().parent / "words.txt"


def link_fonts(folder: Path, fonts: tuple[UnseenFont, ...]) -> Path:
    """A fonts folder for `--fonts`: symbolic links to the unseen font files, nothing else."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for font in fonts:
        (folder / font.file_name).symlink_to(font.path)
    return folder


def check_coverage(folder: Path) -> None:
    """Every unseen font must draw the whole default charset, so textsynth never has to skip one for a text."""
    from textsynth.fonts import FontSet

    charset = Charset.default()
    fontset = FontSet.load(folder, charset)
    for info, covered in zip(fontset.fonts, fontset.coverage):
        missing = [c for c in charset.symbols if c not in covered]
        if missing:
            raise TextsynthError(f"unseen font {info.name} does not draw {describe_chars(missing)}")


def _lines(dataset: Path, kind: str, families: dict[str, str]) -> Iterator[tuple[np.ndarray, str, dict[str, str]]]:
    from textsynth.dataset import open_dataset

    with open_dataset(dataset) as ds:
        texts = [t.decode("utf-8") for t in ds.column("text")]
        fonts = [families[ds.manifest.fonts[i]["file"]] for i in ds.column("params/font_id")]
        k = 0
        for batch in ds.batches(256, shuffle=False):
            for image in batch["images"]:
                yield image, texts[k], {"font": fonts[k], "kind": kind}
                k += 1


def build_unseen_fonts(out: Path, n: int, seed: int, fonts: tuple[UnseenFont, ...] = UNSEEN_FONTS) -> bool:
    """Render n lines (half random text, half words) into the image folder `out`; False if already built."""
    from textsynth.pipeline import render

    # A new default config, textsynth version or painter means a new set.
    build = {"set": "unseen fonts", "n": n, "seed": seed, "fonts": [f.path for f in fonts],
             "config": RenderConfig().content_dict(), "textsynth": __version__,
             "renderer": renderer_fingerprint({"seed": seed})}
    if is_built(out, build):
        return False
    fonts = checked_unseen_fonts(fonts)
    work = out.with_name(out.name + ".render")
    shutil.rmtree(work, ignore_errors=True)
    font_dir = link_fonts(work / "fonts", fonts)
    check_coverage(font_dir)
    families = {f.file_name: f.family for f in fonts}
    parts = []
    for kind, source, count in (("random", "random", n - n // 2), ("word", f"words:{WORDS}", n // 2)):
        cfg = RenderConfig(n=count, seed=seed)
        cfg.fonts.dir, cfg.text.source = str(font_dir), source
        render(cfg, work / kind, progress=False, command=f"benchmarks/transfer set 1 ({kind})")
        parts.append((work / kind, kind))
    write_folder(out, (line for path, kind in parts for line in _lines(path, kind, families)), build)
    shutil.rmtree(work)
    return True
