"""Runs every reader entry point over hostile datasets in one process (started by test_untrusted.py under an
address-space limit, from a folder outside the datasets); writes what each call did as JSON.

Usage: python hostile_runner.py CASES.json RESULTS.json   (CASES: a list of [name, dataset folder])
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import tempfile
from pathlib import Path

from textsynth import TextsynthError, open_dataset
from textsynth.cli import main as cli
from textsynth.export import export_folder
from textsynth.stats import describe
from textsynth.verify import verify_dataset


def _api(fn) -> dict:
    try:
        value = fn()
    except TextsynthError as exc:
        return {"ok": False, "type": type(exc).__name__, "msg": str(exc)}
    except BaseException as exc:  # noqa: BLE001  (recorded: the test fails on anything but TextsynthError)
        return {"ok": False, "type": type(exc).__name__, "msg": str(exc)[:500]}
    return {"ok": True, "value": value}


def _cli(*args: str) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli(list(args))
        except BaseException as exc:  # noqa: BLE001
            code, err = -1, io.StringIO(f"{type(exc).__name__}: {exc}")
    return {"code": code, "out": out.getvalue()[-2000:], "err": err.getvalue()[-2000:]}


def _verify(root: str) -> list[list[str]]:
    _, bad = verify_dataset(root)
    return [[r.file, *r.problems] for r in bad]


def run_case(root: str, scratch: Path) -> dict:
    results = {"open": _api(lambda: len(open_dataset(root)))}
    results["item"] = _api(lambda: open_dataset(root)[0].text)
    results["last"] = _api(lambda: open_dataset(root)[-1].text)
    results["batches"] = _api(lambda: sum(len(b["index"]) for b in open_dataset(root).batches(4, seed=1)))
    results["describe"] = _api(lambda: describe(open_dataset(root))["samples"])
    results["export"] = _api(lambda: export_folder(open_dataset(root), tempfile.mkdtemp(dir=scratch), False))
    results["verify_api"] = _api(lambda: _verify(root))
    results["cli_inspect"] = _cli("inspect", root)
    results["cli_verify"] = _cli("verify", root)
    results["cli_preview"] = _cli("preview", root, "--out", str(Path(tempfile.mkdtemp(dir=scratch)) / "p.png"))
    results["cli_export"] = _cli("export", root, "--format", "folder", "--out",
                                 str(Path(tempfile.mkdtemp(dir=scratch)) / "x"), "--quiet")
    return results


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM starts afresh at exec; ru_maxrss would include the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    cases = json.loads(Path(sys.argv[1]).read_text())
    scratch = Path(tempfile.mkdtemp())
    results = {}
    for name, root in cases:
        print(f"case {name}", flush=True)  # the last line printed names the case if a read blocks
        results[name] = run_case(root, scratch)
    results["_peak_rss_mb"] = _peak_rss_mb()
    Path(sys.argv[2]).write_text(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
