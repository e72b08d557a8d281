"""A trained recognizer: the Keras model with its charset and input size, loaded from a run folder."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from reference_model.ctc import beam_decode, greedy_decode
from reference_model.language_model import FusedDecoder
from textsynth.bidi import logical_order
from textsynth.charset import Charset
from textsynth.config import MAX_HEIGHT, MAX_WIDTH
from textsynth.errors import TextsynthError
from textsynth.languages import LANGUAGES

RUN_INFO = "run.json"
MODEL_FILE = "model.keras"
# The trained `small` run shipped with the package; `predict` and `evaluate` use it when no --model is given.
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "small"
MAX_IMAGE_PIXELS = 16_000_000  # far above any text line; refuses decompression bombs early
# Bounds on a run folder (it may come from anyone): far above any recognizer this project trains.
# run.json's width and height: those of the largest canvas textsynth renders (60000 would make every batch gigabytes)
MAX_INPUT_WIDTH, MAX_INPUT_HEIGHT = MAX_WIDTH, MAX_HEIGHT
MAX_RUN_INFO_BYTES = 16 << 20
MAX_MODEL_CONFIG_BYTES = 16 << 20  # config.json / metadata.json inside model.keras
MAX_MODEL_BYTES = 1 << 30  # all of model.keras, inflated
LABEL_ORDERS = ("logical", "visual")


@dataclass(eq=False)  # hashable by identity: tf.function caches per instance
class Recognizer:
    model: keras.Model
    charset: Charset
    width: int
    height: int
    # "visual": the model reads a right-to-left language's lines left to right, as drawn, and `decode` turns that
    # back into the logical order labels and references are in (textsynth.bidi); "logical": every other model
    label_order: str = "logical"
    language: str = "en"  # the textsynth language it learnt (the `--lm` character model knows English only)

    @classmethod
    def load(cls, run: str | Path | None = None) -> Recognizer:
        """Load `run/model.keras` (the last finished epoch) with the run's charset and input size; the shipped
        weights when `run` is None."""
        if run is None:
            run = SHIPPED_WEIGHTS
            if not (run / MODEL_FILE).is_file() or not (run / RUN_INFO).is_file():
                raise TextsynthError(f"no shipped weights in {run} yet (this installation has no {MODEL_FILE}); "
                                     "pass --model RUN_FOLDER")
        run = Path(run)
        info_path, model_path = run / RUN_INFO, run / MODEL_FILE
        if not info_path.is_file() or not model_path.is_file():
            raise TextsynthError(f"{run} is not a trained run folder (it needs {RUN_INFO} and {MODEL_FILE})")
        charset, width, height, label_order, language = _read_run_info(info_path)
        _check_model_archive(model_path)
        try:
            model = keras.saving.load_model(model_path, compile=False)
        except Exception as exc:  # noqa: BLE001 (Keras raises anything at all on a malformed archive)
            detail = " ".join(str(exc).split())[:200]
            raise TextsynthError(f"{model_path}: not a Keras model this recognizer can load "
                                 f"({type(exc).__name__}: {detail})") from None
        shape_in, shape_out = tuple(model.input_shape or ()), tuple(model.output_shape or ())
        if shape_in[1:] != (height, width) or len(shape_out) != 3 or shape_out[-1] != len(charset) + 1:
            raise TextsynthError(f"{model_path} takes {shape_in[1:]} and gives {shape_out[-1:]} classes, but "
                                 f"{info_path} says {height}x{width} and {len(charset)} + 1")
        return cls(model, charset, width, height, label_order, language)

    @property
    def steps(self) -> int:
        return int(self.model.output.shape[1])

    def logits(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """uint8 (N, height, width) -> float32 logits (N, steps, classes)."""
        if images.shape[1:] != (self.height, self.width):
            raise TextsynthError(f"images are {images.shape[2]}x{images.shape[1]}, the model takes "
                                 f"{self.width}x{self.height}")
        out = [self._forward(tf.constant(images[k:k + batch_size])).numpy()
               for k in range(0, len(images), batch_size)]
        return np.concatenate(out) if out else np.empty((0, self.steps, len(self.charset) + 1), np.float32)

    @tf.function(reduce_retracing=True)
    def _forward(self, images):
        return self.model(images, training=False)

    def decode(self, logits: np.ndarray, beam_width: int = 0, lm: FusedDecoder | None = None) -> list[str]:
        """Texts from logits: greedy, TensorFlow's beam search (`beam_width` > 1) or beam search with the
        character language model (`lm`)."""
        if lm is not None:
            if self.label_order == "visual":
                raise TextsynthError("--lm is for left-to-right models: this run reads right-to-left lines in "
                                     "visual order, and the character model knows logical order")
            if self.language != "en":
                raise TextsynthError(f"--lm is for English runs: the character model learnt English text, and "
                                     f"this run reads {self.language!r}")
            ids = lm.decode(logits)
        else:
            ids = beam_decode(logits, beam_width) if beam_width > 1 else greedy_decode(logits)
        texts = [self.charset.decode(row) for row in ids]
        return [logical_order(t) for t in texts] if self.label_order == "visual" else texts

    def read(self, images: np.ndarray, beam_width: int = 0, lm: FusedDecoder | None = None) -> list[str]:
        return self.decode(self.logits(images), beam_width, lm)


def _read_run_info(path: Path) -> tuple[Charset, int, int, str, str]:
    """run.json's charset, input size, label order and language, checked: a malformed file is one line naming
    it."""
    try:
        if path.stat().st_size > MAX_RUN_INFO_BYTES:
            raise TextsynthError(f"{path} is larger than {MAX_RUN_INFO_BYTES >> 20} MB")
        info = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TextsynthError(f"{path} is not readable JSON ({exc})") from None
    if not isinstance(info, dict):
        raise TextsynthError(f"{path} must hold a JSON object")
    symbols = info.get("charset")
    if not isinstance(symbols, list) or not symbols or not all(isinstance(c, str) for c in symbols):
        raise TextsynthError(f"{path}: 'charset' must be a non-empty list of strings")
    size = {}
    for key, most in (("width", MAX_INPUT_WIDTH), ("height", MAX_INPUT_HEIGHT)):
        value = info.get(key)
        if type(value) is not int or not 8 <= value <= most:
            raise TextsynthError(f"{path}: {key!r} must be an integer in 8..{most}, got {str(value)[:40]}")
        size[key] = value
    try:
        charset = Charset(symbols)
    except (TextsynthError, ValueError, TypeError) as exc:
        raise TextsynthError(f"{path}: bad 'charset' ({exc})") from None
    order = info.get("label_order", "logical")
    if order not in LABEL_ORDERS:
        raise TextsynthError(f"{path}: 'label_order' must be {' or '.join(LABEL_ORDERS)}, got {str(order)[:40]!r}")
    language = info.get("language", "en")
    if not isinstance(language, str) or language not in LANGUAGES:
        raise TextsynthError(f"{path}: 'language' must be one of {', '.join(LANGUAGES)}, got {str(language)[:40]!r}")
    return charset, size["width"], size["height"], order, language


def _check_model_archive(path: Path) -> None:
    """A model.keras must be a zip whose members, read through, stay within MAX_MODEL_BYTES (config and metadata
    within MAX_MODEL_CONFIG_BYTES): Keras would inflate a hostile member whole before looking at it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > 64:
                raise TextsynthError(f"{path} holds {len(members)} files: not a Keras model")
            total = 0
            for member in members:
                limit = MAX_MODEL_CONFIG_BYTES if member.filename.endswith(".json") else MAX_MODEL_BYTES
                with archive.open(member) as f:
                    size = 0
                    while chunk := f.read(1 << 20):
                        size += len(chunk)
                        total += len(chunk)
                        if size > limit or total > MAX_MODEL_BYTES:
                            raise TextsynthError(f"{path}: {member.filename} inflates past {limit >> 20} MB "
                                                 f"(the limit for a recognizer's {member.filename})")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise TextsynthError(f"{path} is not a readable Keras archive ({exc})") from None


def prepare_image(image: str | Path | bytes | np.ndarray, width: int, height: int) -> np.ndarray:
    """A PNG/JPEG (path or file bytes) or an 8-bit array of any size, as training data is made: grayscale,
    height scaled to the model's (keeping the aspect ratio; narrowed further if still too wide), then padded
    on the right to its width with the image's own background (the median of its border)."""
    img = open_image(image)
    if img.size == (width, height):
        return np.asarray(img)
    scale = min(height / img.height, width / img.width)
    new_w, new_h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
    arr = np.asarray(img.resize((new_w, new_h), Image.Resampling.BILINEAR))
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    canvas = np.full((height, width), int(np.median(border)), np.uint8)
    top = (height - new_h) // 2
    canvas[top:top + new_h, :new_w] = arr
    return canvas


def open_image(image: str | Path | bytes | np.ndarray) -> Image.Image:
    """A grayscale PIL image from a path, encoded file bytes or a uint8 array; unreadable input is a one-line error."""
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 2:
            raise TextsynthError(f"expected an 8-bit grayscale (H, W) array, got {image.dtype} {image.shape}")
        return Image.fromarray(image)
    name = "" if isinstance(image, bytes) else f" {image}"
    try:
        img = Image.open(io.BytesIO(image) if isinstance(image, bytes) else image)
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise TextsynthError(f"image{name} is {img.width}x{img.height}: too large for a text line")
        img.load()
    except (OSError, ValueError, SyntaxError, EOFError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        # ValueError: a zTXt/iCCP chunk that inflates past Pillow's limit ("Decompressed data too large")
        raise TextsynthError(f"cannot read image{name}: {exc}") from None
    return img.convert("L")
