/* Per-line loops numpy cannot fuse, one compiled pass each: format 3's line decoding (`zstd_chunks.undo_rows`,
 * `sensor.add_sensor`, with the GIL released) and the painter's shaping results and glyph placing (`layout`),
 * ink blend and levels (`effects.compose`), tone tables (`effects.light`) and per-sample seeding (`draws.stream`).
 * An installation built without a C compiler lacks this module and they take their numpy or Python path, which
 * gives the same bytes:
 *
 *   undo_rows(rows, out, height, width)  each line's rows back from "row minus the row above, mod 256"
 *   add_terms(line, height, width, used, above, below, bank_cols, offset, ...)
 *       the sensor stage on one line: for each of one or two terms, clip(line + above - below, 0, 255) over
 *       columns [0, used), the term's window starting `offset` bytes into its banks of `bank_cols` columns.
 *   blend(image, width, height, x, y, weights, w, h, kind, ink_row, ink, scale)
 *       ink laid on the float32 canvas over a box: pixel + (ink - pixel) * weight.
 *   ramp(image, width, height, row, column, kind, k, s)
 *       a gradient, an illumination falloff or a shadow's edge over the float32 canvas, from a row and a column.
 *   levels(image, out)  the float32 canvas rounded to uint8 gray levels, negatives 0
 *   place(mask, placed, x0, y0)  glyph bitmaps into a text's mask (`layout`)
 *   pen_run(cache, gids, advance, ...)  where a shaped text's cached glyphs go along its pen (`layout`)
 *   shape_run(infos, positions, ink_em, upem, text)  a HarfBuzz buffer's glyphs as `layout.Shaped`'s fields
 *   ink_span(advance, ink_x, space, tracked, ...)  a shaped text's outlines' left and right (`layout`)
 *   tone_table(contrast, gamma)  the 256 levels of a sample's contrast and gamma (`effects.light`)
 *   seed_state(words)  the PCG64 seed numpy's SeedSequence makes of a list of 32-bit words (`draws.stream`)
 *
 * Every buffer's extent is checked here against what the loops touch, so no argument can make them read or
 * write outside a buffer (the Python side checks a shard's columns first; this is the second line).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h> /* every x86-64 CPU: 16 bytes a step, saturating uint8 adds and subtracts */
#endif

/* row = above + diff (mod 256), `n` bytes; `row` overlaps neither input. */
static void add_wrapping(uint8_t *row, const uint8_t *above, const uint8_t *diff, Py_ssize_t n) {
    Py_ssize_t c = 0;
#ifdef __SSE2__
    for (; c + 16 <= n; c += 16)
        _mm_storeu_si128((__m128i *)(row + c), _mm_add_epi8(_mm_loadu_si128((const __m128i *)(above + c)),
                                                             _mm_loadu_si128((const __m128i *)(diff + c))));
#endif
    for (; c < n; c++)
        row[c] = (uint8_t)(above[c] + diff[c]);
}

/* row = clip(row + a - b, 0, 255) as a saturating add then a saturating subtract, `n` bytes. */
static void add_saturating(uint8_t *row, const uint8_t *a, const uint8_t *b, Py_ssize_t n) {
    Py_ssize_t c = 0;
#ifdef __SSE2__
    for (; c + 16 <= n; c += 16) {
        __m128i v = _mm_adds_epu8(_mm_loadu_si128((const __m128i *)(row + c)), _mm_loadu_si128((const __m128i *)(a + c)));
        _mm_storeu_si128((__m128i *)(row + c), _mm_subs_epu8(v, _mm_loadu_si128((const __m128i *)(b + c))));
    }
#endif
    for (; c < n; c++) {
        unsigned v = (unsigned)row[c] + a[c];
        v = v > 255 ? 255 : v;
        row[c] = (uint8_t)(v > b[c] ? v - b[c] : 0);
    }
}

static PyObject *undo_rows(PyObject *self, PyObject *args) {
    Py_buffer rows, out;
    Py_ssize_t height, width;
    if (!PyArg_ParseTuple(args, "y*w*nn", &rows, &out, &height, &width))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t line = height * width;
    if (height < 1 || width < 1 || rows.len != out.len || rows.len % line != 0) {
        PyErr_SetString(PyExc_ValueError, "undo_rows: buffers of unequal size, or not whole lines");
        goto done;
    }
    if ((const char *)rows.buf < (const char *)out.buf + out.len && (const char *)out.buf < (const char *)rows.buf + rows.len) {
        PyErr_SetString(PyExc_ValueError, "undo_rows: the two buffers overlap");
        goto done;
    }
    const uint8_t *src = rows.buf;
    uint8_t *dst = out.buf;
    Py_ssize_t lines = rows.len / line;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < lines; k++) {
        const uint8_t *s = src + k * line;
        uint8_t *d = dst + k * line;
        memcpy(d, s, (size_t)width);
        for (Py_ssize_t r = 1; r < height; r++)
            add_wrapping(d + r * width, d + (r - 1) * width, s + r * width, width);
    }
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&rows);
    PyBuffer_Release(&out);
    return result;
}

/* One term on columns [0, used) of each row: saturating add of `above`, then saturating subtract of `below`. */
static void add_term(uint8_t *line, Py_ssize_t height, Py_ssize_t width, Py_ssize_t used, const uint8_t *above,
                     const uint8_t *below, Py_ssize_t bank_cols) {
    for (Py_ssize_t r = 0; r < height; r++)
        add_saturating(line + r * width, above + r * bank_cols, below + r * bank_cols, used);
}

static int term_fits(Py_buffer *above, Py_buffer *below, Py_ssize_t bank_cols, Py_ssize_t offset,
                     Py_ssize_t height, Py_ssize_t used) {
    if (bank_cols < 1 || bank_cols < used || offset < 0 || above->len != below->len)
        return 0;
    Py_ssize_t col = offset % bank_cols;
    return col + used <= bank_cols && offset + (height - 1) * bank_cols + used <= above->len;
}

static PyObject *add_terms(PyObject *self, PyObject *args) {
    Py_buffer line, above1, below1, above2 = {0}, below2 = {0};
    Py_ssize_t height, width, used, cols1, offset1, cols2 = 0, offset2 = 0;
    if (!PyArg_ParseTuple(args, "w*nnny*y*nn|y*y*nn", &line, &height, &width, &used, &above1, &below1, &cols1,
                          &offset1, &above2, &below2, &cols2, &offset2))
        return NULL;
    PyObject *result = NULL;
    int second = above2.buf != NULL;
    if (height < 1 || width < 1 || used < 0 || used > width || line.len != height * width) {
        PyErr_SetString(PyExc_ValueError, "add_terms: the line is not height x width, or used exceeds width");
        goto done;
    }
    if (!term_fits(&above1, &below1, cols1, offset1, height, used) ||
        (second && !term_fits(&above2, &below2, cols2, offset2, height, used))) {
        PyErr_SetString(PyExc_ValueError, "add_terms: a term's window leaves its bank");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    add_term(line.buf, height, width, used, (const uint8_t *)above1.buf + offset1,
             (const uint8_t *)below1.buf + offset1, cols1);
    if (second)
        add_term(line.buf, height, width, used, (const uint8_t *)above2.buf + offset2,
                 (const uint8_t *)below2.buf + offset2, cols2);
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&line);
    PyBuffer_Release(&above1);
    PyBuffer_Release(&below1);
    if (second) {
        PyBuffer_Release(&above2);
        PyBuffer_Release(&below2);
    }
    return result;
}

/* blend(image, width, height, x, y, weights, w, h, kind, ink_row, ink, scale): ink laid on a float32 canvas
 * over the box (x, y, w, h): pixel = pixel + (ink - pixel) * weight, where weight is a uint8 mask's value times
 * `scale` (kind 0) or a float32 coverage's (kind 1), and ink is ink_row[column] (a float32 row as wide as the
 * canvas) or, with an empty ink_row, `ink`. Each operation is one float32 IEEE operation in numpy's order (the
 * module is built with -ffp-contract=off: no fused multiply-add), so it writes the bytes numpy's three-step
 * expression in effects/compose.py writes. */
static PyObject *blend(PyObject *self, PyObject *args) {
    Py_buffer image, weights, ink_row;
    Py_ssize_t width, height, x, y, w, h;
    int kind;
    float ink, scale;
    if (!PyArg_ParseTuple(args, "w*nnnny*nniy*ff", &image, &width, &height, &x, &y, &weights, &w, &h, &kind,
                          &ink_row, &ink, &scale))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t weight_size = kind == 1 ? (Py_ssize_t)sizeof(float) : 1;
    if (width < 1 || height < 1 || image.len != width * height * (Py_ssize_t)sizeof(float) || x < 0 || y < 0 ||
        w < 0 || h < 0 || x > width - w || y > height - h || (kind != 0 && kind != 1) ||
        weights.len != w * h * weight_size ||
        (ink_row.len != 0 && ink_row.len != width * (Py_ssize_t)sizeof(float))) {
        PyErr_SetString(PyExc_ValueError, "blend: a buffer does not match the canvas, the box or the ink row");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    float *canvas = image.buf;
    const float *row = ink_row.len ? (const float *)ink_row.buf : NULL;
    /* four plain loops (mask or coverage, ink row or one ink level) so that the compiler vectorizes each */
    for (Py_ssize_t r = 0; r < h; r++) {
        float *px = canvas + (y + r) * width + x;
        const uint8_t *m = (const uint8_t *)weights.buf + r * w;
        const float *f = (const float *)weights.buf + r * w;
        if (kind == 0 && row) {
            const float *ink_at = row + x;
            for (Py_ssize_t c = 0; c < w; c++)
                px[c] = px[c] + (ink_at[c] - px[c]) * ((float)m[c] * scale);
        } else if (kind == 0) {
            for (Py_ssize_t c = 0; c < w; c++)
                px[c] = px[c] + (ink - px[c]) * ((float)m[c] * scale);
        } else if (row) {
            const float *ink_at = row + x;
            for (Py_ssize_t c = 0; c < w; c++)
                px[c] = px[c] + (ink_at[c] - px[c]) * f[c];
        } else {
            for (Py_ssize_t c = 0; c < w; c++)
                px[c] = px[c] + (ink - px[c]) * f[c];
        }
    }
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&image);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&ink_row);
    return result;
}

/* ramp(image, width, height, row, column, kind, k, s): a light ramp over a float32 canvas, whose value at (r, c) is
 * made of a float32 row (as wide as the canvas) and a float32 column (as high), in numpy's order of operations
 * (effects/background.py's Coordinates, one IEEE float32 operation each, no fused multiply-add):
 *   kind 0  pixel = (pixel + row[c]) + column[r]                         a gradient added
 *   kind 1  pixel = pixel * ((row[c] + k) + column[r])                   an illumination falloff
 *   kind 2  pixel = pixel * (1 - s * clip(((row[c] + column[r]) - k) * 12 + 0.5, 0, 1))   a shadow's soft edge */
static PyObject *ramp(PyObject *self, PyObject *args) {
    Py_buffer image, row_buf, column_buf;
    Py_ssize_t width, height;
    int kind;
    float k, s;
    if (!PyArg_ParseTuple(args, "w*nny*y*iff", &image, &width, &height, &row_buf, &column_buf, &kind, &k, &s))
        return NULL;
    PyObject *result = NULL;
    if (width < 1 || height < 1 || image.len != width * height * (Py_ssize_t)sizeof(float) ||
        row_buf.len != width * (Py_ssize_t)sizeof(float) || column_buf.len != height * (Py_ssize_t)sizeof(float) ||
        kind < 0 || kind > 2) {
        PyErr_SetString(PyExc_ValueError, "ramp: a buffer does not match the canvas, or an unknown kind");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const float *row = row_buf.buf, *column = column_buf.buf;
    for (Py_ssize_t r = 0; r < height; r++) {
        float *px = (float *)image.buf + r * width;
        const float down = column[r];
        if (kind == 0) {
            for (Py_ssize_t c = 0; c < width; c++)
                px[c] = (px[c] + row[c]) + down;
        } else if (kind == 1) {
            for (Py_ssize_t c = 0; c < width; c++)
                px[c] = px[c] * ((row[c] + k) + down);
        } else {
            for (Py_ssize_t c = 0; c < width; c++) {
                float v = ((row[c] + down) - k) * 12.0f + 0.5f;
                v = v < 0.0f ? 0.0f : v;
                v = v > 1.0f ? 1.0f : v;
                px[c] = px[c] * (1.0f - s * v);
            }
        }
    }
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&image);
    PyBuffer_Release(&row_buf);
    PyBuffer_Release(&column_buf);
    return result;
}

/* levels(image, out): the float32 canvas as uint8 gray levels, what cv2.convertScaleAbs(cv2.threshold(image, 0, 0,
 * THRESH_TOZERO)) gives in two passes: a level not above 0 is 0, others round half to even and saturate at 255;
 * NaN is 255 as there (no effect makes one; the bytes match anyway). */
static PyObject *levels(PyObject *self, PyObject *args) {
    Py_buffer image, out;
    if (!PyArg_ParseTuple(args, "y*w*", &image, &out))
        return NULL;
    PyObject *result = NULL;
    if (image.len != out.len * (Py_ssize_t)sizeof(float)) {
        PyErr_SetString(PyExc_ValueError, "levels: the uint8 output is not as long as the float32 image");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const float *src = image.buf;
    uint8_t *dst = out.buf;
    Py_ssize_t i = 0;
    /* min(v, 256) first (NaN becomes 256: min returns its second operand on NaN), then max(v, 0); the rounding is
     * the CPU's default, to nearest with ties to even (as cvRound), and packing saturates 256 to 255. */
#ifdef __SSE2__
    const __m128 top = _mm_set1_ps(256.0f), zero = _mm_setzero_ps();
    for (; i + 16 <= out.len; i += 16) {
        __m128i q[4];
        for (int k = 0; k < 4; k++)
            q[k] = _mm_cvtps_epi32(_mm_max_ps(_mm_min_ps(_mm_loadu_ps(src + i + 4 * k), top), zero));
        __m128i lo = _mm_packs_epi32(q[0], q[1]), hi = _mm_packs_epi32(q[2], q[3]);
        _mm_storeu_si128((__m128i *)(dst + i), _mm_packus_epi16(lo, hi));
    }
#endif
    for (; i < out.len; i++) {
        float v = src[i];
        v = v < 256.0f ? v : 256.0f;
        v = v > 0.0f ? v : 0.0f;
        long r = lrintf(v);
        dst[i] = (uint8_t)(r > 255 ? 255 : r);
    }
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&image);
    PyBuffer_Release(&out);
    return result;
}

/* place(mask, placed, x0, y0): glyph bitmaps into a text's zeroed uint8 mask, as `layout.FontLayout.text_mask`
 * places them: `placed` is a list of (x, y, x1, y1, bitmap, cluster) in pen coordinates, (x0, y0) the mask's
 * origin; a bitmap clear of every one before it (x at or past the right edge so far) is copied, an overlapping
 * one keeps the darker ink (a maximum). Every bitmap must be a C-contiguous 2-D uint8 array inside the mask. */
static PyObject *place(PyObject *self, PyObject *args) {
    Py_buffer mask;
    PyObject *target, *placed;
    Py_ssize_t x0, y0;
    if (!PyArg_ParseTuple(args, "OO!nn", &target, &PyList_Type, &placed, &x0, &y0))
        return NULL;
    if (PyObject_GetBuffer(target, &mask, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    PyObject *result = NULL;
    if (mask.ndim != 2 || mask.itemsize != 1 || (mask.format != NULL && strcmp(mask.format, "B") != 0)) {
        PyErr_SetString(PyExc_ValueError, "place: the mask is not a C-contiguous 2-D uint8 array");
        goto done;
    }
    Py_ssize_t mh = mask.shape[0], mw = mask.shape[1], right = PY_SSIZE_T_MIN, n = PyList_GET_SIZE(placed);
    uint8_t *out = mask.buf;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyList_GET_ITEM(placed, k);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 5) {
            PyErr_SetString(PyExc_ValueError, "place: an item is not an (x, y, x1, y1, bitmap, ...) tuple");
            goto done;
        }
        Py_ssize_t x = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0)), y = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
        if ((x == -1 || y == -1) && PyErr_Occurred())
            goto done;
        Py_buffer g;
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(item, 4), &g, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
            goto done;
        int ok = g.ndim == 2 && g.itemsize == 1 && (g.format == NULL || strcmp(g.format, "B") == 0);
        Py_ssize_t gh = ok ? g.shape[0] : 0, gw = ok ? g.shape[1] : 0, cx = x - x0, cy = y - y0;
        if (!ok || cx < 0 || cy < 0 || cx > mw - gw || cy > mh - gh) {
            PyBuffer_Release(&g);
            PyErr_SetString(PyExc_ValueError, "place: a bitmap is not 2-D uint8, or leaves the mask");
            goto done;
        }
        const uint8_t *src = g.buf;
        for (Py_ssize_t r = 0; r < gh; r++) {
            uint8_t *row = out + (cy + r) * mw + cx;
            const uint8_t *from = src + r * gw;
            if (x >= right)
                memcpy(row, from, (size_t)gw);
            else
                for (Py_ssize_t c = 0; c < gw; c++)
                    row[c] = from[c] > row[c] ? from[c] : row[c];
        }
        PyBuffer_Release(&g);
        if (x + gw > right)
            right = x + gw;
    }
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&mask);
    return result;
}

/* The pen after glyph k of a shaped text, as `layout` moves it: its advance (times the word spacing on a space),
 * then the letter spacing where a cluster ends; Python's float operations in Python's order. -1 on a bad value. */
static int advance_pen(PyObject *adv, PyObject *space, PyObject *tracked, Py_ssize_t k, double tracking,
                       double word_spacing, double *pen) {
    double a = PyFloat_AsDouble(PyTuple_GET_ITEM(adv, k));
    if (a == -1.0 && PyErr_Occurred())
        return -1;
    *pen += PyObject_IsTrue(PyTuple_GET_ITEM(space, k)) ? a * word_spacing : a;
    if (PyObject_IsTrue(PyTuple_GET_ITEM(tracked, k)))
        *pen += tracking;
    return 0;
}

/* pen_run(cache, gids, advance, x_offset, y_offset, space, tracked, size, tracking, word_spacing): the pen loop of
 * `layout.FontLayout.text_mask` for a shaped text whose glyphs are all in `cache` (glyph id -> Glyph): the glyphs
 * with ink as a list of (x, y, x1, y1, bitmap) and their union (x0, y0, x1, y1), with Python's float operations
 * in Python's order and its rounding (half to even). None when a glyph is not cached or none has ink: the
 * Python loop then rasterizes it, or raises. */
static PyObject *pen_run(PyObject *self, PyObject *args) {
    PyObject *cache, *gids, *adv, *xoff, *yoff, *space, *tracked;
    Py_ssize_t size;
    double tracking, word_spacing;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!O!O!ndd", &PyDict_Type, &cache, &PyTuple_Type, &gids, &PyTuple_Type, &adv,
                          &PyTuple_Type, &xoff, &PyTuple_Type, &yoff, &PyTuple_Type, &space, &PyTuple_Type, &tracked,
                          &size, &tracking, &word_spacing))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(gids);
    if (PyTuple_GET_SIZE(adv) != n || PyTuple_GET_SIZE(xoff) != n || PyTuple_GET_SIZE(yoff) != n ||
        PyTuple_GET_SIZE(space) != n || PyTuple_GET_SIZE(tracked) != n) {
        PyErr_SetString(PyExc_ValueError, "pen_run: the shaped fields differ in length");
        return NULL;
    }
    PyObject *placed = PyList_New(0);
    if (placed == NULL)
        return NULL;
    double pen = 0.0, scale = (double)size;
    Py_ssize_t x0 = PY_SSIZE_T_MAX, y0 = PY_SSIZE_T_MAX, x1 = PY_SSIZE_T_MIN, y1 = PY_SSIZE_T_MIN;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *g = PyDict_GetItemWithError(cache, PyTuple_GET_ITEM(gids, k));  /* borrowed */
        if (g == NULL) {
            if (PyErr_Occurred())
                goto fail;
            Py_DECREF(placed);
            Py_RETURN_NONE;
        }
        if (!PyTuple_Check(g) || PyTuple_GET_SIZE(g) < 5) {
            PyErr_SetString(PyExc_ValueError, "pen_run: a cached glyph is not a (mask, left, top, width, rows) tuple");
            goto fail;
        }
        PyObject *bitmap = PyTuple_GET_ITEM(g, 0);
        if (bitmap != Py_None) {
            double xo = PyFloat_AsDouble(PyTuple_GET_ITEM(xoff, k)), yo = PyFloat_AsDouble(PyTuple_GET_ITEM(yoff, k));
            Py_ssize_t left = PyLong_AsSsize_t(PyTuple_GET_ITEM(g, 1)), top = PyLong_AsSsize_t(PyTuple_GET_ITEM(g, 2));
            Py_ssize_t width = PyLong_AsSsize_t(PyTuple_GET_ITEM(g, 3)), rows = PyLong_AsSsize_t(PyTuple_GET_ITEM(g, 4));
            if (PyErr_Occurred())
                goto fail;
            Py_ssize_t x = (Py_ssize_t)nearbyint((pen + xo) * scale) + left;
            Py_ssize_t y = yo != 0.0 ? top - (Py_ssize_t)nearbyint(yo * scale) : top;
            PyObject *item = Py_BuildValue("(nnnnO)", x, y, x + width, y + rows, bitmap);
            if (item == NULL || PyList_Append(placed, item) < 0) {
                Py_XDECREF(item);
                goto fail;
            }
            Py_DECREF(item);
            x0 = x < x0 ? x : x0;
            y0 = y < y0 ? y : y0;
            x1 = x + width > x1 ? x + width : x1;
            y1 = y + rows > y1 ? y + rows : y1;
        }
        if (advance_pen(adv, space, tracked, k, tracking, word_spacing, &pen) < 0)
            goto fail;
    }
    if (PyList_GET_SIZE(placed) == 0) {
        Py_DECREF(placed);
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(Nnnnn)", placed, x0, y0, x1, y1);
fail:
    Py_DECREF(placed);
    return NULL;
}

/* shape_run(infos, positions, ink_em, upem, text): the per-glyph fields `layout.FontLayout.shape` makes of one
 * HarfBuzz buffer (left to right), with Python's float operations in Python's order: (gids, clusters, advance,
 * x_offset, y_offset, ink_x, top, bottom, ink, space), lengths in em. `ink_em` maps a glyph id to its outline's
 * ((left, right), top, bottom) in em, or None; None when a glyph is not in it (the Python path then measures it). */
static PyObject *attr_codepoint, *attr_cluster, *attr_x_advance, *attr_x_offset, *attr_y_offset;

static int long_attr(PyObject *obj, PyObject *name, long *value) {
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL)
        return -1;
    *value = PyLong_AsLong(v);
    Py_DECREF(v);
    return (*value == -1 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *shape_run(PyObject *self, PyObject *args) {
    PyObject *infos, *positions, *ink_em, *text;
    double upem;
    if (!PyArg_ParseTuple(args, "O!O!O!dU", &PyList_Type, &infos, &PyList_Type, &positions, &PyDict_Type, &ink_em,
                          &upem, &text))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(infos), length = PyUnicode_GET_LENGTH(text);
    if (PyList_GET_SIZE(positions) != n) {
        PyErr_SetString(PyExc_ValueError, "shape_run: infos and positions differ in length");
        return NULL;
    }
    double em = 1.0 / upem;
    PyObject *gids = PyTuple_New(n), *clusters = PyTuple_New(n), *advance = PyTuple_New(n), *x_offset = PyTuple_New(n);
    PyObject *y_offset = PyTuple_New(n), *ink_x = PyTuple_New(n), *ink = PyTuple_New(n), *space = PyTuple_New(n);
    PyObject *result = NULL, *top = NULL, *bottom = NULL;
    long *xo = NULL, *yo = NULL;
    if (!gids || !clusters || !advance || !x_offset || !y_offset || !ink_x || !ink || !space)
        goto done;
    xo = PyMem_Malloc(sizeof(long) * (size_t)(n ? 2 * n : 1));
    if (xo == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    yo = xo + n;
    int offsets = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *info = PyList_GET_ITEM(infos, k), *pos = PyList_GET_ITEM(positions, k);
        PyObject *gid = PyObject_GetAttr(info, attr_codepoint);
        if (gid == NULL)
            goto done;
        PyTuple_SET_ITEM(gids, k, gid);
        PyObject *e = PyDict_GetItemWithError(ink_em, gid);  /* borrowed */
        if (e == NULL) {
            if (!PyErr_Occurred()) {  /* not measured yet */
                Py_INCREF(Py_None);
                result = Py_None;
            }
            goto done;
        }
        Py_INCREF(e);
        PyTuple_SET_ITEM(ink, k, e);
        long cluster, adv;
        if (long_attr(info, attr_cluster, &cluster) < 0 || long_attr(pos, attr_x_advance, &adv) < 0 ||
            long_attr(pos, attr_x_offset, &xo[k]) < 0 || long_attr(pos, attr_y_offset, &yo[k]) < 0)
            goto done;
        if (cluster < 0 || cluster >= length) {
            PyErr_SetString(PyExc_ValueError, "shape_run: a cluster lies outside the text");
            goto done;
        }
        offsets |= xo[k] != 0 || yo[k] != 0;
        PyObject *c = PyLong_FromLong(cluster), *a = PyFloat_FromDouble((double)adv * em);
        PyObject *sp = PyBool_FromLong(Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(text, cluster)));
        if (c == NULL || a == NULL) {
            Py_XDECREF(c);
            Py_XDECREF(a);
            Py_DECREF(sp);
            goto done;
        }
        PyTuple_SET_ITEM(clusters, k, c);
        PyTuple_SET_ITEM(advance, k, a);
        PyTuple_SET_ITEM(space, k, sp);
    }
    double high = 0.0, low = 0.0;
    int inked = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *e = PyTuple_GET_ITEM(ink, k);
        double dx = offsets ? (double)xo[k] * em : 0.0, dy = offsets ? (double)yo[k] * em : 0.0;
        PyObject *fx = PyFloat_FromDouble(dx), *fy = PyFloat_FromDouble(dy);
        if (fx == NULL || fy == NULL) {
            Py_XDECREF(fx);
            Py_XDECREF(fy);
            goto done;
        }
        PyTuple_SET_ITEM(x_offset, k, fx);
        PyTuple_SET_ITEM(y_offset, k, fy);
        if (e == Py_None) {
            Py_INCREF(Py_None);
            PyTuple_SET_ITEM(ink_x, k, Py_None);
            continue;
        }
        if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 3 || !PyTuple_Check(PyTuple_GET_ITEM(e, 0)) ||
            PyTuple_GET_SIZE(PyTuple_GET_ITEM(e, 0)) != 2) {
            PyErr_SetString(PyExc_ValueError, "shape_run: an ink extent is not ((left, right), top, bottom)");
            goto done;
        }
        PyObject *lr = PyTuple_GET_ITEM(e, 0);
        double t = PyFloat_AsDouble(PyTuple_GET_ITEM(e, 1)), b = PyFloat_AsDouble(PyTuple_GET_ITEM(e, 2));
        if (PyErr_Occurred())
            goto done;
        if (offsets) {  /* each extent moved by its glyph's offset */
            double l = PyFloat_AsDouble(PyTuple_GET_ITEM(lr, 0)), r = PyFloat_AsDouble(PyTuple_GET_ITEM(lr, 1));
            if (PyErr_Occurred())
                goto done;
            PyObject *moved = Py_BuildValue("(dd)", dx + l, dx + r);
            if (moved == NULL)
                goto done;
            PyTuple_SET_ITEM(ink_x, k, moved);
            t = dy + t;
            b = dy + b;
        } else {
            Py_INCREF(lr);
            PyTuple_SET_ITEM(ink_x, k, lr);
        }
        if (!inked || t > high)  /* Python's max and min: the first of equals kept */
            high = t;
        if (!inked || b < low)
            low = b;
        inked = 1;
    }
    if (inked) {
        top = PyFloat_FromDouble(high);
        bottom = PyFloat_FromDouble(low);
        if (top == NULL || bottom == NULL)
            goto done;
    } else {
        top = Py_NewRef(Py_None);
        bottom = Py_NewRef(Py_None);
    }
    result = PyTuple_Pack(10, gids, clusters, advance, x_offset, y_offset, ink_x, top, bottom, ink, space);
done:
    PyMem_Free(xo);
    Py_XDECREF(gids);
    Py_XDECREF(clusters);
    Py_XDECREF(advance);
    Py_XDECREF(x_offset);
    Py_XDECREF(y_offset);
    Py_XDECREF(ink_x);
    Py_XDECREF(ink);
    Py_XDECREF(space);
    Py_XDECREF(top);
    Py_XDECREF(bottom);
    return result;
}

/* ink_span(advance, ink_x, space, tracked, tracking, word_spacing): (left, right) of a shaped text's outlines in
 * em along its pen, as `layout.Shaped.ink_box` walks it (Python's float operations in Python's order). */
static PyObject *ink_span(PyObject *self, PyObject *args) {
    PyObject *adv, *ink_x, *space, *tracked;
    double tracking, word_spacing;
    if (!PyArg_ParseTuple(args, "O!O!O!O!dd", &PyTuple_Type, &adv, &PyTuple_Type, &ink_x, &PyTuple_Type, &space,
                          &PyTuple_Type, &tracked, &tracking, &word_spacing))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(adv);
    if (PyTuple_GET_SIZE(ink_x) != n || PyTuple_GET_SIZE(space) != n || PyTuple_GET_SIZE(tracked) != n) {
        PyErr_SetString(PyExc_ValueError, "ink_span: the shaped fields differ in length");
        return NULL;
    }
    double pen = 0.0, left = INFINITY, right = -INFINITY;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *ext = PyTuple_GET_ITEM(ink_x, k);
        if (ext != Py_None) {
            if (!PyTuple_Check(ext) || PyTuple_GET_SIZE(ext) != 2) {
                PyErr_SetString(PyExc_ValueError, "ink_span: an extent is not (left, right)");
                return NULL;
            }
            double l = PyFloat_AsDouble(PyTuple_GET_ITEM(ext, 0)), r = PyFloat_AsDouble(PyTuple_GET_ITEM(ext, 1));
            if (PyErr_Occurred())
                return NULL;
            if (pen + l < left)
                left = pen + l;
            if (pen + r > right)
                right = pen + r;
        }
        if (advance_pen(adv, space, tracked, k, tracking, word_spacing, &pen) < 0)
            return NULL;
    }
    return Py_BuildValue("(dd)", left, right);
}

/* tone_table(contrast, gamma): `effects.light.tone_table`'s 256 levels as bytes, in numpy's float64 operations
 * and order: clip(rint((level / 255) ** gamma * (255 * contrast) + 127.5 * (1 - contrast)), 0, 255). */
static PyObject *tone_table(PyObject *self, PyObject *args) {
    double contrast, gamma;
    if (!PyArg_ParseTuple(args, "dd", &contrast, &gamma))
        return NULL;
    uint8_t table[256];
    double gain = 255 * contrast, offset = 127.5 * (1 - contrast);
    for (int i = 0; i < 256; i++) {
        double level = (double)i / 255;
        double v = nearbyint((gamma != 1.0 ? pow(level, gamma) : level) * gain + offset);
        table[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return PyBytes_FromStringAndSize((const char *)table, 256);
}

/* seed_state(words): the 4 uint64 words numpy's SeedSequence(list(words)).generate_state(4, np.uint64) returns
 * (what PCG64 is seeded with), as 32 bytes in native order, for 1..64 entropy words each in [0, 2**32): numpy's
 * pool of four uint32 words, its hash and mix constants, no spawn key. The Python side builds a generator from
 * them in under a microsecond; numpy's own seeding costs ~7 us, and every sample makes one or two. */
#define POOL 4
static uint32_t hashmix(uint32_t value, uint32_t *hash_const) {
    value ^= *hash_const;
    *hash_const *= 0x931e8875u;
    value *= *hash_const;
    return value ^ (value >> 16);
}

static uint32_t mix(uint32_t x, uint32_t y) {
    uint32_t result = 0xca01f9ddu * x - 0x4973f715u * y;
    return result ^ (result >> 16);
}

static PyObject *seed_state(PyObject *self, PyObject *args) {
    PyObject *words;
    if (!PyArg_ParseTuple(args, "O!", &PyTuple_Type, &words))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(words);
    if (n < 1 || n > 64) {
        PyErr_SetString(PyExc_ValueError, "seed_state: 1 to 64 words");
        return NULL;
    }
    uint32_t entropy[64];
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *word = PyNumber_Index(PyTuple_GET_ITEM(words, i));  /* a numpy integer too */
        if (word == NULL)
            return NULL;
        unsigned long long w = PyLong_AsUnsignedLongLong(word);
        Py_DECREF(word);
        if (w == (unsigned long long)-1 && PyErr_Occurred())
            return NULL;
        if (w > 0xffffffffull) {
            PyErr_SetString(PyExc_ValueError, "seed_state: a word past 32 bits");
            return NULL;
        }
        entropy[i] = (uint32_t)w;
    }
    uint32_t pool[POOL], hash_const = 0x43b0d7e5u;
    for (int i = 0; i < POOL; i++)
        pool[i] = hashmix(i < n ? entropy[i] : 0u, &hash_const);
    for (int src = 0; src < POOL; src++)
        for (int dst = 0; dst < POOL; dst++)
            if (src != dst)
                pool[dst] = mix(pool[dst], hashmix(pool[src], &hash_const));
    for (Py_ssize_t src = POOL; src < n; src++)
        for (int dst = 0; dst < POOL; dst++)
            pool[dst] = mix(pool[dst], hashmix(entropy[src], &hash_const));
    uint32_t state[2 * POOL], out_const = 0x8b51f9ddu;
    for (int i = 0; i < 2 * POOL; i++) {
        uint32_t value = pool[i % POOL] ^ out_const;
        out_const *= 0x58f38dedu;
        value *= out_const;
        state[i] = value ^ (value >> 16);
    }
    uint64_t out[POOL];  /* numpy views the uint32 words as little-endian pairs: the low word first */
    for (int i = 0; i < POOL; i++)
        out[i] = (uint64_t)state[2 * i] | ((uint64_t)state[2 * i + 1] << 32);
    return PyBytes_FromStringAndSize((const char *)out, sizeof(out));
}

static PyMethodDef methods[] = {
    {"undo_rows", undo_rows, METH_VARARGS, "undo_rows(rows, out, height, width): lines back from row differences"},
    {"add_terms", add_terms, METH_VARARGS, "add_terms(line, height, width, used, above, below, bank_cols, offset"
                                           "[, above2, below2, bank_cols2, offset2]): the sensor stage on a line"},
    {"blend", blend, METH_VARARGS, "blend(image, width, height, x, y, weights, w, h, kind, ink_row, ink, scale): "
                                   "ink laid on a float32 canvas over a box"},
    {"ramp", ramp, METH_VARARGS, "ramp(image, width, height, row, column, kind, k, s): a light ramp over a canvas"},
    {"levels", levels, METH_VARARGS, "levels(image, out): a float32 canvas as uint8 levels (negatives 0, rounded)"},
    {"place", place, METH_VARARGS, "place(mask, placed, x0, y0): glyph bitmaps into a text's mask"},
    {"pen_run", pen_run, METH_VARARGS, "pen_run(cache, gids, advance, x_offset, y_offset, space, tracked, size, "
                                       "tracking, word_spacing): a text's glyphs placed along its pen"},
    {"shape_run", shape_run, METH_VARARGS, "shape_run(infos, positions, ink_em, upem, text): a HarfBuzz buffer's "
                                           "glyphs as `layout.Shaped` fields"},
    {"ink_span", ink_span, METH_VARARGS, "ink_span(advance, ink_x, space, tracked, tracking, word_spacing): "
                                         "a shaped text's outlines' left and right"},
    {"tone_table", tone_table, METH_VARARGS, "tone_table(contrast, gamma): contrast and gamma as 256 levels"},
    {"seed_state", seed_state, METH_VARARGS, "seed_state(words): numpy SeedSequence(words)'s PCG64 seed, 32 bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lines", "Per-line loops numpy cannot fuse, compiled.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__lines(void) {
    attr_codepoint = PyUnicode_InternFromString("codepoint");
    attr_cluster = PyUnicode_InternFromString("cluster");
    attr_x_advance = PyUnicode_InternFromString("x_advance");
    attr_x_offset = PyUnicode_InternFromString("x_offset");
    attr_y_offset = PyUnicode_InternFromString("y_offset");
    if (!attr_codepoint || !attr_cluster || !attr_x_advance || !attr_x_offset || !attr_y_offset)
        return NULL;
    return PyModule_Create(&module);
}
