"""Crash-safe file helpers: atomic replacement with fsync, directory fsync, sha256 of a file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def fsync_dir(path: str | Path) -> None:
    """Make a rename or a new file in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(path: str | Path) -> Path:
    """The hidden temporary name a file is written under before it replaces `path`."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp")


def commit_file(tmp: str | Path, path: str | Path) -> None:
    """fsync a finished temporary file, rename it over `path` and fsync the folder: `path` is then
    either the old or the new file, never a torn one, even after a power loss."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically."""
    tmp = temp_path(path)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    commit_file(tmp, path)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()
