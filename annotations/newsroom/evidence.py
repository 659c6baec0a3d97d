"""What a published report rests on, as plain data: the contract between publishing and its outputs.

Publishing (reports, claims, links, approvals) builds one `Evidence` from the database, with
coordinates already coarsened as the report asks. The story outputs (the folium map, the annotated
figure, the KML and the evidence bundle) read only this: they never query the database, so what
they show is exactly what was frozen at publication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

Stance = Literal["supports", "contradicts", "context"]


@dataclass(frozen=True)
class EvidenceReport:
    id: int
    title: str
    url: str | None
    outlet: str | None
    authors: tuple[str, ...]
    published_at: datetime | None
    language: str | None
    summary: str | None


@dataclass(frozen=True)
class EvidenceClaim:
    """A W3C Web Annotation TextQuoteSelector on the report's text."""

    id: int
    exact: str
    prefix: str
    suffix: str


@dataclass(frozen=True)
class EvidenceLink:
    """Why an annotation is in the evidence: which claim (or the report as a whole) and how."""

    stance: Stance
    claim_id: int | None
    note: str


@dataclass(frozen=True)
class EvidenceImage:
    id: str
    sha256: str
    cog_path: Path
    captured_at: datetime | None
    provider: str | None
    licence: str | None
    attribution: str | None
    gsd_m: float
    synthetic: bool
    #: how the image was placed and its error; None in evidence published before it was kept
    georeferencing: str | None = None
    #: the placement's RMSE and its number of control points, when it states one
    #: (imagery.georef.placement)
    placement_error_m: float | None = None
    placement_points: int | None = None


@dataclass(frozen=True)
class EvidenceAnnotation:
    """One approved annotation as published.

    `feature` is the annotation's GeoJSON Feature as the API returns it, except that its geometry
    is the published (possibly coarsened) one. `label_name` and `colour` come from the taxonomy.
    """

    id: str
    version: int
    image_id: str
    label: str
    label_name: str
    colour: str
    confidence: str
    feature: dict[str, Any]
    revised_by: str
    revised_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    links: tuple[EvidenceLink, ...]


@dataclass(frozen=True)
class Evidence:
    report: EvidenceReport
    claims: tuple[EvidenceClaim, ...]
    annotations: tuple[EvidenceAnnotation, ...]
    images: tuple[EvidenceImage, ...]
    published_at: datetime
    published_by: str
    coarsening: str | None = None  # e.g. "rounded to 500 m" or "site area"; None when precise
    site_name: str | None = None
    caption: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def image(self, image_id: str) -> EvidenceImage:
        for image in self.images:
            if image.id == image_id:
                return image
        raise KeyError(image_id)

    def claim(self, claim_id: int) -> EvidenceClaim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)
