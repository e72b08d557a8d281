"""tf.data adapter: the reader's batches as a parallel, prefetched `tf.data.Dataset` (imports TensorFlow)."""

from __future__ import annotations

import tensorflow as tf

from textsynth.read_plan import ReadPlan, WindowReader


def make_tf_dataset(ds: WindowReader, plan: ReadPlan, parallel: int | None, deterministic: bool) -> tf.data.Dataset:
    """Batches of `plan`; the first pass is `plan.epoch`, each further pass the next epoch (a new shuffle)."""
    signature = {
        "images": tf.TensorSpec((None, ds.height, ds.width), tf.uint8),
        "labels": tf.TensorSpec((None, ds.max_len), tf.int32),
        "label_length": tf.TensorSpec((None,), tf.int32),
        "index": tf.TensorSpec((None,), tf.int64),
        "width": tf.TensorSpec((None,), tf.int32),
    }
    if getattr(ds, "has_char_boxes", False):
        signature["char_boxes"] = tf.TensorSpec((None, ds.max_len, 4, 2), tf.float32)
    windows: dict[int, list] = {}
    state = {"epoch": plan.epoch - 1}

    def window_keys():
        # Called once per pass over the dataset: each pass is a new epoch with its own shuffle.
        state["epoch"] += 1
        epoch = state["epoch"]
        windows.pop(epoch - 2, None)
        windows[epoch] = ds.windows(plan.for_epoch(epoch))
        for number in range(len(windows[epoch])):
            yield epoch, number

    def window_batches(epoch, number):
        epoch, number = int(epoch), int(number)
        yield from ds.window_batches(windows[epoch][number], plan.for_epoch(epoch), number)

    keys = tf.data.Dataset.from_generator(
        window_keys, output_signature=(tf.TensorSpec((), tf.int64), tf.TensorSpec((), tf.int64)))
    calls = parallel or tf.data.AUTOTUNE
    batches = keys.interleave(
        lambda e, n: tf.data.Dataset.from_generator(window_batches, args=(e, n), output_signature=signature),
        cycle_length=parallel or 4, num_parallel_calls=calls, deterministic=deterministic)
    return batches.prefetch(tf.data.AUTOTUNE)
