"""RESULTS.md: CER and exact match per set and per subset, one column pair per engine, side by side."""

from __future__ import annotations

SUBSETS = (("kind", "text"), ("degradation", "degradation"), ("font", "font"))


def _cell(report: dict | None, group: str | None) -> str:
    if report is None:
        return "– | –"
    s = report if group is None else report.get(f"by_{group[0]}", {}).get(group[1])
    if s is None:
        return "– | –"
    return f"{100 * s['cer']:.2f} % | {100 * s['exact']:.1f} %"


def to_markdown(reports: dict[str, dict[str, dict]], titles: dict[str, str], about: dict[str, str],
                engines: dict[str, str], commands: list[str], timings: list[str], tesseract: str = "eng") -> str:
    """reports[set key][engine] = an `evaluate` report; engines maps engine -> column label."""
    head = " | ".join(f"{label} CER | {label} exact" for label in engines.values())
    rule = "|---|---|" + "---|---|" * len(engines)
    lines = ["# Transfer benchmark results", "",
             "What a model trained on textsynth data reads on text textsynth did not draw, beside Tesseract 5 "
             f"(`--psm 7`, {tesseract}) and the PP-OCRv4 mobile recognizer (recognition only). CER = edits / reference "
             "characters; exact = share of lines read exactly.", "",
             "```sh", *commands, "```", "", "| set | lines | " + head + " |", rule]
    for key, title in titles.items():
        first = next(iter(reports[key].values()))
        cells = " | ".join(_cell(reports[key].get(e), None) for e in engines)
        lines.append(f"| {title} | {first['samples']:,} | {cells} |")
    for key, title in titles.items():
        first = next(iter(reports[key].values()))
        lines += ["", f"## {title}", "", about[key], "", "| subset | lines | " + head + " |", rule]
        for column, label in SUBSETS:
            for group, s in sorted(first.get(f"by_{column}", {}).items()):
                cells = " | ".join(_cell(reports[key].get(e), (column, group)) for e in engines)
                lines.append(f"| {label}: {group} | {s['samples']:,} | {cells} |")
    lines += ["", "## Timings", "", *(f"- {t}" for t in timings)]
    return "\n".join(lines) + "\n"
