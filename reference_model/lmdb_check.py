"""A damaged LMDB found before it is read: its meta pages checked before it is mapped, then every record walked
in a child process, since a bad page can kill the process that maps it (SIGBUS)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

META_MAGIC = 0xBEEFC0DE
INVALID_PAGE = 2**64 - 1
WALK_TIMEOUT_S = 600


def check_lmdb(root: Path) -> None:
    """A DatasetError naming `root` if its data.mdb is damaged; returns quietly when every record reads."""
    _check_meta(root / "data.mdb")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run([sys.executable, __file__, str(root)], capture_output=True, timeout=WALK_TIMEOUT_S,
                              env=env)
    except subprocess.TimeoutExpired:
        _damaged(root, f"reading every record took over {WALK_TIMEOUT_S} s")
    if done.returncode < 0:
        _damaged(root, f"reading it killed the reader (signal {-done.returncode})")
    if done.returncode != 0:
        said = done.stdout.decode("utf-8", "replace").strip() or done.stderr.decode("utf-8", "replace").strip()
        _damaged(root, said.splitlines()[-1] if said else f"its reader exited {done.returncode}")


def _damaged(root: Path, why: str) -> None:
    from textsynth.errors import DatasetError

    raise DatasetError(f"{root} is a damaged LMDB: {why}")


def _check_meta(data: Path) -> None:
    """The newer of the two meta pages must have LMDB's magic, a sane page size, and its last page and both roots
    inside the file: otherwise mapping it reads past the end of the file."""
    try:
        size = data.stat().st_size
        with open(data, "rb") as f:
            head = f.read(2 * 65536)
    except OSError as exc:
        _damaged(data.parent, f"cannot read data.mdb ({exc.strerror or exc})")
    metas = []
    first_psize = struct.unpack_from("<I", head, 40)[0] if len(head) >= 152 else 0
    for offset in (0, first_psize):
        if offset + 152 > len(head) or (offset and first_psize not in {2**k for k in range(9, 17)}):
            continue
        magic, _version = struct.unpack_from("<II", head, offset + 16)
        psize = struct.unpack_from("<I", head, offset + 40)[0]
        free_root = struct.unpack_from("<Q", head, offset + 80)[0]
        main_root = struct.unpack_from("<Q", head, offset + 128)[0]
        last, txnid = struct.unpack_from("<QQ", head, offset + 136)
        if magic == META_MAGIC:
            metas.append((txnid, psize, free_root, main_root, last))
    if not metas:
        _damaged(data.parent, "data.mdb has no valid meta page")
    _txnid, psize, free_root, main_root, last = max(metas)
    if psize not in {2**k for k in range(9, 17)}:
        _damaged(data.parent, f"page size {psize} is not a power of two in 512..65536")
    if (last + 1) * psize > size:
        _damaged(data.parent, f"its last page {last} lies past the end of data.mdb ({size:,} bytes)")
    for root in (free_root, main_root):
        if root != INVALID_PAGE and root > last:
            _damaged(data.parent, f"a B-tree root (page {root}) lies past its last page {last}")


def walk(root: str) -> int:
    """Read every key and value (run in the child): 0 when all read, 3 with the error on stdout otherwise."""
    import lmdb

    try:
        env = lmdb.open(root, readonly=True, lock=False, readahead=False, meminit=False, max_dbs=0)
        with env.begin(buffers=True) as txn:
            for key, value in txn.cursor():
                zlib.crc32(value, zlib.crc32(key))  # touches every byte
        env.close()
    except lmdb.Error as exc:
        print(f"{type(exc).__name__}: {exc}")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(walk(sys.argv[1]))
