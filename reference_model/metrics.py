"""Recognition metrics: CER, exact match, ICDAR-2019 normalized edit distance, and breakdowns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein


def score(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, float]:
    """CER = total edits / total reference characters; exact = share of identical strings;
    NED = mean of 1 - ED / max(len(gt), len(pred)) (ICDAR 2019; 1 is perfect)."""
    if len(refs) != len(hyps):
        raise ValueError("refs and hyps differ in length")
    edits = chars = exact = 0
    ned = 0.0
    for ref, hyp in zip(refs, hyps):
        d = Levenshtein.distance(ref, hyp)
        edits += d
        chars += len(ref)
        exact += ref == hyp
        ned += 1.0 - d / max(len(ref), len(hyp), 1)
    n = max(len(refs), 1)
    return {"samples": len(refs), "cer": edits / max(chars, 1), "exact": exact / n, "ned": ned / n,
            "edits": edits, "chars": chars}


def breakdown(refs: Sequence[str], hyps: Sequence[str], keys: Sequence) -> dict[str, dict[str, float]]:
    """`score` per group, the group of sample k being keys[k]."""
    groups: dict = defaultdict(lambda: ([], []))
    for ref, hyp, key in zip(refs, hyps, keys):
        groups[key][0].append(ref)
        groups[key][1].append(hyp)
    return {str(k): score(*groups[k]) for k in sorted(groups)}


def confusions(refs: Sequence[str], hyps: Sequence[str], top: int = 15) -> list[tuple[str, str, int]]:
    """The most frequent substitutions (reference char, predicted char, count)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for ref, hyp in zip(refs, hyps):
        for op, i, j in Levenshtein.editops(ref, hyp):
            if op == "replace":
                counts[(ref[i], hyp[j])] += 1
    return [(a, b, n) for (a, b), n in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]
