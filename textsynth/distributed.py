"""The Dask backend: render shards on a dask.distributed cluster (or a local one) through joblib."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from textsynth.errors import TextsynthError


def _probe_write(out: str) -> str:
    """Runs on a worker: can it create files in the output folder?"""
    path = Path(out) / f".textsynth-worker-probe-{socket.gethostname()}-{os.getpid()}"
    try:
        path.write_bytes(b"")
        path.unlink()
        return ""
    except OSError as exc:
        return f"{socket.gethostname()}: {exc.strerror or exc}"


@contextlib.contextmanager
def dask_cluster(scheduler: str | None, workers: int) -> Iterator[tuple[object, int]]:
    """Connect to a Dask cluster and route joblib to it; yields (client, tasks to run at once).

    `scheduler` is `tcp://HOST:PORT` of a running cluster, or None / `local` for a LocalCluster of
    `workers` single-threaded processes on this machine.
    """
    try:
        import joblib
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise TextsynthError("the dask backend needs the dask extra: pip install 'textsynth[dask]'") from None

    with contextlib.ExitStack() as stack:
        if scheduler in (None, "", "local"):
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            if not scheduler.startswith(("tcp://", "tls://")):
                raise TextsynthError(f"--scheduler must be tcp://HOST:PORT or local, got {scheduler!r}")
            try:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            except (OSError, TimeoutError) as exc:
                raise TextsynthError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise TextsynthError(f"the Dask cluster at {scheduler} has no workers")
        with joblib.parallel_config(backend="dask"):
            yield client, threads


def check_workers_can_write(client, out: str | Path) -> None:
    """Every worker must see and write the output folder (a shared filesystem on a real cluster)."""
    problems = [p for p in client.run(_probe_write, str(Path(out).absolute())).values() if p]
    if problems:
        raise TextsynthError(f"Dask workers cannot write to {out} (it must be a shared folder every worker "
                             f"sees): {problems[0]}")
