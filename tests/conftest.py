"""Shared fixtures: small configs and a helper that runs the CLI in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401  (registers HDF5's zstd filter: plain h5py reads format 3's images)
import numpy as np
import pytest

from textsynth.cli import main
from textsynth.config import RenderConfig

REPO = Path(__file__).resolve().parent.parent


def small_config(preset: str = "default", **changes) -> RenderConfig:
    """A quick config: narrow canvas, short texts, small shards (of the given preset)."""
    cfg = RenderConfig.from_dict({"preset": preset, "n": 120})
    cfg.canvas.width, cfg.canvas.height = 256, 32
    cfg.text.max_len = 10
    cfg.output.shard_size = 50
    cfg.output.workers = "1"
    for key, value in changes.items():
        section, _, name = key.rpartition("__")
        setattr(getattr(cfg, section) if section else cfg, name, value)
    return cfg


@pytest.fixture
def run_cli(capsys):
    """Run `textsynth ARGS` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def run_subprocess(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "textsynth", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=REPO, **kwargs)


def read_arrays(directory):
    """Every array of every shard, read with plain h5py."""
    manifest = json.loads((directory / "manifest.json").read_text())
    out = {}
    for shard in manifest["shards"]:
        with h5py.File(directory / shard["file"], "r") as f:
            for name in ("images", "labels", "label_length", "text"):
                out.setdefault(name, []).append(f[name][:])
            for name in f["params"]:
                out.setdefault("params/" + name, []).append(f["params"][name][:])
    return {k: np.concatenate(v) for k, v in out.items()}


def assert_same_arrays(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
