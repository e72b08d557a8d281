"""Tesseract 5 as a second reader: `tesseract stdin - --psm 7` on each line image, two processes at a time."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from textsynth.errors import TextsynthError

DEBIAN_PACKAGES = "tesseract-ocr tesseract-ocr-eng"
# Tesseract writes typographic forms where labels hold the plain ASCII ones; count those as the same character.
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                        "\u2010": "-", "\u2212": "-", "\ufb01": "fi", "\ufb02": "fl"})


def tesseract_binary() -> str:
    """The tesseract executable, or a one-line error naming the Debian packages to install."""
    path = shutil.which("tesseract")
    if path is None:
        raise TextsynthError(f"tesseract is not installed: apt-get install {DEBIAN_PACKAGES}")
    return path


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _read_one(binary: str, data: bytes, timeout: float, language: str) -> str:
    # One OpenMP thread per process: two single-threaded processes beat one process using two threads.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run([binary, "stdin", "-", "--psm", "7", "-l", language], input=data,
                              capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return ""
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        hint = f" (its {language} data: apt-get install tesseract-ocr-{language})" if any(
            "Failed loading language" in line for line in message) else ""
        raise TextsynthError(f"tesseract failed: {message[-1] if message else f'exit status {done.returncode}'}"
                             + hint)
    # NFC, as labels are (Tesseract's Hindi writes the nukta letters U+0958-095F that NFC splits in two)
    return " ".join(unicodedata.normalize("NFC", done.stdout.decode("utf-8", "replace")).translate(_PLAIN).split())


def tesseract_read(images: Sequence[np.ndarray | bytes], workers: int = 2, timeout: float = 30.0,
                   language: str = "eng") -> list[str]:
    """The text Tesseract reads in each image (uint8 arrays or PNG/JPEG bytes), whitespace collapsed; `language`
    names Tesseract's language data (eng, rus, ell, hin: Debian's tesseract-ocr-LANG)."""
    binary = tesseract_binary()
    data = [_png(im) if isinstance(im, np.ndarray) else im for im in images]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(lambda d: _read_one(binary, d, timeout, language), data))
