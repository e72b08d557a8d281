from pathlib import Path

import h5py
import numpy as np
import pytest
import uharfbuzz as hb
from conftest import small_config
from fontTools import subset
from fontTools.feaLib.builder import addOpenTypeFeaturesFromString
from fontTools.ttLib import TTFont
from PIL import Image

from textsynth import RenderConfig, SampleGenerator
from textsynth.dataset import open_dataset
from textsynth.errors import TextsynthError
from textsynth.export import export_folder
from textsynth.fonts import bundled_fonts_dir
from textsynth.layout import FontLayout
from textsynth.paint import TextDoesNotFit
from textsynth.pipeline import render
from textsynth.record import params_from_columns, params_to_columns

SANS = bundled_fonts_dir() / "DejaVuSans.ttf"
TEST_FONTS = Path(__file__).parent / "fonts"
HINDI = "हिन्दी"  # ह ि न ् द ी: the i-sign is drawn before the consonant it follows


def hb_glyphs(path, text: str) -> list[int]:
    font = hb.Font(hb.Face(hb.Blob(Path(path).read_bytes())))
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf)
    return [g.codepoint for g in buf.glyph_infos]


def test_kerning_moves_the_second_glyph_of_a_kerned_pair():
    layout = FontLayout(str(SANS))
    kerned = layout.shape("AV")
    nominal = layout.shape("A").advance[0]
    assert kerned.advance[0] < nominal - 0.03  # DejaVu Sans kerns A-V by ~6 % of an em
    kern_em = nominal - kerned.advance[0]
    tight = layout.text_mask("AV", 100)
    # Letter spacing equal to the kern undoes it: the unkerned pair is wider by the kern, to a pixel.
    loose = layout.text_mask("AV", 100, tracking=kern_em)
    assert abs(loose.shape[1] - tight.shape[1] - round(kern_em * 100)) <= 1
    assert loose.shape[1] > tight.shape[1] + 3


def test_a_devanagari_word_is_shaped_as_harfbuzz_shapes_it_and_labelled_in_reading_order(tmp_path):
    cfg = small_config(n=6, output__shard_size=6)
    cfg.fonts.dir = str(TEST_FONTS)
    cfg.text.charset = "".join(sorted(set(HINDI)))
    corpus = tmp_path / "lines.txt"
    corpus.write_text(HINDI + "\n", encoding="utf-8")
    cfg.text.source = f"lines:{corpus}"
    cfg.text.min_len = 1
    gen = SampleGenerator(cfg)
    params = gen.params(0)
    font = gen.painter.layout.font(params.font_id)
    shaped = font.shape(HINDI)
    expected = hb_glyphs(TEST_FONTS / "NotoSansDevanagari-Regular.ttf", HINDI)
    assert list(shaped.gids) == expected
    names = [font.hb_font.get_glyph_name(g) for g in shaped.gids]
    # On the page the i-sign (a contextual form) comes first, and न् is a half form: not one glyph per character.
    assert names[0].startswith("ivowelsign") and names[1] == "hadeva" and "naprehalfdeva" in names
    assert len(shaped.gids) == len(HINDI) - 1
    assert params.text == HINDI  # ...but not in the label
    render(cfg, tmp_path / "ds", progress=False)
    ds = open_dataset(tmp_path / "ds")
    s = ds[0]
    assert s.text == HINDI and ds.charset.decode(s.labels) == HINDI
    assert (s.image < s.params.background).sum() > 50


def _font_with_substitution(dst, rule: str, chars: str = "abcxyz ") -> None:
    """A DejaVu Sans subset whose cmap covers `chars` but whose GSUB applies `rule` (a ligature)."""
    font = TTFont(SANS)
    options = subset.Options()
    options.notdef_outline = True
    options.layout_features = []
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[ord(c) for c in chars])
    sub.subset(font)
    addOpenTypeFeaturesFromString(
        font, f"languagesystem DFLT dflt; languagesystem latn dflt; feature liga {{ {rule} }} liga;",
        tables=["GSUB"])
    font.save(dst)


def test_no_sample_uses_a_font_whose_shaped_text_has_notdef_or_empty_glyphs(tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    _font_with_substitution(fonts / "a_notdef.ttf", "sub x y by .notdef;")
    _font_with_substitution(fonts / "b_empty.ttf", "sub x z by space;")
    _font_with_substitution(fonts / "c_good.ttf", "sub a b by c;")  # a ligature with ink is fine
    cfg = RenderConfig(n=1)
    cfg.fonts.dir = str(fonts)
    cfg.text.charset = "abcxyz"
    gen = SampleGenerator(cfg)
    names = [f.name for f in gen.fontset.fonts]
    assert len(gen.fontset.covering("xyz")) == 3  # every cmap covers the characters
    painter = gen.painter
    notdef, empty, good = names.index("a_notdef.ttf"), names.index("b_empty.ttf"), names.index("c_good.ttf")
    assert not painter.layout.draws(notdef, "axyb") and painter.layout.draws(notdef, "ayxb")
    assert not painter.layout.draws(empty, "axzb") and painter.layout.draws(empty, "azxb")
    assert painter.layout.draws(good, "xyzab")
    used = {notdef: 0, empty: 0, good: 0}
    for i in range(300):
        for text in ("axyb", "cxzy", "zyxa"):
            p = painter.sample_params(np.random.default_rng([1, i]), text)
            used[p.font_id] += 1
            assert painter.layout.draws(p.font_id, text)
            assert "xy" not in text or p.font_id != notdef
            assert "xz" not in text or p.font_id != empty
    assert all(n > 50 for n in used.values())  # each font is still used where it draws the text
    only_bad = tmp_path / "only_bad"
    only_bad.mkdir()
    _font_with_substitution(only_bad / "a_notdef.ttf", "sub x y by .notdef;")
    cfg.fonts.dir = str(only_bad)
    with pytest.raises(TextDoesNotFit, match="without .notdef"):
        SampleGenerator(cfg).painter.sample_params(np.random.default_rng(0), "axyb")


def test_letter_and_word_spacing_are_recorded_and_replay_exactly():
    cfg = RenderConfig(n=1)
    cfg.text.min_len, cfg.text.max_len = 10, 16
    gen = SampleGenerator(cfg)
    records = [gen.sample(i) for i in range(40)]
    params = [p for p, _ in records]
    assert len({p.tracking for p in params}) == 40 and min(p.tracking for p in params) < 0
    assert all(-0.05 <= p.tracking <= 0.25 for p in params)
    spaced = [p for p in params if " " in p.text]
    assert spaced and len({p.word_spacing for p in spaced}) == len(spaced)
    columns = params_to_columns(params)
    fresh = SampleGenerator(cfg)
    for row, (p, img) in enumerate(records):
        stored = params_from_columns(columns, row, p.text)
        assert stored == p
        assert np.array_equal(fresh.painter.paint(stored), img)
    p = spaced[0].replace(mirror=False, upside_down=False, angle=0.0)
    base = gen.painter.paint(p)
    assert not np.array_equal(gen.painter.paint(p.replace(tracking=p.tracking + 0.01)), base)
    assert not np.array_equal(gen.painter.paint(p.replace(word_spacing=p.word_spacing + 0.2)), base)


def test_the_seed_preset_keeps_the_fonts_own_spacing_and_random_placement():
    gen = SampleGenerator(RenderConfig.from_dict({"preset": "seed", "n": 1}))
    params = [gen.params(i) for i in range(100)]
    assert {p.tracking for p in params} == {0.0} and {p.word_spacing for p in params} == {1.0}
    assert max(p.x for p in params) > 100 and max(p.font_size for p in params) <= round(0.6875 * 64)


def test_tight_crops_fill_the_height_and_never_clip_ink():
    cfg = RenderConfig(n=1)
    cfg.augment.noise = 0.0
    cfg.effects.enabled = False  # typesetting under test: plain paper shows any ink at the border
    cfg.augment.max_angle, cfg.augment.blur = 6.0, 1.0
    cfg.fonts.min_size, cfg.fonts.max_size = 0.8, 1.0
    cfg.typeset.tracking = (0.25, 0.25)
    cfg.typeset.word_spacing = (2.0, 2.0)
    cfg.text.min_len, cfg.text.max_len = 2, 8
    gen = SampleGenerator(cfg)
    m = cfg.canvas.margin
    fill = []
    for i in range(300):
        p, img = gen.sample(i)
        border = np.concatenate([img[:m].ravel(), img[-m:].ravel(), img[:, :m].ravel(), img[:, -m:].ravel()])
        assert np.all(border == p.background), f"sample {i} ({p.text!r}) touches the edge"
        rows = np.flatnonzero((img < p.background).any(axis=1))
        fill.append((rows[-1] - rows[0] + 1) / img.shape[0])
    assert max(fill) >= 0.85 and np.median(fill) > 0.6


def test_left_aligned_lines_start_at_the_margin_plus_their_indent():
    cfg = RenderConfig(n=1)
    cfg.typeset.left_aligned = 1.0
    cfg.typeset.indent = (0.0, 0.0)
    gen = SampleGenerator(cfg)
    assert {gen.params(i).x for i in range(50)} == {cfg.canvas.margin}
    cfg.typeset.left_aligned = 0.5
    xs = [SampleGenerator(cfg).params(i).x for i in range(100)]
    assert 20 < sum(x == cfg.canvas.margin for x in xs) < 80


def test_tight_lines_fill_the_height_whatever_their_letters_and_tight_zero_draws_the_same_records():
    # capitals and x-height words at their largest fitting size: the ink spans nearly the whole height (fonts'
    # max_size alone leaves capitals at ~2/3 of it); a share of 0 keeps every record of a config without it
    words = {"text": {"source": "words", "max_len": 6, "upper": 0.5}, "augment": {"max_angle": 0.0},
             "effects": {"enabled": False}}
    loose = SampleGenerator(RenderConfig.from_dict({"n": 40, "seed": 4, **words}))
    tight = SampleGenerator(RenderConfig.from_dict({"n": 40, "seed": 4, "typeset": {"tight": 0.99}, **words}))
    room = tight.config.canvas.height - 2 * tight.config.canvas.margin
    spans, sizes = [], []
    for i in range(40):
        p = tight.params(i)
        h, w = tight.painter.ink_mask(p).shape
        spans.append(max(h / room, w / (tight.config.canvas.width - 2 * tight.config.canvas.margin)))
        sizes.append(p.font_size)
        tight.painter.paint(p)  # inside the canvas
    assert min(spans) > 0.8 and np.median(spans) > 0.9
    assert max(sizes) > tight.painter.max_size  # capitals and x-heights drawn past max_size to fill
    loose_spans = [loose.painter.ink_mask(loose.params(i)).shape[0] / room for i in range(40)]
    assert np.median(loose_spans) < 0.75
    zero = SampleGenerator(RenderConfig.from_dict({"n": 40, "seed": 4, "typeset": {"tight": 0.0}, **words}))
    assert [zero.params(i) for i in range(40)] == [loose.params(i) for i in range(40)]
    with pytest.raises(TextsynthError, match=r"typeset.tight must be a share in \[0, 1\), got 1.0"):
        RenderConfig.from_dict({"typeset": {"tight": 1.0}}).validate()


def test_variable_width_samples_store_their_true_width_and_export_crops_to_it(tmp_path):
    cfg = small_config(n=30, output__shard_size=15)
    cfg.canvas.variable_width = True
    cfg.augment.noise = 0.0
    cfg.effects.enabled = False  # plain paper, so the padding and the ink columns can be checked exactly
    cfg.augment.mirror = 0.3
    render(cfg, tmp_path / "ds", progress=False)
    ds = open_dataset(tmp_path / "ds")
    widths = []
    for i in range(len(ds)):
        s = ds[i]
        assert s.image.shape == (32, 256) and s.width == s.params.width <= 256
        assert np.all(s.image[:, s.width:] == s.params.background)  # padding is plain paper
        cols = np.flatnonzero((s.image < s.params.background).any(axis=0))
        assert cols[0] >= cfg.canvas.margin and cols[-1] < s.width - cfg.canvas.margin
        widths.append(s.width)
    assert len(set(widths)) > 10 and min(widths) < 200
    batch = next(ds.batches(30, shuffle=False))
    assert batch["width"].tolist() == widths
    export_folder(ds, tmp_path / "png", progress=False)
    for i, line in enumerate((tmp_path / "png" / "labels.tsv").read_text(encoding="utf-8").splitlines()):
        name, text = line.split("\t")
        with Image.open(tmp_path / "png" / name) as im:
            assert im.size == (widths[i], 32)
        assert text == ds[i].text


def test_width_auto_on_the_command_line_means_variable_width(run_cli):
    code, out, err = run_cli("config", "--width", "auto")
    assert code == 0, err
    assert "variable_width = true" in out and "width = 512" in out


def test_charset_fonts_are_loaded_lazily_and_shaping_is_cached():
    gen = SampleGenerator(RenderConfig(n=1))
    gen.params(0)
    layout = gen.painter.layout
    assert 1 <= len(layout._fonts) <= 2
    info = layout.shape.cache_info()
    assert info.misses >= 1 and info.hits >= 1  # fit prediction and painting shared one shaping


def test_glyph_caches_stay_within_their_budget_and_refill_identically():
    gen = SampleGenerator(RenderConfig(n=1))
    records = [gen.sample(i) for i in range(30)]
    small = SampleGenerator(RenderConfig(n=1))
    small.painter.layout.budget.limit = 20_000  # a few glyphs: emptied again and again
    for p, img in records:
        assert np.array_equal(small.painter.paint(p), img)
        assert small.painter.layout.budget.used < 20_000 + 60 * 64 * 64


def test_shards_written_before_the_spacing_and_width_columns_still_read(tmp_path):
    render(small_config(n=10, output__shard_size=10), tmp_path / "ds", progress=False)
    with h5py.File(tmp_path / "ds" / "shard-00000.h5", "a") as f:
        for name in ("tracking", "word_spacing", "width"):
            del f["params"][name]
    s = open_dataset(tmp_path / "ds")[3]
    assert (s.params.tracking, s.params.word_spacing, s.width) == (0.0, 1.0, 256)


@pytest.mark.parametrize("text, tracking", [("AVAWAY To", 0.0), ("wavy fjord", -0.12), ("Ta.yV", -0.3)])
def test_glyphs_copied_where_clear_and_maxed_where_they_overlap_keep_every_pixel(text, tracking):
    """text_mask copies a glyph that cannot overlap the ones before it and takes the maximum otherwise: the
    result equals compositing every glyph with a maximum."""
    from textsynth.layout import FontLayout

    gen = SampleGenerator(RenderConfig(n=1))
    font_id = next(i for i, f in enumerate(gen.fontset.fonts) if "Italic" in Path(f.path).name)
    font = FontLayout(str(gen.fontset.fonts[font_id].path))
    shaped, size = font.shape(text), 37
    mask = font.text_mask(text, size, tracking, 1.0, shaped)
    placed, pen = [], 0.0
    for gid, adv, xo, yo, _space, tracked in zip(shaped.gids, shaped.advance, shaped.x_offset, shaped.y_offset,
                                                shaped.space, shaped.tracked):
        g = font.glyph(gid, size)
        if g.mask is not None:
            x, y = round((pen + xo) * size) + g.left, g.top - round(yo * size)
            placed.append((x, y, g.mask))
        pen += adv + (tracking if tracked else 0.0)
    x0, y0 = min(p[0] for p in placed), min(p[1] for p in placed)
    reference = np.zeros_like(mask)
    for x, y, m in placed:
        region = reference[y - y0:y - y0 + m.shape[0], x - x0:x - x0 + m.shape[1]]
        np.maximum(region, m, out=region)
    assert np.array_equal(mask, reference)


@pytest.mark.parametrize("language", ["en", "hi", "ar"])
def test_compiled_glyph_placing_lays_out_numpy_s_masks(language, monkeypatch):
    # textsynth/_lines.c's pen_run and place and the Python loop they replace give the same masks: pens moved by
    # tracking and word spacing, offsets rounded half to even, glyphs clear of each other (copied), and
    # overlapping ones (tight tracking, marks, conjuncts, right-to-left runs: the darker ink kept)
    from textsynth import layout

    if layout._place is None:
        pytest.skip("textsynth._lines is not built")
    gen = SampleGenerator(RenderConfig.from_dict({"language": language, "n": 40, "seed": 6}))
    records = [gen.params(i) for i in range(40)]
    lay = gen.painter.layout
    cases = [(p.font_id, p.text, p.font_size, tracking, p.word_spacing) for p in records for tracking in (-0.08, 0.1)]
    compiled = [lay.text_mask(*case) for case in cases]  # every glyph cached by now: the compiled pen loop
    monkeypatch.setattr(layout, "_place", None)
    monkeypatch.setattr(layout, "_pen_run", None)
    plain = [lay.text_mask(*case) for case in cases]
    assert all(np.array_equal(a, b) for a, b in zip(compiled, plain))


@pytest.mark.parametrize("language", ["en", "hi", "ru"])
def test_compiled_shaping_fields_are_python_s(language, monkeypatch):
    # textsynth/_lines.c's shape_run and ink_span and the Python loops they replace make the same Shaped records
    # and ink boxes: spaces, marks and kerning moved by offsets (Devanagari), ligatures (fewer glyphs than
    # characters), glyphs without ink, letter and word spacing
    from textsynth import layout

    if layout._shape_run is None:
        pytest.skip("textsynth._lines is not built")
    gen = SampleGenerator(RenderConfig.from_dict({"language": language, "n": 60, "seed": 8}))
    cases = [(p.font_id, p.text) for p in (gen.params(i) for i in range(60))]
    cases += [(f, t) for f in range(0, len(gen.fontset.fonts), 7) for t in ("office ffi fl", "a  b", " ")
              if language == "en"]
    fonts = gen.painter.layout
    for f, t in cases:  # every outline measured once: the compiled path from here on
        fonts.font(f).shape(t)
    compiled = [fonts.font(f).shape(t) for f, t in cases]
    boxes = [s.ink_box(tracking, spacing) for s in compiled for tracking in (-0.07, 0.0, 0.2) for spacing in (1, 1.5)]
    monkeypatch.setattr(layout, "_shape_run", None)
    monkeypatch.setattr(layout, "_ink_span", None)
    assert [fonts.font(f).shape(t) for f, t in cases] == compiled
    assert [s.ink_box(tracking, spacing) for s in compiled for tracking in (-0.07, 0.0, 0.2)
            for spacing in (1, 1.5)] == boxes
    assert any(any(s.y_offset) for s in compiled) or language != "hi"  # the offset path was taken


def test_compiled_glyph_placing_copies_clear_bitmaps_and_keeps_the_darker_ink_where_they_overlap():
    from textsynth import layout

    if layout._place is None:
        pytest.skip("textsynth._lines is not built")
    a, b, c = (np.full((h, w), v, np.uint8) for h, w, v in ((3, 4, 100), (3, 4, 50), (2, 2, 7)))
    b[0, 0] = 200
    mask = np.zeros((5, 10), np.uint8)
    layout._place(mask, [(10, 20, 14, 23, a, 0), (12, 21, 16, 24, b, 1), (17, 20, 19, 22, c, 2)], 10, 20)
    expected = np.zeros((5, 10), np.uint8)
    expected[0:3, 0:4] = a
    np.maximum(expected[1:4, 2:6], b, out=expected[1:4, 2:6])
    expected[0:2, 7:9] = c
    assert np.array_equal(mask, expected)
    with pytest.raises(ValueError, match="leaves the mask"):
        layout._place(mask, [(9, 20, 13, 23, a, 0)], 10, 20)
    with pytest.raises(ValueError, match="not 2-D uint8"):
        layout._place(mask, [(10, 20, 14, 23, a.astype(np.float32), 0)], 10, 20)
