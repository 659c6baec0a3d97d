"""Control points and the fit they give: the checks (enough points for the method, not
collinear, inside the picture, real longitudes and latitudes), each point's residual in
metres and the RMSE, from GDAL's own transformer of the method (imagery.press.gdal_gcp),
the one the warp uses, so these are the numbers the warp realises.

Methods: affine, a polynomial of order 1 (3 points at least); polynomial, of order 2 (6);
tps, GDAL's thin plate spline (10), which passes through every point (its residuals are 0
by construction: its error shows only at points it was not given).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine
from pyproj import Geod

from imagery.errors import ImageryError
from imagery.georef.models import Georeferencing
from imagery.press.gdal_gcp import NotSolvable, forward

GEOD = Geod(ellps="WGS84")
#: the fewest points each method takes, and its GDAL order (0: the thin plate spline)
MIN_POINTS = {"affine": 3, "polynomial": 6, "tps": 10}
ORDERS = {"affine": 1, "polynomial": 2, "tps": 0}
METHODS = tuple(MIN_POINTS)
#: the most control points a placement takes
MAX_POINTS = 200
#: an RMSE over this many of the image's pixels is warned about as absurd for its scale
ABSURD_PIXELS = 25
#: the GeoTIFF tag that tells the warp which method a placement asked for
METHOD_TAG = "ANNOTATOR_PRESS_METHOD"
#: the GeoTIFF tag holding the control points (JSON), for an affine placement, which is
#: written as its geotransform rather than as GCPs (ingest then warps it in one pass)
POINTS_TAG = "ANNOTATOR_PRESS_GCPS"
#: points closer than this to one line, as a share of their spread, are collinear
COLLINEAR = 0.01


class BadControlPoints(ImageryError):
    """Control points that cannot place the picture with the method asked for."""


@dataclass(frozen=True)
class ControlPoint:
    """A pixel position (origin at the top-left corner of the top-left pixel) and where it
    is on the ground (WGS 84)."""

    col: float
    row: float
    lon: float
    lat: float

    def to_list(self) -> list[float]:
        return [self.col, self.row, self.lon, self.lat]


@dataclass(frozen=True)
class Fit:
    method: str
    points: tuple[ControlPoint, ...]
    residuals_m: tuple[float, ...]
    rmse_m: float
    worst: int
    #: metres per pixel of the picture, from the fit
    scale_m: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "gcps": [p.to_list() for p in self.points],
            "residuals_m": list(self.residuals_m),
            "rmse_m": self.rmse_m,
            "worst": self.worst,
            "scale_m": self.scale_m,
            "methods": allowed_methods(len(self.points)),
            "warnings": list(self.warnings),
        }

    def georeferencing(self) -> Georeferencing:
        """How the warp places it, in the words of its provenance."""
        count = len(self.points)
        text = f"placed by {count} control points ({self.method}), RMSE {self.rmse_m:g} m"
        return Georeferencing(
            "georeferenced", text, rms_m=self.rmse_m, points=count, order=ORDERS[self.method]
        )


def allowed_methods(count: int) -> list[str]:
    return [method for method in METHODS if count >= MIN_POINTS[method]]


def parse_points(raw: Any) -> list[ControlPoint]:
    """Control points from JSON: a list of [px, py, lon, lat] or of objects with those
    four keys (or col/row/x/y)."""
    if not isinstance(raw, list):
        raise BadControlPoints("control points must be a list of [px, py, lon, lat]")
    if len(raw) > MAX_POINTS:
        raise BadControlPoints(f"{len(raw)} control points; at most {MAX_POINTS} are taken")
    points = []
    for number, item in enumerate(raw, 1):
        values: Sequence[Any]
        if isinstance(item, Mapping):
            values = [
                item.get(a, item.get(b))
                for a, b in (("px", "col"), ("py", "row"), ("lon", "x"), ("lat", "y"))
            ]
        elif isinstance(item, list | tuple):
            values = item
        else:
            values = []
        if len(values) != 4 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        ):
            raise BadControlPoints(f"control point {number} is not four numbers px, py, lon, lat")
        points.append(ControlPoint(*(float(v) for v in values)))
    return points


def parse_gcp_option(text: str) -> ControlPoint:
    """A `--gcp PX,PY,LON,LAT` option."""
    parts = text.split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BadControlPoints(f"--gcp {text!r} is not PX,PY,LON,LAT (four numbers)")
    return ControlPoint(*values)


def check(points: Sequence[ControlPoint], method: str, width: int, height: int) -> None:
    """Refuse what cannot place the picture: an unknown method, too few points for it,
    points outside the picture or off the globe, repeated or collinear points."""
    if method not in MIN_POINTS:
        raise BadControlPoints(f"method {method!r} is not one of {', '.join(METHODS)}")
    need = MIN_POINTS[method]
    if len(points) < need:
        raise BadControlPoints(
            f"{method} needs at least {need} control points; {len(points)} given"
            + (
                f" (enough for {', '.join(allowed_methods(len(points)))})"
                if len(points) >= 3
                else ""
            )
        )
    for number, p in enumerate(points, 1):
        if not (0 <= p.col <= width and 0 <= p.row <= height):
            raise BadControlPoints(
                f"control point {number} ({p.col:g}, {p.row:g}) is outside the picture "
                f"(0-{width} x 0-{height} pixels)"
            )
        if not (-180 <= p.lon <= 180 and -90 <= p.lat <= 90):
            raise BadControlPoints(
                f"control point {number} ({p.lon:g}, {p.lat:g}) is not a longitude, latitude"
            )
    for which, pairs in (
        ("pixel", [(p.col, p.row) for p in points]),
        ("ground", [(p.lon, p.lat) for p in points]),
    ):
        if len(set(pairs)) != len(pairs):
            raise BadControlPoints(f"two control points have the same {which} position")
        if collinear(np.array(pairs, dtype=float)):
            raise BadControlPoints(
                f"the control points' {which} positions lie on one line; "
                "spread them over the picture"
            )


def collinear(xy: np.ndarray) -> bool:
    """Whether the points lie (within COLLINEAR of their spread) along one line."""
    centred = xy - xy.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    return bool(singular[0] == 0 or singular[-1] / singular[0] < COLLINEAR)


def fit(points: Sequence[ControlPoint], method: str, width: int, height: int) -> Fit:
    """Check the points, then fit GDAL's transformer of `method` and measure each point's
    residual on the ground (geodesic metres on WGS 84)."""
    check(points, method, width, height)
    table = [(p.col, p.row, p.lon, p.lat) for p in points]
    cols = np.array([p.col for p in points])
    rows = np.array([p.row for p in points])
    try:
        lons, lats = forward(table, ORDERS[method], cols, rows)
    except NotSolvable:
        raise BadControlPoints(
            f"the control points do not determine a {method} placement; "
            "spread them over the picture, or use fewer unknowns (affine)"
        ) from None
    _, _, distance = GEOD.inv(
        np.array([p.lon for p in points]), np.array([p.lat for p in points]), lons, lats
    )
    residuals = np.abs(np.asarray(distance, dtype=float))
    rmse = float(np.sqrt(np.mean(residuals**2)))
    scale = _scale(table, width, height)
    warnings = []
    if rmse > ABSURD_PIXELS * scale:
        warnings.append(
            f"RMSE {rmse:.1f} m is over {ABSURD_PIXELS} of the picture's pixels "
            f"({scale:.2f} m each): check the control points"
        )
    return Fit(
        method=method,
        points=tuple(points),
        residuals_m=tuple(round(float(r), 3) for r in residuals),
        rmse_m=round(rmse, 3),
        worst=int(np.argmax(residuals)),
        scale_m=round(scale, 4),
        warnings=tuple(warnings),
    )


def _scale(table: Sequence[tuple[float, float, float, float]], width: int, height: int) -> float:
    """Metres per pixel at the picture's centre, by the affine fit (stable for any method)."""
    col, row = (
        np.array([width / 2, width / 2 + 1, width / 2]),
        np.array([height / 2, height / 2, height / 2 + 1]),
    )
    try:
        lons, lats = forward(table, 1, col, row)
    except NotSolvable:
        return math.inf
    _, _, across = GEOD.inv(lons[0], lats[0], lons[1], lats[1])
    _, _, down = GEOD.inv(lons[0], lats[0], lons[2], lats[2])
    return float(math.sqrt(abs(across * down)))


def placement_of(
    tags: Mapping[str, str], gcps: Sequence[Any], crs: Any, width: int, height: int
) -> Georeferencing | None:
    """How the warp places a picture whose GeoTIFF names a press method (METHOD_TAG) and
    whose GCPs are in WGS 84 longitude, latitude; None for any other image."""
    method = tags.get(METHOD_TAG)
    if method is None or crs is None or crs.to_epsg() != 4326:
        return None
    if gcps:
        points = [ControlPoint(g.col, g.row, g.x, g.y) for g in gcps]
    else:  # an affine placement, written as its geotransform
        try:
            points = parse_points(json.loads(tags.get(POINTS_TAG) or "null"))
        except ValueError:
            return None
    return fit(points, method, width, height).georeferencing()


def affine_transform(placed: Fit) -> Affine:
    """The geotransform of an affine placement: GDAL's order-1 fit of its points, taken at
    three pixel corners (the same mapping the GCP transformer applies)."""
    table = [(p.col, p.row, p.lon, p.lat) for p in placed.points]
    lons, lats = forward(table, 1, np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    return Affine(
        lons[1] - lons[0], lons[2] - lons[0], lons[0], lats[1] - lats[0], lats[2] - lats[0], lats[0]
    )
