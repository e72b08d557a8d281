"""Open shard files of a reader: a bounded, least-recently-used set, shared by threads, never across processes."""

from __future__ import annotations

import contextlib
import os
import resource
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator

import h5py

# At most this many shards open at once, and at most an eighth of the process's file-descriptor limit.
MAX_OPEN_SHARDS = 64


def open_shard_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_OPEN_SHARDS
    return max(2, min(MAX_OPEN_SHARDS, soft // 8))


class _Entry:
    def __init__(self, file: h5py.File):
        self.file = file
        self.images = file["images"]  # looked up once: h5py's path lookup costs more than a small read
        self.users = 0
        self.evicted = False


class OpenShards:
    """Shard files by name, opened on first use and closed least-recently-used first once more than `capacity`
    are open. A file in use by a thread is closed only when that thread is done with it. (The opener is passed
    to `use`, not kept: a reader holding this set must stay free of reference cycles, so that its files close
    as soon as it is dropped; HDF5 would otherwise serve a rewritten file from the stale open handle.)"""

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity or open_shard_limit()
        self._open: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self._open)

    @contextlib.contextmanager
    def use(self, name: str, opener: Callable[[str], h5py.File]) -> Iterator[_Entry]:
        """The open shard `name` (opened with `opener` if need be) for the duration of the block."""
        if self._pid != os.getpid():  # forked: the parent's handles are not ours to use or close
            self._open, self._lock, self._pid = OrderedDict(), threading.Lock(), os.getpid()
        with self._lock:
            entry = self._open.get(name)
            if entry is None:
                self._evict(self.capacity - 1)
                entry = self._open[name] = _Entry(opener(name))
            else:
                self._open.move_to_end(name)
            entry.users += 1
        try:
            yield entry
        finally:
            with self._lock:
                entry.users -= 1
                if entry.evicted and entry.users == 0:
                    entry.file.close()

    def _evict(self, keep: int) -> None:
        while len(self._open) > keep:
            _, entry = self._open.popitem(last=False)
            entry.evicted = True
            if entry.users == 0:
                entry.file.close()

    def close(self) -> None:
        with self._lock:
            self._evict(0)

