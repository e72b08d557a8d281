"""The dataset manifest: what a dataset folder holds, written atomically, read back with every field checked."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from textsynth.charset import Charset
from textsynth.config import RenderConfig
from textsynth.errors import DatasetError, TextsynthError
from textsynth.fileio import atomic_write_text
from textsynth.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_HEIGHT,
    MAX_LABEL_LEN,
    MAX_SAMPLES,
    MAX_SHARDS,
    MAX_WIDTH,
    READABLE_VERSIONS,
    max_shard_size,
)

MANIFEST_NAME = "manifest.json"
_SHARD_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.h5$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Bounds that keep a hostile manifest from driving huge allocations (the render limits are in format.py).
MAX_MANIFEST_BYTES = 64 * 2**20
_FONT_FIELDS = ("file", "family", "style", "licence", "sha256")
# The manifest's top-level numbers and where the stored config says the same.
_CONFIG_AGREES = {"n": ("n",), "seed": ("seed",), "width": ("canvas", "width"), "height": ("canvas", "height"),
                  "max_len": ("text", "max_len"), "shard_size": ("output", "shard_size")}


@dataclass
class ShardRecord:
    file: str
    index: int
    first: int
    count: int
    sha256: str
    bytes: int


@dataclass
class Manifest:
    config: dict[str, Any]
    charset: list[str]
    fonts: list[dict[str, Any]]
    seed: int
    n: int
    width: int
    height: int
    max_len: int
    shard_size: int
    textsynth_version: str
    shards: list[ShardRecord] = field(default_factory=list)
    complete: bool = False
    command: str = ""
    text_source: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    @property
    def char_boxes(self) -> bool:
        """Whether the shards hold `char_boxes` (the render's `output.char_boxes`)."""
        output = self.config.get("output")
        return isinstance(output, dict) and output.get("char_boxes") is True

    @property
    def shard_count(self) -> int:
        return -(-self.n // self.shard_size)

    def set_shards(self, records) -> None:
        """List these finished shards (in shard order); the dataset is complete once all are listed."""
        self.shards = sorted(records, key=lambda r: r.index)
        self.complete = len(self.shards) == self.shard_count

    def to_json(self) -> str:
        d = asdict(self)
        d = {"format": d.pop("format"), "format_version": d.pop("format_version"), **d}
        d["shards"] = sorted(d["shards"], key=lambda s: s["index"])
        return json.dumps(d, indent=1, ensure_ascii=False)

    def write(self, directory: str | Path) -> None:
        """Replace DIR/manifest.json atomically (temp file, fsync, rename)."""
        atomic_write_text(Path(directory) / MANIFEST_NAME, self.to_json())

    @classmethod
    def read(cls, directory: str | Path) -> Manifest:
        """Parse and check DIR/manifest.json; any problem is a one-line error naming the field."""
        path = Path(directory) / MANIFEST_NAME
        if not path.exists() and not path.is_symlink():
            raise TextsynthError(f"{directory} is not a textsynth dataset: {MANIFEST_NAME} is missing")
        if path.resolve().parent != Path(directory).resolve() or not path.resolve().is_file():
            raise DatasetError(f"{path} must be a file inside the dataset folder")
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_MANIFEST_BYTES + 1)
            if len(raw) > MAX_MANIFEST_BYTES:
                raise DatasetError(f"{path} is larger than {MAX_MANIFEST_BYTES >> 20} MiB")
            data = json.loads(raw.decode("utf-8"))
        except OSError as exc:
            raise DatasetError(f"{path} cannot be read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
        except RecursionError:
            raise DatasetError(f"{path} is not readable JSON: nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError, and integers too long to convert
            raise DatasetError(f"{path} is not readable JSON: {' '.join(str(exc).split())[:200]}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, origin: str = MANIFEST_NAME) -> Manifest:
        """A manifest from parsed JSON, every field type- and range-checked (a one-line error otherwise)."""
        if not isinstance(data, dict):
            raise TextsynthError(f"{origin}: the manifest must be a JSON object")
        fields = _Fields(data, origin)
        if fields.get("format", str) != FORMAT_NAME:
            raise fields.bad("format", f"must be {FORMAT_NAME!r}, got {data['format']!r}")
        version = fields.get("format_version", int)
        if version not in READABLE_VERSIONS:
            raise fields.bad("format_version", f"is {version}; this textsynth reads versions "
                             f"{', '.join(map(str, READABLE_VERSIONS))}")
        charset = fields.get("charset", list)
        if not charset or not all(isinstance(c, str) and len(c) == 1 for c in charset):
            raise fields.bad("charset", "must be a non-empty list of one-character strings")
        try:
            Charset(charset)
        except TextsynthError as exc:
            raise fields.bad("charset", f"is not a valid charset: {exc}") from None
        n = fields.get("n", int, 1, MAX_SAMPLES)
        max_len = fields.get("max_len", int, 1, MAX_LABEL_LEN)
        shard_size = fields.get("shard_size", int, 1, max_shard_size(max_len))
        if -(-n // shard_size) > MAX_SHARDS:
            raise fields.bad("shard_size", f"makes more than {MAX_SHARDS:,} shards of {n:,} samples")
        manifest = cls(
            config=fields.get("config", dict), charset=charset, fonts=_fonts(fields),
            seed=fields.get("seed", int, 0, 2**63 - 1), n=n, width=fields.get("width", int, 16, MAX_WIDTH),
            height=fields.get("height", int, 16, MAX_HEIGHT), max_len=max_len,
            shard_size=shard_size, textsynth_version=fields.get("textsynth_version", str),
            complete=fields.get("complete", bool), command=fields.optional("command", str, ""),
            text_source=fields.optional("text_source", dict, {}),
            shards=_shard_records(fields, n, shard_size), format_version=version,
        )
        if manifest.complete and sum(s.count for s in manifest.shards) != n:
            raise fields.bad("shards", f"hold {sum(s.count for s in manifest.shards)} samples but n is {n}")
        _check_config(fields, manifest)
        return manifest


class _Fields:
    """Typed, range-checked access to a parsed manifest's fields, with errors that name the field."""

    def __init__(self, data: dict[str, Any], origin: str):
        self.data, self.origin = data, origin

    def bad(self, name: str, why: str) -> DatasetError:
        return DatasetError(f"{self.origin}: field '{name}' {why}")

    def get(self, name: str, kind: type, lo: int | None = None, hi: int | None = None) -> Any:
        if name not in self.data:
            raise self.bad(name, "is missing")
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.bad(name, f"must be {kind.__name__}, got {type(value).__name__}")
        if lo is not None and value < lo:
            raise self.bad(name, f"must be >= {lo}, got {value}")
        if hi is not None and value > hi:
            raise self.bad(name, f"must be <= {hi}, got {value}")
        return value

    def optional(self, name: str, kind: type, default: Any) -> Any:
        value = self.data.get(name, default)
        return value if isinstance(value, kind) else default


def _shard_records(fields: _Fields, n: int, shard_size: int) -> list[ShardRecord]:
    """The `shards` list, each record checked against the dataset's size and the others, in shard order."""
    shards, seen = [], set()
    for k, raw in enumerate(fields.get("shards", list)):
        name = f"shards[{k}]"
        if not isinstance(raw, dict):
            raise fields.bad(name, "must be an object")
        record = {}
        for key, kind in (("file", str), ("index", int), ("first", int), ("count", int),
                          ("sha256", str), ("bytes", int)):
            value = raw.get(key)
            if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 0)):
                raise fields.bad(f"{name}.{key}", "is missing or has the wrong type")
            record[key] = value
        file = record["file"]
        if not _SHARD_FILE.match(file) or file.startswith("."):
            raise fields.bad(f"{name}.file", f"must be a plain shard file name inside the dataset, got {file!r}")
        if not _SHA256.match(record["sha256"]):
            raise fields.bad(f"{name}.sha256", "must be 64 lowercase hex digits")
        if record["first"] != record["index"] * shard_size or record["first"] >= n:
            raise fields.bad(f"{name}.first", f"does not match shard {record['index']} of {n} samples")
        if record["count"] != min(shard_size, n - record["first"]):
            raise fields.bad(f"{name}.count", f"must be {min(shard_size, n - record['first'])} for shard "
                             f"{record['index']}, got {record['count']}")
        if record["index"] in seen:
            raise fields.bad(f"{name}.index", f"repeats shard {record['index']}")
        seen.add(record["index"])
        shards.append(ShardRecord(**record))
    return sorted(shards, key=lambda s: s.index)


def _fonts(fields: _Fields) -> list[dict[str, Any]]:
    fonts = fields.get("fonts", list)
    for k, font in enumerate(fonts):
        if not isinstance(font, dict) or not all(isinstance(font.get(key), str) for key in _FONT_FIELDS):
            raise fields.bad(f"fonts[{k}]", f"must be an object with string fields {', '.join(_FONT_FIELDS)}")
    return fonts


def _check_config(fields: _Fields, manifest: Manifest) -> None:
    """The stored render config must be valid and agree with the manifest's own numbers."""
    try:
        config = RenderConfig.from_dict(manifest.config, origin="config")
        config.validate()
    except TextsynthError as exc:
        raise fields.bad("config", f"is not a valid render config ({exc})") from None
    for name, path in _CONFIG_AGREES.items():
        value = config
        for key in path:
            value = getattr(value, key)
        if value != getattr(manifest, name):
            raise fields.bad("config", f"says {'.'.join(path)} = {value}, the manifest says {name} = "
                             f"{getattr(manifest, name)}")
