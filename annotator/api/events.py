"""Events API: what happened at a site over a time window, and the annotations it groups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from annotations.catalogue.users import Role
from annotations.history import changes_of
from annotations.newsroom import events
from annotations.newsroom.links import find_links
from annotator.auth import actor, login_required, role_required
from annotator.errors import RequestError
from annotator.forms import json_body
from annotator.services import database

bp = Blueprint("events", __name__, url_prefix="/api/v1/events")


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
def index() -> Response:
    with database().read() as session:
        found = events.list_events(session, request.args.get("site") or None)
        return jsonify({"events": [event_body(session, e, full=False) for e in found]})


@bp.post("")
@role_required(Role.analyst)
def create() -> tuple[Response, int, dict[str, str]]:
    body = json_body()
    data = events.parse_event(body)
    ids = body.get("annotation_ids")
    with database().write() as session:
        event = events.create_event(session, data, actor())
        if ids:
            events.add_annotations(session, event, ids, actor())
        result = event_body(session, event)
    return jsonify(result), 201, {"Location": url_for("events.show", event_id=result["id"])}


@bp.get("/<event_id>")
@login_required
def show(event_id: str) -> Response:
    with database().read() as session:
        return jsonify(event_body(session, events.get_event(session, event_id)))


@bp.route("/<event_id>", methods=["PUT", "PATCH"])
@role_required(Role.analyst)
def edit(event_id: str) -> Response:
    body = json_body()
    with database().write() as session:
        event = events.get_event(session, event_id)
        base = events.as_input(event, events.site_slug(session, event))
        data = events.parse_event(body, base=base if request.method == "PATCH" else None)
        events.update_event(session, event, data, actor())
        return jsonify(event_body(session, event))


@bp.delete("/<event_id>")
@role_required(Role.editor)
def remove(event_id: str) -> Response:
    with database().write() as session:
        event = events.get_event(session, event_id)
        events.delete_event(session, event, actor())
        return jsonify({"deleted": event.id})


@bp.post("/<event_id>/annotations")
@role_required(Role.analyst)
def add(event_id: str) -> Response:
    body = json_body()
    ids = body.get("annotation_ids")
    if not isinstance(ids, list):
        raise RequestError("send {'annotation_ids': ['<id>', ...]}", status=422, code="invalid")
    with database().write() as session:
        event = events.get_event(session, event_id)
        events.add_annotations(session, event, ids, actor())
        return jsonify(event_body(session, event))


@bp.delete("/<event_id>/annotations/<annotation_id>")
@role_required(Role.analyst)
def remove_annotation(event_id: str, annotation_id: str) -> Response:
    with database().write() as session:
        event = events.get_event(session, event_id)
        events.remove_annotation(session, event, annotation_id, actor())
        return jsonify(event_body(session, event))


@bp.get("/<event_id>/history")
@login_required
def history(event_id: str) -> Response:
    with database().read() as session:
        event = events.get_event(session, event_id)
        found = changes_of(session, "event", [event.id])
        return jsonify({"event": event.id, "changes": [c.to_dict() for c in found]})
