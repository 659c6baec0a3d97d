"""A site's timeline: its captures by date, and what was counted on each.

Counts come from one grouped query over the site's images (never a query per image):
per capture and label, the number of annotations and the number of objects they hold
(an annotation of a 40-vehicle convoy has count 40). An annotation marked the same object as
another one counted on that capture adds no object: it is counted as `merged`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from annotations.annotation import STATUSES, Annotation
from annotations.catalogue.areas import on_site
from annotations.catalogue.images import Image, get_image
from annotations.catalogue.sites import Site, SiteImage, get_site
from annotations.errors import InvalidInput

#: what a timeline counts unless asked otherwise: everything not rejected
COUNTED_STATUSES = ("draft", "in_review", "approved")


@dataclass(frozen=True)
class LabelCount:
    label: str
    annotations: int
    objects: int
    #: annotations marked the same object as another one counted here (adding no object)
    merged: int = 0


@dataclass(frozen=True)
class Capture:
    """One image of the site and its counts, most objects first."""

    image: Image
    counts: tuple[LabelCount, ...]

    @property
    def objects(self) -> int:
        return sum(count.objects for count in self.counts)


@dataclass(frozen=True)
class Timeline:
    site: Site
    statuses: tuple[str, ...]
    captures: tuple[Capture, ...]

    @property
    def labels(self) -> list[str]:
        """Every label counted on any date, the most counted first."""
        totals: dict[str, int] = {}
        for capture in self.captures:
            for count in capture.counts:
                totals[count.label] = totals.get(count.label, 0) + count.objects
        return sorted(totals, key=lambda label: (-totals[label], label))

    def to_dict(self, label_names: dict[str, str] | None = None) -> dict[str, Any]:
        names = label_names or {}
        return {
            "site": self.site.slug,
            "name": self.site.name,
            "statuses": list(self.statuses),
            "captures": [
                {
                    "image_id": capture.image.id,
                    "captured_at": _iso(capture.image.captured_at),
                    "provider": capture.image.provider,
                    "gsd_m": capture.image.gsd_m,
                    "synthetic": capture.image.synthetic,
                    "objects": capture.objects,
                    "counts": [
                        {
                            "label": count.label,
                            "label_name": names.get(count.label),
                            "annotations": count.annotations,
                            "objects": count.objects,
                            "merged": count.merged,
                        }
                        for count in capture.counts
                    ],
                }
                for capture in self.captures
            ],
        }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def parse_statuses(text: str | None) -> tuple[str, ...]:
    """'draft,approved' -> ('draft', 'approved'); empty -> the default set."""
    if not text:
        return COUNTED_STATUSES
    wanted = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [status for status in wanted if status not in STATUSES]
    if unknown or not wanted:
        raise InvalidInput(
            f"status must be a comma-separated list of {', '.join(STATUSES)}; "
            f"got {', '.join(unknown) or repr(text)}"
        )
    return wanted


def site_timeline(
    session: Session, slug: str, statuses: tuple[str, ...] = COUNTED_STATUSES
) -> Timeline:
    """The site's captures, oldest first (unknown dates last), with counts per label."""
    site = get_site(session, slug)
    images = list(
        session.scalars(
            select(Image)
            .join(SiteImage, SiteImage.image_id == Image.id)
            .where(SiteImage.site_id == site.id)
            .order_by(Image.captured_at.is_(None), Image.captured_at, Image.created_at)
        )
    )
    same = aliased(Annotation)  # what an annotation is marked the same object as, if counted
    merged = same.id.is_not(None)
    rows = session.execute(
        select(
            Annotation.image_id,
            Annotation.label,
            func.count(),
            func.coalesce(func.sum(case((merged, 0), else_=Annotation.count)), 0),
            func.coalesce(func.sum(case((merged, 1), else_=0)), 0),
        )
        .outerjoin(
            same,
            and_(
                same.id == Annotation.same_as,
                same.deleted_at.is_(None),
                same.status.in_(statuses),
            ),
        )
        .where(
            on_site(session, site),  # what lies in the site's area, as its lists hold
            Annotation.deleted_at.is_(None),
            Annotation.status.in_(statuses),
        )
        .group_by(Annotation.image_id, Annotation.label)
    )
    by_image: dict[str, list[LabelCount]] = {}
    for image_id, label, made, objects, folded in rows:
        by_image.setdefault(image_id, []).append(LabelCount(label, made, int(objects), int(folded)))
    captures = tuple(
        Capture(
            image,
            tuple(sorted(by_image.get(image.id, []), key=lambda c: (-c.objects, c.label))),
        )
        for image in images
    )
    return Timeline(site, statuses, captures)


def pair_for(session: Session, image_id: str) -> tuple[Image, Image]:
    """A capture and the one to compare it with: the previous capture of one of its
    sites (it comes out on the left), else the next one (captures of unknown date come
    last, on SQLite as on PostgreSQL)."""
    image = get_image(session, image_id)
    others = [
        other
        for other in session.scalars(
            select(Image)
            .join(SiteImage, SiteImage.image_id == Image.id)
            .where(
                SiteImage.site_id.in_(
                    select(SiteImage.site_id).where(SiteImage.image_id == image.id)
                ),
                Image.id != image.id,
            )
            .order_by(Image.captured_at.asc().nulls_last(), Image.created_at)
            .distinct()
        )
    ]
    if not others:
        raise InvalidInput(
            f"image {image.id} shares no site with another capture; pick two images to compare"
        )
    when = image.captured_at
    earlier = [o for o in others if when and o.captured_at and o.captured_at <= when]
    if earlier:
        return earlier[-1], image
    return image, others[0]
