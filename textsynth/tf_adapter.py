"""tf.data adapter: the reader's batches as a parallel, prefetched `tf.data.Dataset` (imports TensorFlow)."""

from __future__ import annotations

import tensorflow as tf

from textsynth.dataset import Dataset


def make_tf_dataset(ds: Dataset, batch_size: int, shuffle: bool, seed: int, drop_remainder: bool,
                    parallel: int | None, deterministic: bool, first_epoch: int = 0) -> tf.data.Dataset:
    signature = {
        "images": tf.TensorSpec((None, ds.height, ds.width), tf.uint8),
        "labels": tf.TensorSpec((None, ds.max_len), tf.int32),
        "label_length": tf.TensorSpec((None,), tf.int32),
        "index": tf.TensorSpec((None,), tf.int64),
    }
    plans: dict[int, list] = {}
    state = {"epoch": first_epoch - 1}

    def window_keys():
        # Called once per pass over the dataset: each pass is a new epoch with its own shuffle.
        state["epoch"] += 1
        epoch = state["epoch"]
        plans.pop(epoch - 2, None)
        plans[epoch] = ds.windows(batch_size, shuffle, seed, epoch)
        for number in range(len(plans[epoch])):
            yield epoch, number

    def window_batches(epoch, number):
        epoch, number = int(epoch), int(number)
        yield from ds.window_batches(plans[epoch][number], batch_size, shuffle, seed, epoch, number,
                                     drop_remainder)

    keys = tf.data.Dataset.from_generator(
        window_keys, output_signature=(tf.TensorSpec((), tf.int64), tf.TensorSpec((), tf.int64)))
    calls = parallel or tf.data.AUTOTUNE
    batches = keys.interleave(
        lambda e, n: tf.data.Dataset.from_generator(window_batches, args=(e, n), output_signature=signature),
        cycle_length=parallel or 4, num_parallel_calls=calls, deterministic=deterministic)
    return batches.prefetch(tf.data.AUTOTUNE)
