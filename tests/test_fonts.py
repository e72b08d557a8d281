import shutil

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
    cfg.text.charset = "abc\u4e2d"
    with pytest.raises(TextsynthError, match="no font draws these charset characters: '\u4e2d'"):
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
    gen = SampleGenerator(cfg)
    template = gen.params(0).replace(angle=0.0, blur=0.0, noise_level=0.0, mirror=False, upside_down=False,
                                     background=255, foreground=0, font_size=24, x=8, y=8)
    assert all(len(cov) == len(gen.charset) for cov in gen.fontset.coverage)
    for font_id in range(len(gen.fontset.fonts)):
        for char in gen.charset.symbols:
            if char == " ":
                continue
            image = gen.painter.paint(template.replace(text=char, font_id=font_id))
            assert image.min() < 128, (gen.fontset.fonts[font_id].path, char)
