"""Activity feeds: what happened on a site or a report, newest first, a page at a time.

Built from the history that already exists (annotation `Revision`s; the `Change`s of reports,
claims, events, links and publications) and the comments. Nothing is stored for the feed.

Each source is read newest first by id (its primary key, so a page costs the same however
long the history); the sources interleave by time. A page's cursor holds, per source, the id
the next page starts below, so many entries at one instant (an import) still page through
without gaps or repeats.

What the role may not see is not in the feed: links to, and talk on, reports hidden from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from annotations.annotation import Annotation
from annotations.catalogue.areas import on_site
from annotations.catalogue.tables import Site
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
    """How entries of different sources interleave: later time first, then higher rank, then
    higher id. Within a source, entries come in id order (newest first), so a page stops at
    an id in each source (`Cursor`) and the next one starts below it: no gaps, no repeats."""

    at: datetime
    rank: int
    id: int


#: a cursor's place for a source not yet read from (no bound)
OPEN = "x"


@dataclass(frozen=True)
class Cursor:
    """Per source (revisions, changes, comments): the id the next page starts below, None
    for no bound yet; 0 when that source has nothing more."""

    bounds: tuple[int | None, int | None, int | None] = (None, None, None)

    def text(self) -> str:
        return ".".join(OPEN if b is None else str(b) for b in self.bounds)

    @classmethod
    def parse(cls, value: str | None) -> Cursor:
        if not value:
            return cls()
        parts = value.split(".")
        if len(parts) != 3 or not all(p == OPEN or (p.isdigit() and len(p) <= 12) for p in parts):
            raise InvalidInput("cursor must be the 'next' of a page of this feed")
        a, b, c = (None if p == OPEN else int(p) for p in parts)
        return cls((a, b, c))

    def bound(self, rank: int) -> int | None:
        return self.bounds[rank]


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


def before(cursor: Cursor, id_column: Any, rank: int) -> list[ColumnElement[bool]]:
    """The SQL condition 'comes after the cursor' (older) for the source of this rank."""
    bound = cursor.bound(rank)
    return [] if bound is None else [id_column < bound]


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _snippet(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "\u2026"


def _entry(key: Key, item: str, actor: str, verb: str, **rest: Any) -> dict[str, Any]:
    return {"item": item, "at": _iso(key.at), "actor": actor, "verb": verb} | rest


def status_in(snapshot: str | None) -> str | None:
    """The status in a revision's Feature snapshot (None when there is none)."""
    if not snapshot:
        return None
    found = json.loads(snapshot).get("properties", {}).get("status")
    return found if isinstance(found, str) else None


def _revisions(session: Session, ids: Any, cursor: Cursor, limit: int) -> list[Any]:
    """`ids` selects Revision.id; the newest `limit` below the cursor, with their labels."""
    chosen = list(
        session.scalars(
            ids.where(*before(cursor, Revision.id, REVISION))
            .order_by(Revision.id.desc())
            .limit(limit)
        )
    )
    rows = session.execute(
        select(Revision, Annotation.label, Annotation.image_id)
        .join(Annotation, Annotation.id == Revision.annotation_id)
        .where(Revision.id.in_(chosen))
        .order_by(Revision.id.desc())
    )
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
    for field in ("title", "exact", "note", "name"):  # name: a site's
        if isinstance(data.get(field), str) and data[field]:
            return _snippet(data[field])
    if change.subject == "publication" and "number" in data:
        return f"publication {data['number']} of report {data.get('report_id')}"
    if "annotation_id" in data:
        return f"annotation {data['annotation_id']}"
    return None


def _changes(
    session: Session, condition: ColumnElement[bool], cursor: Cursor, limit: int
) -> list[Any]:
    query = (
        select(Change)
        .where(condition, *before(cursor, Change.id, CHANGE))
        .order_by(Change.id.desc())
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


def _comments(session: Session, ids: Any, cursor: Cursor, limit: int) -> list[Any]:
    """`ids` selects Comment.id; the newest `limit` shown below the cursor."""
    ids = ids.where(Comment.withdrawn_at.is_(None), *before(cursor, Comment.id, COMMENT))
    chosen = list(session.scalars(ids.order_by(Comment.id.desc()).limit(limit)))
    rows = session.scalars(
        select(Comment).where(Comment.id.in_(chosen)).order_by(Comment.id.desc())
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


#: past this many annotations, a site's (or a person's) history is read newest first with a
#: check per entry, not gathered from its annotations and sorted
DENSE = 2000


def dense(session: Session, query: Any) -> bool:
    capped = select(func.count()).select_from(query.limit(DENSE).subquery())
    return (session.scalar(capped) or 0) >= DENSE


def merge(
    parts: dict[int, list[tuple[Key, dict[str, Any]]]], limit: int, cursor: Cursor
) -> tuple[list[dict[str, Any]], str | None]:
    """Interleave the sources (each fetched newest first, `limit + 1` at most) by `Key`,
    keeping each source's own order; the entries of the page and the next page's cursor."""
    heads = dict.fromkeys(parts, 0)
    page: list[dict[str, Any]] = []
    while len(page) < limit:
        waiting = [(parts[rank][i][0], rank) for rank, i in heads.items() if i < len(parts[rank])]
        if not waiting:
            break
        _key, rank = max(waiting)
        page.append(parts[rank][heads[rank]][1])
        heads[rank] += 1
    bounds = list(cursor.bounds)
    more = False
    for rank, fetched in parts.items():
        used = heads[rank]
        if used < len(fetched):
            more = True
        if used:
            bounds[rank] = fetched[used - 1][0].id
        if used == len(fetched) and len(fetched) <= limit:
            bounds[rank] = 0  # nothing left in this source
    a, b, c = bounds
    return page, Cursor((a, b, c)).text() if more else None


def _page(parts: dict[int, list[Any]], size: int, cursor: Cursor) -> Page:
    entries, after = merge(parts, size, cursor)
    return Page(entries, after)


def site_feed(
    session: Session, site: Site, role: Role, cursor: str | None, limit: int | None
) -> Page:
    """Annotations made, edited, submitted, reviewed and talked about on the site's captures;
    its events; links of those to reports the role may see, and those reports' publications."""
    size = page_size(limit)
    place = Cursor.parse(cursor)
    in_area = on_site(session, site)  # the annotations lying in the site's area
    events = select(Event.id).where(Event.site_id == site.id)
    # links are few: found from their side (an annotation on the site, or an event of it)
    annotation_on_site = exists(
        select(Annotation.id).where(Annotation.id == Link.annotation_id, in_area)
    )
    event_of_site = exists(
        select(Event.id).where(Event.id == Link.event_id, Event.site_id == site.id)
    )
    site_links = (
        select(Link.id, Link.report_id, Link.removed_at)
        .where(or_(annotation_on_site, event_of_site))
        .subquery()
    )
    links = (
        select(site_links.c.id)
        .join(Report, Report.id == site_links.c.report_id)
        .where(*visible_to(role))
    )
    # publications of the reports (the role may see) that rest on the site's work
    resting = select(site_links.c.report_id).where(site_links.c.removed_at.is_(None))
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
    if dense(session, select(Annotation.id).where(in_area)):
        # most of the history is this site's: walk it newest first, keeping the site's
        on_this_site = select(Annotation.id).where(in_area)
        revisions = select(Revision.id).where(
            exists(on_this_site.where(Annotation.id == Revision.annotation_id))
        )
        comments = select(Comment.id).where(
            exists(
                on_this_site.where(
                    Annotation.id == Comment.annotation_id, Annotation.deleted_at.is_(None)
                )
            )
        )
    else:
        # a small site: its annotations first, then their history
        revisions = (
            select(Revision.id)
            .join(Annotation, Annotation.id == Revision.annotation_id)
            .where(in_area)
        )
        comments = (
            select(Comment.id)
            .join(Annotation, Annotation.id == Comment.annotation_id)
            .where(in_area, Annotation.deleted_at.is_(None))
        )
    parts = {
        REVISION: _revisions(session, revisions, place, size + 1),
        CHANGE: _changes(session, changes, place, size + 1),
        COMMENT: _comments(session, comments, place, size + 1),
    }
    return _page(parts, size, place)


def report_feed(session: Session, report: Report, cursor: str | None, limit: int | None) -> Page:
    """The report's own changes, its claims', links' and publications', and the talk on its
    claims. The caller has checked the role may see the report."""
    size = page_size(limit)
    place = Cursor.parse(cursor)
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
        select(Comment.id)
        .join(Claim, Claim.id == Comment.claim_id)
        .where(Comment.report_id == report.id, Claim.deleted_at.is_(None))
    )
    parts = {
        CHANGE: _changes(session, changes, place, size + 1),
        COMMENT: _comments(session, comments, place, size + 1),
    }
    return _page(parts, size, place)
