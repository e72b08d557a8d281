"""Issue 22: the promises past the shards. A refused write leaves its target untouched, one writer per output
folder, --overwrite deletes only textsynth's files, exports are whole or absent, bad fonts/backgrounds/
families.toml/configs are one line naming the culprit, printed dataset text is escaped, SIGTERM is Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import REPO
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from PIL import Image

import textsynth.export
from textsynth import TextsynthError
from textsynth.charset import Charset
from textsynth.effects.background import Backdrops
from textsynth.export import export_folder, partial_path
from textsynth.fileio import file_sha256
from textsynth.folder_lock import LOCK_NAME, folder_lock
from textsynth.fonts import FontSet, read_families_file
from textsynth.format import column_bytes_per_sample, max_shard_size
from textsynth.terminal import printable

TINY = ["--n", "8", "--shard-size", "4", "--width", "48", "--height", "16", "--min-len", "2", "--max-len", "4",
        "--workers", "1", "--quiet"]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "TEXTSYNTH_CACHE_DIR": ""}


def start_textsynth(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "textsynth", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=REPO, **kwargs)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its sha256: equal snapshots mean nothing was touched."""
    return {str(p.relative_to(folder)): file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("promises") / "ds"
    proc = start_textsynth("render", *TINY, "--out", out)
    assert proc.wait(120) == 0, proc.stderr.read()
    return out


# --- 1. a refused write never destroys its target -----------------------------------------------------------

@pytest.mark.parametrize("name", ["shard-00000.h5", "manifest.json", "x.h5", "x.hdf", "x.grib", "x.bufr",
                                  "x.wmf", "x.emf", "x.fits", "preview.png", "noext"])
def test_preview_refuses_a_target_it_cannot_write_and_leaves_it_untouched(ds, run_cli, name):
    before = snapshot(ds)
    target = ds / name
    code, _, err = run_cli("preview", ds, "--out", target, "--n", "2")
    assert code == 2 and err.count("\n") == 1 and str(target) in err, err
    assert snapshot(ds) == before


def test_sample_refuses_an_hdf5_target_before_rendering(tmp_path, run_cli):
    target = tmp_path / "x.h5"
    target.write_bytes(b"precious")
    code, _, err = run_cli("sample", "--n", "2", "--out", target)
    assert code == 2 and "x.h5" in err and target.read_bytes() == b"precious"


def test_a_sheet_replaces_its_target_through_a_temporary_name(ds, tmp_path, run_cli):
    target = tmp_path / "sheet.png"
    target.write_bytes(b"old")
    code, _, err = run_cli("preview", ds, "--out", target, "--n", "2")
    assert code == 0, err
    assert Image.open(target).format == "PNG" and [p.name for p in tmp_path.iterdir()] == ["sheet.png"]


# --- 2. one render or export at a time per folder -----------------------------------------------------------

def test_a_render_into_a_folder_another_run_holds_touches_nothing(ds, run_cli):
    before = snapshot(ds)
    with folder_lock(ds, "render"):
        code, _, err = run_cli("render", *TINY, "--out", ds, "--overwrite")
        held = snapshot(ds)
    assert code == 2 and err.count("\n") == 1
    assert str(ds) in err and f"pid {os.getpid()}" in err, err
    held.pop(LOCK_NAME)
    assert held == before and not (ds / LOCK_NAME).exists()


def test_two_renders_started_together_leave_one_whole_dataset(tmp_path):
    out = tmp_path / "two"
    args = ["render", *TINY[:1], "600", *TINY[2:3], "100", *TINY[4:], "--out", out]
    procs = [start_textsynth(*args) for _ in range(2)]
    results = [(p.wait(180), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    # Usually one waits on the other's lock (exit 2 naming it); if one finished first, the other resumed it.
    assert codes in ([0, 0], [0, 2]), results
    for code, err in results:
        if code == 2:
            assert "is in use by another textsynth render (pid " in err and str(out) in err
    verify = subprocess.run([sys.executable, "-m", "textsynth", "verify", out], capture_output=True, text=True,
                            env=ENV, cwd=REPO)
    assert verify.returncode == 0, verify.stdout
    assert not (out / LOCK_NAME).exists()


def test_the_lock_of_a_killed_run_does_not_block_the_next(tmp_path, run_cli):
    out = tmp_path / "ds"
    code = ("import sys, os\nfrom pathlib import Path\nfrom textsynth.folder_lock import folder_lock\n"
            "with folder_lock(Path(sys.argv[1]), 'render'):\n    os.kill(os.getpid(), 9)\n")
    killed = subprocess.run([sys.executable, "-c", code, str(out)], env=ENV)
    assert killed.returncode == -9 and (out / LOCK_NAME).exists()
    code, _, err = run_cli("render", *TINY, "--out", out)
    assert code == 0, err


def test_an_export_into_a_folder_another_export_builds_is_refused(ds, tmp_path, run_cli):
    out = tmp_path / "e"
    with folder_lock(partial_path(out), "export", shown=out):
        code, _, err = run_cli("export", ds, "--format", "folder", "--out", out, "--quiet")
    assert code == 2 and f"pid {os.getpid()}" in err and str(out) in err, err
    assert not out.exists()


# --- 3. --overwrite deletes only what is textsynth's -------------------------------------------------------

def test_overwrite_refuses_a_folder_with_files_that_are_not_the_datasets(tmp_path, run_cli):
    out = tmp_path / "mixed"
    out.mkdir()
    for name in ("README.md", "preview.png", "shard-00007.h5.bak", "shard-9.h5", "notes.txt"):
        (out / name).write_text(name)
    before = snapshot(out)
    code, _, err = run_cli("render", *TINY, "--out", out, "--overwrite")
    assert code == 2 and err.count("\n") == 1, err
    assert all(name in err for name in ("README.md", "shard-00007.h5.bak", "shard-9.h5", "notes.txt")), err
    assert snapshot(out) == before


def test_overwrite_replaces_a_dataset_and_its_leftovers_but_refuses_a_stranger(ds, tmp_path, run_cli):
    out = tmp_path / "ds"
    code, _, err = run_cli("render", *TINY, "--out", out)
    assert code == 0, err
    (out / "shard-00001.h5.123.partial").write_bytes(b"left by a killed worker")
    code, _, err = run_cli("render", *TINY, "--seed", "5", "--out", out, "--overwrite")
    assert code == 0, err
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    assert not (out / "shard-00001.h5.123.partial").exists()
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    code, _, err = run_cli("render", *TINY, "--seed", "6", "--out", out, "--overwrite")
    assert code == 2 and "notes.txt" in err and snapshot(out) == before


# --- 4. an export is whole or absent, and its messages are true ----------------------------------------------

def test_an_interrupted_export_leaves_nothing_and_the_same_command_then_works(ds, tmp_path, run_cli, monkeypatch):
    out = tmp_path / "e"
    real, calls = textsynth.export._png, []

    def interrupted_png(image):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(image)

    monkeypatch.setattr(textsynth.export, "_png", interrupted_png)
    code, _, err = run_cli("export", ds, "--format", "folder", "--out", out, "--quiet")
    assert code == 130 and "run the same command again" in err and "nothing was exported" in err, err
    assert not out.exists() and not partial_path(out).exists()
    monkeypatch.setattr(textsynth.export, "_png", real)
    code, _, err = run_cli("export", ds, "--format", "folder", "--out", out, "--quiet")
    assert code == 0, err
    assert len((out / "labels.tsv").read_text().splitlines()) == 8 and len(list((out / "images").iterdir())) == 8


def test_an_export_killed_midway_is_started_over(ds, tmp_path):
    out = tmp_path / "e"
    build = partial_path(out)
    (build / "images").mkdir(parents=True)
    (build / "images" / "000000000.png").write_bytes(b"half")
    (build / "labels.tsv").write_text("images/000000000.png\tx\n")
    assert export_folder(textsynth.open_dataset(ds), out, progress=False) == 8
    assert not build.exists() and sorted(p.name for p in out.iterdir()) == ["images", "labels.tsv"]
    assert len(list((out / "images").iterdir())) == 8


# --- 5 and 10. families.toml checked at load ----------------------------------------------------------------

@pytest.mark.parametrize("text, culprit", [
    ('[faces."a.ttf"]\nfamily = 5\n', 'faces."a.ttf".family'),
    ('[faces."a.ttf"]\nstyle = 7\n', 'faces."a.ttf".style'),
    ('[families.X]\nlicence = ["a"]\n', 'families."X".licence'),
    ('[families.X]\nfiles = "a.ttf"\n', 'families."X".files'),
    ("Foo = 3\n", "'Foo'"),
    ('"f.ttf" = "x"\n', "'f.ttf'"),
    ('[faces]\n"f.ttf" = "x"\n', 'faces."f.ttf"'),
    ('[faces."a.ttf"]\ncolour = "red"\n', 'faces."a.ttf".colour'),
])
def test_a_bad_families_file_is_one_line_naming_file_and_key(tmp_path, text, culprit):
    (tmp_path / "families.toml").write_text(text)
    with pytest.raises(TextsynthError) as err:
        read_families_file(tmp_path)
    assert str(tmp_path / "families.toml") in str(err.value) and culprit in str(err.value)


def test_a_families_file_that_is_not_utf8_is_one_line(tmp_path):
    (tmp_path / "families.toml").write_bytes(b'[families.X]\nclass = "\xff"\n')
    with pytest.raises(TextsynthError, match="not UTF-8"):
        read_families_file(tmp_path)


def test_a_bad_families_file_stops_a_render_before_it_writes(tmp_path, run_cli):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "a.ttf").write_bytes((REPO / "fonts" / "DejaVuSans.ttf").read_bytes())
    (fonts / "families.toml").write_text('[faces."a.ttf"]\nstyle = 7\n')
    code, _, err = run_cli("render", *TINY, "--fonts", fonts, "--out", tmp_path / "ds")
    assert code == 2 and "style" in err and not (tmp_path / "ds").exists(), err


# --- 7 and 10. fonts that are huge, cover everything, overflow the rasterizer or have no advances -----------

def tiny_font(path: Path, *, advance: int = 600, far: bool = False, everything: bool = False) -> Path:
    """A two-glyph TrueType font drawing 'a', 'b', 'c' as boxes: `far` adds a point at (30000, 30000),
    `everything` maps every code point (cmap format 13, a few bytes)."""
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "box"])
    fb.setupCharacterMap({ord(c): "box" for c in "abc"})

    def box(x0: int, x1: int) -> object:
        pen = TTGlyphPen(None)
        for contour in [((x0, 0), (x0, 700), (x1, 700), (x1, 0))] + ([((30000, 30000), (30010, 30000),
                                                                       (30010, 30010))] if far else []):
            pen.moveTo(contour[0])
            for point in contour[1:]:
                pen.lineTo(point)
            pen.closePath()
        return pen.glyph()

    fb.setupGlyf({".notdef": box(50, 450), "box": box(100, 500)})
    fb.setupHorizontalMetrics({".notdef": (advance, 50), "box": (advance, 100)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Tiny", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    if everything:
        sub = CmapSubtable.newSubtable(13)
        sub.platformID, sub.platEncID, sub.language = 0, 6, 0
        sub.cmap = {cp: "box" for cp in range(0x110000) if not 0xD800 <= cp < 0xE000}
        fb.font["cmap"].tables.append(sub)
    fb.save(path)
    return path


@pytest.fixture
def no_font_cache(monkeypatch):
    monkeypatch.setenv("TEXTSYNTH_CACHE_DIR", "")


@pytest.mark.parametrize("kind, message", [("far", r"cannot be rasterized \(raster overflow\)"),
                                           ("zero", "zero advance width")])
def test_a_font_the_rasterizer_cannot_use_is_one_line_naming_it(tmp_path, no_font_cache, kind, message):
    font = tiny_font(tmp_path / f"{kind}.ttf", far=kind == "far", advance=0 if kind == "zero" else 600)
    with pytest.raises(TextsynthError, match=message) as err:
        FontSet.load(tmp_path, Charset("abc"))
    assert str(font) in str(err.value)


def test_a_font_whose_cmap_covers_every_code_point_loads(tmp_path, no_font_cache):
    tiny_font(tmp_path / "all.ttf", everything=True)
    fontset = FontSet.load(tmp_path, Charset("abcé"))
    assert fontset.coverage[0] >= set("abc")


def test_a_huge_sparse_font_file_is_refused_before_it_is_read(tmp_path, no_font_cache):
    with open(tmp_path / "huge.ttf", "wb") as f:
        f.truncate(1 << 30)  # 1 GB, sparse: no disk used
    with pytest.raises(TextsynthError, match=r"huge\.ttf is 1,024 MiB"):
        FontSet.load(tmp_path, Charset("abc"))


def test_infinite_family_weights_are_refused(run_cli, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[fonts.family_weights]\n"DejaVu Sans" = inf\n')
    code, _, err = run_cli("config", "--config", config)
    assert code == 2 and "finite" in err, err


# --- 7 and 10. backgrounds: strips, huge images, chunks that inflate ----------------------------------------

def png(width: int, height: int, rows: bytes | None = None, extra: bytes = b"") -> bytes:
    """A grayscale PNG; `rows` defaults to one zero row repeated (so a huge image is a few KB to store)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = rows if rows is not None else b"\0" * (width + 1) * height
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def test_a_one_pixel_strip_background_is_cut_not_blown_up(tmp_path):
    strip = np.random.default_rng(0).integers(0, 255, (2000, 1), np.uint8)
    Image.fromarray(strip).save(tmp_path / "strip.png")
    started = time.perf_counter()
    images = Backdrops(str(tmp_path), 512, 64).images
    assert images[0].shape[0] >= 64 and images[0].shape[1] >= 512
    assert images[0].nbytes <= 4 * 2048 * 2048 and time.perf_counter() - started < 5


def test_a_huge_background_is_refused_with_a_clear_bound_and_no_warning(tmp_path, capfd):
    (tmp_path / "big.png").write_bytes(png(12000, 12000))
    with pytest.raises(TextsynthError, match=r"big\.png is 12000x12000 pixels, more than the 67,108,864"):
        Backdrops(str(tmp_path), 512, 64)
    assert "DecompressionBomb" not in capfd.readouterr().err


@pytest.mark.parametrize("kind", [b"zTXt", b"iCCP"])
def test_a_background_whose_chunk_inflates_to_50_mb_is_one_line(tmp_path, kind):
    bomb = zlib.compress(bytes(50 << 20), 9)
    data = (b"Comment\0\0" if kind == b"zTXt" else b"profile\0\0") + bomb
    chunk = struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    (tmp_path / "bomb.png").write_bytes(png(600, 70, extra=chunk))
    with pytest.raises(TextsynthError, match=r"background image .*bomb\.png cannot be read"):
        Backdrops(str(tmp_path), 512, 64)


# --- 9. text from a dataset is escaped when printed ---------------------------------------------------------

def test_inspect_escapes_terminal_controls_from_a_hostile_manifest(ds, tmp_path, run_cli):
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    for p in ds.iterdir():
        (hostile / p.name).write_bytes(p.read_bytes())
    data = json.loads((hostile / "manifest.json").read_text())
    evil = "\x1b]0;owned\x07\x1b[2J\u202eFAKE: all shards verified OK\x9b"
    for k, font in enumerate(data["fonts"]):
        font["file"] = f"{evil}{k}"
    (hostile / "manifest.json").write_text(json.dumps(data))
    code, out, err = run_cli("inspect", hostile)
    assert code == 0 and not any(c in out for c in "\x1b\x07\u202e\x9b") and "\\x1b]0;owned" in out, err
    code, out, _ = run_cli("inspect", hostile, "--json")
    assert code == 0 and not any(c in out for c in "\x1b\x07\u202e\x9b")
    assert all(name.startswith(evil) for name in json.loads(out)["fonts"])  # the JSON says what the manifest says


def test_printable_escapes_controls_and_keeps_text():
    assert printable("é ü 日本 a\tb\x1b[31m\u200b") == "é ü 日本 a\\x09b\\x1b[31m\\u200b"
    assert printable("x\ny", keep_newlines=True) == "x\ny" and printable("x\ny") == "x\\x0ay"


# --- 10. verify fails a font id the manifest does not list -------------------------------------------------

def test_verify_fails_a_font_id_outside_the_manifests_fonts(ds, tmp_path, run_cli):
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in ds.iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    with h5py.File(bad / "shard-00000.h5", "r+") as f:
        f["params/font_id"][1] = 999
    data = json.loads((bad / "manifest.json").read_text())
    data["shards"][0]["sha256"] = file_sha256(bad / "shard-00000.h5")
    data["shards"][0]["bytes"] = (bad / "shard-00000.h5").stat().st_size
    (bad / "manifest.json").write_text(json.dumps(data))
    code, out, _ = run_cli("verify", bad)
    assert code == 1 and "sample 1: params/font_id 999 is not one of the manifest's" in out, out
    data["fonts"] = []
    (bad / "manifest.json").write_text(json.dumps(data))
    code, out, _ = run_cli("verify", bad)
    assert code == 1 and "BAD shard-00001.h5" in out, out


# --- 10 and Smaller: configs, seeds and charsets refused with one short line --------------------------------

def test_a_huge_toml_integer_for_a_float_is_one_line(tmp_path, run_cli):
    config = tmp_path / "c.toml"
    config.write_text(f"[augment]\nmax_angle = 1{'0' * 400}\n")
    code, _, err = run_cli("config", "--config", config)
    assert code == 2 and "augment.max_angle" in err and "internal" not in err, err


def test_preview_refuses_a_negative_seed(ds, tmp_path, run_cli):
    code, _, err = run_cli("preview", ds, "--out", tmp_path / "p.png", "--random", "--seed", "-1")
    assert code == 2 and "--seed" in err and not (tmp_path / "p.png").exists(), err


def test_a_combining_mark_that_composes_with_a_charset_symbol_is_refused_up_front():
    with pytest.raises(TextsynthError, match="U\\+0301"):
        Charset(["\u0301", "a", "b"])
    Charset(["\u0301", "a", "á"])  # the composed character is there: texts are labelled fine
    Charset(list("कखग") + ["\u093f", "\u094d"])  # Devanagari vowel signs and virama compose with nothing


def test_a_huge_charset_error_is_a_short_line(run_cli):
    symbols = "".join(chr(cp) for cp in range(0x4E00, 0x4E00 + 20_000)) + "\x01"
    code, _, err = run_cli("fonts", "--charset", symbols)
    assert code == 2 and len(err) < 3000 and err.count("\n") == 1, err[:300]


# --- 11. signals -------------------------------------------------------------------------------------------

def test_sigterm_during_a_render_is_like_ctrl_c_and_the_rerun_resumes(tmp_path):
    out = tmp_path / "ds"
    # long enough (several seconds) that the signal lands mid-render, not after it, on a loaded machine too
    args = ["render", "--n", "20000", "--shard-size", "50", "--width", "96", "--height", "24", "--max-len", "6",
            "--workers", "1", "--quiet", "--out", out]
    # Started with SIGTERM blocked, as a parent may leave it (loky blocks it while it spawns): textsynth unblocks
    # it, else the render runs to its end and exits 0 with nothing said, as this test saw twice in full-suite runs.
    proc = start_textsynth(*args, preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}))
    deadline = time.monotonic() + 60
    while not (out / "shard-00000.h5").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    code, err = proc.wait(60), proc.stderr.read()
    assert code == 143 and err.startswith("textsynth: terminated;") and err.count("\n") == 1, err
    assert not list(out.glob("*.partial")) and not (out / LOCK_NAME).exists()
    rerun = start_textsynth(*args)
    assert rerun.wait(120) == 0, rerun.stderr.read()


def test_ctrl_c_while_modules_import_prints_one_line_and_no_traceback():
    code = ("import builtins, runpy, sys\n"
            "real = builtins.__import__\n"
            "def interrupted(name, *args, **kwargs):\n"
            "    if name == 'numpy' or name.startswith('numpy.'):\n"
            "        raise KeyboardInterrupt\n"
            "    return real(name, *args, **kwargs)\n"
            "builtins.__import__ = interrupted\n"
            "sys.argv = ['textsynth', 'inspect', 'x']\n"
            "runpy.run_module('textsynth', run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=REPO)
    assert proc.returncode == 130 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_the_package_imports_nothing_heavy_until_used():
    code = "import sys, textsynth\nprint('numpy' in sys.modules)\nprint(textsynth.Charset('ab').symbols)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=REPO)
    assert proc.stdout.split("\n")[:2] == ["False", "('a', 'b')"], proc.stderr


def test_the_family_check_reads_the_bundled_families_file():
    families, faces = read_families_file(REPO / "fonts")
    assert families and all(isinstance(e.get("files", []), list) for e in families.values())


def test_format_md_states_the_shard_size_limits_the_code_enforces():
    text = (REPO / "FORMAT.md").read_text()
    per_sample = re.search(r"`8 \* max_len \+ (\d+)` bytes a sample", text)
    at_16, at_1000 = re.search(r"([\d,]+) samples at `max_len` 16, ([\d,]+) at 1000", text).groups()
    assert int(per_sample.group(1)) == column_bytes_per_sample(16) - 8 * 16
    assert (int(at_16.replace(",", "")), int(at_1000.replace(",", ""))) == (max_shard_size(16), max_shard_size(1000))
