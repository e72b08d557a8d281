"""Set 2: lines typeset by Pango/HarfBuzz (`pango-view`) in the unseen fonts, degraded like scans and photos."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.transfer.degrade import Degradation, degrade
from benchmarks.transfer.folder import is_built, write_folder
from benchmarks.transfer.unseen_fonts import UnseenFont, checked_unseen_fonts, font_names, language_fonts
from textsynth.charset import DEFAULT_SYMBOLS
from textsynth.errors import TextsynthError

PANGO_PACKAGE = "pango1.0-tools"
WORDS = Path(__file__).resolve().parent / "words.txt"
MIN_LEN, MAX_LEN = 4, 16  # the default config's text lengths, so the model's time steps suffice
SIZE = 512, 64


def pango_view() -> str:
    path = shutil.which("pango-view")
    if path is None:
        raise TextsynthError(f"pango-view is not installed: apt-get install {PANGO_PACKAGE}")
    return path


def pango_family(font: UnseenFont) -> str:
    """The family name fontconfig knows the file by, after checking it resolves to that very file."""
    legacy = font_names(font.path, font.index)[1]
    found = subprocess.run(["fc-match", "-f", "%{file}", legacy], capture_output=True, text=True).stdout
    if Path(found).resolve() != Path(font.path).resolve():
        raise TextsynthError(f"fontconfig resolves {legacy!r} to {found or 'nothing'}, not {font.path}: "
                             "Pango would draw another font")
    return legacy


def random_text(rng: np.random.Generator, symbols: str = DEFAULT_SYMBOLS) -> str:
    """Uniform symbols (of the default charset); a space never at an end nor next to another."""
    length = int(rng.integers(MIN_LEN, MAX_LEN + 1))
    chars: list[str] = []
    while len(chars) < length:
        c = symbols[int(rng.integers(len(symbols)))]
        if c == " " and (not chars or chars[-1] == " " or len(chars) == length - 1):
            continue
        chars.append(c)
    return "".join(chars)


def word_text(rng: np.random.Generator, words: list[str], joiner: str = " ") -> str:
    """Words joined by spaces (or `joiner`) up to a drawn length in [MIN_LEN, MAX_LEN]."""
    target = int(rng.integers(MIN_LEN, MAX_LEN + 1))
    text = ""
    for _ in range(100):
        word = words[int(rng.integers(len(words)))]
        longer = f"{text}{joiner}{word}" if text else word
        if len(longer) > MAX_LEN:
            continue
        text = longer
        if len(text) >= target:
            break
    return text


def render_line(binary: str, text: str, family: str, size_px: int, hinting: str, png: Path) -> np.ndarray:
    """Dark text on white as Pango lays it out and cairo rasterizes it (grayscale antialiasing)."""
    done = subprocess.run([binary, "--no-display", f"--font={family}, {size_px}px", "--margin=8",
                           "--background=white", "--foreground=black", "--antialias=gray", f"--hinting={hinting}",
                           f"--output={png}", f"--text={text}"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise TextsynthError(f"pango-view failed on {text!r} in {family}: {done.stderr.strip()[-200:]}")
    return np.asarray(Image.open(png).convert("L"))


def language_texts(code: str) -> tuple[Callable[[np.random.Generator], str], list[str], str]:
    """A language's random text (Hindi: random syllables, which fonts draw whole; others: uniform symbols of its
    charset but its combining marks) and its words (the language's bundled list: the set's look is unseen, its
    vocabulary is not), and what joins words (Chinese: nothing)."""
    import unicodedata

    from textsynth.languages import config_charset, get_language
    from textsynth.syllables import SyllableText

    lang = get_language(code)
    charset = config_charset("default", code)
    words = [line.split("\t")[0] for line in lang.words.read_text(encoding="utf-8").splitlines() if line.strip()]
    words = [w for w in words if 0 < len(w) <= MAX_LEN]
    joiner = " " if lang.spaced else ""
    if lang.syllabic:
        syllables = SyllableText(charset, MIN_LEN, MAX_LEN)
        return syllables.sample, words, joiner
    symbols = "".join(c for c in charset.symbols if not unicodedata.combining(c))
    return (lambda rng: random_text(rng, symbols)), words, joiner


def _lines(n: int, seed: int, fonts: tuple[UnseenFont, ...], tmp: Path,
           language: str) -> Iterator[tuple[np.ndarray, str, dict]]:
    from reference_model.recognizer import prepare_image

    binary = pango_view()
    families = [pango_family(f) for f in fonts]
    if language == "en":
        words, random_line, joiner = WORDS.read_text(encoding="utf-8").split(), random_text, " "
    else:
        random_line, words, joiner = language_texts(language)
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        k = i % len(fonts)  # every family equally often
        kind = "word" if (i // len(fonts)) % 2 else "random"
        text = word_text(rng, words, joiner) if kind == "word" else random_line(rng)
        hinting = ("none", "slight", "full")[int(rng.integers(3))]
        clean = render_line(binary, text, families[k], int(rng.integers(24, 49)), hinting, tmp / "line.png")
        d = Degradation.draw(rng)
        image = prepare_image(degrade(clean, d, rng), *SIZE)
        yield image, text, {"font": fonts[k].family, "kind": kind, "degradation": d.severity}


def build_other_renderer(out: Path, n: int, seed: int, fonts: tuple[UnseenFont, ...] | None = None,
                         language: str = "en") -> bool:
    """Typeset, degrade and fit n lines of `language` into the image folder `out`; False if already built."""
    fonts = fonts or language_fonts(language)
    build = {"set": "other renderer", "n": n, "seed": seed, "fonts": [f.path for f in fonts]}
    if language != "en":  # an English set's build.json stays what it was
        build["language"] = language
    if is_built(out, build):
        return False
    fonts = checked_unseen_fonts(fonts)
    with tempfile.TemporaryDirectory(prefix="pango-") as tmp:
        write_folder(out, _lines(n, seed, fonts, Path(tmp), language), build)
    return True
