"""Placing a press picture, shared by the CLI, the API's job and the editor's calls.

The original's bytes are kept untouched under their sha256 in the data folder's
`originals/` (the evidence); what is served is made from its pixels alone (no EXIF GPS,
camera or author), warped by GDAL through the ingest path (annotator.intake) into a COG
whose tags hold the placement (imagery.press.place.PLACEMENT_TAG). Placing the same
original again makes a new version: a new capture whose placement names the one before,
the earlier ones staying as they were (the history).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.catalogue.files import originals_folder
from annotations.catalogue.images import Image, Provenance, get_image
from annotations.catalogue.sites import get_site
from annotations.db import Database
from annotations.errors import InvalidInput
from annotator.intake import Imported, Upload, display_name, import_images, ingest_limits
from imagery.ingest import sha256_file
from imagery.press.fit import ControlPoint, Fit, fit
from imagery.press.place import PLACEMENT_TAG, write_placed
from imagery.press.read import inspect


@dataclass(frozen=True)
class Details:
    """What the analyst states about a press picture; all optional."""

    source_url: str | None = None
    provider: str | None = None
    licence: str | None = None
    attribution: str | None = None
    captured: datetime | None = None
    sites: tuple[str, ...] = ()
    reference: str | None = None
    #: a made-up picture (the demo's): the capture is marked synthetic, `note` says so
    synthetic: bool = False
    note: str | None = None

    def __post_init__(self) -> None:
        url = self.source_url
        if url is not None and (len(url) > 2000 or not url.startswith(("http://", "https://"))):
            raise InvalidInput(
                "the source URL must be an http(s) address of at most 2000 characters"
            )


@dataclass(frozen=True)
class Placed:
    imported: Imported
    fit: Fit


def placement(image: Image) -> dict[str, Any] | None:
    """A georeferenced capture's placement facts, None for any other image."""
    tags = json.loads(image.tags_json or "{}")
    raw = tags.get(PLACEMENT_TAG)
    if not isinstance(raw, str):
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def versions(session: Session, original_sha256: str) -> list[Image]:
    """Every placement of one original, oldest first."""
    like = Image.tags_json.contains(original_sha256)
    found = [
        image
        for image in session.scalars(select(Image).where(like).order_by(Image.created_at))
        if (placement(image) or {}).get("original_sha256") == original_sha256
    ]
    return sorted(found, key=lambda image: int((placement(image) or {}).get("version", 0)))


def history(session: Session, image: Image) -> dict[str, Any]:
    """The image's placement and every version of it (GET .../georeference)."""
    facts = placement(image)
    if facts is None:
        raise InvalidInput(f"image {image.id} was not placed by control points")
    return {
        "image": image.id,
        "placement": facts | {"placed_by": image.created_by},
        "versions": [
            {
                "image": other.id,
                "version": (placement(other) or {}).get("version"),
                "method": (placement(other) or {}).get("method"),
                "rmse_m": (placement(other) or {}).get("rmse_m"),
                "points": len((placement(other) or {}).get("gcps", [])),
                "placed_by": other.created_by,
                "placed_at": (placement(other) or {}).get("placed_at"),
                "href": f"/api/v1/images/{other.id}",
            }
            for other in versions(session, str(facts.get("original_sha256")))
        ],
    }


def original_path(settings: Mapping[str, Any], sha256: str) -> Path:
    """Where an original is kept: `originals/` beside the store's `images/`, in the data
    folder (a job's settings name the store, not the data folder)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("not a sha256")
    return originals_folder(Path(settings["IMAGES_DIR"])) / sha256


def reference_facts(
    session: Session, reference: str, sites: tuple[str, ...], points: Sequence[ControlPoint]
) -> tuple[Image, tuple[str, ...]]:
    """The reference capture, which must be of the given sites (then also the placed
    capture's sites when none are given) and hold every point's ground position."""
    image = get_image(session, reference)
    slugs = tuple(site.slug for site in image.sites)
    if sites and not set(sites) & set(slugs):
        raise InvalidInput(
            f"reference image {reference} is of {', '.join(slugs) or 'no site'}, "
            f"not of {', '.join(sites)}"
        )
    footprint = image.footprint
    for number, p in enumerate(points, 1):
        if not footprint.buffer(1e-6).covers(Point(p.lon, p.lat)):
            raise InvalidInput(
                f"control point {number} ({p.lon:g}, {p.lat:g}) is outside the reference image"
            )
    return image, sites or slugs


def check_placement(
    database: Database,
    source: Path,
    name: str,
    points: Sequence[ControlPoint],
    method: str,
    details: Details,
) -> Fit:
    """Everything a placement is refused for, before anything is written: not a picture
    (or a bomb), bad points for the method, unknown sites, a reference of another site or
    not under the points."""
    picture = inspect(source, name)
    placed = fit(points, method, picture.width, picture.height)
    with database.read() as session:
        for slug in details.sites:
            get_site(session, slug)
        if details.reference:
            reference_facts(session, details.reference, details.sites, points)
    return placed


def place_press(
    database: Database,
    settings: Mapping[str, Any],
    source: Path,
    name: str,
    points: Sequence[ControlPoint],
    method: str,
    details: Details,
    *,
    owner: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Placed:
    """Place the picture at `source` (the user knows it as `name`) and catalogue the capture;
    nothing is left behind when this raises (no COG, no row, no new original)."""
    name = display_name(name)
    placed = check_placement(database, source, name, points, method, details)
    digest = sha256_file(source)
    sites = details.sites
    facts: dict[str, Any] = {
        "method": method,
        "gcps": [p.to_list() for p in placed.points],
        "rmse_m": placed.rmse_m,
        "residuals_m": list(placed.residuals_m),
        "original_sha256": digest,
        "original_name": name,
        "source_url": details.source_url,
        "credit": details.attribution,
        "captured": details.captured.astimezone(UTC).isoformat() if details.captured else "unknown",
        "warnings": list(placed.warnings),
        "placed_at": datetime.now(UTC).isoformat(),
    }
    with database.read() as session:
        if details.reference:
            reference, sites = reference_facts(session, details.reference, sites, points)
            facts |= {"reference_image": reference.id, "reference_sha256": reference.sha256}
        earlier = versions(session, digest)
        facts |= {"version": len(earlier) + 1, "previous": earlier[-1].id if earlier else None}
    kept = original_path(settings, digest)
    new_original = _keep_original(source, kept)
    root = Path(settings["TMP_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="press-", dir=root))
    try:
        target = work / "placed.tif"
        if progress is not None:
            progress(0.0, f"placing {name} by {len(points)} control points")
        write_placed(source, name, target, placed, facts)
        provenance = Provenance(
            provider=details.provider,
            licence=details.licence,
            attribution=details.attribution,
            description=f"press picture {name}"
            + (f" from {details.source_url}" if details.source_url else "")
            + (f"; {details.note}" if details.note else ""),
            synthetic=details.synthetic,
        )
        results = import_images(
            database,
            Path(settings["IMAGES_DIR"]),
            [Upload(target, name)],
            provenance,
            sites=sites,
            captured=details.captured,
            created_by=owner,
            max_pixels=int(settings["MAX_IMAGE_PIXELS"]),
            limits=ingest_limits(settings),
            progress=progress,
        )
    except BaseException:
        if new_original:
            kept.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Placed(results[0], placed)


def _keep_original(source: Path, kept: Path) -> bool:
    """Copy the original's bytes under their sha256 (once); whether this call stored it."""
    if kept.exists():
        return False
    kept.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".original-", dir=kept.parent)
    os.close(handle)
    try:
        shutil.copyfile(source, name)
        os.chmod(name, 0o444)
        os.replace(name, kept)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return True


def result(placed: Placed) -> dict[str, Any]:
    """What the CLI prints and the job's result holds: the image as `images import --json`
    prints it, with its placement."""
    image = placed.imported.image.to_dict() | {"created": placed.imported.created}
    fitted = placed.fit
    return image | {
        "georeference": {
            "method": fitted.method,
            "gcps": [p.to_list() for p in fitted.points],
            "rmse_m": fitted.rmse_m,
            "residuals_m": list(fitted.residuals_m),
            "worst": fitted.worst,
            "warnings": list(fitted.warnings),
        }
    }
