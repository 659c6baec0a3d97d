"""Events in the browser: `/events/new` and `/events/<id>/edit` (analysts and up).

A plain form posted with the session's CSRF token: the site, title, description and the
window (two dates, the end day included), then "Show the site's annotations in this window"
lists them (label, observation day, status) to tick; Save makes the event, or changes it and
its members, through the same domain functions as `POST/PUT /api/v1/events`, with the same
checks and messages. Deleted annotations are never offered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.catalogue.sites import Site, list_sites
from annotations.catalogue.users import Role
from annotations.errors import AnnotationError
from annotations.newsroom import events
from annotations.search import Filters, search_rows
from annotator import services
from annotator.auth import actor, role_required
from annotator.services import database

bp = Blueprint("event_forms", __name__)

#: the most annotations offered at once (a site's window rarely holds more)
OFFERED = 1000


@bp.route("/events/new", methods=["GET", "POST"])
@role_required(Role.analyst)
def create() -> Any:
    values = _values() if request.method == "POST" else _blank()
    error = None
    if request.method == "POST" and request.form.get("action") == "save":
        try:
            data = events.NewEvent.model_validate(_event_data(values))
            with database().write() as session:
                event = events.create_event(session, data, actor())
                if values["annotation_ids"]:
                    events.add_annotations(session, event, values["annotation_ids"], actor())
                event_id = event.id
            return redirect(url_for("report_pages.event", event_id=event_id))
        except AnnotationError as exc:
            error = exc.message
    return _page(None, values, error)


@bp.route("/events/<event_id>/edit", methods=["GET", "POST"])
@role_required(Role.analyst)
def edit(event_id: str) -> Any:
    with database().read() as session:
        event = events.get_event(session, event_id)
        values = _blank() | {
            "site": events.site_slug(session, event),
            "title": event.title,
            "description": event.description or "",
            "start": event.start_at.date().isoformat(),
            "end": event.end_at.date().isoformat(),
            "annotation_ids": [a.id for a in events.members(session, event)],
        }
    error = None
    if request.method == "POST":
        values = _values()
        if request.form.get("action") == "save":
            try:
                data = events.EventInput.model_validate(_event_data(values))
                with database().write() as session:
                    found = events.get_event(session, event_id)
                    events.update_event(session, found, data, actor())
                    _set_members(session, found, values["annotation_ids"])
                return redirect(url_for("report_pages.event", event_id=event_id))
            except AnnotationError as exc:
                error = exc.message
    return _page(event_id, values, error)


def _blank() -> dict[str, Any]:
    site = request.args.get("site", "")
    return {"site": site, "title": "", "description": "", "start": "", "end": ""} | {
        "annotation_ids": []
    }


def _values() -> dict[str, Any]:
    form = request.form
    values: dict[str, Any] = {
        name: form.get(name, "").strip() for name in ("site", "title", "start", "end")
    }
    values["description"] = form.get("description", "")
    values["annotation_ids"] = list(dict.fromkeys(form.getlist("annotation")))
    return values


def _event_data(values: dict[str, Any]) -> dict[str, Any]:
    """The API's fields from the form's: the end day is included, to its last second."""
    end = values["end"]
    if _day(end) is not None:
        end = f"{end}T23:59:59Z"
    return {
        "site": values["site"],
        "title": values["title"],
        "description": values["description"],
        "start": values["start"] or None,
        "end": end or None,
        "annotation_ids": values["annotation_ids"],
    }


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _set_members(session: Session, event: events.Event, wanted: list[str]) -> None:
    """Make the event's annotations the ticked ones: add the new, take out the others."""
    held = {a.id for a in events.members(session, event)}
    for annotation_id in sorted(held - set(wanted)):
        events.remove_annotation(session, event, annotation_id, actor())
    added = [a for a in wanted if a not in held]
    if added:
        events.add_annotations(session, event, added, actor())


def _candidates(values: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The site's annotations in the window, to tick (None until a site and window are given)."""
    start, end = _day(values["start"]), _day(values["end"])
    if not values["site"] or start is None or end is None or end < start:
        return None
    filters = Filters(
        site=values["site"],
        start=datetime.combine(start, time.min, tzinfo=UTC),
        end=datetime.combine(end, time.max, tzinfo=UTC),
        limit=OFFERED,
        role=actor().role,
    )
    names = {label.id: label.name for label in services.taxonomy()}
    with database().read() as session:
        if session.scalar(select(Site.id).where(Site.slug == values["site"])) is None:
            return None  # the form says the site is unknown; nothing to tick
        rows, _ = search_rows(session, filters)
    return [
        {
            "id": row.id,
            "label": names.get(row.label, row.label),
            "day": row.observed_at.date().isoformat() if row.observed_at else "",
            "status": row.status,
        }
        for row in rows
    ]


def _page(event_id: str | None, values: dict[str, Any], error: str | None) -> Any:
    with database().read() as session:
        sites = [(site.slug, site.name) for site in list_sites(session)]
    candidates = _candidates(values)
    if candidates is not None:  # members outside the window stay listed, to be taken out
        shown = {c["id"] for c in candidates}
        candidates += [
            {"id": a, "label": "", "day": "", "status": "", "outside": True}
            for a in values["annotation_ids"]
            if a not in shown
        ]
    status = 422 if error else 200
    return render_template(
        "event_form.html",
        event_id=event_id,
        values=values,
        sites=sites,
        candidates=candidates,
        error=error,
    ), status
