"""Events: something that happened at a site over a time window, seen on several captures.

"An-124 airlift at Hmeimim, 2024-12-10 to 2024-12-14" groups the annotations of the
aircraft on each capture; its summary (counts per label per capture date, first and last
seen, the captures covering the window) is computed from them, never typed in.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations.annotation import Actor, Annotation
from annotations.catalogue.areas import on_site
from annotations.catalogue.images import Image
from annotations.catalogue.sites import Site, SiteImage, get_site
from annotations.catalogue.users import Role
from annotations.db import Base, UTCDateTime, utcnow
from annotations.duplicates import merged_ids
from annotations.errors import AlreadyExists, AnnotationError, InvalidInput, Malformed, NotFound
from annotations.history import record_change
from annotations.newsroom.reports import (
    Checked,
    Instant,
    clean_text,
    iso,
    parse_id,
    require_role,
)
from annotations.times import parse_time

TITLE_MAX = 500
DESCRIPTION_MAX = 10_000
MEMBERS_PER_REQUEST = 1_000
ANNOTATION_ID_MAX = 32  # the length of an annotation's id (annotations.id)


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    def to_dict(self, site_slug: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": site_slug,
            "title": self.title,
            "description": self.description,
            "start": iso(self.start_at),
            "end": iso(self.end_at),
            "version": self.version,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "updated_by": self.updated_by,
            "updated_at": iso(self.updated_at),
        }


class EventAnnotation(Base):
    """An annotation grouped into an event."""

    __tablename__ = "event_annotations"
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    annotation_id: Mapped[str] = mapped_column(
        ForeignKey("annotations.id"), primary_key=True, index=True
    )
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


SITE = "The site's slug."
START = "ISO 8601 date or time."
END = "ISO 8601; a date ends at its last moment."


class EventChecks(Checked):
    """The checks of an event's fields, whole (EventInput) or some (EventPatch). Keys that are
    not fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("site", mode="before", check_fields=False)
    @classmethod
    def _site(cls, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise InvalidInput("'site' is required: the slug of the site (see GET /api/v1/sites)")
        return value

    @field_validator("title", mode="before", check_fields=False)
    @classmethod
    def _title(cls, value: Any) -> str:
        return (clean_text(value, "title", TITLE_MAX, required=True) or "").strip()

    @field_validator("description", mode="before", check_fields=False)
    @classmethod
    def _description(cls, value: Any) -> str:
        return clean_text(value, "description", DESCRIPTION_MAX) or ""

    @field_validator("start", "end", mode="before", check_fields=False)
    @classmethod
    def _time(cls, value: Any, info: ValidationInfo) -> datetime:
        if isinstance(value, str) and value:
            return parse_time(value, info.field_name or "")
        raise InvalidInput(f"'{info.field_name}' is required: an ISO 8601 date or time")

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        check_order(getattr(self, "start", None), getattr(self, "end", None))
        return self


def check_order(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput("the event ends before it starts; swap 'start' and 'end'")


class EventInput(EventChecks):
    """An event's fields as a client sends them (POST, PUT)."""

    site: str = Field(description=SITE)
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    start: Instant = Field(description=START)
    end: Instant = Field(description=END)


class EventPatch(EventChecks):
    """Some of an event's fields (PATCH): those sent replace the event's, the others stay."""

    site: str | None = Field(default=None, description=SITE)
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    start: Instant | None = Field(default=None, description=START)
    end: Instant | None = Field(default=None, description=END)


#: what to send to group annotations into an event
SEND_IDS = "send {'annotation_ids': ['<id>', ...]}"
AnnotationIds = list[Annotated[str, Field(max_length=ANNOTATION_ID_MAX)]]


def check_annotation_ids(value: Any, not_a_list: type[AnnotationError]) -> list[str]:
    """A list of 1 to MEMBERS_PER_REQUEST annotation ids (what is not a list is `not_a_list`);
    an id that cannot be one names nothing."""
    if not isinstance(value, list):
        raise not_a_list(SEND_IDS)
    if not value:
        raise Malformed(SEND_IDS)
    if len(value) > MEMBERS_PER_REQUEST:
        raise InvalidInput(f"at most {MEMBERS_PER_REQUEST} annotations per request")
    for annotation_id in value:
        if not isinstance(annotation_id, str) or len(annotation_id) > ANNOTATION_ID_MAX:
            raise NotFound(f"no annotation {annotation_id!r}")
    return value


class NewEvent(EventInput):
    """An event's fields and, optionally, the annotations it groups."""

    annotation_ids: AnnotationIds = Field(default=[], max_length=MEMBERS_PER_REQUEST)

    @field_validator("annotation_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> list[str]:
        return check_annotation_ids(value, Malformed) if value else []


class EventMembers(Checked):
    """Annotations to group into an event."""

    model_config = ConfigDict(extra="ignore")

    annotation_ids: AnnotationIds = Field(min_length=1, max_length=MEMBERS_PER_REQUEST)

    @field_validator("annotation_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> list[str]:
        return check_annotation_ids(value, InvalidInput)


def parse_event(data: dict[str, Any]) -> EventInput:
    """An event's fields checked (the demo; the API validates the same models)."""
    return EventInput.model_validate(data)


def as_input(event: Event, site_slug: str) -> EventInput:
    return EventInput.model_construct(
        site=site_slug,
        title=event.title,
        start=event.start_at,
        end=event.end_at,
        description=event.description,
    )


def patched(base: EventInput, patch: EventPatch) -> EventInput:
    """The event's fields with those the patch sent replaced, still in order."""
    sent = {name: getattr(patch, name) for name in patch.model_fields_set}
    changed = base.model_copy(update=sent)
    check_order(changed.start, changed.end)
    return changed


def create_event(session: Session, data: EventInput, actor: Actor) -> Event:
    require_role(actor, Role.analyst, "adding an event")
    site = get_site(session, data.site)
    now = utcnow()
    event = Event(
        site_id=site.id,
        title=data.title,
        description=data.description,
        start_at=data.start,
        end_at=data.end,
        version=1,
        created_by=actor.name,
        created_at=now,
        updated_by=actor.name,
        updated_at=now,
    )
    session.add(event)
    session.flush()
    record_change(session, "event", event.id, "create", actor.name, None, event.to_dict(site.slug))
    return event


def update_event(session: Session, event: Event, data: EventInput, actor: Actor) -> Event:
    require_role(actor, Role.analyst, "editing an event")
    site = get_site(session, data.site)
    before = event.to_dict(site_slug(session, event))
    if site.id != event.site_id and members(session, event):
        raise InvalidInput(
            "the event groups annotations of its site; remove them before moving it to another site"
        )
    event.site_id = site.id
    event.title = data.title
    event.description = data.description
    event.start_at = data.start
    event.end_at = data.end
    event.version += 1
    event.updated_by = actor.name
    event.updated_at = utcnow()
    record_change(session, "event", event.id, "edit", actor.name, before, event.to_dict(site.slug))
    return event


def delete_event(session: Session, event: Event, actor: Actor) -> Event:
    require_role(actor, Role.editor, "deleting an event")
    before = event.to_dict(site_slug(session, event))
    event.deleted_at = utcnow()
    event.deleted_by = actor.name
    record_change(session, "event", event.id, "delete", actor.name, before, None)
    return event


def get_event(session: Session, event_id: Any) -> Event:
    event = session.get(Event, parse_id(event_id, "event"))
    if event is None or event.deleted_at is not None:
        raise NotFound(f"no event {event_id!r}")
    return event


def list_events(session: Session, site: str | None = None) -> list[Event]:
    query = select(Event).where(Event.deleted_at.is_(None))
    if site:
        query = query.where(Event.site_id == get_site(session, site).id)
    return list(session.scalars(query.order_by(Event.start_at, Event.id)))


def site_slug(session: Session, event: Event) -> str:
    site = session.get(Site, event.site_id)
    return site.slug if site else ""


def members(session: Session, event: Event) -> list[Annotation]:
    return list(
        session.scalars(
            select(Annotation)
            .join(EventAnnotation, EventAnnotation.annotation_id == Annotation.id)
            .where(EventAnnotation.event_id == event.id, Annotation.deleted_at.is_(None))
            .order_by(Annotation.observed_at, Annotation.id)
        )
    )


def add_annotations(
    session: Session, event: Event, annotation_ids: list[str], actor: Actor
) -> list[str]:
    """Group annotations into the event (ids checked by EventMembers); each must be seen on an
    image of the event's site."""
    require_role(actor, Role.analyst, "grouping annotations into an event")
    site = session.get_one(Site, event.site_id)
    in_area = set(
        session.scalars(
            select(Annotation.id).where(Annotation.id.in_(annotation_ids), on_site(session, site))
        )
    )
    present = set(
        session.scalars(
            select(EventAnnotation.annotation_id).where(EventAnnotation.event_id == event.id)
        )
    )
    added = []
    for annotation_id in annotation_ids:
        annotation = session.get(Annotation, annotation_id)
        if annotation is None or annotation.deleted_at is not None:
            raise NotFound(f"no annotation {annotation_id!r}")
        if annotation_id not in in_area:
            raise InvalidInput(
                f"annotation {annotation_id} lies outside the site's area; an "
                "event groups annotations of its own site"
            )
        if annotation_id in present:
            raise AlreadyExists(f"annotation {annotation_id} is in the event already")
        session.add(
            EventAnnotation(
                event_id=event.id,
                annotation_id=annotation_id,
                added_by=actor.name,
                added_at=utcnow(),
            )
        )
        record_change(
            session, "event", event.id, "add", actor.name, None, {"annotation_id": annotation_id}
        )
        present.add(annotation_id)
        added.append(annotation_id)
    return added


def remove_annotation(session: Session, event: Event, annotation_id: str, actor: Actor) -> None:
    require_role(actor, Role.analyst, "removing an annotation from an event")
    member = session.get(EventAnnotation, (event.id, annotation_id))
    if member is None:
        raise NotFound(f"annotation {annotation_id!r} is not in event {event.id}")
    session.delete(member)
    record_change(
        session, "event", event.id, "remove", actor.name, {"annotation_id": annotation_id}, None
    )


def summary(session: Session, event: Event) -> dict[str, Any]:
    """Counts per label per capture date, first and last seen, and the captures of the site
    taken within the window (whether or not anything was marked on them). An annotation
    marked the same object as another one in the event adds no object: it is counted in
    `merged` (per date and label) instead."""
    grouped = members(session, event)
    folded = merged_ids(grouped)
    images = {
        image.id: image
        for image in session.scalars(
            select(Image).where(Image.id.in_({a.image_id for a in grouped}))
        )
    }
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    merged: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seen: list[datetime] = []
    for annotation in grouped:
        image = images.get(annotation.image_id)
        when = annotation.observed_at or (image.captured_at if image else None)
        day = when.date().isoformat() if when else "unknown"
        if annotation.id in folded:
            merged[day][annotation.label] += 1
        else:
            counts[day][annotation.label] += annotation.count
        if when is not None:
            seen.append(when)
    window = session.scalars(
        select(Image)
        .join(SiteImage, SiteImage.image_id == Image.id)
        .where(
            SiteImage.site_id == event.site_id,
            Image.captured_at >= event.start_at,
            Image.captured_at <= _end_of_day(event.end_at),
        )
        .order_by(Image.captured_at)
    )
    return {
        "annotations": len(grouped),
        "counts": {day: dict(sorted(labels.items())) for day, labels in sorted(counts.items())},
        "merged": {day: dict(sorted(labels.items())) for day, labels in sorted(merged.items())},
        "first_seen": iso(min(seen)) if seen else None,
        "last_seen": iso(max(seen)) if seen else None,
        "captures": [
            {
                "image_id": image.id,
                "captured_at": iso(image.captured_at),
                "provider": image.provider,
                "synthetic": image.synthetic,
            }
            for image in window
        ],
    }


def _end_of_day(moment: datetime) -> datetime:
    """A window given as dates ends at the end of its last day."""
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.replace(hour=23, minute=59, second=59, microsecond=999_999)
    return moment
