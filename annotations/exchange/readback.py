"""Our own exports read back, as they are and as other tools copy them.

An export carries each annotation's id (`id`), and its values typed. Copies through other
tools move and retype them:

- LIBKML (`ogr2ogr -f LIBKML`, Google Earth) puts a Placemark's own `id` attribute in the
  field `id` (ours says `annotation-<id>`, a copy says `<layer>.<n>`) and renames the data
  field `id` that clashes with it `id2`; GDAL renames other clashes `id_2`; QGIS adds `fid`.
- The old KML driver, CSV and spreadsheets hand every value back as text ("3" for a count),
  and GDAL writes times as `2024/12/13 08:21:00+00`.

`own_id` finds the annotation id among those fields, so a copy is recognised as the same
annotations (not new ones); `one_part` reads a one-part multi geometry as its part (a layer
of one declared multi type holds single ones so); `lenient` turns text holding a number or
GDAL's time form back into what the annotation takes. Nothing else is guessed: text that
is not a whole number stays text and is refused with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from shapely.geometry.base import BaseGeometry, BaseMultipartGeometry

#: an annotation id (uuid4 hex), alone or as our KML's Placemark id `annotation-<id>`
_OWN_ID = re.compile(r"(?:annotation-)?([0-9a-f]{32})")
#: where a copy may hold it: `id`, GDAL's renamed `id2` / `id_2`, QGIS's `fid`
_ID_FIELD = re.compile(r"(?:id|id_?[0-9]{1,2}|fid)", re.IGNORECASE)
_WHOLE = re.compile(r"[+]?[0-9]{1,9}(?:\.0*)?")
#: GDAL's text form of a time: 2024/12/13 08:21:00[.000][+00[:00] | Z]
_GDAL_TIME = re.compile(
    r"([0-9]{4})[/-]([0-9]{2})[/-]([0-9]{2})[ T]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)"
    r"(?:(Z)|([+-][0-9]{2})(?::?([0-9]{2}))?)?"
)


def own_id(properties: Mapping[str, Any], names: list[str] | None = None) -> str | None:
    """The annotation id an export of ours gave this feature, wherever a copy put it;
    `names` are `id_fields(properties)` when known (the same for a whole layer)."""
    for name in id_fields(properties) if names is None else names:
        value = properties[name]
        if isinstance(value, str):
            found = _OWN_ID.fullmatch(value.strip())
            if found:
                return found.group(1)
    return None


def id_fields(fields: Iterable[str]) -> list[str]:
    """The fields that may hold an annotation id, in the order `own_id` tries them."""
    return sorted(
        (name for name in fields if _ID_FIELD.fullmatch(name)),
        key=lambda name: (name.lower() != "id", name.lower() == "fid", name),
    )


def lenient(name: str, value: Any) -> Any:
    """A value of a known property as the annotation takes it: a count given as text or as
    a whole float becomes an integer; a time in GDAL's text form becomes ISO 8601."""
    if name == "count":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
            return int(float(value.strip()))
    if name == "observed_at" and isinstance(value, str):
        found = _GDAL_TIME.fullmatch(value.strip())
        if found:
            year, month, day, clock, zulu, hours, minutes = found.groups()
            if len(clock) == 5:
                clock += ":00"
            offset = "Z" if zulu else f"{hours}:{minutes or '00'}" if hours else ""
            if offset in ("+00:00", "-00:00"):
                offset = "Z"
            # no zone stays without one: the time check decides, as for any such time
            return f"{year}-{month}-{day}T{clock}{offset}"
    return value


def one_part(geometry: BaseGeometry) -> BaseGeometry:
    """A multi geometry of one part as that part: a layer declaring one multi type (our
    GeoPackage, QGIS's saves, a Shapefile) holds a single point as a one-part MultiPoint."""
    if isinstance(geometry, BaseMultipartGeometry) and len(geometry.geoms) == 1:
        part: BaseGeometry = geometry.geoms[0]
        return part
    return geometry
