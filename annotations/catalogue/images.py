"""The image catalogue: one row per capture, its stored COG and where it came from."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.catalogue.sites import SiteImage, get_site, sites_meeting
from annotations.catalogue.tables import ACQUISITION_TAG, GEOREFERENCING_TAG, TEXT_LIMIT, Image
from annotations.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Provenance:
    """What the importer says about a capture; all optional, all kept."""

    provider: str | None = None
    sensor: str | None = None
    licence: str | None = None
    attribution: str | None = None
    description: str | None = None
    synthetic: bool = False

    def __post_init__(self) -> None:
        for name in ("provider", "sensor", "licence", "attribution", "description"):
            value = getattr(self, name)
            if value is not None and len(value) > TEXT_LIMIT:
                raise InvalidInput(f"{name} is longer than {TEXT_LIMIT} characters")


def with_vendor_facts(provenance: Provenance, acquisition: dict[str, str]) -> Provenance:
    """The importer's provenance, its blanks filled from the vendor's metadata (the
    satellite and instrument as the sensor, the producer as the provider): what the user
    typed is never replaced."""
    platform = " ".join(
        dict.fromkeys(v for v in (acquisition.get("platform"), acquisition.get("instrument")) if v)
    )
    return replace(
        provenance,
        sensor=provenance.sensor or (platform[:TEXT_LIMIT] or None),
        provider=provenance.provider or (acquisition.get("provider", "")[:TEXT_LIMIT] or None),
    )


def find_by_sha256(session: Session, sha256: str) -> Image | None:
    return session.scalar(select(Image).where(Image.sha256 == sha256))


def get_image(session: Session, image_id: str) -> Image:
    image = session.get(Image, image_id) if len(image_id) <= 32 else None
    if image is None:
        raise NotFound(f"no image {image_id!r}; list images with 'annotator images list'")
    return image


def list_images(session: Session) -> list[Image]:
    return list(session.scalars(select(Image).order_by(Image.captured_at, Image.created_at)))


def add_image(
    session: Session,
    facts: Any,
    provenance: Provenance,
    *,
    site_slugs: tuple[str, ...] = (),
    created_by: str | None = None,
) -> Image:
    """Catalogue an ingested image (an `imagery.ingest.ImageFacts`) and attach its sites."""
    explicit = [get_site(session, slug) for slug in site_slugs]
    nodata = facts.nodata
    provenance = with_vendor_facts(provenance, getattr(facts, "acquisition", {}))
    tags = {k: v for k, v in facts.tags.items() if not k.startswith("annotator:")}
    tags[GEOREFERENCING_TAG] = getattr(facts, "georeferencing", {})
    tags[ACQUISITION_TAG] = getattr(facts, "acquisition", {})
    image = Image(
        id=uuid.uuid4().hex,
        sha256=facts.sha256,
        cog_name=facts.cog_path.name,
        original_filename=facts.original_filename[:255],
        crs=facts.crs,
        width=facts.width,
        height=facts.height,
        band_count=facts.band_count,
        dtype=facts.dtype,
        nodata=None if nodata is None or not math.isfinite(nodata) else nodata,
        mask=facts.mask,
        gsd_m=facts.gsd_m,
        footprint_geojson=json.dumps(facts.footprint, separators=(",", ":")),
        captured_at=facts.captured_at,
        captured_source=facts.captured_source,
        provider=provenance.provider,
        sensor=provenance.sensor,
        licence=provenance.licence,
        attribution=provenance.attribution,
        description=provenance.description,
        synthetic=provenance.synthetic,
        display_json=json.dumps(facts.display.to_dict()),
        warped=facts.warped,
        tags_json=json.dumps(tags),
        created_by=created_by,
    )
    image.set_bounds(facts.bounds)
    session.add(image)
    session.flush()
    attached: dict[int, str] = {site.id: "explicit" for site in explicit}
    for site in sites_meeting(session, image.footprint):
        attached.setdefault(site.id, "footprint")
    for site_id, reason in attached.items():
        session.add(SiteImage(site_id=site_id, image_id=image.id, reason=reason))
    session.flush()
    session.refresh(image)
    return image
