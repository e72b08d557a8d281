"""PyTorch adapter: the reader's batches as an IterableDataset whose DataLoader workers split the windows."""

from __future__ import annotations

import torch
from torch.utils.data import IterableDataset, get_worker_info

from textsynth.dataset import Dataset


class TorchBatches(IterableDataset):
    """Batches of a textsynth dataset as dicts of tensors; use with `DataLoader(..., batch_size=None)`.

    Each DataLoader worker takes every N-th window of the epoch and opens its own HDF5 files (h5py
    handles are never shared across processes). Call `set_epoch(e)` for a new shuffle each epoch.
    """

    def __init__(self, ds: Dataset, batch_size: int, shuffle: bool = True, seed: int = 0,
                 drop_remainder: bool = False):
        self.ds, self.batch_size, self.shuffle, self.seed = ds, batch_size, shuffle, seed
        self.drop_remainder = drop_remainder
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        windows = self.ds.windows(self.batch_size, self.shuffle, self.seed, self.epoch)
        for number in range(worker, len(windows), workers):
            for batch in self.ds.window_batches(windows[number], self.batch_size, self.shuffle, self.seed,
                                                self.epoch, number, self.drop_remainder):
                yield {k: torch.from_numpy(v) for k, v in batch.items()}
