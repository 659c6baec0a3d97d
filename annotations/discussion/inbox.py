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

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from annotations.annotation import Actor, Annotation
from annotations.catalogue.users import Role
from annotations.db import utcnow
from annotations.discussion.comments import mentions_of
from annotations.discussion.feed import (
    COMMENT,
    REVISION,
    STATUS_VERBS,
    Key,
    before,
    page_size,
    status_in,
)
from annotations.discussion.tables import Comment, InboxRead, Mention
from annotations.errors import InvalidInput, NotFound
from annotations.history import Revision
from annotations.newsroom.reports import Claim, Report, visible_to

WAITING_SHOWN = 20
MARK_MAX = 500
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


def _unread(person: Person, key: Any) -> Any:
    return ~exists().where(InboxRead.user_name == person.name, InboxRead.item == key)


def _reviewed(person: Person) -> Any:
    return (
        select(Revision, Annotation.label, Annotation.image_id)
        .join(Annotation, Annotation.id == Revision.annotation_id)
        .where(
            Annotation.created_by == person.name,
            Annotation.deleted_at.is_(None),
            Revision.action == "status",
            Revision.actor != person.name,
        )
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
    """How many items the person has not marked read (what the nav shows)."""
    total = 0
    for query, key in _sources(person):
        counted = select(func.count()).select_from(
            query.where(_unread(person, key)).order_by(None).subquery()
        )
        total += session.scalar(counted) or 0
    return total


def _sources(person: Person) -> list[tuple[Any, Any]]:
    sources = [(_reviewed(person), _revision_key()), (_talk(person), _comment_key())]
    if _editor(person):
        sources.append((_waiting(person), _review_key()))
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
    size = page_size(limit)
    key = Key.parse(cursor) if cursor else None
    found: list[tuple[Key, dict[str, Any]]] = []
    reviewed = _reviewed(person).where(*before(key, Revision.at, Revision.id, REVISION))
    rows = session.execute(
        reviewed.order_by(Revision.at.desc(), Revision.id.desc()).limit(size + 1)
    )
    for revision, label, image_id in rows:
        k = Key(revision.at, REVISION, revision.id)
        found.append((k, _reviewed_item(k, revision, label, image_id)))
    talk = _talk(person).where(*before(key, Comment.created_at, Comment.id, COMMENT))
    comments = list(
        session.execute(talk.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(size + 1))
    )
    mentions = mentions_of(session, (c.id for c, _label, _image in comments))
    for comment, label, image_id in comments:
        k = Key(comment.created_at, COMMENT, comment.id)
        why = "mention" if person.name in mentions.get(comment.id, []) else "on your annotation"
        names = mentions.get(comment.id, [])
        found.append((k, _talk_item(k, comment, (label, image_id), why, names)))
    found.sort(key=lambda pair: pair[0], reverse=True)
    page = found[:size]
    items = [entry for _k, entry in page]
    waiting = _waiting_part(session, person)
    read = _read_of(
        session, person, [i["item"] for i in items] + [w["item"] for w in waiting["items"]]
    )
    for entry in items + waiting["items"]:
        entry["unread"] = entry["item"] not in read
    return {
        "unread": unread_count(session, person),
        "items": items,
        "next": page[-1][0].text() if len(found) > size and page else None,
        "waiting": waiting,
    }


def _reviewed_item(k: Key, revision: Revision, label: str, image_id: str) -> dict[str, Any]:
    status = status_in(revision.after_json)
    was = status_in(revision.before_json)
    verb = "reopened" if was == "approved" else STATUS_VERBS.get(status or "")
    verb = "withdrew" if (was, status) == ("in_review", "draft") else verb
    return {
        "item": f"revision:{revision.id}",
        "kind": "reviewed",
        "cursor": k.text(),
        "at": _iso(revision.at),
        "actor": revision.actor,
        "verb": verb or "moved",
        "status": status,
        "comment": revision.comment,
        "annotation": {"id": revision.annotation_id, "label": label, "image_id": image_id},
    }


def _talk_item(
    k: Key, comment: Comment, on: tuple[str | None, str | None], why: str, mentions: list[str]
) -> dict[str, Any]:
    label, image_id = on
    return {
        "item": f"comment:{comment.id}",
        "kind": why,
        "cursor": k.text(),
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
    """Mark these items read (each must be in the person's inbox), or all unread when None.
    Answers how many were newly marked."""
    if items is None:
        wanted: set[str] = set()
        for query, key in _sources(person):
            keys = query.with_only_columns(key, maintain_column_froms=True).where(
                _unread(person, key)
            )
            wanted.update(session.scalars(keys))
    else:
        if len(items) > MARK_MAX:
            raise InvalidInput(f"mark at most {MARK_MAX} items at once")
        wanted = set(items)
        for item in wanted:
            _check_item(session, person, item)
    already = _read_of(session, person, sorted(wanted))
    new = sorted(wanted - already)
    now = utcnow()
    session.add_all(InboxRead(user_name=person.name, item=item, read_at=now) for item in new)
    session.flush()
    return len(new)


def _check_item(session: Session, person: Person, item: Any) -> None:
    match = ITEM.match(item) if isinstance(item, str) else None
    if match is None:
        raise InvalidInput(f"{str(item)[:60]!r} is not an inbox item")
    kind, number, annotation_id, version = match.groups()
    if kind == "revision":
        query = _reviewed(person).where(Revision.id == int(number))
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
