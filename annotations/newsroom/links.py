"""Links: this annotation (or event) supports, contradicts or gives context to this report
or this claim of it. A link shows from both sides; linking and unlinking are in the history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, get_args

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import ColumnElement, ForeignKey, Integer, Select, String, Text, select, union
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations import annotation as annotation_store
from annotations.annotation import Actor, Annotation, Forbidden
from annotations.catalogue.users import Role
from annotations.db import Base, UTCDateTime, utcnow
from annotations.errors import AlreadyExists, InvalidInput, Malformed, NotFound
from annotations.history import Change, changes_of, record_change
from annotations.newsroom import naming
from annotations.newsroom.events import Event, EventAnnotation, get_event
from annotations.newsroom.evidence import Stance
from annotations.newsroom.reports import (
    Checked,
    Report,
    clean_text,
    find_claim,
    get_report,
    iso,
    parse_id,
    visible_to,
)

STANCES: tuple[str, ...] = get_args(Stance)
NOTE_MAX = 2_000


class Link(Base):
    __tablename__ = "links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotation_id: Mapped[str | None] = mapped_column(
        ForeignKey("annotations.id"), nullable=True, index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), nullable=True, index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True, index=True)
    stance: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "annotation_id": self.annotation_id,
            "event_id": self.event_id,
            "report_id": self.report_id,
            "claim_id": self.claim_id,
            "stance": self.stance,
            "note": self.note,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
        }


class LinkInput(Checked):
    """One of annotation_id / event_id, and report_id and/or claim_id. Keys it does not name
    are ignored; an id that cannot be one names nothing (404)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    stance: Stance
    annotation_id: str | None = None
    note: str = Field(default="", max_length=NOTE_MAX)
    event_id: int | None = None
    report_id: int | None = None
    claim_id: int | None = None

    @classmethod
    def check_whole(cls, data: dict[str, Any]) -> dict[str, Any]:
        if (data.get("annotation_id") is None) == (data.get("event_id") is None):
            raise InvalidInput("link exactly one of 'annotation_id' or 'event_id'")
        if data.get("report_id") is None and data.get("claim_id") is None:
            raise InvalidInput("link to a 'report_id' or a 'claim_id'")
        return data

    @field_validator("stance", mode="before")
    @classmethod
    def _stance(cls, value: Any) -> str:
        if value not in STANCES:
            raise InvalidInput(f"'stance' must be one of {', '.join(STANCES)}")
        return str(value)

    @field_validator("annotation_id", mode="before")
    @classmethod
    def _annotation_id(cls, value: Any) -> str | None:
        if value is not None and not isinstance(value, str):
            raise Malformed("'annotation_id' must be the annotation's id (text)")
        return value

    @field_validator("note", mode="before")
    @classmethod
    def _note(cls, value: Any) -> str:
        return clean_text(value, "note", NOTE_MAX) or ""

    @field_validator("event_id", "report_id", "claim_id", mode="before")
    @classmethod
    def _id(cls, value: Any, info: ValidationInfo) -> int | None:
        kind = (info.field_name or "").removesuffix("_id")
        return None if value is None else parse_id(value, kind)


def parse_link(data: dict[str, Any]) -> LinkInput:
    return LinkInput.model_validate(data)


def create_link(session: Session, data: LinkInput, actor: Actor, labels: Any = None) -> Link:
    """Both ends must exist and be visible to the actor (else 'not found'). A refusal names
    the things (labels name the labels); their ids are in its details."""
    if actor.role < Role.analyst:
        raise Forbidden("linking evidence needs the analyst role")
    claim = None
    if data.claim_id is not None:
        claim, report = find_claim(session, data.claim_id, actor.role)
        if data.report_id is not None and data.report_id != report.id:
            other = get_report(session, data.report_id, actor.role)
            raise InvalidInput(
                f"{naming.claim_name(claim)} belongs to {naming.report_name(report)}, not to "
                f"{naming.report_name(other)}",
                details={"claim_id": claim.id, "report_id": report.id},
            )
    else:
        report = get_report(session, data.report_id, actor.role)
    if data.annotation_id is not None:
        annotation = annotation_store.get(session, data.annotation_id)
        evidence = naming.annotation_name(session, annotation, labels)
    else:
        evidence = naming.event_name(get_event(session, data.event_id))
    duplicate = session.scalar(
        select(Link.id).where(
            Link.removed_at.is_(None),
            Link.report_id == report.id,
            _same(Link.claim_id, data.claim_id),
            _same(Link.annotation_id, data.annotation_id),
            _same(Link.event_id, data.event_id),
        )
    )
    if duplicate is not None:
        target = naming.claim_name(claim) if claim is not None else naming.report_name(report)
        raise AlreadyExists(
            f"{naming.sentence(evidence)} is linked to {target} already; unlink it to change "
            "its stance or note",
            details={"link": duplicate},
        )
    link = Link(
        annotation_id=data.annotation_id,
        event_id=data.event_id,
        report_id=report.id,
        claim_id=data.claim_id,
        stance=data.stance,
        note=data.note,
        created_by=actor.name,
        created_at=utcnow(),
    )
    session.add(link)
    session.flush()
    record_change(session, "link", link.id, "link", actor.name, None, link.to_dict())
    return link


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def get_link(session: Session, link_id: Any, role: Role) -> Link:
    link = session.get(Link, parse_id(link_id, "link"))
    if link is None or link.removed_at is not None:
        raise NotFound(f"no link {link_id!r}")
    try:
        get_report(session, link.report_id, role)
    except NotFound:
        raise NotFound(f"no link {link_id!r}") from None
    return link


def remove_link(session: Session, link: Link, actor: Actor, comment: str | None = None) -> Link:
    """Unlink: an analyst removes their own links, an editor anyone's. Kept, marked removed."""
    if actor.role < Role.editor and link.created_by != actor.name:
        raise Forbidden(f"analysts remove only their own links; this is {link.created_by}'s")
    if actor.role < Role.analyst:
        raise Forbidden("unlinking needs the analyst role")
    before = link.to_dict()
    link.removed_at = utcnow()
    link.removed_by = actor.name
    record_change(session, "link", link.id, "unlink", actor.name, before, None, comment)
    return link


def find_links(
    session: Session,
    *,
    report_id: int | None = None,
    claim_id: int | None = None,
    annotation_id: str | None = None,
    event_id: int | None = None,
    role: Role,
) -> list[Link]:
    """Active links from either side, on reports the role may see (a filter by a hidden
    report or claim finds nothing, as one by an id that does not exist)."""
    query = (
        select(Link)
        .join(Report, Report.id == Link.report_id)
        .where(Link.removed_at.is_(None), *visible_to(role))
    )
    if report_id is not None:
        query = query.where(Link.report_id == report_id)
    if claim_id is not None:
        query = query.where(Link.claim_id == claim_id)
    if annotation_id is not None:
        query = query.where(Link.annotation_id == annotation_id)
    if event_id is not None:
        query = query.where(Link.event_id == event_id)
    return list(session.scalars(query.order_by(Link.id)))


def link_changes(session: Session, annotation_id: str, role: Role) -> list[Change]:
    """Every link and unlink of this annotation, oldest first (its side of the history),
    on reports the role may see: a draft's links, with their notes, are not shown to viewers."""
    ids = list(
        session.scalars(
            select(Link.id)
            .join(Report, Report.id == Link.report_id)
            .where(Link.annotation_id == annotation_id, *visible_to(role))
        )
    )
    return changes_of(session, "link", ids)


# ---- the annotation side: which reports rest on which annotations


def linked_annotation_ids(
    report_id: int | None = None, event_id: int | None = None, *, role: Role
) -> Select[Any]:
    """A sub-select of annotation ids: linked to the report (directly, by a claim, or through
    a linked event) if the role may see it (else none, as for an id that does not exist),
    or grouped into the event."""
    if event_id is not None:
        return select(EventAnnotation.annotation_id).where(EventAnnotation.event_id == event_id)
    direct = (
        select(Link.annotation_id)
        .join(Report, Report.id == Link.report_id)
        .where(
            Link.report_id == report_id,
            Link.removed_at.is_(None),
            Link.annotation_id.is_not(None),
            *visible_to(role),
        )
    )
    through_events = (
        select(EventAnnotation.annotation_id)
        .join(Link, Link.event_id == EventAnnotation.event_id)
        .join(Event, Event.id == EventAnnotation.event_id)
        .join(Report, Report.id == Link.report_id)
        .where(
            Link.report_id == report_id,
            Link.removed_at.is_(None),
            Event.deleted_at.is_(None),
            *visible_to(role),
        )
    )
    return select(union(direct, through_events).subquery().c[0])


def reports_by_annotation(
    session: Session, annotation_ids: list[str] | None, role: Role
) -> dict[str, list[int]]:
    """The reports each annotation is evidence for, in one query for a whole page; with
    `annotation_ids` None, for every linked annotation (an export's whole selection: links
    are an editorial set, far smaller than the annotations)."""
    if annotation_ids is not None and not annotation_ids:
        return {}
    visible: list[ColumnElement[bool]] = visible_to(role)
    direct = (
        select(Link.annotation_id.label("annotation_id"), Link.report_id)
        .join(Report, Report.id == Link.report_id)
        .where(Link.annotation_id.is_not(None), Link.removed_at.is_(None), *visible)
    )
    through_events = (
        select(EventAnnotation.annotation_id.label("annotation_id"), Link.report_id)
        .join(Link, Link.event_id == EventAnnotation.event_id)
        .join(Event, Event.id == EventAnnotation.event_id)
        .join(Report, Report.id == Link.report_id)
        .where(
            Link.removed_at.is_(None),
            Event.deleted_at.is_(None),
            *visible,
        )
    )
    if annotation_ids is not None:
        direct = direct.where(Link.annotation_id.in_(annotation_ids))
        through_events = through_events.where(EventAnnotation.annotation_id.in_(annotation_ids))
    found: dict[str, set[int]] = defaultdict(set)
    rows: Any = session.execute(union(direct, through_events))
    for annotation_id, report_id in rows:
        found[annotation_id].add(report_id)
    return {key: sorted(value) for key, value in found.items()}


def linked_annotations(session: Session, report_id: int) -> list[Annotation]:
    """Every annotation the report rests on, deleted ones included (publishing refuses them)."""
    return list(
        session.scalars(
            select(Annotation)
            .where(Annotation.id.in_(linked_annotation_ids(report_id, role=Role.admin)))
            .order_by(Annotation.observed_at, Annotation.id)
        )
    )
