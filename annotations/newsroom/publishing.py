"""Publishing a report's evidence: check it is all approved, freeze it, hash it.

At publication the annotations linked to the report (directly, through its claims, or
through a linked event) are gathered into one `Evidence` with their images, who last
revised each and who approved it when, and coordinates coarsened as the report asks.
That Evidence is stored as canonical JSON with its sha256 in a numbered `Publication`;
the story outputs are drawn from that frozen JSON only, so later edits make new
publications and never change one already made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations.annotation import Actor, Forbidden
from annotations.catalogue.images import Image
from annotations.catalogue.sites import Site, SiteImage
from annotations.catalogue.users import Role
from annotations.db import Base, UTCDateTime, utcnow
from annotations.errors import AnnotationError, InvalidInput, NotFound
from annotations.history import Change, Revision, changes_of, record_change
from annotations.newsroom.events import Event, EventAnnotation
from annotations.newsroom.evidence import (
    Evidence,
    EvidenceAnnotation,
    EvidenceClaim,
    EvidenceImage,
    EvidenceLink,
    EvidenceReport,
)
from annotations.newsroom.figure import merged_away
from annotations.newsroom.links import Link, linked_annotations, reports_by_annotation
from annotations.newsroom.naming import (
    annotation_parts,
    named,
    report_name,
    status_problem,
)
from annotations.newsroom.reports import Claim, Report, claims_of, iso
from imagery.georef.placement import placement_error_m, placement_points, placement_text

EVIDENCE_FORMAT = "annotator-evidence/1"
log = logging.getLogger(__name__)


class NotPublishable(AnnotationError):
    """Some linked evidence is not approved, or was deleted; `details` lists each item."""


class Publication(Base):
    """One frozen publication of a report's evidence (never changed once written)."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("report_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    evidence_json: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(80))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        evidence = json.loads(self.evidence_json)
        return {
            "report_id": self.report_id,
            "number": self.number,
            "sha256": self.sha256,
            "published_by": self.published_by,
            "published_at": iso(self.published_at),
            "annotations": len(evidence["annotations"]),
            "coarsening": evidence["coarsening"],
        }


# ---- checks


def problems(session: Session, report: Report, labels: Any = None) -> list[dict[str, Any]]:
    """Every linked annotation that may not be published, and why: `problem` in short, and
    `name` and `words` as a person reads it ('the Antonov An-124 on the 2024-12-13 Hmeimim
    capture' 'is a draft: submit and approve it'); labels name the labels."""
    wrong = [
        a
        for a in linked_annotations(session, report.id)
        if a.deleted_at is not None or a.status != "approved"
    ]
    parts = annotation_parts(session, wrong, labels)
    names = {annotation_id: named(*found) for annotation_id, found in parts.items()}
    return [
        {
            "annotation_id": annotation.id,
            "label": annotation.label,
            "status": annotation.status,
            "deleted": annotation.deleted_at is not None,
            "problem": "deleted"
            if annotation.deleted_at is not None
            else f"not approved (status {annotation.status})",
            "name": names[annotation.id],
            "words": status_problem(annotation),
            # the name's parts, for a page that says it in another language
            "label_name": parts[annotation.id][0],
            "day": parts[annotation.id][1],
            "site": parts[annotation.id][2],
        }
        for annotation in wrong
    ]


def publish(
    session: Session, report: Report, actor: Actor, images_dir: Path, labels: Any
) -> Publication:
    """Freeze the report's evidence as its next publication (editors only)."""
    if actor.role < Role.editor:
        raise Forbidden(f"publishing needs the editor role; {actor.name} is {actor.role.name}")
    started = time.perf_counter()
    log.info("publish begins: report %d", report.id, extra={"event": "publish.begin"})
    wrong = problems(session, report, labels)
    if wrong:
        log.warning("publish of report %d refused: %d not publishable", report.id, len(wrong))
        listed = "; ".join(f"{p['name']} {p['words']}" for p in wrong)
        some = "1 linked annotation" if len(wrong) == 1 else f"{len(wrong)} linked annotations"
        raise NotPublishable(
            f"{some} of {report_name(report)} cannot be published: {listed}. Or unlink "
            f"{'it' if len(wrong) == 1 else 'them'} from the report.",
            details={"annotations": wrong},
        )
    if not linked_annotations(session, report.id):
        log.warning("publish of report %d refused: nothing linked", report.id)
        raise InvalidInput("nothing to publish: link approved annotations or an event first")
    now = utcnow().replace(microsecond=0)
    evidence = build_evidence(session, report, actor.name, now, images_dir, labels)
    text = evidence_json(evidence)
    number = (
        session.scalar(
            select(func.max(Publication.number)).where(Publication.report_id == report.id)
        )
        or 0
    ) + 1
    publication = Publication(
        report_id=report.id,
        number=number,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        evidence_json=text,
        published_by=actor.name,
        published_at=now,
    )
    session.add(publication)
    before = report.to_dict()
    report.status = "published"
    if report.embed_token is None:
        report.embed_token = secrets.token_urlsafe(24)
    session.flush()
    record_change(
        session,
        "publication",
        publication.id,
        "publish",
        actor.name,
        None,
        {"report_id": report.id, "number": number, "sha256": publication.sha256},
    )
    if before["status"] != "published":
        record_change(
            session,
            "report",
            report.id,
            "edit",
            actor.name,
            before,
            report.to_dict(),
            comment=f"published (publication {number})",
        )
    seconds = round(time.perf_counter() - started, 3)
    annotations, images = len(evidence.annotations), len(evidence.images)
    log.info(
        "publish ends: report %d as publication %d, %d annotations, %d images, %d bytes, %.2f s",
        *(report.id, number, annotations, images, len(text), seconds),
        extra={"event": "publish.end", "annotations": annotations, "seconds": seconds},
    )
    return publication


def publications_of(session: Session, report: Report) -> list[Publication]:
    return list(
        session.scalars(
            select(Publication)
            .where(Publication.report_id == report.id)
            .order_by(Publication.number)
        )
    )


def get_publication(session: Session, report: Report, number: int | None = None) -> Publication:
    """The report's latest publication, or the one numbered."""
    query = select(Publication).where(Publication.report_id == report.id)
    if number is not None:
        query = query.where(Publication.number == number)
    found = session.scalar(query.order_by(Publication.number.desc()).limit(1))
    if found is None:
        which = f"publication {number}" if number is not None else "publication yet"
        raise NotFound(f"report {report.id} has no {which}; an editor publishes it first")
    return found


def report_for_token(session: Session, token: str) -> Report:
    report = (
        session.scalar(select(Report).where(Report.embed_token == token))
        if 16 <= len(token) <= 64
        else None
    )
    if report is None or report.deleted_at is not None:
        raise NotFound("no published report here")
    return report


def history_of(session: Session, report: Report) -> list[Change]:
    """Every change to the report, its claims, its links and its publications, in order."""
    claim_ids = list(session.scalars(select(Claim.id).where(Claim.report_id == report.id)))
    link_ids = list(session.scalars(select(Link.id).where(Link.report_id == report.id)))
    publication_ids = [p.id for p in publications_of(session, report)]
    found = (
        changes_of(session, "report", [report.id])
        + changes_of(session, "claim", claim_ids)
        + changes_of(session, "link", link_ids)
        + changes_of(session, "publication", publication_ids)
    )
    return sorted(found, key=lambda change: change.id)


# ---- building the Evidence


def build_evidence(
    session: Session,
    report: Report,
    published_by: str,
    published_at: datetime,
    images_dir: Path,
    labels: Any,
) -> Evidence:
    annotations = [a for a in linked_annotations(session, report.id) if a.deleted_at is None]
    ids = [a.id for a in annotations]
    links = _links_by_annotation(session, report.id, ids)
    approvals = _approvals(session, ids)
    # what the public will read: the published reports each annotation rests on, and this
    # one (still a draft until this commit); never another report's draft id
    reports = reports_by_annotation(session, ids, Role.viewer)
    images = {
        i.id: i
        for i in session.scalars(
            select(Image).where(Image.id.in_({a.image_id for a in annotations}))
        )
    }
    sites = _sites_of(session, list(images))
    published = []
    for annotation in annotations:
        label = labels.get(annotation.label)
        feature = annotation.to_feature(
            label.name, sorted({*reports.get(annotation.id, []), report.id})
        )
        geometry = coarsen(
            annotation.geometry,
            report.coarsening,
            report.coarsen_m,
            _site_area(sites.get(annotation.image_id, []), annotation.geometry),
        )
        feature["geometry"] = _rounded(geometry)
        approved_by, approved_at = approvals.get(annotation.id, (None, None))
        published.append(
            EvidenceAnnotation(
                id=annotation.id,
                version=annotation.version,
                image_id=annotation.image_id,
                label=annotation.label,
                label_name=label.name,
                colour=label.colour,
                confidence=annotation.confidence,
                feature=feature,
                revised_by=annotation.updated_by,
                revised_at=annotation.updated_at,
                approved_by=approved_by,
                approved_at=approved_at,
                links=tuple(links.get(annotation.id, ())),
            )
        )
    evidence_images = tuple(
        EvidenceImage(
            id=i.id,
            sha256=i.sha256,
            cog_path=images_dir / i.cog_name,
            captured_at=i.captured_at,
            provider=i.provider,
            licence=i.licence,
            attribution=i.attribution,
            gsd_m=i.gsd_m,
            synthetic=i.synthetic,
            georeferencing=placement_text(i.georeferencing),
            placement_error_m=placement_error_m(i.georeferencing),
            placement_points=placement_points(i.georeferencing),
        )
        for i in sorted(images.values(), key=lambda i: (i.captured_at or published_at, i.id))
    )
    site_names = sorted({s.name for found in sites.values() for s in found})
    claims = tuple(
        EvidenceClaim(id=c.id, exact=c.exact, prefix=c.prefix, suffix=c.suffix)
        for c in claims_of(session, [report.id])
    )
    evidence = Evidence(
        report=EvidenceReport(
            id=report.id,
            title=report.title,
            url=report.url,
            outlet=report.outlet,
            authors=tuple(report.authors),
            published_at=report.published_at,
            language=report.language,
            summary=report.summary,
        ),
        claims=claims,
        annotations=tuple(published),
        images=evidence_images,
        published_at=published_at,
        published_by=published_by,
        coarsening=report.coarsening_text,
        site_name=" / ".join(site_names) or None,
    )
    return _with_caption(evidence)


def _with_caption(evidence: Evidence) -> Evidence:
    """A caption naming what is shown, when it was captured, and whose imagery it is."""
    from dataclasses import replace

    dates = sorted({i.captured_at.date().isoformat() for i in evidence.images if i.captured_at})
    credits = sorted(
        {
            f"{i.provider or 'unknown provider'} ({i.licence or 'licence unknown'})"
            for i in evidence.images
        }
    )
    count = len(evidence.annotations)
    merged = len(merged_away(evidence.annotations))
    parts = [
        f"{count} annotation{'s' if count != 1 else ''}"
        + (f", {count - merged} objects ({merged} merged)" if merged else "")
        + (f" at {evidence.site_name}" if evidence.site_name else ""),
        f"captured {', '.join(dates)}" if dates else "capture date unknown",
        f"imagery: {'; '.join(credits)}",
    ]
    if any(i.synthetic for i in evidence.images):
        parts.append("SYNTHETIC demo imagery, not a real satellite image")
    if evidence.coarsening:
        parts.append(evidence.coarsening)
    return replace(evidence, caption=". ".join(parts) + ".")


def _links_by_annotation(
    session: Session, report_id: int, ids: list[str]
) -> dict[str, list[EvidenceLink]]:
    found: dict[str, list[EvidenceLink]] = defaultdict(list)
    links = list(
        session.scalars(
            select(Link)
            .where(Link.report_id == report_id, Link.removed_at.is_(None))
            .order_by(Link.id)
        )
    )
    event_members: dict[int, list[str]] = defaultdict(list)
    event_ids = [link.event_id for link in links if link.event_id is not None]
    titles = {
        e.id: e.title
        for e in session.scalars(
            select(Event).where(Event.id.in_(event_ids), Event.deleted_at.is_(None))
        )
    }
    for member in session.scalars(
        select(EventAnnotation).where(EventAnnotation.event_id.in_(list(titles)))
    ):
        event_members[member.event_id].append(member.annotation_id)
    wanted = set(ids)
    for link in links:
        stance: Any = link.stance
        if link.annotation_id is not None and link.annotation_id in wanted:
            found[link.annotation_id].append(EvidenceLink(stance, link.claim_id, link.note))
        elif link.event_id in titles:
            note = f"event: {titles[link.event_id]}" + (f"; {link.note}" if link.note else "")
            for annotation_id in event_members[link.event_id]:
                if annotation_id in wanted:
                    found[annotation_id].append(EvidenceLink(stance, link.claim_id, note))
    return found


def _approvals(session: Session, ids: list[str]) -> dict[str, tuple[str, datetime]]:
    """Who last approved each annotation, and when, from its revisions."""
    found: dict[str, tuple[str, datetime]] = {}
    if not ids:
        return found
    for revision in session.scalars(
        select(Revision)
        .where(Revision.annotation_id.in_(ids), Revision.action == "status")
        .order_by(Revision.id)
    ):
        after = json.loads(revision.after_json or "{}")
        if after.get("properties", {}).get("status") == "approved":
            found[revision.annotation_id] = (revision.actor, revision.at)
    return found


def _sites_of(session: Session, image_ids: list[str]) -> dict[str, list[Site]]:
    found: dict[str, list[Site]] = defaultdict(list)
    rows = session.execute(
        select(SiteImage.image_id, Site)
        .join(Site, Site.id == SiteImage.site_id)
        .where(SiteImage.image_id.in_(image_ids))
    )
    for image_id, site in rows:
        found[image_id].append(site)
    return found


def _site_area(sites: list[Site], geometry: BaseGeometry) -> BaseGeometry | None:
    """The smallest site area that holds the geometry (or meets it)."""
    areas = [s.area for s in sites]
    holding = [a for a in areas if a.contains(geometry)] or [
        a for a in areas if a.intersects(geometry)
    ]
    return min(holding, key=lambda a: a.area) if holding else None


# ---- coarsening


def coarsen(
    geometry: BaseGeometry, mode: str, metres: int | None, site_area: BaseGeometry | None
) -> BaseGeometry:
    """The geometry as it may be published: precise, snapped to an N-metre grid (in the UTM
    zone, so the grid does not depend on the geometry itself), or the site's whole area."""
    if mode == "none":
        return geometry
    if mode == "site":
        if site_area is None:
            raise InvalidInput(
                "an annotation lies on no site, so it cannot be replaced by the "
                "site's area; round its coordinates instead"
            )
        return site_area
    if mode != "round" or not metres:
        raise InvalidInput(f"unknown coarsening {mode!r}")
    centre = geometry.centroid
    zone = int((centre.x + 180) // 6) % 60 + 1
    utm = CRS.from_epsg((32600 if centre.y >= 0 else 32700) + zone)
    forward = Transformer.from_crs("EPSG:4326", utm, always_xy=True)
    back = Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    projected = _reproject(geometry, forward)
    snapped = shapely.set_precision(projected, float(metres))
    if snapped.is_empty or (snapped.area == 0 and projected.area > 0):
        # smaller than the grid: one grid point stands for it
        snapped = shapely.set_precision(projected.centroid, float(metres))
    return _reproject(snapped, back)


def _reproject(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def move(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, move)


def _rounded(geometry: BaseGeometry) -> dict[str, Any]:
    """RFC 7946 output precision (7 decimals, about 1 cm)."""
    rounded = shapely.set_precision(geometry, 1e-7)
    return json.loads(json.dumps(mapping(rounded if not rounded.is_empty else geometry)))


# ---- the frozen form


def evidence_json(evidence: Evidence) -> str:
    """Canonical JSON (sorted keys, no spaces): the same Evidence always gives the same bytes.
    Image files are named by their content-addressed file name, not the data folder's path."""
    return json.dumps(_plain(evidence), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    from dataclasses import fields, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        plain = {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, Evidence):
            plain["format"] = EVIDENCE_FORMAT
        return plain
    if isinstance(value, datetime):
        return iso(value.astimezone(UTC))
    if isinstance(value, Path):
        return value.name
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def evidence_from_json(text: str, images_dir: Path) -> Evidence:
    data = json.loads(text)
    if data.get("format") != EVIDENCE_FORMAT:
        raise InvalidInput(f"not {EVIDENCE_FORMAT} evidence")

    def when(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))

    def must(value: str) -> datetime:
        parsed = when(value)
        assert parsed is not None
        return parsed

    report = data["report"]
    return Evidence(
        report=EvidenceReport(
            **{
                **report,
                "authors": tuple(report["authors"]),
                "published_at": when(report["published_at"]),
            }
        ),
        claims=tuple(EvidenceClaim(**c) for c in data["claims"]),
        annotations=tuple(
            EvidenceAnnotation(
                **{
                    **a,
                    "revised_at": must(a["revised_at"]),
                    "approved_at": when(a["approved_at"]),
                    "links": tuple(EvidenceLink(**link) for link in a["links"]),
                }
            )
            for a in data["annotations"]
        ),
        images=tuple(
            EvidenceImage(
                **{
                    **i,
                    "cog_path": images_dir / i["cog_path"],
                    "captured_at": when(i["captured_at"]),
                }
            )
            for i in data["images"]
        ),
        published_at=must(data["published_at"]),
        published_by=data["published_by"],
        coarsening=data["coarsening"],
        site_name=data["site_name"],
        caption=data["caption"],
        extra=data["extra"],
    )


def frozen_evidence(publication: Publication, images_dir: Path) -> Evidence:
    return evidence_from_json(publication.evidence_json, images_dir)
