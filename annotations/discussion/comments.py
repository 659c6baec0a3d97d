"""Comment threads on annotations and on claims, with @mentions of users.

Rules:
- Who reads a thread: whoever may see what it is on. An annotation's thread is read by every
  signed-in user (as the annotation is); a claim's by whoever may see the claim's report
  (`annotations.newsroom.reports.visible_to`), so a draft's talk stays with the newsroom.
- Who writes: analysts, editors and admins (viewers read). Plain text only, at most
  BODY_MAX characters, no control characters but new lines and tabs.
- No editing: a comment others have read and answered stays as it was said. Its author may
  withdraw it; the row and its text are kept (the history) but the thread shows only who
  withdrew it and when. A correction is a new comment.
- An @name mentions the active user of that name (in any letter case); any other @word stays
  plain text and mentions no one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotations.annotation import Actor, Forbidden
from annotations.annotation import get as get_annotation
from annotations.catalogue.users import Role, User
from annotations.db import utcnow
from annotations.discussion.tables import Comment, Mention
from annotations.errors import InvalidInput, NotFound
from annotations.newsroom.reports import find_claim, parse_id

BODY_MAX = 4000
MENTIONS_MAX = 20
#: an @ not glued to a word before it (so e-mail addresses mention no one), then a user name
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._-]{0,79})")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def check_body(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("'body' must be text")
    body = value.strip()
    if not body:
        raise InvalidInput("write something: the comment is empty")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"a comment is at most {BODY_MAX} characters; this one is {len(body)}")
    if CONTROL.search(body):
        raise InvalidInput("a comment is plain text: no control characters")
    return body


def mentioned(session: Session, body: str) -> list[str]:
    """The active users an @name in `body` names, as they spell their names, first seen first.
    A name may end a sentence ('@editor.'), so trailing dots, dashes and underscores are
    tried off as well."""
    wanted: dict[str, None] = {}
    for match in MENTION.finditer(body):
        word = match.group(1)
        wanted[word.lower()] = None
        stripped = word.rstrip("._-")
        if stripped:
            wanted[stripped.lower()] = None
    if not wanted:
        return []
    found = {
        name.lower(): name
        for name in session.scalars(
            select(User.name).where(func.lower(User.name).in_(list(wanted)), User.active)
        )
    }
    names: dict[str, None] = {}
    for match in MENTION.finditer(body):
        word = match.group(1).lower()
        name = found.get(word) or found.get(word.rstrip("._-"))
        if name is not None:
            names[name] = None
    return list(names)[:MENTIONS_MAX]


def _may_write(actor: Actor) -> None:
    if actor.role < Role.analyst:
        raise Forbidden(f"commenting needs the analyst role; {actor.name} is a viewer")


def _post(session: Session, comment: Comment, actor: Actor) -> tuple[Comment, list[str]]:
    _may_write(actor)
    comment.body = check_body(comment.body)
    comment.author = actor.name
    comment.created_at = utcnow()
    session.add(comment)
    session.flush()
    names = mentioned(session, comment.body)
    session.add_all(Mention(comment_id=comment.id, user_name=name) for name in names)
    session.flush()
    return comment, names


def post_on_annotation(
    session: Session, annotation_id: str, body: Any, actor: Actor
) -> tuple[Comment, list[str]]:
    annotation = get_annotation(session, annotation_id)
    return _post(session, Comment(annotation_id=annotation.id, body=body), actor)


def post_on_claim(
    session: Session, claim_id: Any, body: Any, actor: Actor
) -> tuple[Comment, list[str]]:
    claim, report = find_claim(session, claim_id, actor.role)
    return _post(session, Comment(claim_id=claim.id, report_id=report.id, body=body), actor)


def mentions_of(session: Session, comment_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(comment_ids)
    found: dict[int, list[str]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(Mention.comment_id, Mention.user_name)
            .where(Mention.comment_id.in_(ids))
            .order_by(Mention.comment_id, Mention.user_name)
        )
        for comment_id, name in rows:
            found[comment_id].append(name)
    return found


def as_dicts(session: Session, comments: list[Comment]) -> list[dict[str, Any]]:
    mentions = mentions_of(session, (c.id for c in comments))
    return [c.to_dict(mentions.get(c.id, [])) for c in comments]


def annotation_thread(session: Session, annotation_id: str) -> list[Comment]:
    annotation = get_annotation(session, annotation_id)
    query = select(Comment).where(Comment.annotation_id == annotation.id).order_by(Comment.id)
    return list(session.scalars(query))


def claim_thread(session: Session, claim_id: Any, role: Role) -> list[Comment]:
    claim, _report = find_claim(session, claim_id, role)
    query = select(Comment).where(Comment.claim_id == claim.id).order_by(Comment.id)
    return list(session.scalars(query))


def get_comment(
    session: Session, comment_id: Any, role: Role, *, for_update: bool = False
) -> Comment:
    """A comment the role may see (what it is on must be visible), else 'not found'."""
    identifier = parse_id(comment_id, "comment")
    comment = session.get(Comment, identifier, with_for_update=for_update)
    if comment is None:
        raise NotFound(f"no comment {comment_id!r}")
    try:
        if comment.annotation_id is not None:
            get_annotation(session, comment.annotation_id)
        else:
            find_claim(session, comment.claim_id, role)
    except NotFound:
        raise NotFound(f"no comment {comment_id!r}") from None
    return comment


def withdraw(session: Session, comment: Comment, actor: Actor) -> Comment:
    """The author takes the comment back: kept, with its text, but no longer shown."""
    if comment.author != actor.name:
        raise Forbidden(f"only its author withdraws a comment; this is {comment.author}'s")
    if comment.withdrawn_at is not None:
        raise InvalidInput("this comment is withdrawn already")
    comment.withdrawn_at = utcnow()
    comment.withdrawn_by = actor.name
    session.flush()
    return comment


def people(session: Session, prefix: str, limit: int = 10) -> list[dict[str, str]]:
    """Active users whose names start with `prefix` (any letter case), for @-completion."""
    query = select(User.name, User.role_name).where(User.active)
    if prefix:
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(User.name).like(f"{escaped}%", escape="\\"))
    rows = session.execute(query.order_by(func.lower(User.name)).limit(limit))
    return [{"name": name, "role": role} for name, role in rows]


def comments_on_annotation(session: Session, annotation_id: str) -> list[Comment]:
    """Every comment on the annotation, withdrawn ones too (for its history; the caller has
    checked the annotation may be seen, deleted or not)."""
    query = select(Comment).where(Comment.annotation_id == annotation_id).order_by(Comment.id)
    return list(session.scalars(query))


def comments_on_report(session: Session, report_id: int) -> list[Comment]:
    """Every comment on the report's claims (for its history; the caller has checked the
    report may be seen)."""
    query = select(Comment).where(Comment.report_id == report_id).order_by(Comment.id)
    return list(session.scalars(query))
