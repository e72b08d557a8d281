"""The one compiled module (everything else is in pyproject.toml): format 3's line decoding and the painter's per-line
loops (shaping results, glyph placing, ink blend, light ramps, tone tables), textsynth/_lines.c.

Optional: where no C compiler is found the install still succeeds and the reader and the painter take their numpy
paths, which give the same bytes (tests/test_sensor_storage.py and tests/test_effects.py check both).
"""

from setuptools import Extension, setup

# -ffp-contract=off: no fused multiply-add, so the compiled ink blend rounds as numpy's separate operations do
setup(ext_modules=[Extension("textsynth._lines", ["textsynth/_lines.c"],
                             extra_compile_args=["-O3", "-ffp-contract=off"], optional=True)])
