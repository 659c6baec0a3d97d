"""The evidence bundle: one zip an editor can archive or hand on, that proves its own contents.

It holds the published annotations as GeoJSON (RFC 7946) and KML, the annotated figure, and
`manifest.json`: every image (sha256, provider, licence, capture time), every annotation (id,
version, who revised it when, who approved it when), the claims with their stances, and the
sha256 of every other file. `manifest.json.sha256` holds the manifest's own hash, so changing
any byte of any member is caught by `verify_bundle` (and `annotator verify BUNDLE`).

Signed by the server (`signing_key`), it also holds `manifest.json.sig`, the Ed25519 signature
of the manifest's bytes, and `signing-key.pem`, the public key (listed in the manifest). That copy
of the key is a convenience and proves nothing; `verify_bundle(path, public_key=...)` with a key
obtained from the server itself (`annotator verify BUNDLE --key FILE`) proves the bundle's origin.

The zip is reproducible: members in a fixed order, all dated at the publication time (an Ed25519
signature is deterministic, so this holds for a signed bundle too).

`verify_bundle` streams each member through sha256 and refuses, before or while reading, a
bundle over its limits (members, bytes declared or actually inflated, compression ratio).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from annotations import jsontext
from annotations.exchange.kml import KmlStyle, Placemark, write_kml
from annotations.newsroom.credits import image_credit
from annotations.newsroom.evidence import Evidence, EvidenceAnnotation
from annotations.newsroom.figure import figure_png
from annotations.newsroom.signing import SigningKey, check_signature, signature_document
from annotations.times import parse_time

FORMAT = "annotator-evidence-bundle/1"
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.json.sha256"
GEOJSON = "evidence.geojson"
KML = "evidence.kml"
FIGURE = "figure.png"
SIGNATURE = "manifest.json.sig"
PUBLIC_KEY = "signing-key.pem"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Limits of `verify_bundle`. A bundle this tool makes holds seven members, a figure of a few
#: MiB stored as it is, and JSON and KML that deflate some 5 to 20 to 1.
MAX_MEMBER_BYTES = 512 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_RATIO = 200.0
RATIO_FLOOR = 1 << 20
MAX_MEMBERS = 64
MAX_DIRECTORY = 1 << 20
MAX_MANIFEST_BYTES = 64 << 20
CHUNK = 1 << 20


def evidence_bundle(evidence: Evidence, signing_key: SigningKey | None = None) -> bytes:
    """The bundle's bytes; signed (the manifest, which lists every other member's sha256) when
    given the server's `signing_key`."""
    files = {
        GEOJSON: _json_bytes(feature_collection(evidence)),
        KML: kml(evidence).encode("utf-8"),
        FIGURE: figure_png(evidence),
    }
    if signing_key is not None:
        files[PUBLIC_KEY] = signing_key.public_pem().encode("ascii")
    manifest = _json_bytes(
        manifest_of(evidence, {name: _sha256(data) for name, data in files.items()})
    )
    members = [
        *files.items(),
        (MANIFEST, manifest),
        (MANIFEST_HASH, f"{_sha256(manifest)}  {MANIFEST}\n".encode()),
    ]
    if signing_key is not None:
        members.append((SIGNATURE, _json_bytes(signature_document(signing_key, manifest))))
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
        claims.append(
            {
                "id": claim.id,
                "exact": claim.exact,
                "prefix": claim.prefix,
                "suffix": claim.suffix,
                "links": links,
            }
        )
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
                "georeferencing": image.georeferencing,
                "placement_error_m": image.placement_error_m,
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
    write_kml(
        out,
        map(partial(_placemark, evidence), evidence.annotations),
        styles.values(),
        name=evidence.report.title,
    )
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


@dataclass(frozen=True)
class Limits:
    """What `verify_bundle` will read: a bundle this tool made is far inside each."""

    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    #: uncompressed / compressed size, for members over RATIO_FLOOR bytes (None: unchecked)
    ratio: float | None = MAX_RATIO
    members: int = MAX_MEMBERS


LIMITS = Limits()


def verify_bundle(
    path: Path, *, public_key: Ed25519PublicKey | None = None, limits: Limits = LIMITS
) -> list[str]:
    """Every problem found, one line each; an empty list means every hash checks out (and, given
    `public_key`, that the manifest carries that key's signature).

    Members are hashed as they stream out of the zip, never held whole, and a bundle that would
    take more than `limits` (members, bytes declared or actually inflated, compression ratio)
    is refused rather than read."""
    try:
        size = path.stat().st_size
        # the directory's size from its end record, before zipfile loads it whole
        members, directory = _central_directory(path) or (0, 0)
        if members > limits.members or directory > MAX_DIRECTORY:
            return [
                f"{path}: {members} members in a {directory}-byte directory: not a bundle "
                f"(at most {limits.members} members); refused"
            ]
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        return [f"{path}: no such file"]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        return [f"{path}: not a readable zip file ({exc})"]
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        problems = [
            f"{name!r}: unsafe member name (absolute or with '..')"
            for name in names
            if not _safe_name(name)
        ]
        problems += [
            f"{name!r}: appears more than once"
            for name in sorted(set(names))
            if names.count(name) > 1
        ]
        if len(infos) > limits.members:
            problems.append(f"{path}: {len(infos)} members (a bundle has at most {limits.members})")
        if problems:
            return problems
        refused = _refused_by_header(infos, size, limits)
        if refused is not None:
            return [refused]  # one line: the first limit passed, and nothing inflated
        digests: dict[str, str] = {}
        small: dict[str, bytes] = {}
        damaged: set[str] = set()
        budget = _Budget(limits)
        for info in infos:
            keep = info.filename in (MANIFEST, MANIFEST_HASH, SIGNATURE)
            try:
                digest, data = _hash_member(archive, info, budget, keep=keep)
            except _Refused as exc:
                return [*problems, str(exc)]
            except (
                zipfile.BadZipFile,
                zlib.error,
                OSError,
                EOFError,
                ValueError,
                NotImplementedError,
            ) as exc:
                problems.append(f"{info.filename}: damaged in the zip ({exc})")
                damaged.add(info.filename)
                continue
            digests[info.filename] = digest
            if data is not None:
                small[info.filename] = data
    problems += _check_hashes(digests, small, damaged)
    if public_key is not None and not problems:
        problems += _check_signature(small, public_key)
    return problems


class _Refused(Exception):
    """Reading stopped: the member (or the bundle) is over a limit."""


class _Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def take(self, info: zipfile.ZipInfo, read: int, chunk: int) -> None:
        """Count `chunk` more bytes inflated from `info` (after `read` before it)."""
        self.total += chunk
        done = read + chunk
        name, limits = info.filename, self.limits
        if done > info.file_size:
            raise _Refused(
                f"{name}: inflates past the {info.file_size} bytes its header declares; refused"
            )
        if done > limits.member_bytes:
            raise _Refused(f"{name}: over {_mib(limits.member_bytes)} uncompressed; refused")
        if self.total > limits.total_bytes:
            raise _Refused(
                f"{name}: the bundle inflates past {_mib(limits.total_bytes)} in all; refused"
            )
        if limits.ratio is not None and done > RATIO_FLOOR:
            ratio = done / max(info.compress_size, 1)
            if ratio > limits.ratio:
                raise _Refused(
                    f"{name}: compressed over {limits.ratio:g} to 1 (a zip bomb?); refused"
                )


def _refused_by_header(infos: list[zipfile.ZipInfo], size: int, limits: Limits) -> str | None:
    """The first thing the zip's own directory says is too much, before a byte is inflated."""
    for info in infos:
        name = info.filename
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return (
                f"{name}: compression method {info.compress_type} (a bundle uses only "
                "stored or deflate); refused"
            )
        if info.flag_bits & 0x1:
            return f"{name}: encrypted; refused"
        if info.file_size > limits.member_bytes:
            return (
                f"{name}: declares {info.file_size} bytes uncompressed, over "
                f"{_mib(limits.member_bytes)}; refused"
            )
        if (
            limits.ratio is not None
            and info.file_size > RATIO_FLOOR
            and info.file_size / max(info.compress_size, 1) > limits.ratio
        ):
            return (
                f"{name}: declares {info.file_size} bytes from {info.compress_size}, "
                f"compressed over {limits.ratio:g} to 1 (a zip bomb?); refused"
            )
    declared = sum(info.file_size for info in infos)
    if declared > limits.total_bytes:
        return (
            f"the members declare {declared} bytes uncompressed in all, over "
            f"{_mib(limits.total_bytes)}; refused"
        )
    if size > limits.total_bytes:
        return f"the file is {size} bytes, over {_mib(limits.total_bytes)}; refused"
    return None


def _hash_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, *, keep: bool
) -> tuple[str, bytes | None]:
    """The member's sha256, read in chunks under `budget`; and its bytes if `keep` (the small
    text members: the manifest, its hash and its signature)."""
    digest = hashlib.sha256()
    kept = bytearray() if keep else None
    read = 0
    with archive.open(info) as member:
        while chunk := member.read(CHUNK):
            budget.take(info, read, len(chunk))
            read += len(chunk)
            digest.update(chunk)
            if kept is not None:
                if read > MAX_MANIFEST_BYTES:
                    raise _Refused(f"{info.filename}: over {_mib(MAX_MANIFEST_BYTES)}; refused")
                kept += chunk
    return digest.hexdigest(), None if kept is None else bytes(kept)


def _central_directory(path: Path) -> tuple[int, int] | None:
    """(members, bytes) of the zip's central directory from its end record, read before
    zipfile loads the directory whole; None if there is no end record (zipfile then says why)."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        start = max(0, end - 22 - 0xFFFF)
        handle.seek(start)
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        members, size, offset = struct.unpack("<HII", tail[at + 10 : at + 20])
        if members != 0xFFFF and size != 0xFFFFFFFF and offset != 0xFFFFFFFF:
            return members, size
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(b"PK\x06\x07"):
            return members, size
        (record_at,) = struct.unpack("<Q", locator[8:16])
        handle.seek(record_at)
        record = handle.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            return members, size  # the 32-bit record's 0xFFFF... markers: over every limit
        members64, size64 = struct.unpack("<QQ", record[32:48])
        return members64, size64


def _check_hashes(digests: dict[str, str], small: dict[str, bytes], damaged: set[str]) -> list[str]:
    if MANIFEST not in small:
        return [] if MANIFEST in damaged else [f"{MANIFEST}: missing"]
    manifest = small[MANIFEST]
    problems = []
    recorded = small.get(MANIFEST_HASH, b"").decode("ascii", "replace").split()
    if MANIFEST_HASH in damaged:
        pass  # said already
    elif MANIFEST_HASH not in small:
        problems.append(f"{MANIFEST_HASH}: missing")
    elif not recorded or not SHA256.match(recorded[0]):
        problems.append(f"{MANIFEST_HASH}: does not hold a sha256")
    elif recorded[0] != digests[MANIFEST]:
        problems.append(f"{MANIFEST}: sha256 {digests[MANIFEST]} differs from {MANIFEST_HASH}")
    try:
        listed = jsontext.loads(manifest)["files"]  # a hostile manifest may nest deep
        hashes = {str(entry["name"]): str(entry["sha256"]) for entry in listed}
    except (ValueError, KeyError, TypeError) as exc:
        return [*problems, f"{MANIFEST}: not a bundle manifest ({exc})"]
    for name, expected in sorted(hashes.items()):
        if name in damaged:
            continue  # said already
        if name not in digests:
            problems.append(f"{name}: listed in {MANIFEST} but missing")
        elif digests[name] != expected:
            problems.append(f"{name}: sha256 {digests[name]} differs from {MANIFEST}")
    for name in sorted(set(digests) - set(hashes) - {MANIFEST, MANIFEST_HASH, SIGNATURE}):
        problems.append(f"{name}: not listed in {MANIFEST}")
    return problems


def _check_signature(small: dict[str, bytes], key: Ed25519PublicKey) -> list[str]:
    if SIGNATURE not in small:
        return [f"{SIGNATURE}: missing: the bundle is not signed, so its origin cannot be checked"]
    why = check_signature(small[SIGNATURE], small[MANIFEST], key)
    return [] if why is None else [f"{SIGNATURE}: {why}"]


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB"


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
