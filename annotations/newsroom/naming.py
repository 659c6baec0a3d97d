"""Things named as people name them, for the messages a newsroom reads: "the Antonov An-124
on the 2024-12-13 Hmeimim apron capture", "the claim “two Antonov AN-124 aircraft …”", "the
report “The situation …”", rather than hex ids. Ids stay in the errors' `details`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.annotation import Annotation
from annotations.catalogue.images import Image
from annotations.catalogue.sites import Site, SiteImage
from annotations.errors import AnnotationError
from annotations.newsroom.events import Event
from annotations.newsroom.reports import Claim, Report

QUOTE_CHARS = 60  # how much of a claim's quote or a title a message repeats
#: what an annotation's status means for publishing it, and what to do
STATUS_PROBLEMS = {
    "draft": "is a draft: submit and approve it",
    "in_review": "is in review: approve it",
    "rejected": "was rejected: fix it, then approve it",
}


def quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """Text in curly quotes, cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return f"\u201c{text}\u201d"


def label_name(labels: Any, label_id: str) -> str:
    """The label's name in the taxonomy, or its id when there is none (or it is unknown)."""
    if labels is None:
        return label_id
    try:
        return str(labels.get(label_id).name)
    except (AnnotationError, KeyError, AttributeError):
        return label_id


def annotation_names(
    session: Session, annotations: list[Annotation], labels: Any
) -> dict[str, str]:
    """Each annotation as 'the <label> on the <date> <site> capture', in two queries."""
    parts = annotation_parts(session, annotations, labels)
    return {annotation_id: named(*found) for annotation_id, found in parts.items()}


def named(label: str, day: str | None, site: str) -> str:
    """'the <label> on the <date> <site> capture' from annotation_parts' three."""
    place = f" {site}" if site else ""
    return f"the {label} on the {day or 'undated'}{place} capture"


def annotation_parts(
    session: Session, annotations: list[Annotation], labels: Any
) -> dict[str, tuple[str, str | None, str]]:
    """Each annotation's label name, capture day (None: undated) and site names, for a page
    that names it in another language."""
    image_ids = list({a.image_id for a in annotations})
    captured = dict(
        session.execute(select(Image.id, Image.captured_at).where(Image.id.in_(image_ids))).all()
    )
    sites: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(SiteImage.image_id, Site.name)
        .join(Site, Site.id == SiteImage.site_id)
        .where(SiteImage.image_id.in_(image_ids))
        .order_by(Site.name)
    )
    for image_id, name in rows:
        sites[image_id].append(name)
    found = {}
    for annotation in annotations:
        when = captured.get(annotation.image_id) or annotation.observed_at
        day = when.date().isoformat() if when is not None else None
        site = " / ".join(sites.get(annotation.image_id, []))
        found[annotation.id] = (label_name(labels, annotation.label), day, site)
    return found


def annotation_name(session: Session, annotation: Annotation, labels: Any) -> str:
    return annotation_names(session, [annotation], labels)[annotation.id]


def report_name(report: Report) -> str:
    return f"the report {quoted(report.title)}"


def claim_name(claim: Claim) -> str:
    return f"the claim {quoted(claim.exact)}"


def event_name(event: Event) -> str:
    return f"the event {quoted(event.title)}"


def status_problem(annotation: Annotation) -> str:
    """Why the annotation cannot be published, and what to do, in words."""
    if annotation.deleted_at is not None:
        return "was deleted: unlink it"
    return STATUS_PROBLEMS.get(annotation.status, f"is {annotation.status}")


def sentence(text: str) -> str:
    """The text with its first letter a capital, for the start of a message."""
    return text[:1].upper() + text[1:]
