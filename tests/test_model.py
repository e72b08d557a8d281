"""The reference recognizer: shapes, CTC conventions, end-to-end wiring. TensorFlow tests; training ones are slow."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, small_config

tf = pytest.importorskip("tensorflow")

from reference_model.ctc import check_feasible, ctc_loss, greedy_decode, keras_ctc_loss  # noqa: E402
from reference_model.model import build_model  # noqa: E402
from textsynth import TextsynthError, open_dataset  # noqa: E402
from textsynth.pipeline import render  # noqa: E402


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """64 short samples on a 128x32 canvas, in textsynth 0.1's look (the tiny model must overfit them quickly)."""
    out = tmp_path_factory.mktemp("model") / "tiny"
    cfg = small_config("seed", n=64, output__shard_size=64)
    cfg.canvas.width, cfg.canvas.height = 128, 32
    cfg.text.min_len, cfg.text.max_len = 3, 5
    cfg.augment.noise = 0.2
    render(cfg, out, progress=False)
    return out


@pytest.fixture(scope="module")
def trained_run(tiny_data, tmp_path_factory):
    """The tiny preset trained on the 64 samples until it reads them (validated on the same 64)."""
    from reference_model.train import TrainConfig, train

    run = tmp_path_factory.mktemp("runs") / "tiny"
    cfg = TrainConfig(data=str(tiny_data), val=str(tiny_data), out=str(run), arch="tiny", steps=752,
                      steps_per_epoch=188, batch_size=64, learning_rate=3e-3, val_samples=64)
    result = train(cfg, log=lambda *_: None)
    return run, result


def test_image_ocr_preset_has_the_seed_shapes():
    model = build_model("image_ocr", 128, 64, 69)
    shapes = {layer.name: tuple(layer.output.shape) for layer in model.layers}
    assert shapes["conv1"] == (None, 128, 64, 16)
    assert shapes["max1"] == (None, 64, 32, 16)
    assert shapes["conv2"] == (None, 64, 32, 16)
    assert shapes["max2"] == (None, 32, 16, 16)
    assert shapes["reshape"] == (None, 32, 256)
    assert shapes["dense1"] == (None, 32, 32)
    assert shapes["logits"] == (None, 32, 69)
    assert model.get_layer("gru1").forward_layer.units == 512 and model.get_layer("gru2").backward_layer.units == 512


def test_small_scales_the_line_to_32_px_in_the_graph_and_normalizes_its_trunk():
    from keras import layers

    from reference_model.model import multiply_adds, time_steps

    model = build_model("small", 512, 64, 69)
    assert tuple(model.get_layer("downscale").output.shape) == (None, 256, 32, 1)  # (width, height): halved
    assert tuple(model.get_layer("conv1").output.shape) == (None, 128, 16, 32)  # the stride-2 stem
    assert isinstance(model.get_layer("conv2"), layers.SeparableConv2D)
    assert isinstance(model.get_layer("norm1"), layers.BatchNormalization)
    assert tuple(model.output.shape) == (None, 64, 69) and time_steps("small", 512, 64) == 64
    # A 48-px line is resized (not pooled) to 32 px: the same 64 time steps at 512 x 48 * (4 / 3) wide.
    assert tuple(build_model("small", 384, 48, 69).output.shape) == (None, 64, 69)
    with pytest.raises(ValueError, match="divide by"):
        build_model("small", 500, 64, 69)
    # image_ocr by hand: conv1 128x64x9x16, conv2 64x32x9x16x16, dense1 32x256x32, two GRU pairs, logits
    gru = lambda steps, features, units: 2 * steps * 3 * (features * units + units * units)  # noqa: E731
    expected = (128 * 64 * 9 * 16 + 64 * 32 * 9 * 16 * 16 + 32 * 256 * 32 + gru(32, 32, 512) + gru(32, 512, 512)
                + 32 * 1024 * 69)
    assert multiply_adds(build_model("image_ocr", 128, 64, 69)) == expected


def test_warmup_rises_to_the_learning_rate_then_follows_the_cosine():
    import keras

    from reference_model.train import TrainConfig, _learning_rate, _optimizer

    cfg = TrainConfig(data="d", out="o", learning_rate=2e-3, lr_schedule="cosine", warmup_steps=100)
    rate = _learning_rate(cfg, 1100)
    at = lambda step: float(keras.ops.convert_to_numpy(rate(step)))  # noqa: E731
    assert at(0) == pytest.approx(2e-3 / 25, rel=1e-4)
    assert at(50) == pytest.approx((2e-3 / 25 + 2e-3) / 2, rel=1e-3)
    assert at(100) == pytest.approx(2e-3, rel=1e-4)
    assert at(600) == pytest.approx(2e-3 * (0.02 + 0.98 * 0.5), rel=1e-3)  # half way down after the warm-up
    assert at(1100) == pytest.approx(2e-3 * 0.02, rel=1e-3)
    adamw = _optimizer(TrainConfig(data="d", out="o", optimizer="adamw", weight_decay=0.05), 10)
    assert isinstance(adamw, keras.optimizers.AdamW) and adamw.weight_decay == pytest.approx(0.05)


def test_unknown_optimizer_is_one_line(tiny_data, tmp_path):
    from reference_model.train import TrainConfig, train

    cfg = TrainConfig(data=str(tiny_data), out=str(tmp_path / "r"), arch="tiny", epochs=1, optimizer="sgd")
    with pytest.raises(TextsynthError, match="--optimizer: unknown optimizer 'sgd'"):
        train(cfg, log=lambda *_: None)


def test_width_becomes_the_time_axis_by_transposing():
    model = build_model("tiny", 128, 32, 10)
    image = np.zeros((1, 32, 128), np.uint8)
    image[0, :, :8] = 255  # a bright stripe at the left edge
    transposed = keras_layer_output(model, "transpose", image)
    assert transposed.shape == (1, 128, 32)
    assert np.allclose(transposed[0, :8], 1.0) and np.allclose(transposed[0, 8:], 0.0)


def keras_layer_output(model, name, x):
    import keras

    return keras.Model(model.input, model.get_layer(name).output)(x).numpy()


def test_sparse_and_keras_ctc_agree():
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(4, 20, 69)).astype(np.float32))
    labels = np.full((4, 8), -1, np.int32)
    lengths = np.array([3, 8, 1, 5], np.int32)
    for k, n in enumerate(lengths):
        labels[k, :n] = rng.integers(0, 68, n)
    labels[1, :2] = 0  # label id 0 ('a') is a real symbol, repeated here
    sparse = ctc_loss(tf.constant(labels), logits).numpy()
    dense = keras_ctc_loss(tf.constant(labels), tf.constant(lengths), logits).numpy()
    assert np.allclose(sparse, dense, rtol=1e-4), (sparse, dense)


def test_greedy_decode_collapses_repeats_and_drops_blanks():
    blank = 4
    path = [1, 1, blank, 1, 2, 2, blank, blank, 3]
    logits = np.full((1, len(path), 5), -5.0, np.float32)
    logits[0, np.arange(len(path)), path] = 5.0
    assert greedy_decode(logits) == [[1, 1, 2, 3]]


def test_an_infeasible_label_is_reported_by_name():
    labels = np.array([[0, 1, 2, -1], [3, 3, 3, 3]], np.int32)
    with pytest.raises(TextsynthError, match=r"sample 41 \('dddd'\) needs 7 time steps .* the model has 5"):
        check_feasible(labels, np.array([3, 4]), 5, np.array([40, 41]), ["abc", "dddd"])


def test_training_refuses_data_whose_labels_cannot_fit(tiny_data, tmp_path):
    from reference_model.train import TrainConfig, train

    # tiny's 4x width reduction on a 16-px-wide dataset leaves 4 time steps: fewer than 3-5 symbols need.
    out = tmp_path / "narrow"
    cfg = small_config(n=40, output__shard_size=40)
    cfg.canvas.width, cfg.canvas.height = 16, 16
    cfg.text.min_len, cfg.text.max_len = 3, 4
    cfg.fonts.min_size, cfg.fonts.max_size = 0.375, 0.4
    cfg.canvas.margin = 1
    cfg.text.charset = "il.,'"
    render(cfg, out, progress=False)
    with pytest.raises(TextsynthError, match=r"sample \d+ \(['\"].+['\"]\) needs \d time steps .* the model has 4"):
        train(TrainConfig(data=str(out), val=str(out), out=str(tmp_path / "run"), arch="tiny", epochs=1))


@pytest.mark.slow
def test_init_starts_a_new_run_from_a_trained_runs_weights(trained_run, tiny_data, tmp_path):
    from reference_model.train import TrainConfig, train

    run, _ = trained_run
    cfg = TrainConfig(data=str(tiny_data), val=str(tiny_data), out=str(tmp_path / "tuned"), arch="tiny", steps=2,
                      batch_size=16, learning_rate=1e-9, val_samples=64, init=str(run))
    assert train(cfg, log=lambda *_: None)["cer"] == 0.0  # it reads the 64 samples from its first epoch
    other = TrainConfig(data=str(tiny_data), out=str(tmp_path / "wrong"), arch="image_ocr", steps=1,
                        init=str(run))
    with pytest.raises(TextsynthError, match="--init .*not the --arch given"):
        train(other, log=lambda *_: None)


@pytest.mark.slow
def test_tiny_preset_overfits_64_samples(trained_run):
    run, result = trained_run
    assert result["cer"] == 0.0, result
    rows = (run / "log.csv").read_text().splitlines()
    assert len(rows) == 1 + 4
    assert (run / "curves.png").stat().st_size > 1000


@pytest.mark.slow
def test_evaluate_and_predict_agree_on_a_shard_sample(trained_run, tiny_data, tmp_path):
    from PIL import Image

    from reference_model.evaluate import evaluate, predict

    run, _ = trained_run
    report = evaluate(run, tiny_data)
    assert report["samples"] == 64 and report["cer"] == 0.0
    assert set(report["by_flip"]) == {"none"} and sum(v["samples"] for v in report["by_font"].values()) == 64
    ds = open_dataset(tiny_data)
    sample = ds[17]
    Image.fromarray(sample.image).save(tmp_path / "s17.png")
    assert predict(run, [tmp_path / "s17.png"]) == [sample.text]
    code = subprocess.run([sys.executable, "-m", "reference_model", "predict", "--model", str(run),
                           str(tmp_path / "s17.png")], capture_output=True, text=True, cwd=REPO)
    assert code.returncode == 0 and code.stdout.strip().endswith("\t" + sample.text), code.stderr


@pytest.mark.slow
def test_export_predicts_what_the_trained_model_predicts(trained_run, tiny_data, tmp_path):
    from reference_model.export import export

    run, _ = trained_run
    images = open_dataset(tiny_data).read_window([(0, 0, 16)])["images"]
    check = export(run, tmp_path / "exported", check_images=images)
    assert check["same_text"] and check["saved_model_max_abs_diff"] < 1e-4 and check["keras_max_abs_diff"] < 1e-5
    assert (tmp_path / "exported" / "model.keras").exists()


@pytest.mark.slow
def test_killed_training_resumes_and_continues_the_epoch_count(tiny_data, tmp_path):
    run = tmp_path / "resume"
    cmd = [sys.executable, "-m", "reference_model", "train", "--data", str(tiny_data), "--val", str(tiny_data),
           "--arch", "tiny", "--epochs", "4", "--steps-per-epoch", "40", "--batch-size", "16", "--out", str(run)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (run / "state.json").exists():
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = json.loads((run / "state.json").read_text())["epoch"]
    assert 1 <= first < 4
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"resuming {run} after epoch {first}" in done.stdout
    epochs = [line.split(",")[0] for line in (run / "log.csv").read_text().splitlines()[1:]]
    assert epochs == ["1", "2", "3", "4"]
    assert json.loads((run / "state.json").read_text())["steps"] == 160


@pytest.mark.slow
def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tiny_data, tmp_path, monkeypatch):
    import reference_model.train as training
    from reference_model.train import NaNLoss, TrainConfig, train

    run = tmp_path / "nan"
    cfg = TrainConfig(data=str(tiny_data), val=str(tiny_data), out=str(run), arch="tiny", epochs=1,
                      steps_per_epoch=5, batch_size=32)
    train(cfg, log=lambda *_: None)
    good = (run / "checkpoint-0001.keras").read_bytes()
    real_loss = training.ctc_loss
    monkeypatch.setattr(training, "ctc_loss", lambda labels, logits: real_loss(labels, logits) * float("nan"))
    cfg.epochs = 2
    with pytest.raises(NaNLoss, match=r"loss became nan at epoch 2, step 1.*last good checkpoint \(epoch 1\)"):
        train(cfg, log=lambda *_: None)
    assert json.loads((run / "state.json").read_text())["epoch"] == 1
    assert (run / "checkpoint-0001.keras").read_bytes() == good
    assert not (run / "checkpoint-0002.keras").exists()


@pytest.mark.slow
def test_cosine_schedule_decays_over_the_whole_run_and_is_kept_in_checkpoints(tiny_data, tmp_path):
    import keras

    from reference_model.train import TrainConfig, train

    run = tmp_path / "cosine"
    cfg = TrainConfig(data=str(tiny_data), val=str(tiny_data), out=str(run), arch="tiny", epochs=2,
                      steps_per_epoch=5, batch_size=16, learning_rate=2e-3, lr_schedule="cosine", val_samples=16)
    train(cfg, log=lambda *_: None)
    rates = []
    for epoch in (1, 2):
        optimizer = keras.saving.load_model(run / f"checkpoint-{epoch:04d}.keras").optimizer
        assert int(optimizer.iterations.numpy()) == 5 * epoch
        rates.append(float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    assert rates[0] == pytest.approx(2e-3 * (0.02 + 0.98 * 0.5), rel=1e-3)  # half way down the cosine
    assert rates[1] == pytest.approx(2e-3 * 0.02, rel=1e-3)  # the floor at the last step


def test_unknown_schedule_is_one_line(tiny_data, tmp_path):
    from reference_model.train import TrainConfig, train

    cfg = TrainConfig(data=str(tiny_data), out=str(tmp_path / "r"), arch="tiny", epochs=1, lr_schedule="step")
    with pytest.raises(TextsynthError, match="--lr-schedule: unknown schedule 'step'"):
        train(cfg, log=lambda *_: None)


@pytest.mark.slow
def test_a_right_to_left_dataset_trains_in_visual_order_and_evaluates_in_logical(tmp_path):
    from reference_model.evaluate import evaluate
    from reference_model.recognizer import Recognizer
    from reference_model.train import TrainConfig, train

    data = tmp_path / "ar"
    cfg = small_config(n=32, output__shard_size=32)
    cfg.language = "ar"
    cfg.canvas.width, cfg.canvas.height = 256, 32
    cfg.text.min_len, cfg.text.max_len = 3, 6
    render(cfg, data, progress=False)
    run = tmp_path / "run"
    train(TrainConfig(data=str(data), val=str(data), out=str(run), arch="tiny", steps=2, batch_size=16,
                      val_samples=32), log=lambda *_: None)
    assert json.loads((run / "run.json").read_text())["label_order"] == "visual"
    assert Recognizer.load(run).label_order == "visual"
    report = evaluate(run, data, limit=16)
    assert report["samples"] == 16
    with pytest.raises(TextsynthError, match="--lm is for left-to-right models"):
        Recognizer.load(run).decode(np.zeros((1, 4, 60), np.float32), lm=object())
