"""Each person's inbox: what concerns them, newest first, with what they have marked read.

- reviewed: a status change someone else made to one of my annotations (approved, rejected
  with the editor's comment, reopened, returned to draft);
- talk: a comment by someone else that mentions me, or that is on one of my annotations;
- waiting (editors and admins): annotations in review, oldest first; marking one read holds
  for that version only, so a resubmission is new again.

Only what the person may see is listed or counted: talk on a claim of a report their role
may not see (a draft, for a viewer) is left out, as is anything on a deleted annotation.
An item is 'revision:<id>', 'comment:<id>' or 'review:<annotation id>-v<version>'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast, delete, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from annotations.annotation import Actor, Annotation
from annotations.catalogue.users import Role
from annotations.db import utcnow
from annotations.discussion.comments import mentions_of
from annotations.discussion.feed import (
    COMMENT,
    REVISION,
    STATUS_VERBS,
    Cursor,
    Key,
    before,
    dense,
    merge,
    page_size,
    status_in,
)
from annotations.discussion.tables import Comment, InboxRead, Mention
from annotations.errors import InvalidInput, NotFound
from annotations.history import Revision
from annotations.newsroom.reports import Claim, Report, visible_to

WAITING_SHOWN = 20
MARK_MAX = 500
#: the unread count stops here (the nav shows 99+): counting on stops costing on every page
UNREAD_CAP = 100
THROUGH = "through:"
ITEM = re.compile(r"^(revision|comment):(\d{1,12})$|^review:([0-9a-f]{1,32})-v(\d{1,9})$")


@dataclass(frozen=True)
class Person:
    name: str
    role: Role

    @classmethod
    def of(cls, actor: Actor) -> Person:
        return cls(actor.name, actor.role)


def _revision_key() -> Any:
    return literal("revision:", String) + cast(Revision.id, String)


def _comment_key() -> Any:
    return literal("comment:", String) + cast(Comment.id, String)


def _review_key() -> Any:
    return (
        literal("review:", String)
        + Annotation.id
        + literal("-v", String)
        + cast(Annotation.version, String)
    )


@dataclass(frozen=True)
class ReadThrough:
    """'Mark all read' reads everything up to the newest revision and comment of that moment:
    two rows ('through:revision:<id>', 'through:comment:<id>'), not one per item, so the
    count of what is unread looks only at what came after."""

    revision: int = 0
    comment: int = 0

    @classmethod
    def of(cls, session: Session, person: Person) -> ReadThrough:
        found = {"revision": 0, "comment": 0}
        rows = session.scalars(
            select(InboxRead.item).where(
                InboxRead.user_name == person.name, InboxRead.item.like(f"{THROUGH}%")
            )
        )
        for item in rows:
            _through, kind, number = item.split(":")
            found[kind] = max(found[kind], int(number))
        return cls(found["revision"], found["comment"])

    def after(self, source: Any) -> Any:
        if source is Revision:
            return Revision.id > self.revision
        if source is Comment:
            return Comment.id > self.comment
        return literal(True)


def _unread(person: Person, key: Any, through: ReadThrough, source: Any) -> Any:
    explicit = exists().where(InboxRead.user_name == person.name, InboxRead.item == key)
    return and_(through.after(source), ~explicit)


def _reviewed(session: Session, person: Person) -> Any:
    """The ids of status changes others made to the person's annotations. Someone with many
    annotations: the history is read newest first, each checked; else their annotations
    first (see feed.DENSE)."""
    mine = select(Annotation.id).where(
        Annotation.created_by == person.name, Annotation.deleted_at.is_(None)
    )
    others = (Revision.action == "status", Revision.actor != person.name)
    if dense(session, mine):
        return select(Revision.id).where(
            *others, exists(mine.where(Annotation.id == Revision.annotation_id))
        )
    return (
        select(Revision.id)
        .join(Annotation, Annotation.id == Revision.annotation_id)
        .where(*others, Annotation.created_by == person.name, Annotation.deleted_at.is_(None))
    )


def _talk(person: Person) -> Any:
    mentioned = exists().where(Mention.comment_id == Comment.id, Mention.user_name == person.name)
    return (
        select(Comment, Annotation.label, Annotation.image_id)
        .outerjoin(Annotation, Annotation.id == Comment.annotation_id)
        .outerjoin(Claim, Claim.id == Comment.claim_id)
        .outerjoin(Report, Report.id == Comment.report_id)
        .where(
            Comment.author != person.name,
            Comment.withdrawn_at.is_(None),
            or_(mentioned, Annotation.created_by == person.name),
            or_(
                and_(Comment.annotation_id.is_not(None), Annotation.deleted_at.is_(None)),
                and_(
                    Comment.claim_id.is_not(None),
                    Claim.deleted_at.is_(None),
                    *visible_to(person.role),
                ),
            ),
        )
    )


def _waiting(person: Person) -> Any:
    return select(Annotation).where(
        Annotation.status == "in_review", Annotation.deleted_at.is_(None)
    )


def _editor(person: Person) -> bool:
    return person.role >= Role.editor


def unread_count(session: Session, person: Person) -> int:
    """How many items the person has not marked read (what the nav shows), at most
    UNREAD_CAP."""
    through = ReadThrough.of(session, person)
    total = 0
    for query, key, source in _sources(session, person):
        unread = query.where(_unread(person, key, through, source)).order_by(None)
        counted = select(func.count()).select_from(unread.limit(UNREAD_CAP).subquery())
        total += session.scalar(counted) or 0
    return min(total, UNREAD_CAP)


def _sources(session: Session, person: Person) -> list[tuple[Any, Any, Any]]:
    sources = [
        (_reviewed(session, person), _revision_key(), Revision),
        (_talk(person), _comment_key(), Comment),
    ]
    if _editor(person):
        sources.append((_waiting(person), _review_key(), Annotation))
    return sources


def _read_of(session: Session, person: Person, items: list[str]) -> set[str]:
    if not items:
        return set()
    query = select(InboxRead.item).where(
        InboxRead.user_name == person.name, InboxRead.item.in_(items)
    )
    return set(session.scalars(query))


def inbox(
    session: Session, person: Person, cursor: str | None, limit: int | None
) -> dict[str, Any]:
    """A page of the person's items, newest first, each saying whether it is unread; the
    items waiting for review (editors); the unread count."""
    size = page_size(limit)
    place = Cursor.parse(cursor)
    reviewed = _reviewed(session, person).where(*before(place, Revision.id, REVISION))
    chosen = list(session.scalars(reviewed.order_by(Revision.id.desc()).limit(size + 1)))
    rows = session.execute(
        select(Revision, Annotation.label, Annotation.image_id)
        .join(Annotation, Annotation.id == Revision.annotation_id)
        .where(Revision.id.in_(chosen))
        .order_by(Revision.id.desc())
    )
    parts: dict[int, list[tuple[Key, dict[str, Any]]]] = {REVISION: [], COMMENT: []}
    for revision, label, image_id in rows:
        k = Key(revision.at, REVISION, revision.id)
        parts[REVISION].append((k, _reviewed_item(revision, label, image_id)))
    talk = _talk(person).where(*before(place, Comment.id, COMMENT))
    comments = list(session.execute(talk.order_by(Comment.id.desc()).limit(size + 1)))
    mentions = mentions_of(session, (c.id for c, _label, _image in comments))
    for comment, label, image_id in comments:
        k = Key(comment.created_at, COMMENT, comment.id)
        names = mentions.get(comment.id, [])
        why = "mention" if person.name in names else "on your annotation"
        parts[COMMENT].append((k, _talk_item(comment, (label, image_id), why, names)))
    items, after = merge(parts, size, place)
    waiting = _waiting_part(session, person)
    through = ReadThrough.of(session, person)
    read = _read_of(
        session, person, [i["item"] for i in items] + [w["item"] for w in waiting["items"]]
    )
    for entry in items + waiting["items"]:
        kind, _colon, number = entry["item"].partition(":")
        passed = {"revision": through.revision, "comment": through.comment}.get(kind, 0)
        older = kind != "review" and int(number) <= passed
        entry["unread"] = not older and entry["item"] not in read
    return {
        "unread": unread_count(session, person),
        "items": items,
        "next": after,
        "waiting": waiting,
    }


def _reviewed_item(revision: Revision, label: str, image_id: str) -> dict[str, Any]:
    status = status_in(revision.after_json)
    was = status_in(revision.before_json)
    verb = "reopened" if was == "approved" else STATUS_VERBS.get(status or "")
    verb = "withdrew" if (was, status) == ("in_review", "draft") else verb
    return {
        "item": f"revision:{revision.id}",
        "kind": "reviewed",
        "at": _iso(revision.at),
        "actor": revision.actor,
        "verb": verb or "moved",
        "status": status,
        "comment": revision.comment,
        "annotation": {"id": revision.annotation_id, "label": label, "image_id": image_id},
    }


def _talk_item(
    comment: Comment, on: tuple[str | None, str | None], why: str, mentions: list[str]
) -> dict[str, Any]:
    label, image_id = on
    return {
        "item": f"comment:{comment.id}",
        "kind": why,
        "at": _iso(comment.created_at),
        "actor": comment.author,
        "verb": "mentioned you" if why == "mention" else "commented",
        "comment": comment.body,
        "mentions": mentions,
        "annotation": None
        if comment.annotation_id is None
        else {"id": comment.annotation_id, "label": label, "image_id": image_id},
        "claim": None
        if comment.claim_id is None
        else {"id": comment.claim_id, "report_id": comment.report_id},
    }


def _waiting_part(session: Session, person: Person) -> dict[str, Any]:
    if not _editor(person):
        return {"count": 0, "items": []}
    query = _waiting(person)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    shown = session.scalars(
        query.order_by(Annotation.updated_at, Annotation.id).limit(WAITING_SHOWN)
    )
    items = [
        {
            "item": f"review:{a.id}-v{a.version}",
            "kind": "waiting",
            "at": _iso(a.updated_at),
            "actor": a.updated_by,
            "verb": "submitted",
            "annotation": {
                "id": a.id,
                "label": a.label,
                "image_id": a.image_id,
                "created_by": a.created_by,
            },
        }
        for a in shown
    ]
    return {"count": count, "items": items}


def mark_read(session: Session, person: Person, items: list[str] | None) -> int:
    """Mark these items read (each must be in the person's inbox), or all when None.
    Answers how many were unread (for all: as the capped count said)."""
    if items is None:
        return _mark_all(session, person)
    if len(items) > MARK_MAX:
        raise InvalidInput(f"mark at most {MARK_MAX} items at once")
    wanted = set(items)
    for item in wanted:
        _check_item(session, person, item)
    through = ReadThrough.of(session, person)
    passed = {"revision": through.revision, "comment": through.comment}

    def older(item: str) -> bool:
        kind, _colon, number = item.partition(":")
        return kind in passed and int(number) <= passed[kind]

    already = _read_of(session, person, sorted(wanted))
    new = sorted(item for item in wanted - already if not older(item))
    now = utcnow()
    session.add_all(InboxRead(user_name=person.name, item=item, read_at=now) for item in new)
    session.flush()
    return len(new)


def _mark_all(session: Session, person: Person) -> int:
    unread = unread_count(session, person)
    newest_revision = session.scalar(select(func.max(Revision.id))) or 0
    newest_comment = session.scalar(select(func.max(Comment.id))) or 0
    waiting: list[str] = []
    if _editor(person):
        through = ReadThrough.of(session, person)
        query, key, source = _sources(session, person)[2]
        keys = query.with_only_columns(key, maintain_column_froms=True).where(
            _unread(person, key, through, source)
        )
        waiting = list(session.scalars(keys))
    mine = InboxRead.user_name == person.name
    session.execute(
        delete(InboxRead).where(
            mine,
            or_(
                InboxRead.item.like(f"{THROUGH}%"),
                InboxRead.item.like("revision:%"),
                InboxRead.item.like("comment:%"),
            ),
        )
    )
    now = utcnow()
    marks = [f"{THROUGH}revision:{newest_revision}", f"{THROUGH}comment:{newest_comment}"]
    session.add_all(
        InboxRead(user_name=person.name, item=item, read_at=now) for item in marks + waiting
    )
    session.flush()
    return unread


def _check_item(session: Session, person: Person, item: Any) -> None:
    match = ITEM.match(item) if isinstance(item, str) else None
    if match is None:
        raise InvalidInput(f"{str(item)[:60]!r} is not an inbox item")
    kind, number, annotation_id, version = match.groups()
    if kind == "revision":
        query = _reviewed(session, person).where(Revision.id == int(number))
    elif kind == "comment":
        query = _talk(person).where(Comment.id == int(number))
    elif _editor(person):
        query = _waiting(person).where(
            Annotation.id == annotation_id, Annotation.version == int(version)
        )
    else:
        query = None
    if query is None or session.execute(query.limit(1)).first() is None:
        raise NotFound(f"no item {item!r} in your inbox")


def _iso(value: Any) -> str:
    text: str = value.isoformat().replace("+00:00", "Z")
    return text
