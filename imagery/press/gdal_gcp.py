"""GDAL's own GCP transformers (GDALCreateGCPTransformer, GDALCreateTPSTransformer), from the
GDAL library rasterio loads, the one that warps: the polynomial of a chosen order, or the
thin plate spline, fitted to control points and applied to pixel positions. rasterio's
GCPTransformer lets GDAL choose the order from the number of points; the warp is told the
order (MAX_GCP_ORDER), so the residuals must come from a transformer of that same order."""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Sequence

import numpy as np
import rasterio

from imagery.gdal import gdal_libraries


class GCP(ctypes.Structure):
    """GDAL_GCP: id, info, pixel, line, x, y, z."""

    _fields_ = [
        ("id", ctypes.c_char_p),
        ("info", ctypes.c_char_p),
        ("pixel", ctypes.c_double),
        ("line", ctypes.c_double),
        ("x", ctypes.c_double),
        ("y", ctypes.c_double),
        ("z", ctypes.c_double),
    ]


class NotSolvable(ValueError):
    """GDAL could not fit the transformer to the points."""


@functools.cache
def _gdal() -> ctypes.CDLL:
    with rasterio.Env():  # loads rasterio's GDAL
        pass
    found = [p for p in gdal_libraries() if "rasterio" in p] or gdal_libraries()
    library = ctypes.CDLL(found[0])
    points = ctypes.POINTER(GCP)
    library.GDALCreateGCPTransformer.restype = ctypes.c_void_p
    library.GDALCreateGCPTransformer.argtypes = [ctypes.c_int, points, ctypes.c_int, ctypes.c_int]
    library.GDALCreateTPSTransformer.restype = ctypes.c_void_p
    library.GDALCreateTPSTransformer.argtypes = [ctypes.c_int, points, ctypes.c_int]
    doubles = ctypes.POINTER(ctypes.c_double)
    apply = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, doubles, doubles, doubles]
    for name in ("GDALGCPTransform", "GDALTPSTransform"):
        getattr(library, name).argtypes = [*apply, ctypes.POINTER(ctypes.c_int)]
        getattr(library, name).restype = ctypes.c_int
    library.GDALDestroyGCPTransformer.argtypes = [ctypes.c_void_p]
    library.GDALDestroyTPSTransformer.argtypes = [ctypes.c_void_p]
    return library


def forward(
    points: Sequence[tuple[float, float, float, float]],
    order: int,
    cols: np.ndarray,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Where GDAL's transformer fitted to `points` (col, row, x, y) puts the pixel
    positions `cols`, `rows`: the polynomial of `order` (1-3), or the thin plate spline
    for order 0. Raises NotSolvable when GDAL cannot fit it."""
    library = _gdal()
    count = len(points)
    table = (GCP * count)(*[GCP(b"", b"", c, r, x, y, 0.0) for c, r, x, y in points])
    spline = order == 0
    with rasterio.Env():  # GDAL's messages go to rasterio's handler, not stderr
        if spline:
            handle = library.GDALCreateTPSTransformer(count, table, 0)
        else:
            handle = library.GDALCreateGCPTransformer(count, table, order, 0)
        if not handle:
            raise NotSolvable("GDAL could not fit the transformer to these points")
        try:
            size = len(cols)
            xs = (ctypes.c_double * size)(*map(float, cols))
            ys = (ctypes.c_double * size)(*map(float, rows))
            zs = (ctypes.c_double * size)()
            done = (ctypes.c_int * size)()
            apply = library.GDALTPSTransform if spline else library.GDALGCPTransform
            apply(handle, 0, size, xs, ys, zs, done)
        finally:
            destroy = (
                library.GDALDestroyTPSTransformer if spline else library.GDALDestroyGCPTransformer
            )
            destroy(handle)
    if not all(done):
        raise NotSolvable("GDAL's transformer failed at some points")
    return np.array(xs[:], dtype=float), np.array(ys[:], dtype=float)
