"""The one compiled module (everything else is in pyproject.toml): format 3's line decoding, textsynth/_lines.c.

Optional: where no C compiler is found the install still succeeds and the reader takes its numpy path, which
reads the same bytes (tests/test_sensor_storage.py checks both).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("textsynth._lines", ["textsynth/_lines.c"], extra_compile_args=["-O3"], optional=True)])
