"""Capture facts from vendor headers and metadata files: when, by which satellite and
instrument, how far off nadir and under which sun.

Read from a WorldView `.IMD` or a DIMAP `.XML` beside the image first, then from a NITF's
own header (IDATIM, ISORCE, the USE00A extension's obliquity and sun angles) for what they
leave open. Kept as text under plain names (`captured_at`, `platform`, `instrument`,
`provider`, `off_nadir_deg`, `sun_azimuth_deg`, `sun_elevation_deg`, `source`); what the
user typed always wins over them (see annotator.intake).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from imagery.georef.sidecars import Sidecars, parse_dimap, parse_imd, read_text

FACTS = (
    "captured_at",
    "platform",
    "instrument",
    "provider",
    "off_nadir_deg",
    "sun_azimuth_deg",
    "sun_elevation_deg",
    "source",
)
MAX_TEXT = 200


def nitf_facts(dataset: Any) -> dict[str, str]:
    """The capture facts of a NITF image segment's header."""
    tags = dataset.tags()
    facts: dict[str, str] = {}
    idatim = (tags.get("NITF_IDATIM") or "").strip()
    if re.fullmatch(r"\d{14}", idatim):
        facts["captured_at"] = (
            f"{idatim[:4]}-{idatim[4:6]}-{idatim[6:8]}T"
            f"{idatim[8:10]}:{idatim[10:12]}:{idatim[12:14]}Z"
        )
    source = (tags.get("NITF_ISORCE") or "").strip()
    if source:
        facts["platform"] = source
    try:
        text = dataset.tags(ns="xml:TRE").get("xml:TRE", "")
        root = fromstring(text, forbid_dtd=True) if text else None
    except (ET.ParseError, DefusedXmlException):
        root = None
    if root is not None:
        for tre in root.iter("tre"):
            if tre.get("name") != "USE00A":
                continue
            fields = {f.get("name"): (f.get("value") or "").strip() for f in tre.iter("field")}
            for name, fact in (
                ("OBL_ANG", "off_nadir_deg"),
                ("SUN_AZ", "sun_azimuth_deg"),
                ("SUN_EL", "sun_elevation_deg"),
            ):
                value = fields.get(name) or ""
                if re.fullmatch(r"[-+]?\d+(\.\d*)?", value):
                    facts[fact] = str(float(value))
    if facts:
        facts["source"] = "nitf-header"
    return facts


def acquisition(dataset: Any, driver: str, sidecars: Sidecars) -> dict[str, str]:
    """Every capture fact found, the sidecar's before the header's."""
    found: dict[str, str] = {}
    sources: list[str] = []
    parts = [
        parse_imd(text) if (text := read_text(sidecars.imd)) else {},
        parse_dimap(text) if (text := read_text(sidecars.dimap)) else {},
        nitf_facts(dataset) if driver == "NITF" else {},
    ]
    for part in parts:
        if part.get("source"):
            sources.append(part["source"])
        for key, value in part.items():
            if key != "source" and key in FACTS and value:
                found.setdefault(key, "".join(ch for ch in value if ch.isprintable())[:MAX_TEXT])
    if found:
        found["source"] = ", ".join(sources)
    return found


def captured_at(facts: dict[str, str]) -> datetime | None:
    """The capture time of `acquisition`'s facts, in UTC (taken as UTC without a zone)."""
    text = facts.get("captured_at", "")
    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", text
    )
    if not match:
        return None
    date, time, fraction, zone = match.groups()
    stamp = f"{date}T{time or '00:00:00'}{(fraction or '')[:7]}"
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if zone and zone != "Z":
        try:
            return datetime.fromisoformat(stamp + zone).astimezone(UTC)
        except ValueError:
            return None
    return when.replace(tzinfo=UTC)
