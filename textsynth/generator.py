"""Sample generation: config -> text -> painted, augmented sample, with sample i depending only on (seed, i)."""

from __future__ import annotations

import numpy as np

from textsynth.charset import Charset
from textsynth.config import RenderConfig
from textsynth.draws import stream
from textsynth.errors import TextsynthError
from textsynth.fonts import FontSet
from textsynth.languages import config_charset
from textsynth.paint import Painter, TextDoesNotFit
from textsynth.record import SampleParams
from textsynth.text import draw_text, make_text_source

# Texts drawn for one sample before the config is declared unable to produce fitting text.
_MAX_REDRAWS = 200


class SampleGenerator:
    """Makes sample i of a render from its config; any process builds the same samples."""

    def __init__(self, config: RenderConfig, charset: Charset | None = None, fontset: FontSet | None = None):
        config.validate()
        self.config = config
        self.charset = charset or config_charset(config.text.charset, config.language)
        self.fontset = fontset or FontSet.from_config(config.fonts, self.charset, config.language)
        self.fontset.require_full_charset()
        t = config.text
        self.source = make_text_source(t.source, self.charset, t.min_len, t.max_len, t.upper, config.language,
                                       t.vowel_marks)
        self.painter = Painter(config, self.fontset)
        self.redrawn = 0  # texts drawn but not painted because they could not fit the canvas

    def rng(self, index: int) -> np.random.Generator:
        return stream(self.config.seed, index)

    def params(self, index: int) -> SampleParams:
        """Sample `index`'s record; texts that cannot fit are redrawn from the same stream."""
        rng = self.rng(index)
        for _ in range(_MAX_REDRAWS):
            kind, text = draw_text(self.source, rng)
            try:
                return self.painter.sample_params(rng, text, index, kind)
            except TextDoesNotFit:
                self.redrawn += 1
        c = self.config
        raise TextsynthError(
            f"no text of {c.text.min_len}-{c.text.max_len} characters fits the {c.canvas.width}x{c.canvas.height} "
            f"canvas at font size >= {self.painter.min_size} px after {_MAX_REDRAWS} tries: "
            "lower --max-len or widen the canvas")

    def sample(self, index: int, out: np.ndarray | None = None,
               sensor: bool = True) -> tuple[SampleParams, np.ndarray]:
        """Sample `index`'s record and pixels (`sensor=False`: before the sensor stage, as format 3 stores them)."""
        params = self.params(index)
        return params, self.painter.paint(params, out, sensor)
