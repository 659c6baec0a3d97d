"""Which model places an image, and what it is called in its provenance.

- a north-up geotransform: nothing to do;
- a rotated or sheared geotransform: warped north-up in its own CRS;
- ground control points only: warped with a GCP polynomial or a thin plate spline, the
  kind chosen by the number of points (`gcp_order`), with the RMS of the residuals of the
  fit at the points, in metres;
- rational polynomial coefficients (RPCs: a NITF's RPC00B, or an `_rpc.txt`/`.RPB`
  sidecar) when there is no geotransform, or in a NITF (whose corner coordinates are only
  an outline): orthorectified at a constant height or on a DEM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from affine import Affine
from pyproj import Geod
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS

from imagery.errors import NotGeoreferenced

Model = Literal["geotransform", "rotated", "sheared", "gcps", "rpcs"]
GEOD = Geod(ellps="WGS84")
#: the point counts at which a richer GCP model is used (see gcp_order)
ORDER_2_FROM = 10
ORDER_3_FROM = 20
SPLINE_FROM = 40


@dataclass(frozen=True)
class Georeferencing:
    """How an image was placed, in words for its provenance, with the figures kept."""

    method: str  # geotransform, rotated, sheared, gcp-polynomial, gcp-tps, rpc
    text: str  # e.g. "GCP polynomial 1, RMS 3.2 m (12 points)"
    rms_m: float | None = None
    points: int | None = None
    order: int | None = None
    height_m: float | None = None

    def to_tags(self) -> dict[str, str]:
        tags = {"method": self.method, "text": self.text}
        for name in ("rms_m", "points", "order", "height_m"):
            value = getattr(self, name)
            if value is not None:
                tags[name] = str(value)
        return tags


NORTH_UP = Georeferencing("geotransform", "north-up geotransform")


def model_of(transform: Affine, gcps: list[GroundControlPoint], rpcs: Any, driver: str) -> Model:
    """The model that places the image (see the module's notes for the order)."""
    plain = transform == Affine.identity()
    if rpcs is not None and (plain or driver == "NITF"):
        return "rpcs"
    if plain and gcps:
        return "gcps"
    if transform.b == 0 and transform.d == 0:
        return "geotransform"
    # rotated: the pixel's two sides stay perpendicular and of equal length
    perpendicular = math.isclose(
        transform.a * transform.b + transform.d * transform.e,
        0,
        abs_tol=1e-9 * abs(transform.determinant) + 1e-12,
    )
    return "rotated" if perpendicular else "sheared"


def gcp_order(count: int, name: str) -> int:
    """The polynomial order the number of points allows, 0 meaning a thin plate spline:

    3-9 points: order 1 (an affine fit, 3 points at least); 10-19: order 2 (6 unknowns per
    axis, fitted with some slack); 20-39: order 3 (10 unknowns); 40 and more: a thin plate
    spline, which passes through every point and bends between them (dense points only:
    with few it would follow every error of the points).
    """
    if count < 3:
        raise NotGeoreferenced(
            f"{name} has {count} ground control point{'s' if count != 1 else ''}; "
            "at least 3 are needed to place it"
        )
    if count >= SPLINE_FROM:
        return 0
    if count >= ORDER_3_FROM:
        return 3
    if count >= ORDER_2_FROM:
        return 2
    return 1


def _terms(col: np.ndarray, row: np.ndarray, order: int) -> np.ndarray:
    return np.column_stack(
        [
            col**i * row**j
            for total in range(order + 1)
            for j in range(total + 1)
            for i in [total - j]
        ]
    )


def gcp_residuals_m(gcps: list[GroundControlPoint], crs: CRS, order: int) -> np.ndarray:
    """Each point's distance, in metres, from where the least-squares polynomial of
    `order` puts it (GDAL's GCP transformer fits the same polynomial); zeros for the
    spline, which passes through its points."""
    if order == 0:
        return np.zeros(len(gcps))
    col = np.array([g.col for g in gcps], dtype=float)
    row = np.array([g.row for g in gcps], dtype=float)
    x = np.array([g.x for g in gcps], dtype=float)
    y = np.array([g.y for g in gcps], dtype=float)
    # centred and scaled, so that order 3 stays well conditioned
    scale = max(float(np.ptp(col)), float(np.ptp(row)), 1.0)
    terms = _terms((col - col.mean()) / scale, (row - row.mean()) / scale, order)
    fitted_x = terms @ np.linalg.lstsq(terms, x, rcond=None)[0]
    fitted_y = terms @ np.linalg.lstsq(terms, y, rcond=None)[0]
    if crs.is_geographic:
        _, _, distance = GEOD.inv(x, y, fitted_x, fitted_y)
        return np.abs(np.asarray(distance, dtype=float))
    factor = crs.linear_units_factor[1] if crs.is_projected else 1.0
    return np.hypot(x - fitted_x, y - fitted_y) * factor


def gcp_georeferencing(gcps: list[GroundControlPoint], crs: CRS, name: str) -> Georeferencing:
    order = gcp_order(len(gcps), name)
    residuals = gcp_residuals_m(gcps, crs, order)
    rms = round(float(np.sqrt(np.mean(residuals**2))), 2)
    count = len(gcps)
    if order == 0:
        text = f"GCP thin plate spline, exact at its {count} points (RMS {rms:g} m)"
        return Georeferencing("gcp-tps", text, rms_m=rms, points=count, order=0)
    text = f"GCP polynomial {order}, RMS {rms:g} m ({count} points)"
    return Georeferencing("gcp-polynomial", text, rms_m=rms, points=count, order=order)


def rpc_georeferencing(height: float | None, dem: str | None, why: str = "") -> Georeferencing:
    """`why` says where a constant height came from, e.g. "no height given; the site has
    no elevation"."""
    if dem is not None:
        return Georeferencing("rpc", "RPC, on the deployment's DEM", height_m=height)
    metres = 0.0 if height is None else height
    text = f"RPC, constant height {metres:g} m" + (f" ({why})" if why else "")
    return Georeferencing("rpc", text, height_m=metres)


def affine_georeferencing(model: Model) -> Georeferencing:
    if model == "geotransform":
        return NORTH_UP
    return Georeferencing(model, f"{model} geotransform, warped north-up")
