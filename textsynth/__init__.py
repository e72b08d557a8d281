"""textsynth: synthetic text-line images for OCR training, written as sharded HDF5 datasets."""

from importlib import import_module

from textsynth.version import __version__

# Imported on first use: `textsynth` on the command line starts without numpy, h5py and Pillow loaded, so
# Ctrl-C during start-up is handled by the command line's own one-line message.
_EXPORTS = {"Charset": "charset", "RenderConfig": "config", "Dataset": "dataset", "open_dataset": "dataset",
            "TextsynthError": "errors", "FontSet": "fonts", "SampleGenerator": "generator", "Painter": "paint",
            "SampleParams": "record"}

__all__ = ["Charset", "Dataset", "FontSet", "Painter", "RenderConfig", "SampleGenerator", "SampleParams",
           "TextsynthError", "__version__", "open_dataset"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f"textsynth.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'textsynth' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
