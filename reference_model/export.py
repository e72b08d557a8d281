"""Export of a trained run: a `.keras` file and a TensorFlow SavedModel that returns logits."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf

from reference_model.recognizer import RUN_INFO, Recognizer


def export(run: str | Path, out: str | Path, check_images: np.ndarray | None = None) -> dict:
    """Write OUT/model.keras, OUT/saved_model/ and OUT/run.json; check both against the trained model.

    Run this on a CPU process: cuDNN GRU kernels may not export.
    """
    rec = Recognizer.load(run)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rec.model.save(out / "model.keras")
    saved = out / "saved_model"
    if saved.exists():
        shutil.rmtree(saved)
    rec.model.export(str(saved), format="tf_saved_model", verbose=False)
    shutil.copy(Path(run) / RUN_INFO, out / RUN_INFO)
    if check_images is None:
        check_images = np.random.default_rng(0).integers(0, 256, (4, rec.height, rec.width), dtype=np.uint8)
    want = rec.logits(check_images)
    reloaded = Recognizer.load(out).logits(check_images)
    loaded = tf.saved_model.load(str(saved))  # keep a reference: its variables die with it
    served = loaded.serve(tf.constant(check_images)).numpy()
    return {"keras_max_abs_diff": float(np.abs(reloaded - want).max()),
            "saved_model_max_abs_diff": float(np.abs(served - want).max()),
            "same_text": rec.decode(served) == rec.decode(want) == rec.decode(reloaded)}
