"""Events API: what happened at a site over a time window, and the annotations it groups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from annotations.catalogue.users import Role
from annotations.history import changes_of
from annotations.newsroom import events
from annotations.newsroom.events import EventInput, EventMembers, EventPatch, NewEvent
from annotations.newsroom.links import find_links
from annotator.api.contract import operation
from annotator.api.models import newsroom as models
from annotator.auth import actor, login_required, role_required
from annotator.services import database

bp = Blueprint("events", __name__, url_prefix="/api/v1/events")
TAGS = ("events",)
WRITES = (400, 403, 404, 415, 422)


def event_body(session: Any, event: events.Event, *, full: bool = True) -> dict[str, Any]:
    body = event.to_dict(events.site_slug(session, event))
    if full:
        body["annotation_ids"] = [a.id for a in events.members(session, event)]
        body["summary"] = events.summary(session, event)
        body["links"] = [
            link.to_dict() for link in find_links(session, event_id=event.id, role=actor().role)
        ]
    return body


@bp.get("")
@login_required
@operation(
    "listEvents",
    summary="Events (optionally `?site=`)",
    tags=TAGS,
    query=models.EventQuery,
    responses={200: models.EventList},
    errors=(404,),
)
def index(query: models.EventQuery) -> Response:
    with database().read() as session:
        found = events.list_events(session, query.site or None)
        return jsonify({"events": [event_body(session, e, full=False) for e in found]})


@bp.post("")
@role_required(Role.analyst)
@operation(
    "createEvent",
    summary="Add an event, optionally with its annotations (analyst)",
    tags=TAGS,
    body=NewEvent,
    responses={201: models.Event},
    errors=(400, 403, 404, 409, 415, 422),
    security="write",
    extra=models.CREATED,
)
def create(body: NewEvent) -> tuple[Response, int, dict[str, str]]:
    with database().write() as session:
        event = events.create_event(session, body, actor())
        if body.annotation_ids:
            events.add_annotations(session, event, body.annotation_ids, actor())
        result = event_body(session, event)
    return jsonify(result), 201, {"Location": url_for("events.show", event_id=result["id"])}


@bp.get("/<event_id>")
@login_required
@operation(
    "getEvent",
    summary="An event with its computed summary",
    tags=TAGS,
    responses={200: models.Event},
    errors=(404,),
)
def show(event_id: str) -> Response:
    with database().read() as session:
        return jsonify(event_body(session, events.get_event(session, event_id)))


@bp.route("/<event_id>", methods=["PUT", "PATCH"])
@role_required(Role.analyst)
@operation(
    "replaceEvent",
    summary="Replace an event's fields (analyst)",
    tags=TAGS,
    body=EventInput,
    responses={200: models.Event},
    errors=WRITES,
    security="write",
    method="PUT",
)
@operation(
    "changeEvent",
    summary="Change some of an event's fields (analyst)",
    tags=TAGS,
    body=EventPatch,
    responses={200: models.Event},
    errors=WRITES,
    security="write",
    method="PATCH",
)
def edit(event_id: str, body: EventInput | EventPatch) -> Response:
    with database().write() as session:
        event = events.get_event(session, event_id)
        if isinstance(body, EventPatch):
            body = events.patched(events.as_input(event, events.site_slug(session, event)), body)
        events.update_event(session, event, body, actor())
        return jsonify(event_body(session, event))


@bp.delete("/<event_id>")
@role_required(Role.editor)
@operation(
    "deleteEvent",
    summary="Delete an event (soft; editor)",
    tags=TAGS,
    responses={200: models.Deleted},
    errors=(400, 403, 404),
    security="write",
)
def remove(event_id: str) -> Response:
    with database().write() as session:
        event = events.get_event(session, event_id)
        events.delete_event(session, event, actor())
        return jsonify({"deleted": event.id})


@bp.post("/<event_id>/annotations")
@role_required(Role.analyst)
@operation(
    "addEventAnnotations",
    summary="Group annotations into the event (analyst)",
    tags=TAGS,
    body=EventMembers,
    responses={200: models.Event},
    errors=(400, 403, 404, 409, 415, 422),
    security="write",
)
def add(event_id: str, body: EventMembers) -> Response:
    with database().write() as session:
        event = events.get_event(session, event_id)
        events.add_annotations(session, event, body.annotation_ids, actor())
        return jsonify(event_body(session, event))


@bp.delete("/<event_id>/annotations/<annotation_id>")
@role_required(Role.analyst)
@operation(
    "removeEventAnnotation",
    summary="Take an annotation out of the event (analyst)",
    tags=TAGS,
    responses={200: models.Event},
    errors=(400, 403, 404),
    security="write",
)
def remove_annotation(event_id: str, annotation_id: str) -> Response:
    with database().write() as session:
        event = events.get_event(session, event_id)
        events.remove_annotation(session, event, annotation_id, actor())
        return jsonify(event_body(session, event))


@bp.get("/<event_id>/history")
@login_required
@operation(
    "eventHistory",
    summary="Every change to the event",
    tags=TAGS,
    responses={200: models.EventChanges},
    errors=(404,),
)
def history(event_id: str) -> Response:
    with database().read() as session:
        event = events.get_event(session, event_id)
        found = changes_of(session, "event", [event.id])
        return jsonify({"event": event.id, "changes": [c.to_dict() for c in found]})
