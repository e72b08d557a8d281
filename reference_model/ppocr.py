"""PP-OCRv4's mobile recognizer (ONNX, through rapidocr-onnxruntime, weights inside its wheel) as another reader
of line images: recognition only, no detection, no angle classifier."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache

import numpy as np

from textsynth.errors import TextsynthError

PACKAGE = "rapidocr-onnxruntime"
NAME = "PP-OCRv4 mobile recognizer (rapidocr-onnxruntime)"


@cache
def _engine():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        raise TextsynthError(f"--engine ppocr needs the {PACKAGE} package: pip install 'textsynth[ppocr]' "
                             f"(or pip install {PACKAGE}==1.4.4)") from None
    return RapidOCR()


def ppocr_version() -> str:
    """The installed rapidocr-onnxruntime version (a one-line error naming the package when missing)."""
    from importlib.metadata import version

    _engine()
    return version(PACKAGE)


def ppocr_read(images: Sequence[np.ndarray]) -> list[str]:
    """The text PP-OCRv4 reads in each uint8 grayscale (H, W) line image, NFKC-normalized, whitespace collapsed."""
    engine = _engine()
    out = []
    for image in images:
        result, _ = engine(image, use_det=False, use_cls=False, use_rec=True)
        # NFKC: the Chinese-trained recognizer writes full-width forms ('：') where labels hold ASCII (':')
        out.append(" ".join(unicodedata.normalize("NFKC", str(result[0][0])).split()) if result else "")
    return out
