"""How far off an image's placement may be, read from its georeferencing record, in one place.

An image placed by control points (ground control points in the file, or points an analyst
paired in the georeferencer) keeps a record (`Georeferencing.to_tags`, or the georeferencer's
own) with the root-mean-square of the fit's residuals in metres and the number of points.
Every place that shows a measurement or says how an image was placed asks here:

- `placement_error_m(record)`: the RMSE in metres, or None when the record states none (a
  north-up, rotated or sheared geotransform is exact; RPCs carry no residuals; a thin plate
  spline passes through its points, so its zero says nothing, and its text says so);
- `placement_text(record)`: "placed by 12 control points, RMSE 3.2 m", or the record's own
  text when it has no RMSE (e.g. "RPC, constant height 0 m", "north-up geotransform");
- `placement_note(text)`: what a reader is told of that text beside a credit ("placed by
  RPC, constant height 0 m"), nothing for a plain north-up image.

Records come as stored tags (every value a string) or as the georeferencer keeps them
(numbers and lists), with the RMSE under `rmse_m` or `rms_m` and the count under `points`,
`gcps` (a number or the points themselves) or as the length of `residuals_m`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

#: what a plain north-up image's record says (imagery.georef.models.NORTH_UP)
NORTH_UP_TEXT = "north-up geotransform"
#: methods whose placement is exact by construction (an affine geotransform)
EXACT_METHODS = frozenset({"geotransform", "rotated", "sheared"})
#: methods that pass through their points: a zero RMSE there is no measure of the error
INTERPOLATING = ("tps", "spline")


def placement_error_m(record: Mapping[str, Any] | None) -> float | None:
    """The placement's RMSE in metres, or None when the record states no error."""
    if not record or str(record.get("method", "")) in EXACT_METHODS:
        return None
    for key in ("rmse_m", "rms_m"):
        value = _number(record.get(key))
        if value is not None and value >= 0:
            break
    else:
        return None
    return None if value == 0 and interpolates(record) else value


def interpolates(record: Mapping[str, Any]) -> bool:
    """A thin plate spline: it passes through its points (order 0 in every record)."""
    method = str(record.get("method", "")).lower()
    return any(word in method for word in INTERPOLATING) or str(record.get("order")) == "0"


def placement_points(record: Mapping[str, Any] | None) -> int | None:
    """How many control points placed the image, when the record says."""
    if not record:
        return None
    for key in ("points", "gcps", "residuals_m"):
        value = record.get(key)
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        if isinstance(value, list | tuple):
            return len(value) or None
        count = _number(value)
        if count is not None and count >= 1 and count == int(count):
            return int(count)
    return None


def placement_text(record: Mapping[str, Any] | None) -> str | None:
    """The placement in words: "placed by N control points, RMSE N m", or the record's own
    text when it states no RMSE."""
    error = placement_error_m(record)
    count = placement_points(record)
    if error is None and record and count and interpolates(record):
        return f"placed by {count} control points, a thin plate spline exact at each (no RMSE)"
    if error is None:
        text = (record or {}).get("text")
        return str(text) if text else None
    rmse = f"RMSE {metres(error)} m"
    if count is None:
        return f"placed by control points, {rmse}"
    return f"placed by {count} control point{'' if count == 1 else 's'}, {rmse}"


def placement_note(text: str | None) -> str | None:
    """`placement_text`'s words as a reader's note, "placed by ..."; None for north-up."""
    if not text or text == NORTH_UP_TEXT:
        return None
    return text if text.startswith("placed by") else f"placed by {text}"


def metres(value: float) -> str:
    """A distance in metres to the precision an RMSE deserves: 0.85, 3.2, 12, 140."""
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
