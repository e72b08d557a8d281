"""A character n-gram language model of natural text, and CTC prefix beam search that fuses it with the logits.

A recognizer that reads glyph by glyph cannot tell `l` from `I` or `O` from `0` in fonts that draw them
alike; the text around them can. The model is built from textsynth's own bundled natural-text sources (words,
running text, numbers: nothing a benchmark draws from), with interpolated absolute discounting, so it is a
proper distribution over the charset plus an end of line. Decoding follows the usual shallow fusion: a beam
of prefixes scored by CTC probability + `weight` x log P_lm + `bonus` per character.
"""

from __future__ import annotations

import copy
import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from textsynth.charset import Charset
from textsynth.errors import TextsynthError
from textsynth.text import make_text_source

LM_SOURCE = "mix:words=0.45,lines=0.35,numbers=0.2"  # textsynth's natural kinds, without random strings
LM_FILE = "lm.json"  # a run's tuned fusion settings (`python -m reference_model tune-lm`)
_BOS, _EOS = "\x02", "\x03"  # outside any charset: start padding and end of line
_DISCOUNT = 0.75
# Bounds on a run's lm.json (it may come from anyone): the tables grow with the order, the search with the beam.
MAX_ORDER = 10
MAX_BEAM_WIDTH = 1000


class CharLM:
    """P(next character | the previous `order` - 1), over the charset's symbols and an end of line."""

    def __init__(self, charset: Charset, texts: list[str], order: int = 5, uniform: float = 0.0):
        if not 1 <= order <= MAX_ORDER:
            raise TextsynthError(f"language model order must be in 1..{MAX_ORDER}, not {order}")
        if not 0.0 <= uniform < 1.0:
            raise TextsynthError(f"language model uniform share must be in [0, 1), not {uniform}")
        self.charset, self.order, self.uniform = charset, order, uniform
        self.symbols = list(charset.symbols) + [_EOS]
        self.index = {c: k for k, c in enumerate(self.symbols)}
        self.eos = len(self.symbols) - 1
        # counts[k][context of length k] -> (ids, counts) of the characters seen after it
        tables: list[dict[str, dict[int, int]]] = [defaultdict(lambda: defaultdict(int)) for _ in range(order)]
        pad = _BOS * (order - 1)
        for text in texts:
            if any(c not in self.index for c in text):
                continue
            s = pad + text + _EOS
            for i in range(order - 1, len(s)):
                nxt = self.index[s[i]]
                for k in range(order):
                    tables[k][s[i - k:i]][nxt] += 1
        self._tables = [{ctx: (np.fromiter(seen.keys(), np.int64, len(seen)),
                               np.fromiter(seen.values(), np.float64, len(seen))) for ctx, seen in t.items()}
                        for t in tables]
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def bundled(cls, charset: Charset, texts: int = 60_000, order: int = 5, uniform: float = 0.0,
                seed: int = 0) -> CharLM:
        """Built from `texts` lines of textsynth's bundled natural text that `charset` can write (seeded)."""
        source = make_text_source(LM_SOURCE, charset, 1, 32)
        rng = np.random.default_rng([seed, 0x6C6D])
        return cls(charset, [source.sample(rng) for _ in range(texts)], order, uniform)

    def with_uniform(self, uniform: float) -> CharLM:
        """The same counts with another uniform share (no rebuild)."""
        if not 0.0 <= uniform < 1.0:
            raise TextsynthError(f"language model uniform share must be in [0, 1), not {uniform}")
        other = copy.copy(self)
        other.uniform, other._cache = uniform, {}
        return other

    def context(self, previous: str) -> str:
        """The part of `previous` the model conditions on (padded at the start of a line)."""
        return (_BOS * (self.order - 1) + previous)[-(self.order - 1):] if self.order > 1 else ""

    def log_probs(self, context: str) -> np.ndarray:
        """log P(c | context) for every symbol id and the end of line (id `eos`); cached per context."""
        out = self._cache.get(context)
        if out is None:
            p = np.full(len(self.symbols), 1.0 / len(self.symbols))
            for k in range(self.order):
                seen = self._tables[k].get(context[len(context) - k:] if k else "")
                if seen is None:
                    break  # a longer context was not seen either
                ids, counts = seen
                total = counts.sum()
                lower = p * (_DISCOUNT * len(ids) / total)
                lower[ids] += np.maximum(counts - _DISCOUNT, 0) / total
                p = lower
            # A share of uniform: a line of random symbols (codes, IDs) costs a bounded amount per character.
            out = self._cache[context] = np.log((1 - self.uniform) * p + self.uniform / len(self.symbols))
            if len(self._cache) > 200_000:
                self._cache.clear()
        return out

    def score(self, text: str) -> float:
        """log P(text + end of line)."""
        total, previous = 0.0, ""
        for c in list(text) + [None]:
            lp = self.log_probs(self.context(previous))
            total += lp[self.eos if c is None else self.index[c]]
            if c is not None:
                previous += c
        return total


@dataclass(frozen=True)
class LMSettings:
    """How the language model joins decoding; `tune-lm` picks them on labelled lines and stores them in a run."""

    weight: float = 0.4  # x log P_lm per character
    bonus: float = 1.5  # added per character (the LM's probabilities would otherwise favour short readings)
    uniform: float = 0.3  # share of a uniform distribution mixed into the LM (random strings stay readable)
    order: int = 5  # characters of context + 1
    beam_width: int = 12

    @classmethod
    def of_run(cls, run: str | Path) -> LMSettings:
        """The run's `lm.json`, or the defaults when it has none."""
        path = Path(run) / LM_FILE
        if not path.is_file():
            return cls()
        try:
            if path.stat().st_size > 1 << 20:
                raise ValueError("larger than 1 MB")
            data = json.loads(path.read_text())
            kinds = {f.name: f.type for f in fields(cls)}
            if not isinstance(data, dict) or set(data) - set(kinds):
                raise ValueError("unknown keys")
            if any(isinstance(v, bool) or not isinstance(v, int | float) for v in data.values()):
                raise ValueError("every setting must be a number")
            settings = cls(**{k: (int if kinds[k] == "int" else float)(v) for k, v in data.items()})
        except (ValueError, TypeError, OSError, OverflowError) as exc:
            raise TextsynthError(f"{path}: not language model settings ({exc})") from None
        if not (1 <= settings.order <= MAX_ORDER and 1 <= settings.beam_width <= MAX_BEAM_WIDTH
                and 0 <= settings.uniform < 1 and math.isfinite(settings.weight) and math.isfinite(settings.bonus)):
            raise TextsynthError(f"{path}: order must be in 1..{MAX_ORDER}, beam_width in 1..{MAX_BEAM_WIDTH}, "
                                 f"uniform in [0, 1), weight and bonus finite")
        return settings

    def save(self, run: str | Path) -> Path:
        from textsynth.fileio import atomic_write_text

        path = Path(run) / LM_FILE
        atomic_write_text(path, json.dumps(asdict(self), indent=1) + "\n")
        return path


class FusedDecoder:
    """Prefix beam search with the bundled character LM, for one charset and one set of settings."""

    def __init__(self, charset: Charset, settings: LMSettings = LMSettings(), lm: CharLM | None = None):
        self.settings = settings
        self.lm = (lm or CharLM.bundled(charset, order=settings.order)).with_uniform(settings.uniform)

    def decode(self, logits: np.ndarray) -> list[list[int]]:
        s = self.settings
        return lm_beam_decode(logits, self.lm, s.weight, s.bonus, s.beam_width)

    def describe(self) -> str:
        s = self.settings
        return (f"beam {s.beam_width} + character {s.order}-gram LM (weight {s.weight:g}, bonus {s.bonus:g}, "
                f"uniform {s.uniform:g})")


def lm_beam_decode(logits: np.ndarray, lm: CharLM, weight: float = 0.5, bonus: float = 1.0,
                   beam_width: int = 16, prune: float = 1e-4) -> list[list[int]]:
    """CTC prefix beam search (blank = last class) with the language model fused in; ids as `greedy_decode`.

    At each step only characters with probability above `prune` extend a prefix; the language model and the
    bonus are added once per character, and the end-of-line probability once at the end.
    """
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    threshold = math.log(prune)
    blank = logits.shape[-1] - 1
    symbols = lm.symbols
    return [_decode_line(row, lm, weight, bonus, beam_width, threshold, blank, symbols) for row in logp]


def _decode_line(logp: np.ndarray, lm: CharLM, weight: float, bonus: float, beam_width: int, threshold: float,
                 blank: int, symbols: list[str]) -> list[int]:
    neg = -math.inf
    # prefix -> [log P(ending in blank), log P(ending in its last character)]; prefix -> (LM score, context)
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, neg]}
    fused: dict[tuple[int, ...], tuple[float, str]] = {(): (0.0, lm.context(""))}
    for row in logp:
        candidates = [int(c) for c in np.flatnonzero(row > threshold) if c != blank]
        grown: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [neg, neg])
        stay = row[blank]
        for prefix, (pb, pnb) in beams.items():
            total = np.logaddexp(pb, pnb)
            entry = grown[prefix]
            entry[0] = np.logaddexp(entry[0], total + stay)
            last = prefix[-1] if prefix else -1
            for c in candidates:
                lp = row[c]
                longer = prefix + (c,)
                if c == last:  # a repeat only continues the prefix; a new copy needs a blank between
                    entry[1] = np.logaddexp(entry[1], pnb + lp)
                    reach = pb + lp
                else:
                    reach = total + lp
                if reach == neg:
                    continue
                if longer not in fused:
                    score, context = fused[prefix]
                    step = lm.log_probs(context)[c] if c < lm.eos else -math.inf
                    fused[longer] = (score + weight * step + bonus, lm.context(context + symbols[c]))
                target = grown[longer]
                target[1] = np.logaddexp(target[1], reach)
        ranked = sorted(grown.items(), key=lambda kv: np.logaddexp(*kv[1]) + fused[kv[0]][0], reverse=True)
        beams = dict(ranked[:beam_width])

    def final(item: tuple[tuple[int, ...], list[float]]) -> float:
        prefix, (pb, pnb) = item
        score, context = fused[prefix]
        return np.logaddexp(pb, pnb) + score + weight * lm.log_probs(context)[lm.eos]

    return list(max(beams.items(), key=final)[0])
