"""The dataset manifest: what a dataset folder holds, written atomically, read back with every field checked."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from textsynth.errors import TextsynthError
from textsynth.shards import FORMAT_NAME, FORMAT_VERSION, fsync_dir

MANIFEST_NAME = "manifest.json"
_SHARD_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.h5$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Bounds that keep a hostile manifest from driving huge allocations.
MAX_SAMPLES = 10**10
MAX_SHARD_SAMPLES = 10**8
MAX_SIDE = 8192


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
    def shard_count(self) -> int:
        return -(-self.n // self.shard_size)

    def to_json(self) -> str:
        d = asdict(self)
        d = {"format": d.pop("format"), "format_version": d.pop("format_version"), **d}
        d["shards"] = sorted(d["shards"], key=lambda s: s["index"])
        return json.dumps(d, indent=1, ensure_ascii=False)

    def write(self, directory: str | Path) -> None:
        """Replace DIR/manifest.json atomically (temp file, fsync, rename)."""
        directory = Path(directory)
        tmp = directory / f".{MANIFEST_NAME}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.to_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / MANIFEST_NAME)
        fsync_dir(directory)

    @classmethod
    def read(cls, directory: str | Path) -> Manifest:
        """Parse and check DIR/manifest.json; any problem is a one-line error naming the field."""
        path = Path(directory) / MANIFEST_NAME
        if not path.is_file():
            raise TextsynthError(f"{directory} is not a textsynth dataset: {MANIFEST_NAME} is missing")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TextsynthError(f"{path} is not readable JSON: {exc}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, origin: str = MANIFEST_NAME) -> Manifest:
        def bad(name: str, why: str) -> TextsynthError:
            return TextsynthError(f"{origin}: field '{name}' {why}")

        def get(name: str, kind: type | tuple, lo: int | None = None, hi: int | None = None) -> Any:
            if name not in data:
                raise bad(name, "is missing")
            value = data[name]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise bad(name, f"must be {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
            if lo is not None and value < lo:
                raise bad(name, f"must be >= {lo}, got {value}")
            if hi is not None and value > hi:
                raise bad(name, f"must be <= {hi}, got {value}")
            return value

        if not isinstance(data, dict):
            raise TextsynthError(f"{origin}: the manifest must be a JSON object")
        if get("format", str) != FORMAT_NAME:
            raise bad("format", f"must be {FORMAT_NAME!r}, got {data['format']!r}")
        version = get("format_version", int)
        if version != FORMAT_VERSION:
            raise bad("format_version", f"is {version}; this textsynth reads version {FORMAT_VERSION}")
        charset = get("charset", list)
        if not charset or not all(isinstance(c, str) and len(c) == 1 for c in charset):
            raise bad("charset", "must be a non-empty list of one-character strings")
        n = get("n", int, 1, MAX_SAMPLES)
        shard_size = get("shard_size", int, 1, MAX_SHARD_SAMPLES)
        fields = dict(
            config=get("config", dict), charset=charset, fonts=get("fonts", list), seed=get("seed", int, 0),
            n=n, width=get("width", int, 1, MAX_SIDE), height=get("height", int, 1, MAX_SIDE),
            max_len=get("max_len", int, 1, 100_000), shard_size=shard_size,
            textsynth_version=get("textsynth_version", str), complete=get("complete", bool),
            command=data.get("command", "") if isinstance(data.get("command", ""), str) else "",
            text_source=data.get("text_source", {}) if isinstance(data.get("text_source"), dict) else {},
        )
        shards, seen = [], set()
        for k, raw in enumerate(get("shards", list)):
            name = f"shards[{k}]"
            if not isinstance(raw, dict):
                raise bad(name, "must be an object")
            record = {}
            for key, kind in (("file", str), ("index", int), ("first", int), ("count", int),
                              ("sha256", str), ("bytes", int)):
                value = raw.get(key)
                if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 0)):
                    raise bad(f"{name}.{key}", "is missing or has the wrong type")
                record[key] = value
            file = record["file"]
            if not _SHARD_FILE.match(file) or file.startswith("."):
                raise bad(f"{name}.file", f"must be a plain shard file name inside the dataset, got {file!r}")
            if not _SHA256.match(record["sha256"]):
                raise bad(f"{name}.sha256", "must be 64 lowercase hex digits")
            if not 0 < record["count"] <= shard_size:
                raise bad(f"{name}.count", f"must be in 1..shard_size ({shard_size}), got {record['count']}")
            if record["first"] != record["index"] * shard_size or record["first"] + record["count"] > n:
                raise bad(f"{name}.first", f"does not match shard {record['index']} of {n} samples")
            if record["index"] in seen:
                raise bad(f"{name}.index", f"repeats shard {record['index']}")
            seen.add(record["index"])
            shards.append(ShardRecord(**record))
        manifest = cls(**fields, shards=sorted(shards, key=lambda s: s.index))
        if manifest.complete and sum(s.count for s in shards) != n:
            raise bad("shards", f"hold {sum(s.count for s in shards)} samples but n is {n}")
        return manifest
