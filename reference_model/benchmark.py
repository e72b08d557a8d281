"""`python -m reference_model benchmark`: speed (and accuracy) figures against a keras.io-style baseline."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from reference_model.ctc import ctc_loss, keras_ctc_loss
from reference_model.model import build_model
from textsynth.dataset import Dataset, open_dataset


def train_step(model, loss_fn):
    """A traced training step (Adam 1e-3, clipnorm 5) of `model` under `loss_fn(labels, lengths, logits)`."""
    optimizer = keras.optimizers.Adam(1e-3, clipnorm=5.0)

    @tf.function
    def step(images, labels, lengths):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = tf.reduce_mean(loss_fn(labels, lengths, logits))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    return step


def time_training(step, batches, steps: int) -> dict:
    """Steady state: 3 warm-up steps (tracing), then `steps` timed ones, data fetch included."""
    it = iter(batches)
    for _ in range(3):
        b = next(it)
        step(b["images"], b["labels"], b["label_length"]).numpy()
    times = []
    t_all = time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        b = next(it)
        step(b["images"], b["labels"], b["label_length"]).numpy()
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - t_all
    batch = int(b["images"].shape[0])
    return {"samples_per_s": steps * batch / total, "ms_per_step_median": 1000 * float(np.median(times)),
            "steps": steps, "batch_size": batch}


def keras_io_baseline_batches(ds: Dataset, batch_size: int, seed: int = 0) -> tf.data.Dataset:
    """The keras.io OCR examples' input pipeline: a Python generator yielding one sample at a time."""
    order = np.random.default_rng(seed).permutation(len(ds))

    def samples():
        for i in order:
            s = ds[int(i)]
            labels = np.full(ds.max_len, -1, np.int32)
            labels[:len(s.labels)] = s.labels
            yield {"images": s.image, "labels": labels, "label_length": np.int32(len(s.labels))}

    signature = {"images": tf.TensorSpec((ds.height, ds.width), tf.uint8),
                 "labels": tf.TensorSpec((ds.max_len,), tf.int32), "label_length": tf.TensorSpec((), tf.int32)}
    return tf.data.Dataset.from_generator(samples, output_signature=signature).batch(batch_size).repeat()


def _loss_only(steps: int, classes: int, batch: int, max_len: int) -> dict:
    """Forward + backward of the CTC loss alone on random logits of the model's shape, both ways."""
    rng = np.random.default_rng(0)
    logits = tf.Variable(rng.normal(size=(batch, steps, classes)).astype(np.float32))
    lengths = rng.integers(4, max_len + 1, batch).astype(np.int32)
    labels = np.full((batch, max_len), -1, np.int32)
    for k, n in enumerate(lengths):
        labels[k, :n] = rng.integers(0, classes - 1, n)
    labels, lengths = tf.constant(labels), tf.constant(lengths)

    def timed(loss_fn) -> float:
        @tf.function
        def grad():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(loss_fn())
            return tape.gradient(loss, logits)

        grad().numpy()
        t = time.perf_counter()
        for _ in range(10):
            grad().numpy()
        return 100 * (time.perf_counter() - t)  # ms per call

    return {"sparse_tf_nn_ctc_loss_ms": timed(lambda: ctc_loss(labels, logits)),
            "keras_ops_ctc_loss_ms": timed(lambda: keras_ctc_loss(labels, lengths, logits))}


def _inference(model, height: int, width: int) -> dict:
    forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    out = {}
    for batch, repeats in ((1, 50), (64, 10), (256, 4)):
        x = tf.constant(np.random.default_rng(0).integers(0, 256, (batch, height, width), dtype=np.uint8))
        forward(x).numpy()
        lat = []
        for _ in range(repeats):
            t = time.perf_counter()
            forward(x).numpy()
            lat.append(time.perf_counter() - t)
        lat = np.array(lat)
        out[str(batch)] = {"samples_per_s": batch / float(np.median(lat)), "p50_ms": 1000 * float(np.median(lat)),
                           "p95_ms": 1000 * float(np.percentile(lat, 95))}
    return out


def environment() -> dict:
    gpus = tf.config.list_physical_devices("GPU")
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "gpus": [g.name for g in gpus],
            "gpu_names": [tf.config.experimental.get_device_details(g).get("device_name", "") for g in gpus],
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}


def run_benchmark(data: str | Path, arch: str = "small", batch_size: int = 64, train_steps: int = 30,
                  model: str | Path | None = None, test: str | Path | None = None, baseline: bool = True) -> dict:
    """Speed figures on `data` (and accuracy of the run `model` on `test` when both are given), as a dict."""
    ds = open_dataset(data)
    num_classes = len(ds.charset) + 1
    result: dict = {"environment": environment(), "arch": arch, "data": str(data),
                    "image_size": [ds.height, ds.width], "batch_size": batch_size}
    net = build_model(arch, ds.width, ds.height, num_classes)
    result["parameters"] = net.count_params()
    result["time_steps"] = int(net.output.shape[1])

    tfds = ds.to_tf_dataset(batch_size, shuffle=True, seed=0, drop_remainder=True).repeat()
    it = iter(tfds)
    next(it)
    t = time.perf_counter()
    n = sum(int(next(it)["images"].shape[0]) for _ in range(200))
    result["data_only_samples_per_s"] = n / (time.perf_counter() - t)

    ours = train_step(net, lambda labels, lengths, logits: ctc_loss(labels, logits))
    result["training"] = time_training(ours, tfds, train_steps)
    result["training"]["pipeline"] = "Dataset.to_tf_dataset (windowed block reads) + tf.nn.ctc_loss, sparse labels"

    result["ctc_loss_only"] = _loss_only(result["time_steps"], num_classes, batch_size, ds.max_len)
    if baseline:
        base_it = iter(keras_io_baseline_batches(ds, batch_size))
        next(base_it)
        t = time.perf_counter()
        n = sum(int(next(base_it)["images"].shape[0]) for _ in range(50))
        result["baseline_data_only_samples_per_s"] = n / (time.perf_counter() - t)
        base_model = build_model(arch, ds.width, ds.height, num_classes)
        base_step = train_step(base_model, lambda labels, lengths, logits: keras_ctc_loss(labels, lengths, logits))
        result["baseline"] = time_training(base_step, keras_io_baseline_batches(ds, batch_size), train_steps)
        result["baseline"]["pipeline"] = "keras.io style: per-sample Python generator + keras.ops.ctc_loss (dense)"
        result["speedup_vs_baseline"] = result["training"]["samples_per_s"] / result["baseline"]["samples_per_s"]

    result["inference"] = _inference(net, ds.height, ds.width)
    if model and test:
        from reference_model.evaluate import evaluate
        from reference_model.recognizer import Recognizer

        report = evaluate(model, test)
        result["accuracy"] = {k: report[k] for k in ("model", "data", "samples", "cer", "exact", "ned")}
        result["accuracy"]["inference"] = _inference(Recognizer.load(model).model, ds.height, ds.width)
    return result


def to_markdown(r: dict) -> str:
    env = r["environment"]
    device = ", ".join(env["gpu_names"]) or f"CPU only ({env['cpu_count']} cores)"
    lines = [f"# reference_model benchmark: architecture `{r['arch']}`", "",
             f"- device: {device}; TensorFlow {env['tensorflow']}, Keras {env['keras']}, Python {env['python']}",
             f"- data: `{r['data']}`, images {r['image_size'][1]}x{r['image_size'][0]}, batch {r['batch_size']}",
             f"- parameters: {r['parameters']:,}; time steps: {r['time_steps']}", "",
             "| measure | samples/s | ms/step (median) |", "|---|---|---|",
             f"| data only (`to_tf_dataset`) | {r['data_only_samples_per_s']:,.0f} | |"]
    if "baseline_data_only_samples_per_s" in r:
        lines.append(f"| data only, keras.io-style per-sample generator | "
                     f"{r['baseline_data_only_samples_per_s']:,.0f} | |")
    lines += [f"| training, textsynth pipeline + sparse CTC | {r['training']['samples_per_s']:,.1f} | "
             f"{r['training']['ms_per_step_median']:.0f} |"]
    if "baseline" in r:
        lines.append(f"| training, keras.io-style baseline | {r['baseline']['samples_per_s']:,.1f} | "
                     f"{r['baseline']['ms_per_step_median']:.0f} |")
        lines += ["", f"Speed-up over the baseline: **{r['speedup_vs_baseline']:.2f}x**"]
    c = r["ctc_loss_only"]
    lines += ["", f"CTC loss alone, forward + backward, batch {r['batch_size']}, {r['time_steps']} steps: sparse "
              f"`tf.nn.ctc_loss` {c['sparse_tf_nn_ctc_loss_ms']:.1f} ms, `keras.ops.ctc_loss` "
              f"{c['keras_ops_ctc_loss_ms']:.1f} ms"]
    lines += ["", "| inference batch | samples/s | p50 ms | p95 ms |", "|---|---|---|---|"]
    for batch, v in r["inference"].items():
        lines.append(f"| {batch} | {v['samples_per_s']:,.0f} | {v['p50_ms']:.1f} | {v['p95_ms']:.1f} |")
    if "accuracy" in r:
        a = r["accuracy"]
        lines += ["", f"Accuracy of `{a['model']}` on `{a['data']}` ({a['samples']:,} samples): "
                  f"CER {100 * a['cer']:.2f}%, exact match {100 * a['exact']:.2f}%, NED {a['ned']:.4f}"]
    return "\n".join(lines) + "\n"
