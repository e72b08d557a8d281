"""The three transfer sets: where each lives under data/transfer/ and how it is built."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.transfer.set_other_renderer import build_other_renderer
from benchmarks.transfer.set_unseen_fonts import build_unseen_fonts
from textsynth.errors import TextsynthError

IN_DISTRIBUTION_SEED = 2  # the seed of data/test5k: the in-distribution set is its first n lines


def build_in_distribution(out: Path, n: int, seed: int, language: str = "en") -> bool:
    """The (language's) default config at the test seed, as a textsynth dataset; False if already there."""
    from textsynth.config import RenderConfig
    from textsynth.dataset import open_dataset
    from textsynth.generator import SampleGenerator
    from textsynth.pipeline import render

    del seed  # the in-distribution set always uses the test seed, whatever seed the other sets use
    wanted = RenderConfig(n=n, seed=IN_DISTRIBUTION_SEED, language=language)
    try:
        with open_dataset(out) as ds:
            painted_now = [image for _, image in map(SampleGenerator(wanted).sample, range(min(8, n)))]
            if ds.config.content_dict() == wanted.content_dict() and all(
                    np.array_equal(ds[i].image, image) for i, image in enumerate(painted_now)):
                return False  # the same config, and the painter still paints its first lines alike
    except TextsynthError:
        pass
    flag = f" --language {language}" if language != "en" else ""
    render(wanted, out, overwrite=True, progress=False,
           command=f"textsynth render --n {n} --seed {IN_DISTRIBUTION_SEED}{flag} --out {out}")
    return True


@dataclass(frozen=True)
class TransferSet:
    key: str  # folder name under data/transfer/
    title: str
    build: Callable[[Path, int, int], bool]
    about: str


SETS: tuple[TransferSet, ...] = (
    TransferSet("unseen_fonts", "1. unseen fonts", build_unseen_fonts,
                "textsynth's renderer and default config, 11 font families it does not bundle; random and word text"),
    TransferSet("other_renderer", "2. other renderer", build_other_renderer,
                "Pango/HarfBuzz via pango-view, the same unseen fonts, scan/photo degradations, loose crops, 512x64"),
    TransferSet("in_distribution", "3. in-distribution", build_in_distribution,
                f"textsynth default config at seed {IN_DISTRIBUTION_SEED} (the first lines of data/test5k)"),
)


def language_sets(code: str) -> tuple[TransferSet, ...]:
    """The sets of a run in language `code`: English has the three above; another language its other-renderer
    set (its script's unseen faces, its texts) and its in-distribution lines, under data/transfer/CODE/."""
    if code == "en":
        return SETS
    return (
        TransferSet(f"{code}/other_renderer", f"2. other renderer ({code})",
                    functools.partial(build_other_renderer, language=code),
                    f"Pango/HarfBuzz via pango-view, {code} text in unseen faces of its script, the scan/photo "
                    "degradations and loose crops of set 2"),
        TransferSet(f"{code}/in_distribution", f"3. in-distribution ({code})",
                    functools.partial(build_in_distribution, language=code),
                    f"textsynth `--language {code}` default config at seed {IN_DISTRIBUTION_SEED}"),
    )
