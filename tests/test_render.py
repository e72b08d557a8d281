import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from conftest import assert_same_arrays, read_arrays, run_subprocess, small_config

from textsynth import Charset
from textsynth.manifest import Manifest
from textsynth.pipeline import render
from textsynth.shards import file_sha256


def test_shard_format_read_back_with_plain_h5py(tmp_path):
    cfg = small_config(output__compression="none")  # format 1 (format 3: tests/test_sensor_storage.py)
    render(cfg, tmp_path / "ds", progress=False)
    ds = tmp_path / "ds"
    manifest = json.loads((ds / "manifest.json").read_text())
    assert manifest["format"] == "textsynth" and manifest["format_version"] == 1
    assert manifest["n"] == 120 and manifest["complete"] is True
    assert manifest["charset"] == list(Charset.default().symbols)
    assert manifest["config"]["canvas"] == {"width": 256, "height": 32, "margin": 2, "variable_width": False}
    assert {f["file"] for f in manifest["fonts"]} >= {"DejaVuSans.ttf", "LiberationMono-Regular.ttf"}
    assert [(s["file"], s["first"], s["count"]) for s in manifest["shards"]] == [
        ("shard-00000.h5", 0, 50), ("shard-00001.h5", 50, 50), ("shard-00002.h5", 100, 20)]
    charset = manifest["charset"]
    for shard in manifest["shards"]:
        path = ds / shard["file"]
        assert file_sha256(path) == shard["sha256"] and path.stat().st_size == shard["bytes"]
        with h5py.File(path, "r") as f:
            assert f.attrs["format_version"] == 1 and f.attrs["width"] == 256 and f.attrs["height"] == 32
            assert f.attrs["shard_index"] == shard["index"] and f.attrs["first_index"] == shard["first"]
            assert json.loads(f.attrs["charset"]) == charset
            images = f["images"]
            assert images.shape == (shard["count"], 32, 256) and images.dtype == np.uint8
            assert images.chunks[0] <= 64 and images.compression is None
            labels, lengths, texts = f["labels"][:], f["label_length"][:], f["text"].asstr()[:]
            assert labels.shape == (shard["count"], 10)
            for ids, n, text in zip(labels, lengths, texts):
                assert "".join(charset[i] for i in ids[:n]) == text
                assert np.all(ids[n:] == -1)
            assert np.array_equal(f["params/index"][:], np.arange(shard["first"], shard["first"] + shard["count"]))
            assert set(f["params"]) >= {"font_id", "font_size", "x", "y", "angle", "mirror", "upside_down",
                                        "noise_level", "index"}
    assert (ds / "README.md").read_text().count("h5py") >= 2
    assert (ds / "preview.png").stat().st_size > 1000


def test_one_and_two_workers_write_identical_shards(tmp_path):
    render(small_config(), tmp_path / "one", progress=False)
    two = small_config()
    two.output.workers = "2"
    render(two, tmp_path / "two", progress=False)
    assert_same_arrays(read_arrays(tmp_path / "one"), read_arrays(tmp_path / "two"))
    for name in ("shard-00000.h5", "shard-00001.h5", "shard-00002.h5"):
        assert file_sha256(tmp_path / "one" / name) == file_sha256(tmp_path / "two" / name)


def test_gzip_compression_keeps_the_arrays(tmp_path):
    render(small_config(output__compression="none"), tmp_path / "plain", progress=False)
    render(small_config(output__compression="gzip"), tmp_path / "gz", progress=False)
    assert_same_arrays(read_arrays(tmp_path / "plain"), read_arrays(tmp_path / "gz"))
    with h5py.File(tmp_path / "gz" / "shard-00000.h5") as f:
        assert f["images"].compression == "gzip"


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    args = ["render", "--n", "600", "--shard-size", "100", "--width", "256", "--height", "32", "--max-len", "10",
            "--workers", "1", "--quiet"]
    assert run_subprocess(*args, "--out", tmp_path / "whole").returncode == 0
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "textsynth", *args, "--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if len(json.loads((killed / "manifest.json").read_text())["shards"]) >= 1:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    manifest = Manifest.read(killed)
    assert not manifest.complete and 1 <= len(manifest.shards) < 6
    for record in manifest.shards:  # everything the manifest lists is whole
        assert file_sha256(killed / record.file) == record.sha256
    done = run_subprocess(*args, "--out", killed)
    assert done.returncode == 0, done.stderr
    assert Manifest.read(killed).complete
    assert not list(killed.glob("*.partial"))
    assert_same_arrays(read_arrays(tmp_path / "whole"), read_arrays(killed))
    shas = [[s.sha256 for s in Manifest.read(d).shards] for d in (killed, tmp_path / "whole")]
    assert shas[0] == shas[1]


def test_truncated_shard_is_rendered_again_on_resume(tmp_path):
    out = tmp_path / "ds"
    render(small_config(), out, progress=False)
    before = read_arrays(out)
    victim = out / "shard-00001.h5"
    untouched = (out / "shard-00000.h5").stat().st_mtime_ns
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    result = render(small_config(), out, progress=False)
    assert result.rendered == 50  # only the damaged shard
    assert (out / "shard-00000.h5").stat().st_mtime_ns == untouched
    assert_same_arrays(before, read_arrays(out))


def test_complete_dataset_is_left_alone(tmp_path):
    render(small_config(), tmp_path / "ds", progress=False)
    assert render(small_config(), tmp_path / "ds", progress=False).rendered == 0


def test_a_different_config_is_refused_with_what_differs(tmp_path, run_cli):
    out = tmp_path / "ds"
    render(small_config(), out, progress=False)
    code, _, err = run_cli("render", "--n", "120", "--shard-size", "50", "--width", "256", "--height", "32",
                           "--max-len", "10", "--seed", "5", "--out", out)
    assert code == 2 and "seed: 0 -> 5" in err and "--overwrite" in err
    assert err.count("\n") == 1
    code, _, err = run_cli("render", "--n", "120", "--shard-size", "50", "--width", "256", "--height", "32",
                           "--max-len", "10", "--seed", "5", "--out", out, "--overwrite", "--quiet")
    assert code == 0, err
    assert Manifest.read(out).seed == 5


def test_a_render_started_before_tight_lines_existed_resumes_and_the_flag_sets_the_share(tmp_path, run_cli):
    cfg = small_config(n=50, output__shard_size=25)
    render(cfg, tmp_path / "ds", progress=False)
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    del manifest["config"]["typeset"]["tight"]
    manifest["shards"], manifest["complete"] = manifest["shards"][:1], False
    (tmp_path / "ds" / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "ds" / "shard-00001.h5").unlink()
    render(cfg, tmp_path / "ds", progress=False)
    assert Manifest.read(tmp_path / "ds").complete
    code, out, _ = run_cli("config", "--tight", "0.3")
    assert code == 0 and "tight = 0.3\n" in out
    code, _, err = run_cli("config", "--tight", "1")
    assert code == 2 and "typeset.tight must be a share in [0, 1)" in err and err.count("\n") == 1


def test_n_accepts_scientific_and_underscored_counts(tmp_path, run_cli):
    for spelling in ("1e3", "1_000", "1000"):
        code, out, err = run_cli("config", "--n", spelling)
        assert code == 0 and "n = 1000\n" in out, err


@pytest.mark.parametrize("args, message", [
    (["--n", "0"], "--n must be positive"),
    (["--n", "-5"], "--n must be positive"),
    (["--n", "abc"], "--n must be a positive whole number"),
    (["--n", "1.5"], "--n must be a whole number"),
    (["--width", "8"], "width must be at least 16"),
    (["--height", "0"], "height must be at least 16"),
    (["--shard-size", "0"], "--shard-size must be positive"),
    (["--workers", "0"], "workers must be auto or a whole number in 1..1024"),
    (["--min-len", "9", "--max-len", "4"], "max-len (4) is below min-len (9)"),
    (["--fonts", "{empty}"], "holds no .ttf or .otf files"),
    (["--fonts", "{corrupt}"], "bad.ttf is not a readable TrueType/OpenType font"),
    (["--charset", "ab\u16a0"], "no font draws these charset characters"),
    (["--text", "words:{tmp}/missing.txt"], "missing.txt does not exist"),
    (["--out", "{file}"], "exists and is not a folder"),
    (["--out", "/proc/textsynth-cannot-write-here"], "cannot create output folder"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, run_cli, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "bad.ttf").write_bytes(b"\0" * 100)
    (tmp_path / "a-file").write_text("x")
    places = {"empty": tmp_path / "empty", "corrupt": tmp_path / "corrupt", "file": tmp_path / "a-file",
              "tmp": tmp_path}
    args = [a.format(**places) for a in args]
    out = tmp_path / "out"
    full = ["render", "--n", "10", "--out", out, "--quiet", *args]
    if "--out" in args:
        full = ["render", "--n", "10", "--quiet", *args]
    code, stdout, err = run_cli(*full)
    assert code != 0
    assert message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_bad_input_from_the_real_command_has_no_traceback():
    done = run_subprocess("render", "--n", "abc")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("textsynth: error:") and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_not_enough_disk_space_is_refused_with_the_estimate(tmp_path, monkeypatch):
    import shutil as real_shutil

    from textsynth import TextsynthError

    usage = real_shutil.disk_usage(tmp_path)
    monkeypatch.setattr("textsynth.pipeline.shutil.disk_usage", lambda p: usage._replace(free=1000))
    with pytest.raises(TextsynthError, match=r"needs about \d\.\d MB, 1\.0 KB is free"):
        render(small_config(), tmp_path / "full", progress=False)
    assert not (tmp_path / "full").exists()


def test_corpus_lines_that_cannot_fit_the_canvas_are_redrawn_and_counted(tmp_path):
    corpus = tmp_path / "lines.txt"
    corpus.write_text("WWWWWWWWWW\nab cd\n", encoding="utf-8")  # 10 W: too wide even for a condensed face
    cfg = small_config(n=30, output__shard_size=15)
    cfg.canvas.width, cfg.canvas.height = 48, 32
    cfg.text.source, cfg.text.upper = f"lines:{corpus}", 0.0
    result = render(cfg, tmp_path / "ds", progress=False)
    redrawn = result.manifest.text_source["redrawn_not_fitting"]
    assert set(redrawn) == {"0", "1"} and sum(redrawn.values()) > 5
    assert "did not fit the canvas and were redrawn" in result.summary()
    assert set(read_arrays(tmp_path / "ds")["text"]) == {b"ab cd"}


def test_toml_config_is_loaded_and_flags_override_it(tmp_path, run_cli):
    import tomllib

    path = tmp_path / "my.toml"
    path.write_text('seed = 5\n[canvas]\nwidth = 256\n[augment]\nmirror = 0.25\n', encoding="utf-8")
    code, out, err = run_cli("config", "--config", path, "--width", "128", "--n", "2e3")
    assert code == 0, err
    resolved = tomllib.loads(out)
    assert resolved["seed"] == 5 and resolved["canvas"]["width"] == 128 and resolved["n"] == 2000
    assert resolved["augment"]["mirror"] == 0.25 and resolved["canvas"]["height"] == 64
    path.write_text('[canvas]\nwidht = 256\n', encoding="utf-8")
    code, _, err = run_cli("config", "--config", path)
    assert code == 2 and "unknown setting 'canvas.widht'" in err and err.count("\n") == 1
    path.write_text('seed = "five"\n', encoding="utf-8")
    code, _, err = run_cli("config", "--config", path)
    assert code == 2 and "seed must be int" in err


def test_version_flag_prints_the_package_version():
    from textsynth import __version__

    done = run_subprocess("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"textsynth {__version__}" and not done.stderr


def test_a_render_worker_tells_loky_its_bounded_caches_are_no_leak(tmp_path, monkeypatch):
    # loky replaces a worker whose memory grew 300 MB since its first task ("a worker stopped ... memory leak"),
    # which a long render's glyph cache alone reaches: the worker raises that bound for itself, not past 1 GB
    from joblib.externals.loky import process_executor

    from textsynth import pipeline
    from textsynth.generator import SampleGenerator
    from textsynth.layout import GLYPH_CACHE_BYTES

    monkeypatch.setattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", int(3e8))
    monkeypatch.setattr(pipeline, "_GENERATORS", {})
    config = small_config(n=20, output__shard_size=20)
    pipeline.render_shard(pipeline.ShardJob(config.to_dict(), SampleGenerator(config).fontset, str(tmp_path), 0, 0, 20))
    assert process_executor._MAX_MEMORY_LEAK_SIZE == pipeline.WORKER_GROWTH_BYTES == 1 << 30
    assert pipeline.WORKER_GROWTH_BYTES > 3 * GLYPH_CACHE_BYTES
