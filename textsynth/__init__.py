"""textsynth: synthetic text-line images for OCR training, written as sharded HDF5 datasets."""

from textsynth.charset import Charset
from textsynth.config import RenderConfig
from textsynth.dataset import Dataset, open_dataset
from textsynth.errors import TextsynthError
from textsynth.fonts import FontSet
from textsynth.generator import SampleGenerator
from textsynth.paint import Painter
from textsynth.record import SampleParams
from textsynth.version import __version__

__all__ = ["Charset", "Dataset", "FontSet", "Painter", "RenderConfig", "SampleGenerator", "SampleParams",
           "TextsynthError", "__version__", "open_dataset"]
