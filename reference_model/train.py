"""Training from textsynth shards: a custom loop with per-epoch checkpoints, validation, logs and resume."""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from reference_model.ctc import check_feasible, ctc_loss
from reference_model.metrics import score
from reference_model.model import build_model, time_steps
from reference_model.recognizer import MODEL_FILE, RUN_INFO, Recognizer
from textsynth.bidi import visual_order
from textsynth.charset import Charset
from textsynth.dataset import Dataset, open_dataset
from textsynth.errors import TextsynthError
from textsynth.fileio import atomic_write_text, commit_file
from textsynth.languages import get_language

STATE_FILE = "state.json"
LOG_FILE = "log.csv"
LOG_FIELDS = ["epoch", "steps", "samples_seen", "train_loss", "val_loss", "val_cer", "val_exact", "val_ned",
              "epoch_seconds", "data_wait_seconds", "compute_seconds", "train_samples_per_s", "wall_seconds"]


class NaNLoss(TextsynthError):
    """The loss stopped being finite; the last good checkpoint is kept."""


LR_SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("adam", "adamw")


@dataclass
class TrainConfig:
    data: str
    out: str
    val: str | None = None
    val_fraction: float = 0.02
    arch: str = "small"  # the network architecture (reference_model.model.PRESETS)
    init: str | None = None  # a run folder whose weights a new run starts from (fine-tuning); same arch and charset
    epochs: int | None = None
    steps: int | None = None
    steps_per_epoch: int | None = None  # default: one pass over the training data
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"  # constant | cosine: from learning_rate down to 2 % of it over the whole run
    warmup_steps: int = 0  # cosine only: rise linearly from 1/25 of learning_rate over these first steps
    optimizer: str = "adam"  # adam | adamw (decoupled weight decay)
    weight_decay: float = 1e-4  # adamw only
    clipnorm: float = 5.0
    seed: int = 0
    max_minutes: float | None = None
    val_samples: int = 2000  # validation samples decoded each epoch
    strategy: str = "default"  # default | mirrored | multiworker
    mixed_precision: bool = False


def _save_model(model: keras.Model, path: Path) -> None:
    tmp = path.with_name(".tmp-" + path.name)  # Keras insists on the .keras suffix
    model.save(tmp)
    commit_file(tmp, path)


def _trim_logs(run: Path, state: dict) -> None:
    """Drop log rows written after the last committed epoch (a run killed mid-way redoes that epoch)."""
    log_path = run / LOG_FILE
    if log_path.exists():
        lines = log_path.read_text().splitlines(keepends=True)
        kept = lines[:1] + [ln for ln in lines[1:] if int(ln.split(",")[0]) <= state["epoch"]]
        atomic_write_text(log_path, "".join(kept))
    steps_path = run / "steps.csv"
    if steps_path.exists():
        lines = steps_path.read_text().splitlines(keepends=True)
        kept = lines[:1] + [ln for ln in lines[1:] if int(ln.split(",")[0]) <= state["samples_seen"]]
        atomic_write_text(steps_path, "".join(kept))


def load_data(cfg: TrainConfig) -> tuple[Dataset, Dataset]:
    ds = open_dataset(cfg.data)
    if cfg.val:
        val = open_dataset(cfg.val)
        if val.charset != ds.charset or (val.width, val.height) != (ds.width, ds.height):
            raise TextsynthError(f"validation set {cfg.val} has another charset or image size than {cfg.data}")
        return ds, val
    return ds.split(cfg.val_fraction)


def check_labels(ds: Dataset, steps: int) -> None:
    """Every label must fit the model's time steps; names the first offender."""
    check_feasible(ds.column("labels"), ds.column("label_length"), steps, ds.column("params/index"),
                   ds.column("text"))


def label_order(ds: Dataset) -> str:
    """"visual" for a right-to-left language's dataset (a left-to-right CTC model must learn its lines in the
    order they are drawn), "logical" otherwise."""
    return "visual" if get_language(ds.config.language).direction == "rtl" else "logical"


def visual_labels(charset: Charset, labels: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Padded label rows rearranged into the order their lines are drawn (`textsynth.bidi.visual_order`)."""
    out = labels.copy()
    for k, n in enumerate(lengths.tolist()):
        out[k, :n] = charset.encode(visual_order(charset.decode(labels[k, :n])))
    return out


def _in_visual_order(data: tf.data.Dataset, charset: Charset) -> tf.data.Dataset:
    def step(batch):
        labels = tf.numpy_function(lambda lab, n: visual_labels(charset, lab, n),
                                   [batch["labels"], batch["label_length"]], tf.int32, stateful=False)
        return {**batch, "labels": tf.ensure_shape(labels, batch["labels"].shape)}

    return data.map(step)


def validate(recognizer: Recognizer, val: Dataset, limit: int, batch_size: int = 256) -> dict[str, float]:
    refs, hyps, losses = [], [], []
    for batch in val.batches(batch_size, shuffle=False):
        logits = recognizer.logits(batch["images"])
        labels = batch["labels"] if recognizer.label_order == "logical" else \
            visual_labels(val.charset, batch["labels"], batch["label_length"])
        losses.append(ctc_loss(tf.constant(labels), tf.constant(logits)).numpy())
        hyps += recognizer.decode(logits)
        refs += val.charset.decode_batch(batch["labels"], batch["label_length"])
        if len(refs) >= limit:
            break
    result = score(refs, hyps)
    result["loss"] = float(np.mean(np.concatenate(losses)))
    return result


def plot_curves(run: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(open(run / LOG_FILE)))
    if not rows:
        return
    seen = [int(r["samples_seen"]) for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    steps_path = run / "steps.csv"
    if steps_path.exists() and len(steps_path.read_text().splitlines()) > 1:
        steps = np.loadtxt(steps_path, delimiter=",", skiprows=1, ndmin=2)
        if steps.size:
            a.plot(steps[:, 0], steps[:, 1], lw=0.6, alpha=0.5, label="train (per 50 steps)")
    a.plot(seen, [float(r["train_loss"]) for r in rows], "o-", label="train (epoch mean)")
    a.plot(seen, [float(r["val_loss"]) for r in rows], "s-", label="validation")
    a.set_xlabel("samples seen")
    a.set_ylabel("CTC loss")
    a.set_yscale("log")
    a.legend()
    b.plot(seen, [100 * float(r["val_cer"]) for r in rows], "o-", label="CER %")
    b.plot(seen, [100 * (1 - float(r["val_exact"])) for r in rows], "s-", label="line error %")
    b.set_xlabel("samples seen")
    b.set_ylabel("validation error (%)")
    b.set_yscale("log")
    b.grid(True, which="both", alpha=0.3)
    b.legend()
    fig.suptitle(run.name)
    fig.tight_layout()
    tmp = run / ".tmp-curves.png"
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    commit_file(tmp, run / "curves.png")


def _strategy(name: str) -> tf.distribute.Strategy:
    if name == "mirrored":
        # Every visible GPU; without GPUs, every logical CPU device (several only if configured so).
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "default":
        return tf.distribute.get_strategy()
    raise TextsynthError(f"strategy must be default, mirrored or multiworker, got {name!r}")


def _open_run(cfg: TrainConfig, info: dict) -> dict:
    """Create the run folder, or check a run already there was made alike; returns the state to resume from."""
    run = Path(cfg.out)
    run.mkdir(parents=True, exist_ok=True)
    state = {"epoch": 0, "steps": 0, "samples_seen": 0, "wall_seconds": 0.0}
    if (run / STATE_FILE).exists():
        old = json.loads((run / RUN_INFO).read_text())
        old.setdefault("arch", old.get("preset"))  # older runs named the architecture "preset"
        old.setdefault("label_order", "logical")  # runs made before right-to-left languages
        for key in ("charset", "width", "height", "arch", "label_order"):
            if old.get(key) != info[key]:
                raise TextsynthError(f"{run} holds a run with another {key}; choose another --out")
        state = json.loads((run / STATE_FILE).read_text())
        _trim_logs(run, state)
    atomic_write_text(run / RUN_INFO, json.dumps(info, indent=1))
    return state


def _learning_rate(cfg: TrainConfig, total_steps: int):
    """The learning rate: a constant, or a cosine decay over every step of the run (`--epochs` x steps per
    epoch, or `--steps`), which ends a fixed budget with small steps instead of stopping mid-stride; with
    `warmup_steps`, first a linear rise from 1/25 of the rate (batch-normalized nets start unstable)."""
    if cfg.lr_schedule == "cosine":
        warmup = min(cfg.warmup_steps, max(0, total_steps - 1))
        if warmup:
            return keras.optimizers.schedules.CosineDecay(
                cfg.learning_rate / 25, decay_steps=max(1, total_steps - warmup), alpha=0.02,
                warmup_target=cfg.learning_rate, warmup_steps=warmup)
        return keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=max(1, total_steps), alpha=0.02)
    return cfg.learning_rate


def _optimizer(cfg: TrainConfig, total_steps: int):
    rate = _learning_rate(cfg, total_steps)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=cfg.weight_decay, clipnorm=cfg.clipnorm)
    return keras.optimizers.Adam(rate, clipnorm=cfg.clipnorm)


def _build(cfg: TrainConfig, state: dict, train_ds: Dataset, num_classes: int, total_steps: int,
           log) -> tuple[keras.Model, Any]:
    """The model and optimizer: from the last checkpoint when resuming (the schedule and its step count come
    with it), else freshly seeded. Call in the strategy's scope."""
    run = Path(cfg.out)
    optimizer = None
    if state["epoch"] > 0:
        model = keras.saving.load_model(run / f"checkpoint-{state['epoch']:04d}.keras")
        optimizer = model.optimizer
        log(f"resuming {run} after epoch {state['epoch']} ({state['samples_seen']:,} samples seen)")
    else:
        keras.utils.set_random_seed(cfg.seed)  # the same --seed gives the same initial weights
        model = build_model(cfg.arch, train_ds.width, train_ds.height, num_classes)
        if cfg.init:
            _start_from(model, cfg.init, train_ds)
            log(f"starting from the weights of {cfg.init}")
    if optimizer is None:
        optimizer = _optimizer(cfg, total_steps)
        if cfg.mixed_precision:
            optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer)  # carries the optimizer (and its state) into checkpoints
    if not optimizer.built:  # slots made here, not lazily inside a replicated step
        optimizer.build(model.trainable_variables)
    return model, optimizer


def _start_from(model: keras.Model, run: str, train_ds: Dataset) -> None:
    """Copy a trained run's weights into `model` (built for the same architecture, charset and image size)."""
    source = Recognizer.load(run)
    if source.charset != train_ds.charset or (source.width, source.height) != (train_ds.width, train_ds.height):
        raise TextsynthError(f"--init {run}: its charset or image size differs from the training data's")
    weights = source.model.get_weights()
    if [w.shape for w in weights] != [w.shape for w in model.get_weights()]:
        raise TextsynthError(f"--init {run}: its network is not the --arch given (weights of other shapes)")
    model.set_weights(weights)


def _train_step(model: keras.Model, optimizer, strategy: tf.distribute.Strategy, batch_size: int):
    """One optimizer step on a (possibly distributed) batch; returns the global-batch mean loss."""

    def step_fn(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            per_sample = ctc_loss(labels, logits)
            loss = tf.reduce_sum(per_sample) / batch_size  # global-batch mean, replica-safe
            scaled = optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    @tf.function
    def train_step(batch):
        losses = strategy.run(step_fn, args=(batch["images"], batch["labels"]))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    return train_step


@dataclass
class _EpochRun:
    """What one epoch's steps did: per-step losses and where the time went."""

    losses: list[float]
    wait: float
    compute: float
    seconds: float


def _run_epoch(cfg: TrainConfig, epoch: int, budget: int, data, train_step, state: dict, started: float,
               log) -> _EpochRun:
    """Up to `budget` steps over `data`; stops early when the time budget runs out, raises NaNLoss."""
    run = Path(cfg.out)
    steps_log = run / "steps.csv"
    if not steps_log.exists():
        steps_log.write_text("samples_seen,loss\n")
    wait = compute = 0.0
    losses: list[float] = []
    t_epoch = time.perf_counter()
    iterator = iter(data)
    for step in range(budget):
        t0 = time.perf_counter()
        batch = next(iterator)
        t1 = time.perf_counter()
        loss = float(train_step(batch))
        t2 = time.perf_counter()
        wait, compute = wait + t1 - t0, compute + t2 - t1
        if not math.isfinite(loss):
            raise NaNLoss(f"loss became {loss} at epoch {epoch}, step {step + 1}; stopped. The last good "
                          f"checkpoint (epoch {state['epoch']}) is kept in {run}: lower --learning-rate "
                          "and run again")
        losses.append(loss)
        if (state["steps"] + step + 1) % 50 == 0:
            with open(steps_log, "a") as f:
                f.write(f"{state['samples_seen'] + (step + 1) * cfg.batch_size},{np.mean(losses[-50:]):.5f}\n")
        if _out_of_time(cfg, started) and step + 1 < budget:
            log(f"the {cfg.max_minutes} minute budget ran out inside epoch {epoch}: closing it early")
            break
    return _EpochRun(losses, wait, compute, time.perf_counter() - t_epoch)


def _out_of_time(cfg: TrainConfig, started: float) -> bool:
    return cfg.max_minutes is not None and (time.perf_counter() - started) / 60 >= cfg.max_minutes


def _commit_epoch(run: Path, model: keras.Model, epoch: int, state: dict, done: _EpochRun, metrics: dict,
                  batch_size: int) -> dict:
    """Checkpoint, log row, state (the commit point), final model, old checkpoints pruned, curves redrawn."""
    _save_model(model, run / f"checkpoint-{epoch:04d}.keras")
    steps = len(done.losses)
    row = {"epoch": epoch, "steps": state["steps"], "samples_seen": state["samples_seen"],
           "train_loss": f"{np.mean(done.losses):.5f}", "val_loss": f"{metrics['loss']:.5f}",
           "val_cer": f"{metrics['cer']:.5f}", "val_exact": f"{metrics['exact']:.5f}",
           "val_ned": f"{metrics['ned']:.5f}", "epoch_seconds": f"{done.seconds:.1f}",
           "data_wait_seconds": f"{done.wait:.2f}", "compute_seconds": f"{done.compute:.2f}",
           "train_samples_per_s": f"{steps * batch_size / max(done.compute + done.wait, 1e-9):.1f}",
           "wall_seconds": f"{state['wall_seconds']:.1f}"}
    new_log = not (run / LOG_FILE).exists()
    with open(run / LOG_FILE, "a", newline="") as f:
        writer = csv.DictWriter(f, LOG_FIELDS)
        if new_log:
            writer.writeheader()
        writer.writerow(row)
    atomic_write_text(run / STATE_FILE, json.dumps(state))  # the commit point of the epoch
    _save_model(model, run / MODEL_FILE)
    for old in run.glob("checkpoint-*.keras"):
        if old.name < f"checkpoint-{epoch - 1:04d}.keras":
            old.unlink()
    plot_curves(run)
    return row


def train(cfg: TrainConfig, log=print) -> dict:
    """Train (or resume) a run in `cfg.out`; returns the last validation figures."""
    run = Path(cfg.out)
    if cfg.lr_schedule not in LR_SCHEDULES:
        raise TextsynthError(f"--lr-schedule: unknown schedule {cfg.lr_schedule!r} "
                             f"(choose {' or '.join(LR_SCHEDULES)})")
    if cfg.optimizer not in OPTIMIZERS:
        raise TextsynthError(f"--optimizer: unknown optimizer {cfg.optimizer!r} (choose {' or '.join(OPTIMIZERS)})")
    if cfg.warmup_steps < 0 or not 0 <= cfg.weight_decay < 1:
        raise TextsynthError("--warmup-steps must be at least 0 and --weight-decay in [0, 1)")
    train_ds, val_ds = load_data(cfg)
    num_classes = len(train_ds.charset) + 1
    steps_t = time_steps(cfg.arch, train_ds.width, train_ds.height)
    check_labels(train_ds, steps_t)
    check_labels(val_ds, steps_t)
    per_epoch = cfg.steps_per_epoch or max(1, len(train_ds) // cfg.batch_size)
    if cfg.epochs is None and cfg.steps is None:
        raise TextsynthError("give --epochs or --steps")
    epochs = cfg.epochs if cfg.epochs is not None else math.ceil(cfg.steps / per_epoch)
    info = {"charset": list(train_ds.charset.symbols), "width": train_ds.width, "height": train_ds.height,
            "arch": cfg.arch, "num_classes": num_classes, "time_steps": steps_t, "config": asdict(cfg),
            "label_order": label_order(train_ds), "language": train_ds.config.language,
            "data_config": train_ds.manifest.config}  # the render config the model learnt from
    state = _open_run(cfg, info)

    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    strategy = _strategy(cfg.strategy)
    with strategy.scope():
        model, optimizer = _build(cfg, state, train_ds, num_classes, epochs * per_epoch, log)
    train_step = _train_step(model, optimizer, strategy, cfg.batch_size)
    replicas = strategy.num_replicas_in_sync

    recognizer = Recognizer(model, train_ds.charset, train_ds.width, train_ds.height, info["label_order"],
                            info["language"])
    started = time.perf_counter() - state["wall_seconds"]
    last: dict = {}
    log(f"training {cfg.arch} ({model.count_params():,} parameters, {steps_t} time steps) on "
        f"{len(train_ds):,} samples, validating on {min(len(val_ds), cfg.val_samples):,}; "
        f"{per_epoch} steps of {cfg.batch_size} per epoch, {replicas} replica(s)")
    for epoch in range(state["epoch"] + 1, epochs + 1):
        if _out_of_time(cfg, started):
            log(f"stopping: the {cfg.max_minutes} minute budget is spent")
            break
        budget = per_epoch if cfg.steps is None else min(per_epoch, cfg.steps - state["steps"])
        if budget <= 0:
            break
        data = train_ds.to_tf_dataset(cfg.batch_size, shuffle=True, seed=cfg.seed, drop_remainder=True,
                                      epoch=epoch)
        if recognizer.label_order == "visual":
            data = _in_visual_order(data, train_ds.charset)
        data = data.repeat().take(budget)
        if replicas > 1:
            data = strategy.experimental_distribute_dataset(data)
        done = _run_epoch(cfg, epoch, budget, data, train_step, state, started, log)
        metrics = validate(recognizer, val_ds, cfg.val_samples)
        state = {"epoch": epoch, "steps": state["steps"] + len(done.losses),
                 "samples_seen": state["samples_seen"] + len(done.losses) * cfg.batch_size,
                 "wall_seconds": time.perf_counter() - started}
        row = _commit_epoch(run, model, epoch, state, done, metrics, cfg.batch_size)
        log(f"epoch {epoch}/{epochs}: loss {row['train_loss']}, val CER {100 * metrics['cer']:.2f}%, "
            f"exact {100 * metrics['exact']:.1f}%, {row['train_samples_per_s']} samples/s "
            f"(waiting for data {done.wait:.1f} s, computing {done.compute:.1f} s)")
        last = {**metrics, **state}
    return last
