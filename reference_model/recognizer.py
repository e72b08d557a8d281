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
from textsynth.charset import Charset
from textsynth.errors import TextsynthError

RUN_INFO = "run.json"
MODEL_FILE = "model.keras"
# The trained `small` run shipped with the package; `predict` and `evaluate` use it when no --model is given.
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "small"
MAX_IMAGE_PIXELS = 16_000_000  # far above any text line; refuses decompression bombs early


@dataclass(eq=False)  # hashable by identity: tf.function caches per instance
class Recognizer:
    model: keras.Model
    charset: Charset
    width: int
    height: int

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
        info = json.loads(info_path.read_text())
        model = keras.saving.load_model(model_path, compile=False)
        return cls(model, Charset(info["charset"]), info["width"], info["height"])

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
            ids = lm.decode(logits)
        else:
            ids = beam_decode(logits, beam_width) if beam_width > 1 else greedy_decode(logits)
        return [self.charset.decode(row) for row in ids]

    def read(self, images: np.ndarray, beam_width: int = 0, lm: FusedDecoder | None = None) -> list[str]:
        return self.decode(self.logits(images), beam_width, lm)


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
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise TextsynthError(f"cannot read image{name}: {exc}") from None
    return img.convert("L")
