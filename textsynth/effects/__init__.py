"""Effects: everything after typesetting that changes a sample's pixels, each declared once (`spec`).

The effect modules (`classic`: the seed's blur, flips, gray levels and noise; `geometry`: the ink's shape,
before it is placed; `background`: paper; `light`: ink levels and light; `clutter`: neighbouring lines,
strike-through, specks; `optics`: blur, resolution, JPEG) each declare their `EFFECTS`; `registry` collects
them, `sampling` draws a sample's record, `compose` turns a placed ink mask and its record into pixels.
"""
