import os
import shutil

import numpy as np
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont

from textsynth import Charset, FontSet, RenderConfig, SampleGenerator, TextsynthError
from textsynth.fonts import bundled_fonts_dir

SANS = bundled_fonts_dir() / "LiberationSans-Regular.ttf"


def make_subset(src, dst, chars: str, remap: dict[str, str] | None = None):
    """Write a copy of `src` drawing only `chars`; `remap` points extra characters at other glyphs."""
    options = subset.Options()
    options.notdef_outline = True
    font = TTFont(src)
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[ord(c) for c in chars])
    sub.subset(font)
    for table in font["cmap"].tables:
        for char, glyph in (remap or {}).items():
            table.cmap[ord(char)] = glyph
    font.save(dst)


def test_bundled_fonts_cover_the_default_charset():
    fs = FontSet.load(None, Charset.default())
    assert len(fs) >= 10
    assert fs.uncovered() == []
    families = {f.family for f in fs.fonts}
    assert any("Mono" in f for f in families) and any("Serif" in f for f in families)
    assert all(f.licence != "unknown" and len(f.sha256) == 64 for f in fs.fonts)


def test_a_font_lacking_glyphs_is_never_used_for_them(tmp_path):
    shutil.copy(SANS, tmp_path / "full.ttf")
    make_subset(SANS, tmp_path / "partial.ttf", "abc")
    charset = Charset.from_string("abcxyz")
    fs = FontSet.load(tmp_path, charset)
    names = [f.name for f in fs.fonts]
    partial = names.index("partial.ttf")
    assert fs.coverage[partial] == frozenset("abc")
    assert fs.covering("cab") == (0, 1)
    assert fs.covering("abx") == (names.index("full.ttf"),)
    cfg = RenderConfig(n=1)
    cfg.text.charset = "abcxyz"
    cfg.fonts.dir = str(tmp_path)
    gen = SampleGenerator(cfg)
    for i in range(300):
        p = gen.params(i)
        if p.font_id == partial:
            assert set(p.text) <= set("abc")


def test_cmap_entries_that_draw_nothing_or_the_notdef_box_are_not_coverage(tmp_path):
    # 'q' points at the blank space glyph, 'z' at the .notdef box: both are in the cmap but draw no letter.
    make_subset(SANS, tmp_path / "liar.ttf", "ab ", remap={"q": "space", "z": ".notdef"})
    fs = FontSet.load(tmp_path, Charset.from_string("abqz "))
    assert fs.coverage[0] == frozenset("ab ")
    with pytest.raises(TextsynthError, match="no font draws these charset characters: 'q', 'z'"):
        fs.require_full_charset()


def test_charset_character_without_a_font_is_an_error_before_rendering():
    cfg = RenderConfig(n=1)
    cfg.text.charset = "abc\u16a0"  # a runic letter: no bundled face draws it (DotGothic16 draws CJK ones)
    with pytest.raises(TextsynthError, match="no font draws these charset characters: '\u16a0'"):
        SampleGenerator(cfg)


def test_empty_and_corrupt_font_folders_are_clear_errors(tmp_path):
    with pytest.raises(TextsynthError, match="holds no .ttf or .otf files"):
        FontSet.load(tmp_path, Charset.default())
    (tmp_path / "broken.ttf").write_bytes(b"this is not a font" * 10)
    with pytest.raises(TextsynthError, match="broken.ttf is not a readable"):
        FontSet.load(tmp_path, Charset.default())


def test_fonts_command_prints_coverage(run_cli, tmp_path):
    make_subset(SANS, tmp_path / "partial.ttf", "abc")
    code, out, _ = run_cli("fonts", "--fonts", tmp_path, "--charset", "abcd")
    assert code == 1
    assert "partial.ttf" in out and "3/4" in out and "'d'" in out
    code, out, _ = run_cli("fonts")
    assert code == 0 and "68/68" in out


def test_glyph_render_is_nonempty_ink():
    """Every charset character of every bundled font paints visible ink through the painter's glyph cache."""
    cfg = RenderConfig()
    cfg.augment.noise = 0.0
    cfg.effects.enabled = False  # plain ink on plain paper
    gen = SampleGenerator(cfg)
    template = gen.params(0).replace(angle=0.0, blur=0.0, noise_level=0.0, mirror=False, upside_down=False,
                                     background=255, foreground=0, font_size=24, x=8, y=8)
    # every face draws the whole charset, but for the all-caps Bebas Neue's lower case
    assert all(len(cov) == len(gen.charset) or gen.fontset.fonts[i].family == "Bebas Neue"
               for i, cov in enumerate(gen.fontset.coverage))
    for font_id in range(len(gen.fontset.fonts)):
        for char in gen.charset.symbols:
            if char == " " or char not in gen.fontset.coverage[font_id]:
                continue
            image = gen.painter.paint(template.replace(text=char, font_id=font_id))
            assert image.min() < 128, (gen.fontset.fonts[font_id].path, char)


# --- families, weighting, folders, the seed preset, the bundled set ----------------------------------------

BUNDLED_SANS = ["LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSans-Italic.ttf",
                "LiberationSans-BoldItalic.ttf", "LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf",
                "LiberationSerif-Italic.ttf", "LiberationSerif-BoldItalic.ttf"]


def two_families(tmp_path, small_files=("DejaVuSans.ttf",)):
    """A folder with family Big (8 faces) and family Small (len(small_files) faces), named in families.toml."""
    for name in (*BUNDLED_SANS, *small_files):
        if not (tmp_path / name).exists():
            shutil.copy(bundled_fonts_dir() / name, tmp_path / name)
    big = ", ".join(f'"{n}"' for n in BUNDLED_SANS)
    small = ", ".join(f'"{n}"' for n in small_files)
    (tmp_path / "families.toml").write_text(
        f'[families.Big]\nclass = "sans"\nfiles = [{big}]\n\n[families.Small]\nclass = "serif"\nfiles = [{small}]\n')
    return tmp_path


def share_of(fs, family, text="abc", n=20000):
    rng = np.random.default_rng(7)
    picks = np.array([fs.sample(rng, text) for _ in range(n)])
    return np.isin(picks, fs.families()[family]).mean()


def test_family_weighting_balances_a_big_and_a_small_family(tmp_path):
    two_families(tmp_path)
    cs = Charset.default()
    fs = FontSet.load(tmp_path, cs, weighting="family")
    assert {f: len(ids) for f, ids in fs.families().items()} == {"Big": 8, "Small": 1}
    assert fs.fonts[fs.families()["Small"][0]].font_class == "serif"
    assert abs(share_of(fs, "Small") - 0.5) < 0.02  # 1 face gets half the samples, 8 faces share the rest
    assert fs.probabilities()[fs.families()["Small"][0]] == pytest.approx(0.5)
    by_face = FontSet.load(tmp_path, cs, weighting="face")
    assert abs(share_of(by_face, "Small") - 1 / 9) < 0.015
    weighted = FontSet.load(tmp_path, cs, weighting="family", family_weights={"Small": 3.0})
    assert abs(share_of(weighted, "Small") - 0.75) < 0.02
    with pytest.raises(TextsynthError, match="not loaded: Nope"):
        FontSet.load(tmp_path, cs, family_weights={"Nope": 1.0})


def test_family_weighting_only_counts_faces_that_cover_the_text(tmp_path):
    make_subset(SANS, tmp_path / "partial.ttf", "abc")
    two_families(tmp_path, small_files=("partial.ttf", "DejaVuSans.ttf"))
    fs = FontSet.load(tmp_path, Charset.from_string("abcxyz"), weighting="family")
    partial = [f.name for f in fs.fonts].index("partial.ttf")
    rng = np.random.default_rng(0)
    assert partial not in {fs.sample(rng, "abx") for _ in range(2000)}
    assert abs(share_of(fs, "Small", "abx") - 0.5) < 0.02  # Small still has DejaVu Sans for this text
    assert fs.probabilities("abc")[partial] == pytest.approx(0.25)
    assert fs.sample(rng, "abc\u4e2d") is None


def test_family_filter_keeps_only_the_named_families(tmp_path):
    two_families(tmp_path)
    fs = FontSet.load(tmp_path, Charset.default(), families=["Small"])
    assert [f.name for f in fs.fonts] == ["DejaVuSans.ttf"]
    with pytest.raises(TextsynthError, match="not in the fonts folders: Tiny"):
        FontSet.load(tmp_path, Charset.default(), families=["Tiny"])


SEED_FAMILIES = {"DejaVu Sans", "DejaVu Sans Mono", "DejaVu Serif", "Liberation Mono", "Liberation Sans",
                 "Liberation Serif"}


def test_seed_preset_uses_only_its_faces_random_text_and_sizes():
    cfg = RenderConfig.from_dict({"preset": "seed"})
    gen = SampleGenerator(cfg)
    assert len(gen.fontset) == 18 and {f.family for f in gen.fontset.fonts} == SEED_FAMILIES
    assert gen.fontset.weighting == "face"
    symbols = set(gen.charset.symbols)
    sizes, fonts = set(), set()
    for i in range(400):
        p = gen.params(i)
        assert p.text_kind == 0 and set(p.text) <= symbols and 4 <= len(p.text) <= 16
        assert gen.fontset.fonts[p.font_id].family in SEED_FAMILIES
        sizes.add(p.font_size)
        fonts.add(p.font_id)
    assert min(sizes) >= 24 and max(sizes) <= 44  # 0.375 and 0.6875 of the 64-pixel height
    assert len(fonts) == 18


def test_fonts_flag_takes_several_folders_and_bundled(tmp_path, run_cli):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    make_subset(SANS, a / "one.ttf", "abc")
    make_subset(SANS, b / "two.ttf", "abcd")
    cs = Charset.from_string("abc")
    for spec in (f"{a},{b}", f"{a}{os.pathsep}{b}", [str(a), str(b)]):
        assert [f.name for f in FontSet.load(spec, cs).fonts] == ["one.ttf", "two.ttf"]
    with_bundled = FontSet.load(f"{a},bundled", cs)
    assert with_bundled.fonts[0].name == "one.ttf" and len(with_bundled) == 1 + len(FontSet.load("bundled", cs))
    assert RenderConfig.from_dict({"fonts": {"dir": [str(a), str(b)]}}).fonts.dir == f"{a},{b}"
    code, out, _ = run_cli("fonts", "--fonts", f"{a},{b}", "--charset", "abc")
    assert code == 0 and "one.ttf" in out and "two.ttf" in out and "2 faces in" in out
    cfg = RenderConfig(n=1)
    cfg.text.charset = "abc"
    cfg.fonts.dir = f"{a},{b}"
    gen = SampleGenerator(cfg)
    assert {gen.params(i).font_id for i in range(50)} == {0, 1}


def test_coverage_is_cached_on_disk_by_content(tmp_path, monkeypatch):
    from textsynth import fonts as fonts_module

    monkeypatch.setenv("TEXTSYNTH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "f").mkdir()
    make_subset(SANS, tmp_path / "f" / "partial.ttf", "abc")
    cs = Charset.from_string("abcd")
    first = FontSet.load(tmp_path / "f", cs)
    assert len(list((tmp_path / "cache" / "fonts").glob("*.json"))) == 1
    fonts_module._load_cached.cache_clear()
    monkeypatch.setattr(fonts_module, "_render_coverage", lambda *a: pytest.fail("coverage was not cached"))
    again = FontSet.load(tmp_path / "f", cs)
    assert again.coverage == first.coverage == [frozenset("abc")] and again.fonts == first.fonts


FORBIDDEN = ("carlito", "caladea", "freesans", "freeserif", "freemono", "nimbus", "urw", "c059", "p052", "z003",
             "century schoolbook", "libertine", "biolinum", "eb garamond", "arimo", "tinos", "cousine", "lato",
             "open sans", "roboto", "cantarell", "inconsolata", "fira", "hack", "plex", "gentium", "tex gyre", "noto")


def test_bundled_fonts_have_licences_readme_rows_and_no_benchmark_font():
    import importlib.util

    from textsynth.fonts import read_families_file

    folder = bundled_fonts_dir()
    fs = FontSet.load(folder, Charset.default())
    families, _ = read_families_file(folder)
    assert len(fs) >= 60 and len(families) >= 20
    assert {"serif", "sans", "monospace", "condensed", "slab", "humanist", "display", "handwriting",
            "typewriter"} <= {f.font_class for f in fs.fonts}
    listed = {file: fam for fam, entry in families.items() for file in entry["files"]}
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for info in fs.fonts:
        assert listed[info.name] == info.family
        licence = folder / families[info.family]["licence_file"]
        assert licence.is_file() and licence.stat().st_size > 500, licence
        assert f"| `{info.name}` | {info.family} |" in readme and f"`{info.sha256}`" in readme
        assert not any(bad in info.family.lower() for bad in FORBIDDEN), info.family
    assert sum(p.stat().st_size for p in folder.iterdir()) < 40e6
    spec = importlib.util.spec_from_file_location("make_readme", folder / "make_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render() == readme  # the README is exactly what the script writes from the files


def test_a_face_drawing_capitals_for_lower_case_does_not_cover_lower_case(tmp_path):
    # An all-caps face maps a, b, c to its capitals: drawing the label `abc` as `ABC` would be a wrong label.
    make_subset(SANS, tmp_path / "caps.ttf", "ABC", remap={"a": "A", "b": "B", "c": "C"})
    make_subset(SANS, tmp_path / "both.ttf", "ABCabci")
    fs = FontSet.load(tmp_path, Charset.from_string("ABCabci"))
    names = [f.name for f in fs.fonts]
    assert fs.coverage[names.index("caps.ttf")] == frozenset("ABC")
    assert fs.coverage[names.index("both.ttf")] == frozenset("ABCabci")  # an `i` is not its `I`
    bebas = FontSet.load("bundled-print", Charset.default(), families=["Bebas Neue"])
    assert len(bebas) == 2 and all(cov.isdisjoint("abcdefghijklmnopqrstuvwxyz") for cov in bebas.coverage)
    assert all(set("ABZ0129.,:-") <= cov for cov in bebas.coverage)


def test_print_fonts_folder_feeds_the_receipt_and_scene_presets():
    from textsynth.fonts import read_families_file

    folder = bundled_fonts_dir() / "print"
    fs = FontSet.load("bundled-print", Charset.default())
    families, _ = read_families_file(folder)
    assert set(fs.families()) == set(families) == {"IBM 3270", "League Mono", "DotGothic16", "Bebas Neue",
                                                   "Routed Gothic", "Apropal", "Inter Heavy"}
    for info in fs.fonts:
        assert (folder / families[info.family]["licence_file"]).stat().st_size > 500
        assert info.family in (folder / "README.md").read_text(encoding="utf-8")
        assert not any(bad in info.family.lower() for bad in FORBIDDEN), info.family
    faces = {name: set(SampleGenerator(RenderConfig.from_dict({"preset": name, "n": 1})).fontset.families())
             for name in ("default", "v0.3", "receipt", "scene")}
    assert set(families) <= faces["default"]  # in the default since 0.4
    assert not faces["v0.3"] & set(families)
    assert {"IBM 3270", "League Mono", "DotGothic16"} <= faces["receipt"]
    assert {"Bebas Neue", "Routed Gothic", "Apropal", "Inter Heavy"} <= faces["scene"]
    receipt = SampleGenerator(RenderConfig.from_dict({"preset": "receipt", "n": 400}))
    drawn = {receipt.fontset.fonts[receipt.params(i).font_id].family for i in range(400)}
    assert {"IBM 3270", "DotGothic16"} <= drawn
