"""PyTorch adapter: the reader's batches as an IterableDataset whose DataLoader workers split the windows."""

from __future__ import annotations

import torch
from torch.utils.data import IterableDataset, get_worker_info

from textsynth.read_plan import ReadPlan, WindowReader


class TorchBatches(IterableDataset):
    """Batches of a textsynth dataset as dicts of tensors; use with `DataLoader(..., batch_size=None)`.

    Each DataLoader worker takes every N-th window of the epoch and opens its own HDF5 files (h5py
    handles are never shared across processes). Call `set_epoch(e)` for a new shuffle each epoch.
    """

    def __init__(self, ds: WindowReader, plan: ReadPlan):
        self.ds, self.plan = ds, plan

    def set_epoch(self, epoch: int) -> None:
        self.plan = self.plan.for_epoch(epoch)

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        windows = self.ds.windows(self.plan)
        for number in range(worker, len(windows), workers):
            for batch in self.ds.window_batches(windows[number], self.plan, number):
                yield {k: torch.from_numpy(v) for k, v in batch.items()}
