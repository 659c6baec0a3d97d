"""The evidence bundle: one zip an editor can archive or hand on, that proves its own contents.

It holds the published annotations as GeoJSON (RFC 7946) and KML, the annotated figure, and
`manifest.json`: every image (sha256, provider, licence, capture time), every annotation (id,
version, who revised it when, who approved it when), the claims with their stances, and the
sha256 of every other file. `manifest.json.sha256` holds the manifest's own hash, so changing
any byte of any member is caught by `verify_bundle` (and `annotator verify BUNDLE`).

The zip is reproducible: members in a fixed order, all dated at the publication time.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from annotations.credits import image_credit
from annotations.evidence import Evidence, EvidenceAnnotation
from annotations.exchange.kml import KmlStyle, Placemark, write_kml
from annotations.figure import figure_png
from annotations.times import parse_time

FORMAT = "annotator-evidence-bundle/1"
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.json.sha256"
GEOJSON = "evidence.geojson"
KML = "evidence.kml"
FIGURE = "figure.png"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: A bundle bigger than this (uncompressed) is not one this tool made.
MAX_MEMBER_BYTES = 2 << 30


def evidence_bundle(evidence: Evidence) -> bytes:
    files = {
        GEOJSON: _json_bytes(feature_collection(evidence)),
        KML: kml(evidence).encode("utf-8"),
        FIGURE: figure_png(evidence),
    }
    manifest = _json_bytes(
        manifest_of(evidence, {name: _sha256(data) for name, data in files.items()})
    )
    members = [*files.items(), (MANIFEST, manifest),
               (MANIFEST_HASH, f"{_sha256(manifest)}  {MANIFEST}\n".encode())]  # fmt: skip
    stamp = evidence.published_at.utctimetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_STORED if name == FIGURE else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def feature_collection(evidence: Evidence) -> dict[str, Any]:
    """The published Features, as the API gives them (coordinates as published)."""
    return {
        "type": "FeatureCollection",
        "features": [annotation.feature for annotation in evidence.annotations],
    }


def manifest_of(evidence: Evidence, files: dict[str, str]) -> dict[str, Any]:
    report = evidence.report
    claims = []
    for claim in evidence.claims:
        links = [
            {"annotation": annotation.id, "stance": link.stance, "note": link.note}
            for annotation in evidence.annotations
            for link in annotation.links
            if link.claim_id == claim.id
        ]
        claims.append({"id": claim.id, "exact": claim.exact, "prefix": claim.prefix,
                       "suffix": claim.suffix, "links": links})  # fmt: skip
    return {
        "format": FORMAT,
        "report": {
            "id": report.id,
            "title": report.title,
            "url": report.url,
            "outlet": report.outlet,
            "authors": list(report.authors),
            "published_at": _iso(report.published_at),
            "language": report.language,
        },
        "published_at": _iso(evidence.published_at),
        "published_by": evidence.published_by,
        "coarsening": evidence.coarsening,
        "images": [
            {
                "id": image.id,
                "sha256": image.sha256,
                "provider": image.provider,
                "licence": image.licence,
                "attribution": image.attribution,
                "captured_at": _iso(image.captured_at),
                "gsd_m": image.gsd_m,
                "synthetic": image.synthetic,
            }
            for image in evidence.images
        ],
        "annotations": [
            {
                "id": annotation.id,
                "version": annotation.version,
                "image": annotation.image_id,
                "label": annotation.label,
                "confidence": annotation.confidence,
                "revised_by": annotation.revised_by,
                "revised_at": _iso(annotation.revised_at),
                "approved_by": annotation.approved_by,
                "approved_at": _iso(annotation.approved_at),
                "links": [
                    {"claim": link.claim_id, "stance": link.stance, "note": link.note}
                    for link in annotation.links
                ],
            }
            for annotation in evidence.annotations
        ],
        "claims": claims,
        # whatever publishing recorded beside (e.g. the published revision and its sha256)
        "publication": json.loads(json.dumps(evidence.extra, default=_plain, sort_keys=True)),
        "files": [{"name": name, "sha256": digest} for name, digest in sorted(files.items())],
    }


def kml(evidence: Evidence) -> str:
    """KML 2.2 through the export's writer: one Placemark per annotation, styled in its label
    colour, with a TimeStamp at its capture time and the text shown as typed."""
    styles = {a.label: KmlStyle(id=a.label, colour=a.colour) for a in evidence.annotations}
    out = io.BytesIO()
    write_kml(out, map(partial(_placemark, evidence), evidence.annotations), styles.values(),
              name=evidence.report.title)  # fmt: skip
    return out.getvalue().decode("utf-8")


def _placemark(evidence: Evidence, annotation: EvidenceAnnotation) -> Placemark:
    observed = annotation.feature.get("properties", {}).get("observed_at")
    when = evidence.image(annotation.image_id).captured_at or (
        parse_time(observed) if isinstance(observed, str) else None
    )
    return Placemark(
        id=f"annotation-{annotation.id}",
        name=annotation.label_name,
        geometry=annotation.feature["geometry"],
        style=annotation.label,
        description=_kml_description(evidence, annotation),
        when=when,
        data={
            "id": annotation.id,
            "version": annotation.version,
            "label": annotation.label,
            "confidence": annotation.confidence,
            "image_id": annotation.image_id,
        },
    )


def verify_bundle(path: Path) -> list[str]:
    """Every problem found, one line each; an empty list means every hash checks out."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        return [f"{path}: no such file"]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        return [f"{path}: not a readable zip file ({exc})"]
    with archive:
        names = [info.filename for info in archive.infolist()]
        problems = [f"{name!r}: unsafe member name (absolute or with '..')"
                    for name in names if not _safe_name(name)]  # fmt: skip
        problems += [f"{name!r}: appears more than once" for name in sorted(set(names))
                     if names.count(name) > 1]  # fmt: skip
        if problems:
            return problems
        contents: dict[str, bytes] = {}
        for info in archive.infolist():
            if info.file_size > MAX_MEMBER_BYTES:
                problems.append(f"{info.filename}: too large ({info.file_size} bytes)")
                continue
            try:
                contents[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
                    NotImplementedError) as exc:  # fmt: skip
                problems.append(f"{info.filename}: damaged in the zip ({exc})")
    return problems + _check_hashes(contents)


def _check_hashes(contents: dict[str, bytes]) -> list[str]:
    if MANIFEST not in contents:
        return [f"{MANIFEST}: missing"]
    manifest = contents[MANIFEST]
    problems = []
    recorded = contents.get(MANIFEST_HASH, b"").decode("ascii", "replace").split()
    if MANIFEST_HASH not in contents:
        problems.append(f"{MANIFEST_HASH}: missing")
    elif not recorded or not SHA256.match(recorded[0]):
        problems.append(f"{MANIFEST_HASH}: does not hold a sha256")
    elif recorded[0] != _sha256(manifest):
        problems.append(f"{MANIFEST}: sha256 {_sha256(manifest)} differs from {MANIFEST_HASH}")
    try:
        listed = json.loads(manifest)["files"]
        hashes = {str(entry["name"]): str(entry["sha256"]) for entry in listed}
    except (ValueError, KeyError, TypeError) as exc:
        return [*problems, f"{MANIFEST}: not a bundle manifest ({exc})"]
    for name, expected in sorted(hashes.items()):
        if name not in contents:
            problems.append(f"{name}: listed in {MANIFEST} but missing")
        elif _sha256(contents[name]) != expected:
            problems.append(f"{name}: sha256 {_sha256(contents[name])} differs from {MANIFEST}")
    for name in sorted(set(contents) - set(hashes) - {MANIFEST, MANIFEST_HASH}):
        problems.append(f"{name}: not listed in {MANIFEST}")
    return problems


def _safe_name(name: str) -> bool:
    """A plain relative path: no root, drive, backslash or '..' (no zip-slip)."""
    if not name or "\\" in name or "\x00" in name or re.match(r"^[A-Za-z]:", name):
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def _kml_description(evidence: Evidence, annotation: EvidenceAnnotation) -> str:
    image = evidence.image(annotation.image_id)
    lines = [
        f"Confidence: {annotation.confidence}",
        image_credit(image),
    ]
    for link in annotation.links:
        if link.claim_id is None:
            lines.append(
                f"{link.stance.capitalize()} the report \u201c{evidence.report.title}\u201d"
            )
        else:
            claim = evidence.claim(link.claim_id)
            lines.append(f"{link.stance.capitalize()} \u201c{claim.exact}\u201d")
    return "\n".join(lines)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain(value: Any) -> str:
    """JSON for what json cannot encode: times as RFC 3339, anything else as its text."""
    return _iso(value) or "" if isinstance(value, datetime) else str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
