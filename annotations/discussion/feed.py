"""Activity feeds: what happened on a site or a report, newest first, a page at a time.

Built from the history that already exists (annotation `Revision`s; the `Change`s of reports,
claims, events, links and publications) and the comments. Nothing is stored for the feed.

Entries of the three sources are ordered by (time, source rank, id), newest first; a page's
cursor is the last entry's key, and each source is asked only for what comes after it, so
many entries at one instant (an import) still page through without gaps or repeats.

What the role may not see is not in the feed: links to, and talk on, reports hidden from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from annotations.annotation import Annotation
from annotations.catalogue.tables import Site, SiteImage
from annotations.catalogue.users import Role
from annotations.discussion.tables import Comment
from annotations.errors import InvalidInput
from annotations.history import Change, Revision
from annotations.newsroom.events import Event
from annotations.newsroom.links import Link
from annotations.newsroom.publishing import Publication
from annotations.newsroom.reports import Claim, Report, visible_to

PAGE_DEFAULT = 50
PAGE_MAX = 200
REVISION, CHANGE, COMMENT = 0, 1, 2
SNIPPET = 140

#: a status revision, by the status it led to: what people call it
STATUS_VERBS = {
    "in_review": "submitted",
    "approved": "approved",
    "rejected": "rejected",
    "draft": "returned to draft",
}
REVISION_VERBS = {"create": "created", "edit": "edited", "delete": "deleted", "restore": "restored"}
CHANGE_VERBS = {
    "create": "created",
    "edit": "edited",
    "delete": "deleted",
    "link": "linked",
    "unlink": "unlinked",
    "add": "added",
    "remove": "removed",
    "publish": "published",
    "withdraw": "withdrew",
}


@dataclass(frozen=True, order=True)
class Key:
    """Where an entry stands in a feed: later time first, then higher rank, then higher id."""

    at: datetime
    rank: int
    id: int

    def text(self) -> str:
        micros = round(self.at.timestamp() * 1_000_000)
        return f"{micros}.{self.rank}.{self.id}"

    @classmethod
    def parse(cls, value: str) -> Key:
        parts = value.split(".")
        if len(parts) != 3 or not all(p.isdigit() and len(p) <= 20 for p in parts):
            raise InvalidInput("cursor must be the 'next' of a page of this feed")
        micros, rank, identifier = (int(p) for p in parts)
        try:
            at = datetime.fromtimestamp(micros / 1_000_000, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidInput("cursor must be the 'next' of a page of this feed") from None
        return cls(at, rank, identifier)


@dataclass(frozen=True)
class Page:
    entries: list[dict[str, Any]]
    next: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"entries": self.entries, "next": self.next}


def page_size(limit: int | None) -> int:
    if limit is None:
        return PAGE_DEFAULT
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"limit must be 1 to {PAGE_MAX}")
    return limit


def before(key: Key | None, at: Any, id_column: Any, rank: int) -> list[ColumnElement[bool]]:
    """The SQL condition 'comes after the cursor' (older) for a source of this rank."""
    if key is None:
        return []
    if rank < key.rank:
        return [at <= key.at]
    if rank > key.rank:
        return [at < key.at]
    return [or_(at < key.at, and_(at == key.at, id_column < key.id))]


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _snippet(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "\u2026"


def _entry(key: Key, item: str, actor: str, verb: str, **rest: Any) -> dict[str, Any]:
    head = {"item": item, "cursor": key.text(), "at": _iso(key.at), "actor": actor, "verb": verb}
    return head | rest


def status_in(snapshot: str | None) -> str | None:
    """The status in a revision's Feature snapshot (None when there is none)."""
    if not snapshot:
        return None
    found = json.loads(snapshot).get("properties", {}).get("status")
    return found if isinstance(found, str) else None


def _revisions(session: Session, query: Any, key: Key | None, limit: int) -> list[Any]:
    query = query.where(*before(key, Revision.at, Revision.id, REVISION))
    rows = session.execute(query.order_by(Revision.at.desc(), Revision.id.desc()).limit(limit))
    found = []
    for revision, label, image_id in rows:
        verb = REVISION_VERBS.get(revision.action, revision.action)
        if revision.action == "status" and revision.after_json:
            status = status_in(revision.after_json)
            was = status_in(revision.before_json)
            verb = "reopened" if was == "approved" else STATUS_VERBS.get(status or "", "moved")
            verb = "withdrew" if (was, status) == ("in_review", "draft") else verb
        at = revision.at
        entry = _entry(
            Key(at, REVISION, revision.id),
            f"revision:{revision.id}",
            revision.actor,
            verb,
            comment=revision.comment,
            subject={
                "type": "annotation",
                "id": revision.annotation_id,
                "text": label,
                "image_id": image_id,
            },
        )
        found.append((Key(at, REVISION, revision.id), entry))
    return found


def _describe(change: Change) -> str | None:
    data = json.loads(change.after_json or change.before_json or "null") or {}
    for field in ("title", "exact", "note"):
        if isinstance(data.get(field), str) and data[field]:
            return _snippet(data[field])
    if change.subject == "publication" and "number" in data:
        return f"publication {data['number']} of report {data.get('report_id')}"
    if "annotation_id" in data:
        return f"annotation {data['annotation_id']}"
    return None


def _changes(
    session: Session, condition: ColumnElement[bool], key: Key | None, limit: int
) -> list[Any]:
    query = (
        select(Change)
        .where(condition, *before(key, Change.at, Change.id, CHANGE))
        .order_by(Change.at.desc(), Change.id.desc())
        .limit(limit)
    )
    found = []
    for change in session.scalars(query):
        k = Key(change.at, CHANGE, change.id)
        subject = {"type": change.subject, "id": change.subject_id, "text": _describe(change)}
        verb = CHANGE_VERBS.get(change.action, change.action)
        entry = _entry(
            k, f"change:{change.id}", change.actor, verb, comment=change.comment, subject=subject
        )
        found.append((k, entry))
    return found


def _comments(session: Session, query: Select[Any], key: Key | None, limit: int) -> list[Any]:
    query = query.where(
        Comment.withdrawn_at.is_(None), *before(key, Comment.created_at, Comment.id, COMMENT)
    )
    rows = session.scalars(
        query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)
    )
    found = []
    for comment in rows:
        k = Key(comment.created_at, COMMENT, comment.id)
        subject = (
            {"type": "annotation", "id": comment.annotation_id, "text": None}
            if comment.annotation_id is not None
            else {"type": "claim", "id": comment.claim_id, "text": None}
        )
        entry = _entry(
            k,
            f"comment:{comment.id}",
            comment.author,
            "commented",
            comment=_snippet(comment.body),
            subject=subject,
            report_id=comment.report_id,
        )
        found.append((k, entry))
    return found


def _merge(parts: list[list[Any]], limit: int) -> Page:
    merged = sorted((pair for part in parts for pair in part), key=lambda p: p[0], reverse=True)
    page = merged[:limit]
    more = len(merged) > limit
    return Page([entry for _k, entry in page], page[-1][0].text() if more and page else None)


def site_feed(
    session: Session, site: Site, role: Role, cursor: str | None, limit: int | None
) -> Page:
    """Annotations made, edited, submitted, reviewed and talked about on the site's captures;
    its events; links of those to reports the role may see, and those reports' publications."""
    size = page_size(limit)
    key = Key.parse(cursor) if cursor else None
    on_site = select(SiteImage.image_id).where(SiteImage.site_id == site.id)
    annotations = select(Annotation.id).where(Annotation.image_id.in_(on_site))
    events = select(Event.id).where(Event.site_id == site.id)
    links = (
        select(Link.id)
        .join(Report, Report.id == Link.report_id)
        .where(
            or_(Link.annotation_id.in_(annotations), Link.event_id.in_(events)), *visible_to(role)
        )
    )
    revisions = (
        select(Revision, Annotation.label, Annotation.image_id)
        .join(Annotation, Annotation.id == Revision.annotation_id)
        .where(Annotation.image_id.in_(on_site))
    )
    comments = (
        select(Comment)
        .join(Annotation, Annotation.id == Comment.annotation_id)
        .where(Annotation.image_id.in_(on_site), Annotation.deleted_at.is_(None))
    )
    # publications of the reports (the role may see) that rest on the site's work
    resting = select(Link.report_id).where(
        Link.removed_at.is_(None),
        or_(Link.annotation_id.in_(annotations), Link.event_id.in_(events)),
    )
    publications = (
        select(Publication.id)
        .join(Report, Report.id == Publication.report_id)
        .where(Publication.report_id.in_(resting), *visible_to(role))
    )
    changes = or_(
        and_(Change.subject == "event", Change.subject_id.in_(events)),
        and_(Change.subject == "link", Change.subject_id.in_(links)),
        and_(Change.subject == "site", Change.subject_id == site.id),
        and_(Change.subject == "publication", Change.subject_id.in_(publications)),
    )
    return _merge(
        [
            _revisions(session, revisions, key, size + 1),
            _changes(session, changes, key, size + 1),
            _comments(session, comments, key, size + 1),
        ],
        size,
    )


def report_feed(session: Session, report: Report, cursor: str | None, limit: int | None) -> Page:
    """The report's own changes, its claims', links' and publications', and the talk on its
    claims. The caller has checked the role may see the report."""
    size = page_size(limit)
    key = Key.parse(cursor) if cursor else None
    claims = select(Claim.id).where(Claim.report_id == report.id)
    links = select(Link.id).where(Link.report_id == report.id)
    publications = select(Publication.id).where(Publication.report_id == report.id)
    changes = or_(
        and_(Change.subject == "report", Change.subject_id == report.id),
        and_(Change.subject == "claim", Change.subject_id.in_(claims)),
        and_(Change.subject == "link", Change.subject_id.in_(links)),
        and_(Change.subject == "publication", Change.subject_id.in_(publications)),
    )
    comments = (
        select(Comment)
        .join(Claim, Claim.id == Comment.claim_id)
        .where(Comment.report_id == report.id, Claim.deleted_at.is_(None))
    )
    return _merge(
        [_changes(session, changes, key, size + 1), _comments(session, comments, key, size + 1)],
        size,
    )
