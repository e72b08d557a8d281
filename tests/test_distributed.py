"""Scale-out: rendering through joblib's Dask backend, and mirrored-strategy training."""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import REPO, assert_same_arrays, read_arrays, small_config

from textsynth import TextsynthError
from textsynth.manifest import Manifest
from textsynth.pipeline import render
from textsynth.verify import verify_dataset

distributed = pytest.importorskip("dask.distributed")


def dask_config(**changes):
    cfg = small_config(**changes)
    cfg.output.backend = "dask"
    cfg.output.workers = "2"
    return cfg


def test_local_cluster_writes_the_same_dataset_as_loky(tmp_path):
    render(small_config(), tmp_path / "loky", progress=False)
    render(dask_config(), tmp_path / "dask", progress=False, scheduler="local")
    assert_same_arrays(read_arrays(tmp_path / "loky"), read_arrays(tmp_path / "dask"))
    shas = [[r.sha256 for r in Manifest.read(tmp_path / d).shards] for d in ("loky", "dask")]
    assert shas[0] == shas[1]


def test_a_worker_killed_mid_shard_does_not_corrupt_the_dataset(tmp_path):
    import os
    import signal

    cfg_args = {"n": 6000, "output__shard_size": 1500}
    reference = tmp_path / "reference"
    render(small_config(**cfg_args), reference, progress=False)
    out = tmp_path / "killed"
    killed = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        errors = []
        thread = threading.Thread(target=lambda: _render_into(out, cluster.scheduler_address, cfg_args, errors))
        thread.start()
        deadline = time.time() + 60
        while not killed and time.time() < deadline:
            for partial in out.glob("shard-*.partial") if out.exists() else []:
                pid = int(partial.name.split(".")[2])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.01)
        thread.join(120)
        assert not errors, errors
    assert killed, "no shard was caught mid-write"
    assert Manifest.read(out).complete
    assert not list(out.glob("*.partial"))
    assert verify_dataset(out)[1] == []
    assert_same_arrays(read_arrays(reference), read_arrays(out))


def _render_into(out, scheduler, cfg_args, errors):
    try:
        render(dask_config(**cfg_args), out, progress=False, scheduler=scheduler)
    except Exception as exc:  # surfaced by the test thread
        errors.append(repr(exc))


def test_unreachable_scheduler_is_a_one_line_error(tmp_path, run_cli):
    code, _, err = run_cli("render", "--n", "10", "--out", tmp_path / "x", "--scheduler", "tcp://127.0.0.1:9",
                           "--quiet")
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert err.count("\n") == 1 and not (tmp_path / "x").exists()


def test_missing_dask_extra_is_a_one_line_error(tmp_path, run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    code, _, err = run_cli("render", "--n", "10", "--out", tmp_path / "x", "--backend", "dask", "--quiet")
    assert code == 2 and "pip install 'textsynth[dask]'" in err and not (tmp_path / "x").exists()


MIRRORED = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from reference_model.train import TrainConfig, train
from reference_model.evaluate import evaluate
lines = []
result = train(TrainConfig(data=sys.argv[1], val=sys.argv[1], out=sys.argv[2], arch="tiny", steps=500,
                           steps_per_epoch=125, batch_size=32, learning_rate=1e-2, val_samples=64,
                           strategy="mirrored"), log=lines.append)
report = evaluate(sys.argv[2], sys.argv[1])
print(json.dumps({"log": lines, "cer": report["cer"]}))
"""


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus_trains_a_usable_model(tmp_path):
    pytest.importorskip("tensorflow")
    data = tmp_path / "tiny"
    cfg = small_config("seed", n=64, output__shard_size=64)  # textsynth 0.1's look: learnt within the budget
    cfg.canvas.width, cfg.canvas.height = 128, 32
    cfg.text.min_len, cfg.text.max_len = 3, 5
    cfg.augment.noise = 0.2
    render(cfg, data, progress=False)
    done = subprocess.run([sys.executable, "-c", MIRRORED, str(data), str(tmp_path / "run")], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert any("2 replica(s)" in line for line in out["log"])
    losses = [float(r.split(",")[3]) for r in (tmp_path / "run" / "log.csv").read_text().splitlines()[1:]]
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.6 * losses[0]  # it learns within 500 steps ...
    assert out["cer"] < 0.6  # ... and the saved model loads, evaluates and reads most of the text (CER ~0.1)


def test_bad_scheduler_spelling_is_refused(tmp_path):
    with pytest.raises(TextsynthError, match="must be tcp://HOST:PORT or local"):
        render(dask_config(), tmp_path / "x", progress=False, scheduler="http://nope")
