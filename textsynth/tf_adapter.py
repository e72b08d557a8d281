"""tf.data adapter: the reader's batches as a prefetched `tf.data.Dataset`, windows read ahead (imports TensorFlow)."""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import tensorflow as tf

from textsynth.read_plan import ReadPlan, WindowBuffers, WindowReader, cut_batch_groups, window_order

# Batches handed to tf.data at once: its generator costs about a millisecond an element, as much as reading
# 20-odd samples, so the generator yields stacks of batches that tf.data splits again without copying.
GROUP = 8
AHEAD_BATCHES = 2 * GROUP  # prefetched after splitting: the next group is fetched while these are used


def make_tf_dataset(ds: WindowReader, plan: ReadPlan, ahead: int) -> tf.data.Dataset:
    """Batches of `plan`, in the order of `batches()`; the first pass is `plan.epoch`, each further pass the next
    epoch (a new shuffle). `ahead` windows are read (by the reader's decoding threads) while one is handed out.

    One generator reads ahead in threads rather than tf.data interleaving several generators: those decoded
    their windows side by side, so the first batch waited for several windows (seconds). Measured figures:
    the README's performance section."""
    signature = {
        "images": tf.TensorSpec((None, None, ds.height, ds.width), tf.uint8),
        "labels": tf.TensorSpec((None, None, ds.max_len), tf.int32),
        "label_length": tf.TensorSpec((None, None), tf.int32),
        "index": tf.TensorSpec((None, None), tf.int64),
        "width": tf.TensorSpec((None, None), tf.int32),
    }
    if getattr(ds, "has_char_boxes", False):
        signature["char_boxes"] = tf.TensorSpec((None, None, ds.max_len, 4, 2), tf.float32)
    state = {"epoch": plan.epoch - 1}

    def epoch_groups():
        # Called once per pass over the dataset: each pass is a new epoch with its own shuffle.
        state["epoch"] += 1
        epoch_plan = plan.for_epoch(state["epoch"])
        windows = ds.windows(epoch_plan)
        buffers = WindowBuffers(keep=ahead + 4)  # read ahead, handed out, and those tf.data still holds

        def read(number: int) -> dict:
            window = windows[number]
            return ds.read_window(window, threads=True, order=window_order(window, epoch_plan, number), buffers=buffers)

        with ThreadPoolExecutor(ahead, thread_name_prefix="textsynth-read-ahead") as pool:
            pending = deque(pool.submit(read, number) for number in range(min(ahead, len(windows))))
            for number in range(len(windows)):
                data = pending.popleft().result()
                if number + ahead < len(windows):
                    pending.append(pool.submit(read, number + ahead))
                yield from cut_batch_groups(data, epoch_plan, GROUP)

    groups = tf.data.Dataset.from_generator(epoch_groups, output_signature=signature)
    batches = groups.flat_map(tf.data.Dataset.from_tensor_slices).prefetch(AHEAD_BATCHES)
    # tf.data's autotuner, on a pipeline fed by a Python generator, held it to 14,600 samples/s (a batch every
    # 4.4 ms) in about half of repeated runs here, against 20,000-23,000 without it; a bare generator that
    # sleeps shows the same. Options pass downstream: a caller who wants it back sets autotune.enabled = True.
    options = tf.data.Options()
    options.autotune.enabled = False
    return batches.with_options(options)
