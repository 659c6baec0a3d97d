"""Files that travel beside an image and say more about it: RPCs (`<stem>_rpc.txt`,
`<stem>.RPB`), a WorldView `.IMD`, a SPOT/Pléiades DIMAP `.XML` (same stem, or the one
`DIM_*.XML` of the folder).

They are read here, as text, never by GDAL: GDAL does not list a folder on open
(GDAL_DISABLE_READDIR_ON_OPEN), and a file of ours never makes GDAL open another. Only
regular files beside the image are read (no link out of the folder), up to 1 MB each; XML
is read by defusedxml, and one with a DOCTYPE is ignored.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from rasterio.rpc import RPC

MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Sidecars:
    rpc: Path | None = None
    imd: Path | None = None
    dimap: Path | None = None


def find(image: Path) -> Sidecars:
    """The sidecars of `image` in its folder, matched without regard to case."""
    stem = image.stem.lower()
    found: dict[str, Path] = {}
    dims: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in image.parent.iterdir():
            if entry == image or entry.is_symlink() or not entry.is_file():
                continue
            lower = entry.name.lower()
            if lower in (f"{stem}_rpc.txt", f"{stem}.rpb"):
                found.setdefault("rpc", entry)
            elif lower == f"{stem}.imd":
                found["imd"] = entry
            elif lower == f"{stem}.xml":
                found["dimap"] = entry
            elif lower.startswith("dim_") and lower.endswith(".xml"):
                dims.append(entry)
    if "dimap" not in found and len(dims) == 1:
        found["dimap"] = dims[0]
    return Sidecars(**found)


def read_text(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_BYTES:
        return None
    return raw.decode("utf-8", "replace")


_RPC_KEYS = {
    "line_off": "LINE_OFF",
    "samp_off": "SAMP_OFF",
    "lat_off": "LAT_OFF",
    "long_off": "LONG_OFF",
    "height_off": "HEIGHT_OFF",
    "line_scale": "LINE_SCALE",
    "samp_scale": "SAMP_SCALE",
    "lat_scale": "LAT_SCALE",
    "long_scale": "LONG_SCALE",
    "height_scale": "HEIGHT_SCALE",
}
_RPB_KEYS = {
    "lineOffset": "LINE_OFF",
    "sampOffset": "SAMP_OFF",
    "latOffset": "LAT_OFF",
    "longOffset": "LONG_OFF",
    "heightOffset": "HEIGHT_OFF",
    "lineScale": "LINE_SCALE",
    "sampScale": "SAMP_SCALE",
    "latScale": "LAT_SCALE",
    "longScale": "LONG_SCALE",
    "heightScale": "HEIGHT_SCALE",
    "lineNumCoef": "LINE_NUM_COEFF",
    "lineDenCoef": "LINE_DEN_COEFF",
    "sampNumCoef": "SAMP_NUM_COEFF",
    "sampDenCoef": "SAMP_DEN_COEFF",
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_rpc(text: str) -> RPC | None:
    """RPCs from an `_rpc.txt` (`LINE_OFF: 1234.0 pixels`, `LINE_NUM_COEFF_1: ...`) or an
    `.RPB` (`lineOffset = 1234.0;`, `lineNumCoef = ( ..., ... );`); None if incomplete."""
    values: dict[str, list[float]] = {}
    for key, number in re.findall(rf"(?m)^\s*([A-Z_]+?)(?:_\d+)?\s*:\s*({_NUMBER})", text):
        values.setdefault(key, []).append(float(number))
    for key, body in re.findall(r"(\w+)\s*=\s*\(?([^;=]*?)\)?\s*;", text):
        if key in _RPB_KEYS:
            values[_RPB_KEYS[key]] = [float(n) for n in re.findall(_NUMBER, body)]
    gdal: dict[str, str] = {}
    for name in _RPC_KEYS.values():
        if len(values.get(name, [])) != 1:
            return None
        gdal[name] = str(values[name][0])
    for name in ("LINE_NUM_COEFF", "LINE_DEN_COEFF", "SAMP_NUM_COEFF", "SAMP_DEN_COEFF"):
        if len(values.get(name, [])) != 20:
            return None
        gdal[name] = " ".join(str(v) for v in values[name])
    return RPC.from_gdal(gdal)


def parse_imd(text: str) -> dict[str, str]:
    """The capture facts of a WorldView/QuickBird `.IMD` (`key = value;` lines; the image
    group's values are the ones of the scene)."""
    pairs: dict[str, str] = {}
    for key, value in re.findall(r'(?m)^\s*(\w+)\s*=\s*"?([^";\n]*)"?\s*;', text):
        pairs.setdefault(key, value.strip())
    facts: dict[str, str] = {}
    when = pairs.get("firstLineTime") or pairs.get("earliestAcqTime")
    if when:
        facts["captured_at"] = when
    if pairs.get("satId"):
        facts["platform"] = pairs["satId"]
    for key, fact in (
        ("meanOffNadirViewAngle", "off_nadir_deg"),
        ("meanSunAz", "sun_azimuth_deg"),
        ("meanSunEl", "sun_elevation_deg"),
    ):
        if re.fullmatch(_NUMBER, pairs.get(key, "")):
            facts[fact] = pairs[key]
    facts["source"] = "imd"
    return facts


def _first(root: ET.Element, *names: str) -> str | None:
    for name in names:
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == name and (element.text or "").strip():
                return (element.text or "").strip()
    return None


def parse_dimap(text: str) -> dict[str, str]:
    """The capture facts of a DIMAP file (SPOT's v1, Pléiades' and SPOT 6/7's v2)."""
    try:
        root = fromstring(text, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException):
        return {}
    facts: dict[str, str] = {}
    date, time = _first(root, "IMAGING_DATE"), _first(root, "IMAGING_TIME")
    if date:
        facts["captured_at"] = f"{date}T{time}" if time else date
    mission, index = _first(root, "MISSION"), _first(root, "MISSION_INDEX")
    if mission:
        facts["platform"] = f"{mission} {index}" if index else mission
    instrument = _first(root, "INSTRUMENT")
    if instrument:
        number = _first(root, "INSTRUMENT_INDEX")
        facts["instrument"] = f"{instrument} {number}" if number else instrument
    producer = _first(root, "DATASET_PRODUCER_NAME", "PRODUCER_NAME")
    if producer:
        facts["provider"] = producer
    for names, fact in (
        (("INCIDENCE_ANGLE", "VIEWING_ANGLE"), "off_nadir_deg"),
        (("SUN_AZIMUTH",), "sun_azimuth_deg"),
        (("SUN_ELEVATION",), "sun_elevation_deg"),
    ):
        value = _first(root, *names)
        if value and re.fullmatch(_NUMBER, value):
            facts[fact] = value
    if facts:
        facts["source"] = "dimap"
    return facts
