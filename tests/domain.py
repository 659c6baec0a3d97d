"""The domain tests' world (tests/annotations/conftest.py makes it): a real database, real
COGs written by imagery.ingest, two sites and the label taxonomy. Everything is made through
the domain's public functions, as the API and the demo make them; no HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyproj import Transformer
from sqlalchemy.orm import Session

from annotations import annotation as store
from annotations.annotation import Actor, Annotation, AnnotationInput
from annotations.catalogue.images import Image
from annotations.catalogue.users import Role
from annotations.db import Database
from annotations.history import changes_of
from annotations.labels.taxonomy import Taxonomy
from annotations.measure import box_polygon
from annotations.newsroom import events, links, reports
from imagery.ingest import ImageFacts

VIEWER = Actor("vera", Role.viewer)
ANALYST = Actor("anna", Role.analyst)
OTHER_ANALYST = Actor("otto", Role.analyst)
EDITOR = Actor("eddie", Role.editor)
ADMIN = Actor("ada", Role.admin)

DEC_10 = datetime(2024, 12, 10, 8, 21, tzinfo=UTC)
DEC_13 = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
#: scenes of 400 x 300 pixels of 0.5 m in UTM 36N: at Hmeimim, and about 90 km west
HERE = (790_000.0, 3_922_000.0)
ELSEWHERE = (700_000.0, 3_922_000.0)
TO_LONLAT = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)
TEXT = (
    "Satellite images captured two Antonov AN-124 aircraft \u2026 at the Hmeimim base, with "
    "the noses of the two aircraft open in preparation for loading. Separately, a Russian "
    "convoy heading from the south of the capital towards the coast was reported."
)
CLAIM = "two Antonov AN-124 aircraft \u2026 at the Hmeimim base"
AN_124 = "aircraft.transport.an-124"
IL_76 = "aircraft.transport.il-76"
TRUCK = "vehicle.truck"


def centre_of(origin: tuple[float, float]) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(origin[0] + 100.0, origin[1] - 75.0)
    return float(lon), float(lat)


@dataclass(frozen=True)
class Captures:
    """Ingested once per session; each test's database catalogues them anew."""

    store: Path
    dec_10: ImageFacts
    dec_13: ImageFacts
    undated: ImageFacts
    elsewhere: ImageFacts


@dataclass
class World:
    """A database with the site `hmeimim` (three captures: 10 and 13 December and one of
    unknown date) and the site `elsewhere` (one capture of 13 December)."""

    database: Database
    images_dir: Path
    labels: Taxonomy
    dec_10: str
    dec_13: str
    undated: str
    elsewhere: str

    def annotation(
        self,
        session: Session,
        status: str = "approved",
        *,
        image: str | None = None,
        label: str = AN_124,
        count: int = 1,
        offset_m: float = 0.0,
        by: Actor = ANALYST,
        observed_at: datetime | None = None,
    ) -> Annotation:
        """An annotation by `by` on `image` (13 December), reviewed by the editor into
        `status`."""
        image_id = image or self.dec_13
        origin = ELSEWHERE if image_id == self.elsewhere else HERE
        lon, lat = centre_of(origin)
        box = box_polygon(lon + offset_m / 90_000, lat, length_m=30, width_m=30, heading_deg=172)
        data = AnnotationInput(
            geometry=box,
            label=label,
            image_id=image_id,
            shape="rotated-box",
            confidence="confirmed",
            count=count,
            observed_at=observed_at,
        )
        made = store.create(session, data, by)
        steps = {
            "draft": [],
            "in_review": [(by, "in_review")],
            "approved": [(by, "in_review"), (EDITOR, "approved")],
            "rejected": [(by, "in_review"), (EDITOR, "rejected")],
        }[status]
        for actor, target in steps:
            store.set_status(session, made, target, actor, made.version, "checked")
        return made

    def report(self, session: Session, **fields: Any) -> reports.Report:
        return reports.create_report(session, reports.parse_report(report_fields(**fields)), EDITOR)

    def claim(self, session: Session, report: reports.Report, exact: str = CLAIM) -> reports.Claim:
        return reports.create_claim(session, report, exact, "", "", EDITOR)

    def link(self, session: Session, actor: Actor = ANALYST, **fields: Any) -> links.Link:
        data = links.parse_link({"stance": "supports", **fields})
        return links.create_link(session, data, actor, self.labels)

    def event(
        self,
        session: Session,
        start: str = "2024-12-10",
        end: str = "2024-12-14",
        site: str = "hmeimim",
        title: str = "An-124 airlift",
    ) -> events.Event:
        data = events.parse_event({"site": site, "title": title, "start": start, "end": end})
        return events.create_event(session, data, ANALYST)


def report_fields(**fields: Any) -> dict[str, Any]:
    """A whole report as a client sends it, with `fields` replaced."""
    return {
        "title": "The situation of the Russian forces in Syria",
        "text": TEXT,
        "url": "https://news.example.org/syria",
        "outlet": "Example News",
        "authors": ["A. Reporter"],
        "published_at": "2026-05-25",
        "language": "en",
        **fields,
    }


def changes(session: Session, subject: str, subject_id: int) -> list[tuple[str, str]]:
    """(action, actor) of every history row of one subject, oldest first."""
    return [(c.action, c.actor) for c in changes_of(session, subject, [subject_id])]


def image_of(session: Session, image_id: str) -> Image:
    image = session.get(Image, image_id)
    assert image is not None
    return image


def after_of(change: Any) -> dict[str, Any]:
    after: dict[str, Any] = json.loads(change.after_json)
    return after
